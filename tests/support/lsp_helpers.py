"""Shared helpers for end-to-end tests that drive the real server over stdio with pytest-lsp."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

SUPPORT = Path(__file__).parent


def capabilities(editor: str = "visual-studio-code") -> types.ClientCapabilities:
    """Captured capabilities of a real editor, plus inline completion (the captures predate LSP 3.18)."""
    caps = client_capabilities(editor)
    caps.text_document.inline_completion = types.InlineCompletionClientCapabilities(dynamic_registration=False)
    return caps


def scripted_server_command() -> list[str]:
    return [sys.executable, str(SUPPORT / "scripted_server.py")]


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWEN_LSP_")}
    env["QWEN_LSP_DATA_DIR"] = str(tmp_path / "data")
    env.update(extra)
    return env


def script_env(tmp_path: Path, **script) -> dict[str, str]:
    return server_env(tmp_path, QWEN_LSP_TEST_SCRIPT=json.dumps(script))


async def open_document(
    client: LanguageClient, uri: str, text: str, language_id: str = "python", version: int = 1
) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id=language_id, version=version, text=text)
        )
    )


def insert_text(client: LanguageClient, uri: str, version: int, line: int, character: int, text: str) -> None:
    position = types.Position(line=line, character=character)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(range=types.Range(start=position, end=position), text=text)
            ],
        )
    )


def _inline_params(uri: str, line: int, character: int) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
    )


async def inline_completion(client: LanguageClient, uri: str, line: int, character: int):
    return await client.text_document_inline_completion_async(_inline_params(uri, line, character))


def start_inline_completion(client: LanguageClient, uri: str, line: int, character: int) -> tuple[str, asyncio.Future]:
    """Send the request and return its id (for ``$/cancelRequest``) and the future of its answer."""
    msg_id = f"inline-{uuid.uuid4().hex[:8]}"
    future = asyncio.ensure_future(
        client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, _inline_params(uri, line, character), msg_id=msg_id
        )
    )
    return msg_id, future


def cancel_request(client: LanguageClient, msg_id: str) -> None:
    client.cancel_request(types.CancelParams(id=msg_id))


def first_text(result) -> str | None:
    if result is None:
        return None
    items = result.items if hasattr(result, "items") else result
    return items[0].insert_text if items else None


async def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(interval)
    raise TimeoutError("condition not met in time")


def indexing_done(client: LanguageClient) -> bool:
    """The server's indexing progress (of the workspace at start) has ended."""
    return any(
        str(token).startswith("qwen-lsp-index-") and reports and isinstance(reports[-1], types.WorkDoneProgressEnd)
        for token, reports in client.progress_reports.items()
    )


class running_server:
    """``async with running_server(cmd, env) as client:`` — start, initialize, and always shut down."""

    def __init__(
        self,
        command: list[str],
        env: dict[str, str],
        editor: str = "visual-studio-code",
        initialization_options: dict | None = None,
        root: Path | None = None,
        inline: bool = True,
        capabilities: types.ClientCapabilities | None = None,
        configure: Callable[[LanguageClient], None] | None = None,
        experimental: dict | None = None,
    ):
        """``capabilities`` replaces the editor's; ``configure`` sees the client before ``initialize`` (handlers
        for server-to-client requests, ``set_configuration``); ``experimental`` is what an editor's plugin
        declares on top of the editor's own."""
        self.command, self.env, self.editor = command, env, editor
        self.capabilities, self.configure = capabilities, configure
        self.experimental = experimental
        self.initialization_options = initialization_options
        self.root = root
        self.inline = inline
        self.client: LanguageClient | None = None
        self.initialize_result: types.InitializeResult | None = None

    async def __aenter__(self) -> LanguageClient:
        from pytest_lsp import ClientServerConfig

        self.client = await ClientServerConfig(server_command=self.command, server_env=self.env).start()
        if self.configure is not None:
            self.configure(self.client)
        caps = self.capabilities or (capabilities(self.editor) if self.inline else client_capabilities(self.editor))
        if self.experimental is not None:
            caps.experimental = self.experimental
        folders = [types.WorkspaceFolder(uri=self.root.as_uri(), name=self.root.name)] if self.root else None
        self.initialize_result = await self.client.initialize_session(
            types.InitializeParams(
                capabilities=caps,
                initialization_options=self.initialization_options,
                root_uri=self.root.as_uri() if self.root else None,
                workspace_folders=folders,
            )
        )
        return self.client

    async def __aexit__(self, *exc) -> None:
        assert self.client is not None
        try:
            await asyncio.wait_for(self.client.shutdown_session(), timeout=30)
        finally:
            await stop_or_kill(self.client)


async def stop_or_kill(client: LanguageClient, timeout: float = 30) -> None:
    """Wait for the server to exit after ``exit``; a server that hangs on exit is killed and fails the test."""
    try:
        await asyncio.wait_for(asyncio.shield(client.stop()), timeout)
    except TimeoutError:
        process = client._server
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()
        raise AssertionError(f"the server did not exit within {timeout:.0f} s of the exit notification") from None
