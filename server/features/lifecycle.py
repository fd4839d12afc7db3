"""initialize / initialized / configuration changes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types

from ..config import ServerSettings, env_overrides, load_settings
from ..context_wiring import start_indexing
from ..documents import workspace_roots
from ..host import Host
from ..lsp_logging import attach_editor_log
from ..models.loading import load_backend
from ..session import Session

log = logging.getLogger(__name__)
CONFIG_SECTION = "qwenLsp"


def register(server: Host) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: Host, params: types.InitializeParams) -> None:
        attach_editor_log(ls.window_log_message)
        options = params.initialization_options if isinstance(params.initialization_options, dict) else {}
        ls.initialization_options = options
        settings = _settings(ls, options)
        try:
            ls.session = Session(settings, ls.backend_factory)
        except Exception as error:  # e.g. an unknown FIM template: report and fall back to defaults
            ls.problems.report("settings", f"cannot use these backend settings ({error}); using the defaults")
            ls.session = Session(ServerSettings(), ls.backend_factory)
        ls.session.set_roots(workspace_roots(ls.workspace))

    @server.feature(types.INITIALIZED)
    async def initialized(ls: Host, params: types.InitializedParams) -> None:
        await _pull_configuration(ls, load=False)
        ls.background.spawn(load_backend(ls), "load-backend")
        ls.background.spawn(start_indexing(ls), "index-workspace")
        ls.background.spawn(_watch_files(ls), "watch-files")

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: Host, params: types.DidChangeConfigurationParams) -> None:
        pushed = params.settings.get(CONFIG_SECTION) if isinstance(params.settings, dict) else None
        if isinstance(pushed, dict):
            await _apply(ls, pushed)
        else:
            await _pull_configuration(ls)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: Host, params: Any = None) -> None:
        ls.background.cancel_all()
        try:
            await asyncio.to_thread(ls.session.context_provider.stop)  # saves the index: not on the event loop
            await ls.session.backend.aclose()
        except Exception:  # the reply must still go out
            log.exception("shutdown: releasing the model or the index failed")


def _settings(ls: Host, *sources: dict | None) -> ServerSettings:
    settings, warnings = load_settings(env_overrides(), ls.initialization_options, *sources)
    if warnings:
        ls.problems.report("settings", " ".join(warnings), types.MessageType.Warning)
    else:
        ls.problems.resolve("settings")
    return settings


async def _pull_configuration(ls: Host, load: bool = True) -> None:
    workspace = ls.client_capabilities.workspace
    if not (workspace and workspace.configuration):
        return
    try:
        result = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section=CONFIG_SECTION)])
        )
    except Exception as error:
        log.warning("workspace/configuration failed: %s", error)
        return
    section = result[0] if result else None
    if isinstance(section, dict) and section:
        await _apply(ls, section, load)


async def _apply(ls: Host, section: dict, load: bool = True) -> None:
    settings = _settings(ls, section)
    if await ls.session.apply(settings) and load:
        log.info("backend settings changed: loading %s", ls.session.backend.name)
        ls.background.spawn(load_backend(ls), "load-backend")


async def _watch_files(ls: Host) -> None:
    """Ask the client to report file changes on disk, when it can register watchers dynamically."""
    workspace = ls.client_capabilities.workspace
    watched = workspace.did_change_watched_files if workspace else None
    if not (watched and watched.dynamic_registration):
        return
    options = types.DidChangeWatchedFilesRegistrationOptions(watchers=[types.FileSystemWatcher(glob_pattern="**/*")])
    registration = types.Registration(
        id="qwen-lsp-watch-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=options
    )
    try:
        await ls.client_register_capability_async(types.RegistrationParams(registrations=[registration]))
    except Exception as error:
        log.info("client did not accept a file watcher (%s); the index follows saves and open documents", error)
