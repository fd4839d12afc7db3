"""`:QwenInstall remote` in real headless Neovim: with no `qwen-lsp` on PATH the plugin installs the server from the
repository it lives in (its default source; qwen-lsp is not on PyPI) into stdpath('data')/qwen-lsp (python -m venv + pip, asynchronously, with each step
reported), starts it, and ghost text from a real OpenAI-compatible endpoint appears; :checkhealth shows the installed
version, :QwenUpdate reinstalls and restarts it, and :QwenUninstall! removes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import nvim_binary
from nvim_session import nvim_session, wait_for
from test_nvim import GHOST_NS, type_return_statement

from llama_server import API_KEY, KEY_ENV
from remote_only_install import LOCAL_MODULES, importable
from tiny_gguf import write_tiny_qwen_gguf

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.editor, pytest.mark.timeout(1200)]

# The lines of the floating window(s): the install's progress window.
FLOAT_LINES = """
local lines = {}
for _, w in ipairs(vim.api.nvim_list_wins()) do
  if vim.api.nvim_win_get_config(w).relative ~= '' then
    vim.list_extend(lines, vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(w), 0, -1, false))
  end
end
return lines
"""


def test_qwen_install_remote_then_ghost_text(tmp_path, fixture_repo, endpoint, path_without_server, monkeypatch):
    monkeypatch.setenv("PATH", path_without_server)
    remote = {"base_url": endpoint.base_url, "api_key_env": KEY_ENV, "max_retries": 0}
    opts = {  # no install.source: the default is the repository the plugin lives in
        "env": {KEY_ENV: API_KEY},
        "server": {
            "backend": {"kind": "remote", "remote": remote},
            "completion": {"debounce_ms": 0, "max_tokens_single_line": 8},
        },
    }
    with nvim_session(nvim_binary("0.12"), fixture_repo, opts, tmp_path, GHOST_NS["0.12"]) as s:
        root = Path(s.lua("return require('qwen_lsp.install').root()"))
        assert root.is_relative_to(tmp_path), root  # the test's own stdpath('data')
        s.edit(fixture_repo / "shapes" / "geometry.py")
        messages = s.nvim.api.exec2("messages", {"output": True})["output"]
        assert ":QwenInstall remote" in messages, messages  # not found: the plugin says how to install it

        s.nvim.command("QwenInstall remote")
        assert s.lua("return require('qwen_lsp.install').busy"), "the install must run asynchronously"
        assert "Creating the environment" in "\n".join(s.lua(FLOAT_LINES)), "the progress window shows the step"
        last = wait_for(lambda: s.lua("return require('qwen_lsp.install').last"), 900, "the install to finish", 1)
        messages = s.nvim.api.exec2("messages", {"output": True})["output"]
        assert last["ok"], (last, messages)
        assert "Qwen install: Creating the environment" in messages, messages
        assert "Qwen install: Installing qwen-lsp (remote endpoint only)" in messages, messages
        assert last["state"]["variant"] == "remote" and last["state"]["version"], last
        assert Path(last["state"]["source"]).resolve() == REPO, last
        venv = root / "venv"
        assert not any(importable(venv, m) for m in LOCAL_MODULES), (
            "a remote-only install must not have the local extra"
        )

        cmd = s.lua("return require('qwen_lsp.server').resolve_cmd()")
        assert cmd == [str(venv / "bin" / "qwen-lsp")], cmd
        before = type_return_statement(s, fixture_repo / "shapes" / "geometry.py")
        ghost = s.wait_for_ghost(timeout=120)
        assert ghost["row"] == len(before) - 1 and ghost["text"].strip(), ghost

        s.nvim.command("checkhealth qwen_lsp")
        health = "\n".join(s.lines())
        assert f"qwen-lsp {last['state']['version']} (installed by :QwenInstall, remote endpoint only)" in health, (
            health
        )

        # :QwenUpdate reinstalls from the repository (same version: the package itself is reinstalled) and restarts.
        old_client = s.lua("return vim.lsp.get_clients({ name = 'qwen_lsp' })[1].id")
        s.lua("require('qwen_lsp.install').last = nil")
        s.nvim.command("QwenUpdate")
        last = wait_for(lambda: s.lua("return require('qwen_lsp.install').last"), 600, "the update to finish", 1)
        messages = s.nvim.api.exec2("messages", {"output": True})["output"]
        assert last["ok"] and "Qwen install: Updating qwen-lsp (remote endpoint only)" in messages, (last, messages)
        wait_for(
            lambda: (
                s.lua("local c = vim.lsp.get_clients({ name = 'qwen_lsp' })[1]; return c and c.id")
                not in (None, old_client)
            ),
            60,
            "the updated server to attach",
        )

        s.nvim.command("QwenUninstall!")
        assert not root.exists()
        assert s.lua("return require('qwen_lsp.install').state()") is None


def test_qwen_install_local_with_a_warm_wheel_cache_then_ghost_text(
    tmp_path, fixture_repo, wheel, warm_llama_wheel, path_without_server, monkeypatch
):
    """`:QwenInstall local` installs the local extra (llama-cpp-python from the prebuilt wheel instead of compiling)
    and the server completes from a tiny GGUF in-process."""
    monkeypatch.setenv("PATH", path_without_server)
    model = write_tiny_qwen_gguf(tmp_path / "tiny.gguf")
    local = {"model": str(model), "n_threads": 1, "n_ctx": 2048, "repack": False}
    opts = {
        "install": {"source": str(wheel)},
        "server": {
            "backend": {"kind": "local", "local": local},
            "completion": {"debounce_ms": 0, "max_tokens_single_line": 8},
        },
    }
    with nvim_session(nvim_binary("0.12"), fixture_repo, opts, tmp_path, GHOST_NS["0.12"]) as s:
        s.nvim.command("QwenInstall local")
        last = wait_for(lambda: s.lua("return require('qwen_lsp.install').last"), 900, "the install to finish", 1)
        messages = s.nvim.api.exec2("messages", {"output": True})["output"]
        assert last["ok"], (last, messages)
        assert (
            "Installing qwen-lsp with the local model (compiling llama-cpp-python, usually 10–15 minutes)" in messages
        )
        assert last["state"]["variant"] == "local"
        venv = Path(s.lua("return require('qwen_lsp.install').root()")) / "venv"
        assert all(importable(venv, m) for m in LOCAL_MODULES), "the local extra is installed"
        before = type_return_statement(s, fixture_repo / "shapes" / "geometry.py")
        ghost = s.wait_for_ghost(timeout=120)
        assert ghost["row"] == len(before) - 1 and ghost["text"].strip(), ghost


# :QwenInstall local with an NVIDIA GPU: the choice (what it will do), then every install step gets its CMAKE_ARGS.
# The steps that would compile are recorded and replaced by `false`, so the install stops at its first step.
GPU_OFFER = """
local install = require('qwen_lsp.install')
local seen = { steps = {} }
local real_system = vim.system
vim.ui.select = function(items, opts, on_choice)
  seen.prompt = opts.prompt
  seen.items = vim.tbl_map(opts.format_item, items)
  vim.system = function(cmd, o, on_exit)
    if o and o.env and o.env.CMAKE_ARGS then
      table.insert(seen.steps, { cmd = table.concat(cmd, ' '), cmake_args = o.env.CMAKE_ARGS })
      return real_system({ 'false' }, o, on_exit)
    end
    return real_system(cmd, o, on_exit)
  end
  on_choice(items[1])
end
install.install('local')
_G.gpu_offer = seen
"""


def test_qwen_install_local_offers_the_cuda_build_when_nvidia_smi_answers(
    tmp_path, fixture_repo, path_without_server, monkeypatch
):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "nvidia-smi").write_text("#!/bin/sh\necho 'NVIDIA GeForce RTX 4090'\n")
    (fake / "nvidia-smi").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}:{path_without_server}")
    with nvim_session(nvim_binary("0.12"), fixture_repo, {}, tmp_path, GHOST_NS["0.12"]) as s:
        s.lua(GPU_OFFER)
        last = wait_for(lambda: s.lua("return require('qwen_lsp.install').last"), 120, "the install to stop", 0.5)
        offer = s.lua("return _G.gpu_offer")
    # nvidia-smi names the card with its maker (drivers since 2021): said once, not "NVIDIA NVIDIA ..."
    assert offer["prompt"] == "NVIDIA GeForce RTX 4090 found. Build llama.cpp:", offer
    assert offer["items"] == [
        'for NVIDIA GeForce RTX 4090: CMAKE_ARGS="-DGGML_CUDA=on" (needs the CUDA toolkit (nvcc))',
        "for the CPU only",
    ], offer
    assert offer["steps"] and all(step["cmake_args"] == "-DGGML_CUDA=on" for step in offer["steps"]), offer
    assert not last["ok"]  # the recorded step ran `false`
