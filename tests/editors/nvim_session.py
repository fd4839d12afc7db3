"""A real headless Neovim driven over msgpack-RPC (pynvim), with the qwen_lsp plugin loaded.

`nvim -l` never runs the main loop, so insert-mode autocommands (which trigger inline completion) would not fire:
the editor runs as `nvim --embed --headless --clean` and the test types into it with nvim_input.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pynvim

PLUGIN_DIR = Path(__file__).resolve().parents[2] / "editors" / "nvim"

_SETUP_LUA = """
local plugin_dir, opts = ...
vim.opt.rtp:prepend(plugin_dir)
vim.cmd('runtime plugin/qwen_lsp.lua')
if vim.lsp.log and vim.lsp.log.set_level then vim.lsp.log.set_level('debug') else vim.lsp.set_log_level('debug') end
vim.o.swapfile = false
require('qwen_lsp').setup(opts)
"""

# Ghost text of either path: the built-in client's namespace on 0.12, the plugin's own on 0.10/0.11.
_GHOST_LUA = """
local ns = vim.api.nvim_create_namespace(...)
local marks = vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })
local out = {}
for _, m in ipairs(marks) do
  local d = m[4]
  local first = {}
  for _, chunk in ipairs(d.virt_text or {}) do
    if chunk[2] ~= 'ComplHintMore' then table.insert(first, chunk[1]) end
  end
  local lines = { table.concat(first) }
  for _, vl in ipairs(d.virt_lines or {}) do
    local parts = {}
    for _, chunk in ipairs(vl) do table.insert(parts, chunk[1]) end
    table.insert(lines, table.concat(parts))
  end
  table.insert(out, { row = m[2], col = m[3], text = table.concat(lines, '\\n') })
end
return out
"""


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


class NvimSession:
    def __init__(self, nvim: pynvim.Nvim, ghost_namespace: str) -> None:
        self.nvim = nvim
        self.ghost_namespace = ghost_namespace

    def lua(self, code: str, *args: Any) -> Any:
        return self.nvim.exec_lua(code, *args)

    def attach_ui(self) -> None:
        """Attach a (never drawn) UI: without one, prompts such as confirm() return their default at once."""
        self.nvim.ui_attach(100, 30, rgb=True, ext_linegrid=True)

    def prompting(self) -> bool:
        """Whether a confirm()/hit-enter prompt waits for the user (only "fast" API calls run meanwhile)."""
        return self.nvim.api.get_mode()["mode"] in ("r?", "r", "rm")

    def edit(self, path: Path) -> None:
        self.nvim.command(f"edit {path}")

    def wait_for_server(self, timeout: float = 60) -> None:
        wait_for(
            lambda: self.lua("return #vim.lsp.get_clients({ name = 'qwen_lsp', bufnr = 0 }) > 0"),
            timeout,
            "the qwen_lsp client to attach",
        )

    def wait_until_ready(self, timeout: float = 180) -> dict:
        """Wait for qwen/status "ready" (the model is loaded); fail fast on "error"."""

        def ready() -> dict | None:
            status = self.lua("return require('qwen_lsp.status').current")
            if status.get("state") == "error":
                raise AssertionError(f"server reported an error: {status}")
            return status if status.get("state") == "ready" else None

        return wait_for(ready, timeout, "qwen/status ready")

    def lines(self) -> list[str]:
        return list(self.nvim.current.buffer[:])

    def ghost(self) -> list[dict]:
        return self.lua(_GHOST_LUA, self.ghost_namespace)

    def wait_for_ghost(self, timeout: float = 240, retrigger_every: float = 60) -> dict:
        """The ghost text extmark; types <BS> and the last character again if no completion came for a while."""
        deadline = time.monotonic() + timeout
        next_retrigger = time.monotonic() + retrigger_every
        while time.monotonic() < deadline:
            marks = [m for m in self.ghost() if m["text"].strip()]
            if marks:
                return marks[0]
            if time.monotonic() > next_retrigger:
                line = self.nvim.current.line
                self.nvim.input("<BS>" + (line[-1] if line else " "))
                next_retrigger = time.monotonic() + retrigger_every
            time.sleep(0.2)
        raise AssertionError(f"no ghost text within {timeout:.0f}s; buffer: {self.lines()!r}")

    def lsp_log(self) -> str:
        path = self.lua(
            "return (vim.lsp.log and vim.lsp.log.get_filename and vim.lsp.log.get_filename()) or vim.lsp.get_log_path()"
        )
        return Path(path).read_text(errors="replace") if Path(path).exists() else ""


@contextmanager
def nvim_session(
    binary: Path, cwd: Path, setup_opts: dict, state_dir: Path, ghost_namespace: str, load_plugin: bool = True
) -> Iterator[NvimSession]:
    """Start `nvim --embed --headless --clean` in `cwd` with the plugin set up with `setup_opts` (or, without
    `load_plugin`, a bare Neovim)."""
    # Neovim's LSP log goes to $XDG_STATE_HOME: keep it per test.
    old_env = {k: os.environ.get(k) for k in ("XDG_STATE_HOME", "XDG_DATA_HOME")}
    os.environ["XDG_STATE_HOME"] = str(state_dir / "state")
    os.environ["XDG_DATA_HOME"] = str(state_dir / "data")
    old_cwd = os.getcwd()
    os.chdir(cwd)
    try:
        nvim = pynvim.attach("child", argv=[str(binary), "--embed", "--headless", "--clean", "-n", "-i", "NONE"])
    finally:
        os.chdir(old_cwd)
        for key, value in old_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    try:
        if load_plugin:
            nvim.exec_lua(_SETUP_LUA, str(PLUGIN_DIR), setup_opts)
        yield NvimSession(nvim, ghost_namespace)
    finally:
        with contextlib.suppress(Exception):  # nvim exits while answering
            nvim.command("qa!")
        nvim.close()
