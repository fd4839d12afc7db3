"""Light type inference from source text: what type a variable, attribute or call result has.

No type checker: a few patterns per language read declarations the way a reader skims them — annotations
(``x: Client``, ``Client x``, ``let x: Client``, ``x *Client``), constructor calls (``Client()``, ``new Client()``,
``&Client{}``, ``Client::new()``), calls whose result type the index may know (``make_client()``),
``with make() as x``, Go receivers and parameters. Each answer is a ``Guess``; the resolver turns guesses into
definitions and ranks several when unsure.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache, lru_cache
from typing import NamedTuple

from .elements import EXPR as _EXPR
from .elements import element_type, iterated, iteration_patterns

MAX_GUESSES = 3
_PATH = r"[A-Za-z_$][\w$]*(?:(?:\.|::)[A-Za-z_$][\w$]*)*"
# Wrappers whose members are those of the wrapped type (or whose value, once unwrapped, is).
# fmt: off
_WRAPPERS = {"Optional", "Final", "ClassVar", "Annotated", "Awaitable", "Coroutine", "Type", "type", "Promise",
             "Readonly", "Partial", "Required", "Option", "Box", "Arc", "Rc", "RefCell", "Cell", "Mutex", "RwLock",
             "Result", "Pin", "Cow", "Ref", "RefMut", "MutexGuard", "Weak", "NonNull", "Lazy", "OnceCell",
             "AtomicReference", "Supplier", "CompletableFuture", "Future", "Mono"}
# fmt: on
# fmt: off
_NOT_TYPES = {"return", "new", "throw", "else", "case", "yield", "await", "in", "of", "is", "not", "and", "or",
              "None", "null", "nil", "true", "false", "True", "False", "void", "var", "let", "const", "mut", "self",
              "this", "package", "import", "static", "final", "public", "private", "protected", "goto", "break",
              "continue", "typeof", "instanceof", "delete", "any", "unknown", "string", "number", "boolean", "int",
              "str", "float", "bool", "bytes", "dict", "list", "tuple", "set", "object", "Object", "error", "func"}
# fmt: on


class Guess(NamedTuple):
    path: str  # a type (or, with ``call``, a callee) as a dotted path: "Client", "models.Client", "crate.a.T"
    call: bool = False  # the value is what calling ``path`` returns (a class's instance, or a function's result)
    element: str = ""  # ``path`` is a container (Map, Vec, list...) of this element type, as written
    iterate: bool = False  # the value is an element of what ``path`` denotes (a loop or closure variable)


def normalize_type(text: str) -> str:
    """The dotted path of the type a declaration names: wrappers, pointers, references, generics removed."""
    text = text.strip().strip("'\"`").strip()
    for _ in range(4):
        text = re.sub(r"^(?:&'\w+\s*|&|\*|mut\s+|dyn\s+|impl\s+|readonly\s+|const\s+|\?)+", "", text).strip()
        match = re.match(rf"({_PATH})\s*[\[<]\s*(.*)$", text, re.S)
        if match and match.group(1).replace("::", ".").split(".")[-1] in _WRAPPERS:
            text = match.group(2)
            continue
        break
    text = re.split(r"\s*\|\s*(?:None|null|undefined)\b", text)[0]
    match = re.match(_PATH, text)
    if not match:
        return ""
    path = match.group(0).replace("::", ".")
    return "" if path.split(".")[-1] in _NOT_TYPES or path in _NOT_TYPES else path


def _type(text: str) -> list[Guess]:
    element = element_type(text, _WRAPPERS)
    if element:
        return [Guess(normalize_type(text) or "?", element=element)]
    path = normalize_type(text)
    return [Guess(path)] if path else []


def type_guesses(text: str) -> list[Guess]:
    """What a type as written denotes: a type, or a container of an element type."""
    return _type(text)


def _iterate(text: str) -> list[Guess]:
    path, call = iterated(text)
    return [Guess(path, call, iterate=True)] if path and path not in _NOT_TYPES else []


def _call(text: str) -> list[Guess]:
    path = text.replace("::", ".")
    return [Guess(path, True)] if path and path not in _NOT_TYPES else []


_N = r"(?P<n>[A-Za-z_$][\w$]*)"
_VARIANT = r"(?:\w+::)*(?:Some|Ok|Err)"  # Rust: the value an Option or Result holds
_MATCH = re.compile(rf"(\s*)(?:.*[=(]\s*)?match\s+&?(?:mut\s+)?({_EXPR})\s*\{{\s*$")
MAX_ARM_LINES = 80  # lines between a match arm and its ``match``
_CALL = rf"(?:await\s+|try\s+|yield\s+)?(?P<t>{_PATH})\s*(?:<[^<>()]*>)?\("


@cache
def _patterns(language: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """(pattern, how to read its type group ``t``) for declarations in ``language``; group ``n`` is the name.
    Compiled once per language: a request looks up several names, and compiling per name would cost more."""
    if language == "python":
        found = [
            (rf"\bisinstance\(\s*{_N}\s*,\s*(?P<t>{_PATH})\s*\)", "type"),  # narrowed by a check
            (rf"\b{_N}\s*:\s*(?P<t>[^=\n,)]+?)\s*(?:=|,|\)|$)", "type"),
            (rf"\b{_N}\s*(?::[^=\n]+)?=\s*(?:await\s+)?(?P<t>{_EXPR})(?<=\))\s*(?:#.*)?$", "chain"),
            (rf"\b{_N}\s*(?::[^=\n]+)?=\s*{_CALL}", "call"),
            (rf"\bwith\b[^\n]*?(?P<t>{_PATH})\([^\n]*\bas\s+{_N}\b", "call"),
        ]
    elif language in ("javascript", "typescript", "tsx"):
        found = [
            (rf"\b{_N}\s+instanceof\s+(?P<t>{_PATH})", "type"),
            (rf"\b{_N}\s*[?!]?\s*:\s*(?P<t>[\w$.]+(?:<[^=;\n]*>)?)", "type"),
            (rf"\b{_N}\s*(?::[^=\n]+)?=\s*new\s+(?P<t>{_PATH})", "type"),
            (rf"\b{_N}\s*(?::[^=\n]+)?=\s*(?:await\s+)?(?P<t>{_EXPR})(?<=\))\s*!?\s*;?\s*$", "chain"),
            (rf"\b{_N}\s*(?::[^=\n]+)?=\s*{_CALL}", "call"),
        ]
    elif language == "go":
        found = [
            (rf"\b{_N}(?:\s*,\s*\w+)*\s*:?=\s*&?(?P<t>{_PATH})\s*\{{", "type"),
            (rf"\b{_N}(?:\s*,\s*\w+)*\s*:?=\s*[\w.]+\.\(\s*\*?(?P<t>{_PATH})\s*\)", "type"),  # x, ok := v.(*T)
            (rf"\b{_N}(?:\s*,\s*\w+)*\s*:?=\s*{_CALL}", "call"),
            (rf"\bvar\s+{_N}\s+(?P<t>[*\[\]\w.]+)", "type"),
            (rf"[(,]\s*{_N}\s+(?P<t>\*?[\w.]+)", "type"),
            (rf"^\s*{_N}\s+(?P<t>\*?[\w.]+)\s*,\s*$", "type"),  # a parameter on a line of its own
        ]
    elif language == "rust":
        let = rf"\blet\s+(?:mut\s+)?{_N}"
        found = [
            (rf"{let}\s*:\s*(?P<t>[^=;\n]+)", "type"),
            (rf"{let}\s*=\s*&?(?:mut\s+)?(?P<t>{_PATH})\s*\{{", "type"),
            (rf"{let}\s*=\s*&?(?:mut\s+)?(?P<t>{_EXPR})(?<=\))\s*\??\s*;", "chain"),
            (rf"{let}\s*=\s*&?(?:mut\s+)?{_CALL}", "call"),
            (rf"\blet\s+{_VARIANT}\(\s*(?:ref\s+)?(?:mut\s+)?{_N}\s*\)\s*=\s*&?(?:mut\s+)?(?P<t>{_EXPR})", "iterate"),
            (rf"[(,|]\s*(?:mut\s+)?{_N}\s*:\s*(?P<t>[^,)=|\n]+)", "type"),  # parameters, typed closure ones
            # a parameter on a line of its own (generic arguments may hold commas)
            (
                rf"^\s*(?:mut\s+)?{_N}\s*:\s*(?P<t>(?:<[^<>\n]*(?:<[^<>\n]*>[^<>\n]*)*>|[^,)=|\n{{}}<])+?)\s*,\s*$",
                "type",
            ),
        ]
    elif language in ("java", "csharp", "kotlin", "scala"):
        found = [
            (rf"\b{_N}\s+(?:instanceof|is)\s+(?P<t>{_PATH})", "type"),
            (rf"\b{_N}\s*=\s*new\s+(?P<t>{_PATH})", "type"),
            (rf"\b{_N}\s*:\s*(?P<t>{_PATH})", "type"),
            (rf"(?P<t>{_PATH}(?:<[^;=()]*>)?)(?:\[\])?\s+{_N}\s*[=;,):]", "type"),
            (rf"\b{_N}\s*=\s*(?P<t>{_EXPR})(?<=\))\s*;", "chain"),
            (rf"\b{_N}\s*=\s*{_CALL}", "call"),
        ]
    else:
        found = []
    found += [(pattern, "iterate") for pattern in iteration_patterns(language)]
    return tuple((re.compile(pattern), how) for pattern, how in found)


def compile_patterns(language: str) -> None:
    """Compile ``language``'s declaration patterns (~10 ms) ahead of the first request that reads types."""
    _patterns(language)


def _has_word(line: str, name: str) -> bool:
    """``name`` occurs in ``line`` as a whole identifier (not inside a longer one)."""
    at = line.find(name)
    while at >= 0:
        end = at + len(name)
        if (at == 0 or not _is_identifier_char(line[at - 1])) and (
            end == len(line) or not _is_identifier_char(line[end])
        ):
            return True
        at = line.find(name, end)
    return False


def _is_identifier_char(char: str) -> bool:
    return char.isalnum() or char in "_$"


def _lines_naming(text: str, name: str) -> Iterator[str]:
    """The lines of ``text`` where ``name`` occurs as a whole identifier, the last first: found by searching for
    the name, not by reading every line (a few hundred lines are read per type guess)."""
    if not name:
        yield from (line for line in reversed(text.split("\n")) if _has_word(line, name))
        return
    at = text.rfind(name)
    while at >= 0:
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        line = text[start : end if end >= 0 else len(text)]
        if _has_word(line, name):
            yield line
        at = text.rfind(name, 0, start - 1) if start > 0 else -1


def _match_arm(text: str, name: str, line: str) -> list[Guess]:
    """``Some(name) =>`` in a Rust ``match subject {``: what the subject holds (``Option``/``Result`` unwrapped)."""
    arm = re.match(rf"(\s*){_VARIANT}\(\s*&?(?:ref\s+)?(?:mut\s+)?(\w+)\s*\)\s*(?:if\b[^\n]*)?=>", line)
    if arm is None or arm.group(2) != name:
        return []
    lines = text[: text.rfind(line)].split("\n")[-MAX_ARM_LINES:]
    for above in reversed(lines):
        subject = _MATCH.match(above)
        if subject and len(subject.group(1)) < len(arm.group(1)):
            return _iterate(subject.group(2))
    return []


def variable_guesses(language: str, name: str, text: str) -> list[Guess]:
    """Types ``name`` may have, from its declarations in ``text`` (the code before the use): the last one first.
    Read from the last line up, so the search ends at the ``MAX_GUESSES`` nearest declarations."""
    out: list[Guess] = []
    for line in _lines_naming(text, name):
        guesses = _line_guesses(language, name, line)
        if not guesses and language == "rust" and "=>" in line:
            guesses = tuple(_match_arm(text, name, line))
        for guess in guesses:
            if guess not in out:
                out.append(guess)
        if len(out) >= MAX_GUESSES:
            break
    return out[:MAX_GUESSES]


@lru_cache(maxsize=32768)
def _line_guesses(language: str, name: str, line: str) -> tuple[Guess, ...]:
    """The types one line declares for ``name``, the rightmost first (kept: from one keystroke to the next, and
    from one request to the next in a file, the same lines are read for the same names)."""
    found: list[tuple[int, Guess]] = []
    for pattern, how in _patterns(language):
        for match in pattern.finditer(line):
            if match.group("n") == name:
                found += [(match.start(), guess) for guess in _READERS[how](match.group("t"))]
    return tuple(guess for _, guess in sorted(found, key=lambda item: -item[0]))


def _chain(text: str) -> list[Guess]:
    path, call = iterated(text)  # a.b().c(x): "a.b().c", called
    return [Guess(path, call)] if path and call else []


_READERS = {"type": _type, "call": _call, "iterate": _iterate, "chain": _chain}
_GO_FIELD = re.compile(r"\b(?P<n>\w+)\s+(?P<t>[*\[\]\w.]+)")
_RUST_FIELD = re.compile(r"\b(?P<n>\w+)\s*:\s*(?P<t>[^,\n]+)")
_CALLED_NAME = re.compile(r"\b(?P<n>[A-Za-z_$][\w$]*)\s*(?:<[^()]*>)?\(")


def field_guesses(language: str, name: str, text: str) -> list[Guess]:
    """The type of an attribute from its declaration (a field definition's text): ``self.x = Client()``,
    ``x: Client``, ``private Client x;``, ``x *Client``, ``x: Box<Client>``, ``this.x = new Client()``."""
    line = text.split("\n", 1)[0] if language != "python" else text
    if language in ("go", "rust"):
        for match in (_GO_FIELD if language == "go" else _RUST_FIELD).finditer(line):
            if match.group("n") == name:
                return _type(match.group("t").lstrip("[]"))
        return []
    return variable_guesses(language, name, line)


def return_guesses(language: str, name: str, signature: str) -> list[Guess]:
    """The result type of function ``name`` from its signature text (the summary's first lines)."""
    at = next((m for m in _CALLED_NAME.finditer(signature) if m.group("n") == name), None)
    if at is None:
        return []
    if language in ("java", "csharp"):
        match = re.search(rf"({_PATH}(?:<[^()]*>)?)(?:\[\])?\s+$", signature[: at.start()])
        return _type(match.group(1)) if match else []
    depth, i = 0, at.end() - 1
    while i < len(signature):
        depth += {"(": 1, ")": -1}.get(signature[i], 0)
        i += 1
        if depth == 0:
            break
    rest = signature[i : i + 200]
    if language == "go":
        match = re.match(r"\s*\(?\s*([*\w.]+)", rest)
        return _type(match.group(1)) if match and not rest.lstrip().startswith("{") else []
    marker = r"\s*:\s*" if language in ("typescript", "tsx", "javascript", "kotlin", "scala") else r"\s*->\s*"
    # ``=`` ends the type unless inside its brackets (``-> impl Iterator<Item = &Arg>``); ``::`` is a path's
    match = re.match(marker + r"((?:<[^<>{}\n]*(?:<[^<>{}\n]*>[^<>{}\n]*)*>|::|[^{:=<\n])+)", rest)
    return _type(re.split(r"\s+where\b", match.group(1))[0]) if match else []
