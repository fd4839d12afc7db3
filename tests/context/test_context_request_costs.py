"""What a request remembers from the previous one to stay cheap must never change its answer."""

from __future__ import annotations

import time
from types import SimpleNamespace

from qwen_lsp.context.privacy import PrivacyPolicy, is_secret
from qwen_lsp.context.resolution.receivers import variable_guesses
from qwen_lsp.context.sources.definitions import _unused_names

IMPORTS = "from .core import Client, helper, Session\n\n"


def _request(key: str, text: str) -> SimpleNamespace:
    return SimpleNamespace(key=key, request=SimpleNamespace(text=text), deadline=time.perf_counter() + 1.0)


def test_an_imported_name_whose_last_use_is_deleted_is_unused_again() -> None:
    used = IMPORTS + "def run():\n    return helper(Client())\n"
    assert _unused_names(_request("/r/a.py", used), ["Client", "helper", "Session"]) == {"Session"}
    # the use of ``helper`` deleted, text shifted by an edit above it: the proof from the last request is void
    edited = "# note\n" + IMPORTS + "def run():\n    return Client()\n"
    assert _unused_names(_request("/r/a.py", edited), ["Client", "helper", "Session"]) == {"helper", "Session"}
    # the proof of ``Client`` still holds after an insertion before it
    moved = IMPORTS + "x = 1\n\ndef run():\n    return Client()\n"
    assert "Client" not in _unused_names(_request("/r/a.py", moved), ["Client"])


def test_type_guesses_are_the_nearest_declarations_first() -> None:
    text = "client = Alpha()\nclient: Beta = make()\nclient_count = Gamma()\nclient = Delta()\nclient = Eps()\n"
    assert [g.path for g in variable_guesses("python", "client", text)] == ["Eps", "Delta", "Beta"]


def test_secret_files_are_found_at_any_depth_as_before() -> None:
    policy = PrivacyPolicy()
    for rel in ("a/.env", "a/b/.ssh/config", "deep/x/id_rsa.pub", "src/app.py", ".aws/", "pkg/secrets.json", "k.pem"):
        assert policy.is_secret(rel) == is_secret(rel), rel
        assert policy.is_secret(rel) == is_secret(rel), rel  # answered from the folders already matched
