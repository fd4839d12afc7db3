"""The language server object and the wiring of LSP methods to feature modules.

Concurrency: pygls runs notifications (didOpen/didChange) in arrival order on the event loop and never awaits
inference for them; request handlers are coroutines that take a snapshot of the document, and blocking model work
runs in worker threads, so a long generation never blocks didChange.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from typing import BinaryIO

from lsprotocol import types
from pygls.exceptions import JsonRpcServerNotInitialized
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from . import __version__
from .background import BackgroundTasks
from .completion.inflight import InflightRequests
from .completion.prewarm import Prewarmer
from .host import Host
from .models.download_state import ModelDownloads
from .problems import ProblemReporter
from .protocol.framing import serve_frames
from .protocol.rpc import PARSE_ERROR, QwenProtocol
from .session import BackendFactory, Session, default_backend_factory
from .stats import StatsRecorder

log = logging.getLogger(__name__)


class QwenLanguageServer(LanguageServer):
    def __init__(self, backend_factory: BackendFactory = default_backend_factory) -> None:
        super().__init__(
            "qwen-lsp",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=QwenProtocol,
        )
        self.backend_factory = backend_factory
        self._session: Session | None = None
        self.inflight = InflightRequests()
        self.problems = ProblemReporter(self.window_show_message)
        self.stats = StatsRecorder()
        self.background = BackgroundTasks()
        self.prewarmer = Prewarmer(self)
        self.initialization_options: dict = {}
        self.model_downloads = ModelDownloads()
        self.oversized_documents: set[str] = set()  # open documents left out of the context engine (too large)

    protocol: QwenProtocol

    @property
    def session(self) -> Session:
        """What the server works with, from ``initialize`` on (the protocol refuses everything else before it)."""
        if self._session is None:
            raise JsonRpcServerNotInitialized("the server is not initialized")
        return self._session

    @session.setter
    def session(self, session: Session) -> None:
        self._session = session

    @property
    def initialized(self) -> bool:
        return self._session is not None

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> int:
        """Serve LSP over stdio until ``exit`` or EOF; returns the process exit code (LSP: 1 when ``exit``
        came without ``shutdown``). Replaces pygls' loop for its framing (see framing.py)."""
        self._stop_event = stop = threading.Event()
        protocol = self.protocol
        protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))

        def reject(reason: str) -> None:
            protocol.send_error(None, PARSE_ERROR, f"Parse error: {reason}")

        try:
            asyncio.run(
                serve_frames(
                    stdin or sys.stdin.buffer,
                    protocol.receive,
                    reject,
                    lambda: stop.is_set() or protocol.exited.is_set(),
                )
            )
        except BrokenPipeError:
            log.error("the connection to the client is lost; shutting down")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()
        return protocol.exit_code if protocol.exit_code is not None else 0

    def report_server_error(self, error: Exception, source: object) -> None:
        # pygls would show a message box per failure; for per-keystroke requests that is noise. Log instead.
        log.error("internal error (%s): %s", getattr(source, "__name__", source), error, exc_info=error)


def create_server(backend_factory: BackendFactory = default_backend_factory) -> QwenLanguageServer:
    from .features import (
        agent,
        code_actions,
        commands,
        completion_fallback,
        documents,
        editor_definitions,
        inline_completion,
        lifecycle,
        telemetry,
    )

    server = QwenLanguageServer(backend_factory)
    host: Host = server  # what the features are typed against (a type checker verifies that the server is one)
    for module in (
        lifecycle,
        documents,
        editor_definitions,
        inline_completion,
        completion_fallback,
        commands,
        telemetry,
        code_actions,
        agent,
    ):
        module.register(host)
    return server
