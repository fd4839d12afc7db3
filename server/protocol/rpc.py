"""JSON-RPC on top of pygls' ``LanguageServerProtocol``: every request gets exactly one answer.

pygls 2.1.1 parses a frame with ``json.loads(object_hook=structure_message)`` and, when structuring fails (a wrong
parameter type, a position outside the unsigned 32-bit range, a malformed message), logs the exception and
answers nothing; it answers nothing after ``shutdown`` either, accepts requests before ``initialize``, and keeps
a completed future per notification in ``_request_futures``. Here a frame is parsed and checked first
(``receive``), then structured, and answered with the JSON-RPC / LSP error that fits when it cannot be served.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from concurrent.futures import Future
from functools import partial
from typing import Any, TypeGuard

from cattrs import transform_error
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage, JsonRPCResponseMessage

from ..text_document import LspWorkspace

log = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
SERVER_NOT_INITIALIZED = -32002


def _valid_id(value: Any) -> TypeGuard[str | int]:
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def _describe(error: Exception) -> str:
    try:
        return "; ".join(transform_error(error))
    except Exception:  # noqa: BLE001 - not a cattrs validation error
        return str(error)


class QwenProtocol(LanguageServerProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initialize_received = False
        self.shutdown_received = False
        self.exit_code: int | None = None
        self.exited = threading.Event()
        self._loop_thread: int | None = None

    # --- incoming frames ------------------------------------------------------------------------------------
    def receive(self, body: bytes) -> None:
        """Handle one frame's body; anything that cannot be served is answered with an error (requests) or
        logged (notifications, responses)."""
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
            self.send_error(None, PARSE_ERROR, f"Parse error: {str(error)[:200]}")
            return
        if not isinstance(data, dict):
            self.send_error(None, INVALID_REQUEST, "Invalid request: expected a JSON object (LSP has no batches)")
            return
        msg_id = data.get("id")
        if "method" not in data:
            self._receive_response(data)
            return
        method = data["method"]
        is_request = "id" in data
        if is_request and not _valid_id(msg_id):
            self.send_error(
                None, INVALID_REQUEST, f"Invalid request: id must be a string or an integer, not {msg_id!r:.50}"
            )
            return
        problem = self._not_servable(data, method, is_request)
        if problem is not None:
            code, message = problem
            if is_request:
                self.send_error(msg_id, code, message)
            else:
                log.debug("dropped notification %r: %s", method, message)
            return
        try:
            message = self._structure(data, method, is_request)
        except Exception as error:  # noqa: BLE001 - cattrs raises many kinds; all mean the params do not fit
            detail = _describe(error)
            if is_request:
                self.send_error(msg_id, INVALID_PARAMS, f"Invalid params for {method}: {detail[:500]}")
            else:
                log.warning("ignored notification %s with invalid params: %s", method, detail[:500])
            return
        if method == types.INITIALIZE:
            self.initialize_received = True
        elif method == types.SHUTDOWN:
            self.shutdown_received = True
        self.handle_message(message)

    def _not_servable(self, data: dict, method: Any, is_request: bool) -> tuple[int, str] | None:
        """The error for a message that must not reach a handler, or None."""
        if not isinstance(method, str):
            return INVALID_REQUEST, "Invalid request: method must be a string"
        if data.get("jsonrpc") != self.VERSION:
            return INVALID_REQUEST, 'Invalid request: "jsonrpc" must be "2.0"'
        if method == types.EXIT:
            return None
        if self.shutdown_received:
            return INVALID_REQUEST, f"Invalid request: {method} after shutdown"
        if method == types.INITIALIZE:
            if self.initialize_received:
                return INVALID_REQUEST, "Invalid request: initialize may only be sent once"
            return None
        if not self.initialize_received:
            return SERVER_NOT_INITIALIZED, f"Server not initialized: {method} before initialize"
        return None

    def _structure(self, data: dict, method: str, is_request: bool) -> Any:
        fallback = JsonRPCRequestMessage if is_request else JsonRPCNotification
        return self._converter.structure(data, self.get_message_type(method) or fallback)

    def _receive_response(self, data: dict) -> None:
        """A response to one of our requests; a malformed one fails the waiting request instead of leaving it."""
        msg_id = data.get("id")
        if not ("result" in data or "error" in data) or not _valid_id(msg_id) or data.get("jsonrpc") != self.VERSION:
            self.send_error(
                msg_id if _valid_id(msg_id) else None,
                INVALID_REQUEST,
                "Invalid request: neither a request, a notification nor a response",
            )
            return
        message: Any  # pygls's handle_message takes any of its message classes
        try:
            if "error" in data:
                message = self._converter.structure(data, types.ResponseErrorMessage)
            else:
                result_type = self._result_types.pop(msg_id, None) or JsonRPCResponseMessage
                message = self._converter.structure(data, result_type)
        except Exception as error:  # noqa: BLE001
            future = self._request_futures.pop(msg_id, None)
            log.warning("the client's response to %s does not fit: %s", msg_id, error)
            if future is not None and not future.done():
                future.set_exception(JsonRpcException(code=INVALID_PARAMS, message=f"malformed response: {error}"))
            return
        self.handle_message(message)

    def send_error(self, msg_id: str | int | None, code: int, message: str) -> None:
        # A plain dict: the lsprotocol converter would drop "id": null, which JSON-RPC requires here.
        self._send_data({"jsonrpc": self.VERSION, "id": msg_id, "error": {"code": code, "message": message}})

    # --- bookkeeping ------------------------------------------------------------------------------------
    def _execute_handler(self, msg_id, handler, callback, args=None, kwargs=None) -> None:
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        # pygls removes a request's future when it answers, but never the futures of notifications and of the
        # steps of its generator handlers (didOpen, didChange, ...): one leaked entry per keystroke.
        future = self._request_futures.get(msg_id)
        if future is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            future.add_done_callback(partial(self._forget_future, msg_id))
            return
        # Later, on the loop: a future may finish in a worker thread, or while pygls iterates the dict (shutdown).
        self._loop_thread = threading.get_ident()
        future.add_done_callback(partial(self._forget_soon, loop, msg_id))

    def _forget_soon(self, loop: asyncio.AbstractEventLoop, msg_id: Any, future: Future) -> None:
        try:
            if threading.get_ident() == self._loop_thread:
                loop.call_soon(self._forget_future, msg_id, future)
            else:
                loop.call_soon_threadsafe(self._forget_future, msg_id, future)
        except RuntimeError:  # the loop is closed: the server is exiting
            pass

    def _forget_future(self, msg_id: Any, future: Future) -> None:
        if self._request_futures.get(msg_id) is future:
            del self._request_futures[msg_id]

    # --- lifecycle ----------------------------------------------------------------------------------------
    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams):
        steps = super().lsp_initialize(params)
        try:
            step = next(steps)
            # pygls has just created the workspace (before the first step): use LSP lines for its documents
            self._workspace = LspWorkspace.replacing(self.workspace)
            while True:
                step = steps.send((yield step))
        except StopIteration as done:
            if not isinstance(self._workspace, LspWorkspace):
                self._workspace = LspWorkspace.replacing(self.workspace)
            return done.value

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> None:  # type: ignore[override]  # pygls's is a generator; this one ends at once
        """LSP: exit code 0 after a shutdown request, 1 otherwise. The serving loop ends when it sees ``exited``."""
        self.exit_code = 0 if self.shutdown_received else 1
        self.exited.set()
