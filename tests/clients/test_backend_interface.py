"""Every backend the server can be given implements the whole ``Backend`` interface: the server calls any of its
members on whatever backend the settings made (e.g. ``forget`` when a document closes, also on a backend that
only says what is missing)."""

from __future__ import annotations

import inspect

import pytest

from qwen_lsp.clients.base import Backend
from qwen_lsp.clients.remote.backend import OpenAICompatBackend
from qwen_lsp.clients.remote.local_only import RefusedBackend
from qwen_lsp.clients.scripted import ScriptedBackend
from qwen_lsp.clients.unavailable import UnavailableBackend

MEMBERS = sorted(name for name in vars(Backend) if not name.startswith("_")) + ["name"]
BACKENDS = [OpenAICompatBackend, ScriptedBackend, UnavailableBackend, RefusedBackend]
try:  # the local extra is optional (a remote-only install has no llama_cpp)
    from qwen_lsp.clients.local.backend import LocalLlamaBackend
except ImportError:
    pass
else:
    BACKENDS.append(LocalLlamaBackend)


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda cls: cls.__name__)
def test_every_backend_has_every_member_of_the_interface(backend: type) -> None:
    missing = [name for name in MEMBERS if name != "name" and not hasattr(backend, name)]
    assert not missing, f"{backend.__name__} lacks {missing}"
    for name in MEMBERS:
        if name == "name" or not callable(getattr(Backend, name, None)):
            continue
        wanted = inspect.iscoroutinefunction(getattr(Backend, name))
        assert inspect.iscoroutinefunction(getattr(backend, name)) == wanted, f"{backend.__name__}.{name}"


async def test_a_backend_that_says_what_is_missing_answers_the_cache_calls() -> None:
    backend = UnavailableBackend("qwen2.5-coder-0.5b", "the local backend needs llama-cpp-python")
    assert backend.forget("file:///a.py") == 0 and backend.cache_report() == {}
