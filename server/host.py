"""What the LSP features and the work they start use of the language server: ``Host``, which
``app.QwenLanguageServer`` implements. Features depend on this, not on app.py (which imports the features to
register them), so imports among server modules run one way."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from lsprotocol import types
from pygls.progress import Progress
from pygls.workspace import Workspace

from .background import BackgroundTasks
from .completion.inflight import InflightRequests
from .completion.prewarm import Prewarmer
from .models.download_state import ModelDownloads
from .problems import ProblemReporter
from .protocol.rpc import QwenProtocol
from .session import BackendFactory, Session
from .stats import StatsRecorder

F = TypeVar("F", bound=Callable[..., Any])


class Host(Protocol):
    # -- what the server works with (``session`` from ``initialize`` on) and its bookkeeping
    session: Session
    backend_factory: BackendFactory
    initialization_options: dict
    inflight: InflightRequests
    problems: ProblemReporter
    stats: StatsRecorder
    background: BackgroundTasks
    prewarmer: Prewarmer
    model_downloads: ModelDownloads
    oversized_documents: set[str]  # open documents left out of the context engine (too large)

    # -- the connection: registering handlers, the open documents, the client
    protocol: QwenProtocol

    def feature(self, feature_name: str, options: Any | None = None) -> Callable[[F], F]: ...

    def command(self, command_name: str) -> Callable[[F], F]: ...

    @property
    def workspace(self) -> Workspace: ...

    @property
    def client_capabilities(self) -> types.ClientCapabilities: ...

    # -- asking the client: messages, progress, configuration, edits, documents
    @property
    def work_done_progress(self) -> Progress: ...

    def window_log_message(self, params: types.LogMessageParams) -> None: ...

    def window_show_message(self, params: types.ShowMessageParams) -> None: ...

    async def window_show_message_request_async(
        self, params: types.ShowMessageRequestParams
    ) -> types.MessageActionItem | None: ...

    async def window_show_document_async(self, params: types.ShowDocumentParams) -> types.ShowDocumentResult: ...

    async def workspace_configuration_async(self, params: types.ConfigurationParams) -> Sequence[Any | None]: ...

    async def workspace_apply_edit_async(
        self, params: types.ApplyWorkspaceEditParams
    ) -> types.ApplyWorkspaceEditResult: ...

    async def client_register_capability_async(self, params: types.RegistrationParams) -> None: ...
