"""Definitions from the editor's own language server reach the prompt (``qwen/editorDefinitions``), in real editors.

VS Code (code-server) with its built-in TypeScript language features: ``peer.send(`` where ``peer`` is read from a
``Map<string, Client>``, which the server's own resolution cannot type; the prompt the OpenAI-compatible endpoint
on 127.0.0.1 receives holds ``Client.send``. Neovim with python-lsp-server (jedi) attached next to qwen-lsp: the same
for a Python receiver read from a dict filled in another module.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from code_server import code_server, run_driver
from conftest import code_server_binary, nvim_binary

from recording_endpoint import RecordingEndpoint

pytestmark = pytest.mark.editor

TS_FILES = {
    "tsconfig.json": '{"compilerOptions": {"strict": true, "target": "es2020", "module": "commonjs"}}\n',
    "src/net/clients.ts": "export class Client {\n  constructor(readonly host: string) {}\n\n"
    "  /** Send one message; retried this many times before it gives up. */\n"
    "  send(message: string, retries: number): boolean {\n    return message.length > 0 && retries >= 0;\n  }\n}\n",
    "src/app/registry.ts": "import { Client } from '../net/clients';\n\n"
    "export const clients = new Map<string, Client>();\n",
    # the file ends inside the call: the driver types the arguments
    "src/app/main.ts": "import { clients } from './registry';\n\n"
    "export function notify(name: string, text: string): boolean {\n"
    "  const peer = clients.get(name)!;\n  return peer.send(",
    # five other classes with a ``send``: by name alone, ours cannot pick one
    **{
        f"lib/{name.lower()}.ts": f"export class {name} {{\n  send(item: unknown): void {{\n    console.log(item);\n  }}\n}}\n"
        for name in ("Mailer", "Socket", "Queue", "Pager", "Printer")
    },
}
CLIENT_SEND = "send(message: string, retries: number): boolean"


def write_files(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def remote_backend_env(tmp_path: Path, base_url: str) -> dict[str, str]:
    return {
        "QWEN_LSP_BACKEND__KIND": "remote",
        "QWEN_LSP_BACKEND__REMOTE__BASE_URL": base_url,
        "QWEN_LSP_BACKEND__REMOTE__MODEL": "m",
        "QWEN_LSP_BACKEND__REMOTE__MAX_RETRIES": "0",
        "QWEN_LSP_COMPLETION__CACHE_SIZE": "0",
        "QWEN_LSP_CONTEXT__PERSIST": "false",
        "QWEN_LSP_CONTEXT__GATHER_TIMEOUT_MS": "500",
        "QWEN_LSP_DATA_DIR": str(tmp_path / "data"),
        "QWEN_LSP_CACHE_DIR": str(tmp_path / "cache"),
    }


def prompts(endpoint: RecordingEndpoint) -> list[str]:
    out = []
    for body in endpoint.bodies:
        try:
            out.append(json.loads(body).get("prompt") or "")
        except ValueError:
            continue
    return [p if isinstance(p, str) else json.dumps(p) for p in out]


@pytest.mark.parametrize("enabled", [True, False], ids=["on", "off"])
def test_vscode_passes_typescripts_definition_to_the_prompt(tmp_path, vsix, server_command, enabled):
    """With ``qwenLsp.editorDefinitions`` off, the same typing leaves ``Client.send`` out of every prompt."""
    repo = tmp_path / "repo"
    write_files(repo, TS_FILES)
    with RecordingEndpoint(completion_text="text, 3)") as endpoint:
        settings = {"qwenLsp.serverCommand": server_command[0], "qwenLsp.editorDefinitions": enabled}
        env = remote_backend_env(tmp_path, endpoint.base_url)
        # a cold TypeScript server answers slower than the lookup's time box: move the cursor again once it is warm
        wake = [{"waitMs": 8000}, {"press": "ArrowLeft"}, {"press": "ArrowRight", "waitMs": 2000}]
        with code_server(code_server_binary(), repo, vsix, tmp_path, env, settings) as url:
            result = run_driver(
                {
                    "url": url,
                    "folder": str(repo),
                    "file": "src/app/main.ts",
                    "mode": "ghost",
                    "steps": wake + [{"press": "ArrowLeft"}, {"press": "ArrowRight", "waitMs": 2000}],
                    "typed": "text",
                    "timeoutMs": 90000,
                }
            )
        assert "error" not in result, (result.get("error"), result.get("notifications"))
        sent = prompts(endpoint)
    assert sent, "no completion request reached the endpoint"
    assert any(CLIENT_SEND in p and "src/net/clients.ts" in p for p in sent) == enabled, sent[-1]


PY_FILES = {
    **{
        f"handlers/h{i}.py": f"class Handler{i}:\n    def dispatch(self, event):\n        return {i}\n"
        for i in range(4)
    },
    "handlers/__init__.py": "",
    "handlers/audit.py": "class AuditHandler:\n    def dispatch(self, event, *, severity: int = 0):\n"
    '        """Write the event to the audit trail."""\n        return severity\n',
    "registry.py": 'from handlers.audit import AuditHandler\n\nHANDLERS = {"audit": AuditHandler()}\n',
    # ``handler`` comes out of a dict of another module: jedi infers it, the server's own resolution does not
    "app.py": 'from registry import HANDLERS\n\n\ndef run(event):\n    handler = HANDLERS["audit"]\n    handler.dispatch(\n',
    ".git/HEAD": "ref: refs/heads/main\n",
}
AUDIT_DISPATCH = "def dispatch(self, event, *, severity: int = 0)"

# ``qwen.inspectContext`` at the cursor, through the plugin's client
_INSPECT_CONTEXT = """
local client = vim.lsp.get_clients({ name = 'qwen_lsp', bufnr = 0 })[1]
local cursor = vim.api.nvim_win_get_cursor(0)
local position = { line = cursor[1] - 1, character = cursor[2] }
local args = { { textDocument = { uri = vim.uri_from_bufnr(0) }, position = position } }
local done = client:request_sync('workspace/executeCommand', { command = 'qwen.inspectContext', arguments = args }, 10000, 0)
return done and done.result or { snippets = {} }
"""

_START_PYLSP = """
local pylsp, root = ...
vim.api.nvim_create_autocmd('FileType', {
  pattern = 'python',
  callback = function(args)
    vim.lsp.start({ name = 'pylsp', cmd = { pylsp }, root_dir = root }, { bufnr = args.buf })
  end,
})
"""


@pytest.mark.parametrize("version", ["0.12", "0.11"])
@pytest.mark.parametrize("enabled", [True, False], ids=["on", "off"])
def test_nvim_passes_pylsps_definition_to_the_prompt(tmp_path, server_command, version, enabled):
    """python-lsp-server attached next to qwen-lsp answers textDocument/definition for ``handler.dispatch``; the
    plugin passes it on and the endpoint's prompt holds ``AuditHandler.dispatch`` (not with the option off)."""
    from nvim_session import nvim_session, wait_for

    pylsp = Path(sys.executable).with_name("pylsp")
    if not pylsp.is_file():
        pytest.skip("python-lsp-server is not installed (pip install -e '.[test]')")
    repo = tmp_path / "repo"
    write_files(repo, PY_FILES)
    ghost_ns = {"0.12": "nvim.lsp.inline_completion", "0.11": "qwen_lsp.ghost"}[version]
    with RecordingEndpoint(completion_text="event)") as endpoint:
        opts = {"cmd": server_command, "env": remote_backend_env(tmp_path, endpoint.base_url)}
        if not enabled:
            opts["editor_definitions"] = False
        with nvim_session(nvim_binary(version), repo, opts, tmp_path, ghost_ns) as s:
            s.lua(_START_PYLSP, str(pylsp), str(repo))
            s.edit(repo / "app.py")
            s.wait_for_server()
            wait_for(lambda: s.lua("return #vim.lsp.get_clients({ name = 'pylsp', bufnr = 0 }) > 0"), 60, "pylsp")
            s.nvim.command("normal! G")
            s.nvim.input("A")  # after ``handler.dispatch(``
            found = False
            # pauses between keys: a cold jedi may miss the first lookups' time box
            for typed in " " * 8:
                s.nvim.input(typed)
                time.sleep(1.0)
                found = [
                    snippet["path"]
                    for snippet in s.lua(_INSPECT_CONTEXT)["snippets"]
                    if snippet["source"] == "editor_definition"
                ]
                if found and enabled:
                    break
            if found and enabled:  # the next keystroke's completion prompt holds it
                s.nvim.input(" ")
                wait_for(lambda: any(AUDIT_DISPATCH in p for p in prompts(endpoint)), 30, "the prompt with it")
            notified = [line for line in s.lsp_log().splitlines() if "qwen/editorDefinitions" in line]
        sent = prompts(endpoint)
    assert sent, "no completion request reached the endpoint"
    if enabled:
        assert found == ["handlers/audit.py"], notified[-3:]
        assert any(AUDIT_DISPATCH in p for p in sent)
    else:
        assert not found and not notified


_IDENTIFIERS = """
local plugin_dir, current, previous = ...
vim.opt.rtp:prepend(plugin_dir)
local out = {}
for _, id in ipairs(require('qwen_lsp.definitions').identifiers(current, previous, 5, #current)) do
  table.insert(out, ('%s@%d:%d%s'):format(id.name, id.line, id.col, id.qualifier and '*' or ''))
end
return table.concat(out, ' ')
"""


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        # the call at the cursor and its receiver (whose type is asked for too)
        ("    handler.dispatch(", '    handler = HANDLERS["audit"]', "dispatch@5:12 handler@5:4*"),
        # a partly typed member: the name and its qualifier chain (keywords skipped); the previous line's calls
        ("  return self.client.se", "x = make(1)", "se@5:21 client@5:14* make@4:4"),
        ("  foo::bar::", "", "bar@5:7* foo@5:2"),
        ("  if x?.y.", "return compute(a, b(c))", "y@5:8* x@5:5 b@4:18 compute@4:7"),
    ],
)
def test_nvim_looks_up_the_names_at_and_before_the_cursor(tmp_path, current, previous, expected):
    from nvim_session import nvim_session

    with nvim_session(nvim_binary("0.12"), tmp_path, {}, tmp_path, "", load_plugin=False) as s:
        plugin = str(Path(__file__).resolve().parents[2] / "editors" / "nvim")
        assert s.lua(_IDENTIFIERS, plugin, current, previous) == expected
