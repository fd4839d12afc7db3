"""Every backend the server can be given implements the whole ``Backend`` interface: the server calls any of its
members on whatever backend the settings made (e.g. ``forget`` when a document closes, also on a backend that
only says what is missing), and nothing else of it."""

from __future__ import annotations

import pytest

from interface_check import interface_problems, protocol_members
from qwen_lsp.clients.base import Backend, NoLocalModel
from qwen_lsp.clients.remote.backend import OpenAICompatBackend
from qwen_lsp.clients.remote.local_only import RefusedBackend
from qwen_lsp.clients.scripted import ScriptedBackend
from qwen_lsp.clients.settings import RemoteSettings
from qwen_lsp.clients.unavailable import UnavailableBackend

BACKENDS = [OpenAICompatBackend, ScriptedBackend, UnavailableBackend, RefusedBackend]
try:  # the local extra is optional (a remote-only install has no llama_cpp)
    from qwen_lsp.clients.local.backend import LocalLlamaBackend
except ImportError:
    pass
else:
    BACKENDS.append(LocalLlamaBackend)


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda cls: cls.__name__)
def test_every_backend_has_every_member_of_the_interface(backend: type) -> None:
    assert not interface_problems(backend, Backend), f"{backend.__name__}: {interface_problems(backend, Backend)}"


def test_the_interface_says_what_the_server_uses_beyond_generating() -> None:
    """The prompt layout (token healing) and the model file to offer for download are asked of every backend."""
    assert {"name", "heals_tokens", "local_model", "prefill", "forget", "cache_report"} <= protocol_members(Backend)


def test_the_check_finds_a_missing_member() -> None:
    class Forgetful(NoLocalModel):
        name = "forgetful"

    problems = interface_problems(Forgetful, Backend)
    assert "lacks stream_fim" in problems and "lacks chat" in problems and "lacks heals_tokens" not in problems


async def test_a_backend_that_says_what_is_missing_answers_the_cache_calls() -> None:
    backend = UnavailableBackend("qwen2.5-coder-0.5b", "the local backend needs llama-cpp-python")
    assert backend.forget("file:///a.py") == 0 and backend.cache_report() == {}
    assert backend.local_model() is None and backend.heals_tokens is False


def test_only_a_backend_with_a_model_file_has_one_to_download() -> None:
    assert OpenAICompatBackend(RemoteSettings(model="m")).local_model() is None
    assert ScriptedBackend().local_model() is None
    if LocalLlamaBackend in BACKENDS:
        from qwen_lsp.clients.settings import LocalSettings

        local = LocalLlamaBackend(LocalSettings(model="qwen2.5-coder-0.5b"))
        assert local.local_model() == "qwen2.5-coder-0.5b" and local.heals_tokens
