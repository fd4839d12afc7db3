"""The README's lazy.nvim spec loads the plugin from the repository's editors/nvim subfolder: run in real Neovim the
way lazy.nvim does (build after the clone, config with the plugin whose `dir` is the clone), the :Qwen* commands
exist, setup() ran and `:help qwen_lsp` / `:help :QwenInstall` open."""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import REPO, nvim_binary
from nvim_session import nvim_session

pytestmark = pytest.mark.editor

SPEC = re.compile(r"```lua\n(\{\n  \"qwen-lsp/qwen-lsp\",.*?\n\})\n```", re.S)

RUN_SPEC = """
local source, dir = ...
local spec = assert(loadstring('return ' .. source))()
spec.build({ dir = dir })
spec.config({ dir = dir })
return {
  install = vim.fn.exists(':QwenInstall'), update = vim.fn.exists(':QwenUpdate'), refactor = vim.fn.exists(':QwenRefactor'),
  setup_ran = vim.fn.exists('#qwen_lsp#FileType') == 1,
}
"""


def test_readme_lazy_spec_loads_the_plugin_from_the_subfolder(tmp_path):
    match = SPEC.search((REPO / "README.md").read_text())
    assert match, "the README's lazy.nvim spec for this repository"
    clone = tmp_path / "lazy" / "qwen-lsp"  # what lazy.nvim clones: the whole repository
    shutil.copytree(REPO / "editors" / "nvim", clone / "editors" / "nvim")
    with nvim_session(nvim_binary("0.12"), tmp_path, {}, tmp_path, "", load_plugin=False) as s:
        assert s.lua("return vim.fn.exists(':QwenInstall')") == 0
        loaded = s.lua(RUN_SPEC, match.group(1), str(clone))
        assert loaded == {"install": 2, "update": 2, "refactor": 2, "setup_ran": True}, loaded
        s.nvim.command("help qwen_lsp")
        assert s.lua("return vim.fn.expand('%:t')") == "qwen_lsp.txt"
        s.nvim.command("help :QwenInstall")
        assert "*:QwenInstall*" in s.nvim.current.line
