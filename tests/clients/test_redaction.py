"""The credential redactor applied to every remote request body: each provider format and the entropy rule are
caught, the code around them stays well-formed, and ordinary code (hashes, names, words, configuration) is not
touched."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest

from qwen_lsp.clients.remote.redaction import entropy, looks_random, redact_json, redact_text

REPOSITORY = Path(__file__).resolve().parents[2]

TRUE_POSITIVES = [
    ('AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"', "AKIAIOSFODNN7EXAMPLE", "aws-access-key-id"),
    ("creds = ('ASIAY34FZKBOKMUTVV7A', x)", "ASIAY34FZKBOKMUTVV7A", "aws-access-key-id"),
    ('token = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"', "ghp_16C7e42F292c6912E7710c838347Ae178B4a", "github-token"),
    (
        "GH=github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
        "github_pat_11ABCDEFG0123456789_abcdefghij",
        "github-token",
    ),
    (
        'client = OpenAI(api_key="sk-proj-T3BlbkFJ9aZ8xY7wV6u5t4s3r2q1")',
        "sk-proj-T3BlbkFJ9aZ8xY7wV6u5t4s3r2q1",
        "api-key",
    ),
    ("DASHSCOPE=sk-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c", "sk-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c", "api-key"),
    ('stripe.api_key = "sk_live_51H8abcDEF123ghiJKL456mno"', "sk_live_51H8abcDEF123ghiJKL456mno", "stripe-key"),
    (
        "slack: xoxb-123456789012-1234567890123-AbCdEfGhIjKl",
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKl",
        "slack-token",
    ),
    ("url = 'https://hooks.slack.com/services/T000/B000/XXXXabcd1234'", "T000/B000/XXXXabcd1234", "slack-webhook"),
    (
        'maps_key: "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe"',
        "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe",
        "google-api-key",
    ),
    (
        "jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'",
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "jwt",
    ),
    ('DATABASE_URL = "postgres://app:Xk29vLq8Rz@db.internal:5432/main"', "Xk29vLq8Rz", "password"),
    (
        'AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "secret",
    ),
    ("export DJANGO_SECRET_KEY=9x!k2@vq7#mZ4p", "9x!k2@vq7#mZ4p", "secret"),
    ('{"client_secret": "d8f7a6s5d4f3g2h1j0k9"}', "d8f7a6s5d4f3g2h1j0k9", "secret"),
    ("db:\n  password: Hunter2Secret!\n", "Hunter2Secret!", "secret"),
    ('passwd = "Tr0ub4dor&3"', "Tr0ub4dor&3", "secret"),
    ('apiKey := "a1b2c3d4e5f6g7h8i9j0"', "a1b2c3d4e5f6g7h8i9j0", "secret"),
    ('SESSION_TOKEN: str = "Zm9vYmFyYmF6MTIzNDU2"', "Zm9vYmFyYmF6MTIzNDU2", "secret"),
    ('headers = {"Authorization": "Bearer abcDEF123456ghiJKL789"}', "abcDEF123456ghiJKL789", "token"),
]


@pytest.mark.parametrize("text, secret, kind", TRUE_POSITIVES)
def test_provider_formats_and_secret_assignments_are_redacted(text: str, secret: str, kind: str) -> None:
    redacted, found = redact_text(text)
    assert secret not in redacted
    assert f"<redacted:{kind}>" in redacted and found[kind] >= 1


def test_private_key_blocks_whole_cut_and_json_escaped() -> None:
    body = "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2B8\nZ2lzdGVyZWQgbWVzc2FnZSBib2R5IGZvciB0ZXN0\n"
    whole = f"key = '''-----BEGIN RSA PRIVATE KEY-----\n{body}-----END RSA PRIVATE KEY-----\n'''\n"
    redacted, found = redact_text(whole)
    assert (
        redacted
        == ("key = '''-----BEGIN RSA PRIVATE KEY-----\n<redacted:private-key>\n-----END RSA PRIVATE KEY-----\n'''\n")
        and found["private-key"] == 1
    )
    cut_after = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + body  # the prompt window ends inside the block
    assert "MIIEpAIB" not in redact_text(cut_after)[0]
    cut_before = body + "-----END PRIVATE KEY-----\nx = 1\n"  # the window starts inside it
    assert redact_text(cut_before)[0] == "<redacted:private-key>\n-----END PRIVATE KEY-----\nx = 1\n"
    escaped = '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----\\n"}'
    assert redact_text(escaped)[0] == (
        '{"private_key": "-----BEGIN PRIVATE KEY-----\\n<redacted:private-key>\\n-----END PRIVATE KEY-----\\n"}'
    )


def test_redacted_code_still_parses() -> None:
    source = (
        'AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"\n'
        "GITHUB_TOKEN = 'ghp_16C7e42F292c6912E7710c838347Ae178B4a'\n"
        'DB = {"password": "Hunter2Secret!", "url": "mysql://root:Xk29vLq8Rz@localhost/db"}\n'
        "def connect(api_key='sk-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c'):\n    return api_key\n"
    )
    redacted, found = redact_text(source)
    ast.parse(redacted)
    assert sum(found.values()) == 5


def test_json_bodies_are_copied_not_changed() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "key AKIAIOSFODNN7EXAMPLE"}], "max_tokens": 8}
    redacted, found = redact_json(body)
    assert redacted["messages"][0]["content"] == "key <redacted:aws-access-key-id>" and found["aws-access-key-id"] == 1
    assert body["messages"][0]["content"] == "key AKIAIOSFODNN7EXAMPLE" and redacted["max_tokens"] == 8


NORMAL_CODE = """
import hashlib, os
EXPECTED_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
commit = "3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39"
uuid = "123e4567-e89b-12d3-a456-426614174000"
key = "definition_weight"
PRIMARY_KEY = "id"
sort_key = lambda item: item[0]
token = tokens[0]
password = os.environ["DB_PASSWORD"]
SECRET_KEY = settings.SECRET_KEY
api_key = get_api_key()
secret = None
max_tokens: int = 128
password = "password"
is_secret = True
url = "http://localhost:8000/v1"
repo = "https://user@github.com/org/repo.git"
dsn = "postgres://app:${DB_PASSWORD}@db/main"
color = "#ff00aa"
monkey = "a1b2c3d4e5f6g7h8"
task_key_prefix = "task-runner"
const workDoneToken = `qwen-agent-${Date.now()}`;
for key, value in items.items():
    print(f"{key}={value}")
"""


def test_ordinary_code_is_left_alone() -> None:
    redacted, found = redact_text(NORMAL_CODE)
    assert redacted == NORMAL_CODE and not found


def test_this_repositorys_own_code_has_no_false_positives() -> None:
    """The server's own source (tens of thousands of lines of ordinary Python) goes out untouched."""
    for folder in ("clients", "context", "server", "bench"):
        for path in sorted((REPOSITORY / folder).rglob("*.py")):
            if path.name == "redaction.py":  # its docstring lists the formats
                continue
            _, found = redact_text(path.read_text())
            assert not found, f"{path}: {dict(found)}"


def test_randomness_rule() -> None:
    assert entropy("aaaa") == 0 and entropy("abcd") == 2
    assert looks_random("Tr0ub4dor&3") and looks_random("9f86d081884c7d659a2feaa0c55ad015")
    assert not looks_random("definition_weight")  # a word
    assert not looks_random("abc123")  # too short
    assert not looks_random("settings.SECRET_KEY")  # code
    assert not looks_random("<your-key-here>") and not looks_random("xxxxxxxxxxxx")  # placeholders


def test_log_lines_pass_the_redactor() -> None:
    from qwen_lsp.server.lsp_logging import RedactingFormatter

    try:
        raise ValueError("bad GITHUB_TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "qwen_lsp.x", logging.DEBUG, __file__, 1, "raw %r", ("AKIAIOSFODNN7EXAMPLE",), sys.exc_info()
        )
    line = RedactingFormatter("%(message)s").format(record)
    assert "AKIAIOSFODNN7EXAMPLE" not in line and "ghp_16C7e42F" not in line and "Traceback" in line


def test_a_log_record_is_redacted_once_for_all_its_handlers(monkeypatch) -> None:
    """stderr, a log file and the editor format the same record: the redactor runs once for its message and once for
    its traceback, and every line has the key replaced."""
    import io

    from qwen_lsp.server import lsp_logging

    calls: list[str] = []
    real = lsp_logging.redact_text
    monkeypatch.setattr(lsp_logging, "redact_text", lambda text: calls.append(text) or real(text))
    streams = [io.StringIO() for _ in range(3)]
    logger = logging.getLogger("qwen_lsp.test_redaction_once")
    logger.propagate = False
    formats = ["%(asctime)s %(levelname)s %(name)s: %(message)s", "%(name)s: %(message)s", "%(message)s"]
    for stream, fmt in zip(streams, formats, strict=True):
        handler = logging.StreamHandler(stream)
        handler.setFormatter(lsp_logging.RedactingFormatter(fmt))
        logger.addHandler(handler)
    try:
        try:
            raise ValueError("bad GITHUB_TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a")
        except ValueError:
            logger.exception("endpoint refused key %s", "AKIAIOSFODNN7EXAMPLE")
    finally:
        logger.handlers.clear()
    assert len(calls) == 2  # the message, the traceback
    for stream in streams:
        text = stream.getvalue()
        assert "endpoint refused key <redacted:" in text and "Traceback" in text
        assert "AKIAIOSFODNN7EXAMPLE" not in text and "ghp_16C7e42F" not in text
