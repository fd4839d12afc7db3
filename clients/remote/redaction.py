"""Credential-looking values are replaced before anything is sent to a remote endpoint.

Two kinds of rule. Provider formats are recognised by shape alone: AWS access key ids (``AKIA…``/``ASIA…``),
GitHub tokens (``ghp_…``, ``github_pat_…``), OpenAI/DashScope/Anthropic keys (``sk-…``), Stripe, Slack
(``xox…``), Google API keys (``AIza…``), JWTs, private-key PEM blocks and passwords in URLs
(``scheme://user:password@``). Other secrets are recognised by where they stand: a literal assigned to a name
like ``*_SECRET``, ``*_TOKEN``, ``*_KEY``, ``PASSWORD`` or ``passwd`` (``=``, ``:``, ``:=``, ``=>``, quoted
keys of JSON/YAML too) or after ``Bearer``, when it looks random: at least 8 characters, no spaces, letters
mixed with digits (or long mixed-case), and at least 3 bits of entropy per character. Names and code
(``os.environ[...]``, ``settings.SECRET_KEY``, ``get_token()``) are never touched, nor are words or hashes
assigned to other names (``sha256 = "e3b0…"``).

A value is replaced by ``<redacted:KIND>``, inside its quotes, so the prompt stays well-formed code. Only the
kinds found are ever logged, never a value.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

PLACEHOLDER = "<redacted:{}>"


def placeholder(kind: str) -> str:
    return PLACEHOLDER.format(kind)


@dataclass(frozen=True)
class _FormatRule:
    kind: str
    hint: tuple[str, ...]  # the rule runs only when one of these is in the text (cheap pre-check)
    pattern: re.Pattern[str]
    group: int = 0  # the part replaced
    check: Callable[[str], bool] | None = None


def _has_letter_and_digit(value: str) -> bool:
    return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


_FORMATS = (
    _FormatRule(
        "aws-access-key-id",
        ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "A3T"),
        re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|A3T[A-Z0-9])[A-Z0-9]{16}\b"),
    ),
    _FormatRule("github-token", ("gh",), re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b")),
    _FormatRule("github-token", ("github_pat_",), re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b")),
    _FormatRule(
        "api-key",
        ("sk-",),
        re.compile(r"\bsk-(?:proj-|ant-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),
        check=_has_letter_and_digit,
    ),
    _FormatRule("stripe-key", ("_live_", "_test_"), re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}\b")),
    _FormatRule("slack-token", ("xox",), re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    _FormatRule(
        "slack-webhook", ("hooks.slack.com",), re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9_/-]+")
    ),
    _FormatRule("google-api-key", ("AIza",), re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    _FormatRule("jwt", ("eyJ",), re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")),
    # The password of scheme://user:password@host (database URLs, git remotes, proxies).
    _FormatRule(
        "password",
        ("://",),
        re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^\s:/?#@'\"<>]+:([^\s/?#@'\"<>]+)@"),
        group=1,
        check=lambda value: _is_password(value),  # defined below, after the patterns it uses
    ),
)

# BEGIN … END of a private key; an unterminated block (cut by the prompt's window) runs as far as its base64 does.
_PEM_BLOCK = re.compile(
    r"(-----BEGIN ([A-Z0-9 ]*?)PRIVATE KEY(?: BLOCK)?-----)((?:\\[nr]|[\sA-Za-z0-9+/=:,.-])*?)"
    r"(-----END \2PRIVATE KEY(?: BLOCK)?-----|(?=[^\sA-Za-z0-9+/=:,.\\-])|\Z)"
)
# The tail of a block whose BEGIN line was cut off: base64 lines (real or JSON-escaped newlines) before END.
_PEM_TAIL = re.compile(
    r"(?:(?<=\n)|(?<=\\n)|(?<=\")|^)((?:[ \t]*[A-Za-z0-9+/=]{16,}(?:\r?\n|\\n))++)(-----END [A-Z0-9 ]*PRIVATE KEY)"
)

_LEADING_BREAKS = re.compile(r"(?:\\n|\\r|\s)*")
_TRAILING_BREAKS = re.compile(r"(?:\\n|\\r|\s)*\Z")
_STRONG_NAMES = r"(?i:password|passwd|passphrase|secret|token|credentials?)"
_WEAK_NAMES = r"(?:^|[_.\-]|(?<=[a-z0-9])(?=[A-Z]))(?i:api_?key|key|pass|pwd)"
_SECRET_NAME = re.compile(rf"(?:{_STRONG_NAMES}|{_WEAK_NAMES})$")
# name [: annotation] op value — the value a quoted literal or one unquoted token.
_ASSIGNMENT = re.compile(
    r"""(?<![\w\-])(?P<name>[A-Za-z_][A-Za-z0-9_\-]*)["']?(?:[ \t]*:[ \t]*[A-Za-z_][\w.\[\]]*)?[ \t]*(?::=|=>|=|:)[ \t]*"""
    r"""(?:(?P<quote>["'`])(?P<quoted>[^"'`\n\\]*)(?P=quote)|(?P<bare>[^\s"'`,;()\[\]{}<>]+))"""
)
_BEARER = re.compile(r"(?i)\b(?:bearer|token)\s+([A-Za-z0-9._~+/-]{16,}=*)")
_NOT_PASSWORDS = frozenset({"password", "pass", "passwd", "secret", "pwd", "token"})
_CODE_LIKE = re.compile(r"^(?:[A-Za-z_]\w*\.)+[A-Za-z_]\w*$|^(?:None|null|nil|true|false|True|False|undefined)$")
_PLACEHOLDER_LIKE = re.compile(r"^(?:<.*>|\$\{.*\}|\$\w+|\{\{.*\}\}|%\(.*\)s|\$\(.*\)|(.)\1+)$")


def _is_password(value: str) -> bool:
    return _PLACEHOLDER_LIKE.match(value) is None and value.lower() not in _NOT_PASSWORDS


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def looks_random(value: str, min_length: int = 8) -> bool:
    """A value that could be a key, token or password rather than a word, a name or code."""
    if len(value) < min_length or any(c.isspace() for c in value):
        return False
    if _PLACEHOLDER_LIKE.match(value) or _CODE_LIKE.match(value) or "${" in value or "{{" in value:
        return False
    mixed = _has_letter_and_digit(value) or (len(value) >= 20 and value.lower() != value and value.upper() != value)
    return mixed and entropy(value) >= 3.0


class Redactor:
    """Counts what it replaced, by kind, across calls."""

    def __init__(self) -> None:
        self.found: Counter[str] = Counter()

    def text(self, text: str) -> str:
        if len(text) < 8:
            return text
        if "PRIVATE KEY" in text:
            text = self._private_keys(text)
        for rule in _FORMATS:
            if any(h in text for h in rule.hint):
                text = rule.pattern.sub(partial(self._format_match, rule=rule), text)
        if "=" in text or ":" in text:
            text = _ASSIGNMENT.sub(self._assignment, text)
        if "earer" in text or "oken" in text:
            text = _BEARER.sub(
                lambda m: self._replace_group(m, 1, "token") if looks_random(m.group(1), 16) else m.group(0), text
            )
        return text

    def json(self, value: Any) -> Any:
        """A copy of a JSON-like value with every string redacted (dictionary keys are left alone)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self.json(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.json(item) for item in value]
        return value

    def _private_keys(self, text: str) -> str:
        def block(m: re.Match[str]) -> str:
            body = m.group(3)
            if not body.replace("\\n", "").replace("\\r", "").strip():
                return m.group(0)  # a BEGIN line alone: nothing to hide
            self.found["private-key"] += 1
            # keep the block's own line breaks (real or JSON-escaped); both patterns match at least ""
            leading = _LEADING_BREAKS.match(body)
            before = leading.group(0) if leading else ""
            trailing = _TRAILING_BREAKS.search(body[len(before) :]) if m.group(4) else None
            after = trailing.group(0) if trailing else ""
            return m.group(1) + before + placeholder("private-key") + after + m.group(4)

        text = _PEM_BLOCK.sub(block, text)
        return _PEM_TAIL.sub(lambda m: self._replace_group(m, 1, "private-key", keep_newline=True), text)

    def _format_match(self, m: re.Match[str], rule: _FormatRule) -> str:
        value = m.group(rule.group)
        if rule.check is not None and not rule.check(value):
            return m.group(0)
        return self._replace_group(m, rule.group, rule.kind)

    def _assignment(self, m: re.Match[str]) -> str:
        if not _SECRET_NAME.search(m.group("name")):
            return m.group(0)
        group = "quoted" if m.group("quoted") is not None else "bare"
        value = m.group(group)
        strong_password = re.search(r"(?i)pass|pwd", m.group("name")) is not None
        if not looks_random(value, 6 if strong_password else 8):
            return m.group(0)
        return self._replace_group(m, group, "secret")

    def _replace_group(self, m: re.Match[str], group: int | str, kind: str, keep_newline: bool = False) -> str:
        self.found[kind] += 1
        start, end = m.start(group) - m.start(0), m.end(group) - m.start(0)
        whole = m.group(0)
        tail = "\n" if keep_newline else ""
        return whole[:start] + placeholder(kind) + tail + whole[end:]


def redact_text(text: str) -> tuple[str, Counter[str]]:
    """``text`` with credential-like values replaced, and how many of each kind."""
    redactor = Redactor()
    return redactor.text(text), redactor.found


def redact_json(value: Any) -> tuple[Any, Counter[str]]:
    """A redacted copy of a request body (dicts, lists, strings), and how many values of each kind."""
    redactor = Redactor()
    return redactor.json(value), redactor.found
