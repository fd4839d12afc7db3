"""What the server is working with: settings, the backend built from them, the context provider and the pipeline.

Rebuilt in part when settings change: a new backend only when the backend settings differ, a new completion
cache when anything that shapes completions differs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from qwen_lsp.clients.base import Backend
from qwen_lsp.context.base import ContextProvider, NoContext
from qwen_lsp.context.privacy import PrivacyPolicy

from .completion.cache import CompletionCache
from .completion.pipeline import CompletionPipeline, PipelineCounters
from .config import ServerSettings

log = logging.getLogger(__name__)

BackendFactory = Callable[[ServerSettings], Backend]


def default_backend_factory(settings: ServerSettings) -> Backend:
    from qwen_lsp.clients.factory import create_backend

    return create_backend(settings.backend, local_only=settings.privacy.local_only)


def privacy_policy(settings: ServerSettings, roots: list[Path] | None = None) -> PrivacyPolicy:
    return PrivacyPolicy(settings.privacy.secret_files, settings.context.exclude, roots or [])


class Session:
    def __init__(
        self,
        settings: ServerSettings,
        backend_factory: BackendFactory = default_backend_factory,
        privacy: PrivacyPolicy | None = None,
    ) -> None:
        self.settings = settings
        self._backend_factory = backend_factory
        # One policy object for the pipeline, the context engine, code actions and the agent.
        self.privacy = privacy or privacy_policy(settings)
        self.backend: Backend = backend_factory(settings)
        self.context_provider: ContextProvider = NoContext()
        self.cache = CompletionCache(settings.completion.cache_size)
        self.counters = PipelineCounters()
        self.background_counters = PipelineCounters()  # warm-ups and speculative completions
        self._rebuild_pipeline()

    def set_roots(self, roots: list[Path]) -> None:
        """The workspace folders, for the privacy policy's ignore rules and symlink check."""
        self.privacy.set_roots(roots)

    async def apply(self, settings: ServerSettings) -> bool:
        """Use new settings; returns True when the backend was replaced (and must be loaded again)."""
        previous = self.settings
        backend_changed = (
            settings.backend != previous.backend or settings.privacy.local_only != previous.privacy.local_only
        )
        self.settings = settings
        self.privacy.configure(settings.privacy.secret_files, settings.context.exclude)
        if backend_changed:
            old = self.backend
            self.backend = self._backend_factory(settings)
            asyncio.get_running_loop().create_task(_close_quietly(old))
        if backend_changed or settings.completion != previous.completion or settings.context != previous.context:
            # cached answers came from another model or other prompt settings (and the size may have changed)
            self.cache = CompletionCache(settings.completion.cache_size)
        self._rebuild_pipeline()
        return backend_changed

    def set_context_provider(self, provider: ContextProvider) -> None:
        self.context_provider = provider
        self._rebuild_pipeline()

    def _rebuild_pipeline(self) -> None:
        self.pipeline = CompletionPipeline(
            self.backend,
            self.settings,
            self.context_provider,
            self.cache,
            self.counters,
            privacy=self.privacy,
            background_counters=self.background_counters,
        )


async def _close_quietly(backend: Backend) -> None:
    try:
        await backend.aclose()
    except Exception:
        log.debug("closing the previous backend failed", exc_info=True)
