"""Reading a definition's signature text (its indexed summary): the signature itself, on one line, and the
base types a class, interface or struct names."""

from __future__ import annotations

import re
from functools import lru_cache

from ..syntax.symbols import Definition
from .elements import split_top
from .receivers import normalize_type

MAX_SIGNATURE_LINES = 24  # long parameter lists put the return type far down


_PREAMBLE = re.compile(r"\s*(#|//|/\*|\*|@|\"\"\"|'''|$)")


def signature(d: Definition) -> str:
    """The definition's signature text, without leading comments, decorators and attributes."""
    lines = d.summary.split("\n", MAX_SIGNATURE_LINES * 2)[: MAX_SIGNATURE_LINES * 2]
    i = 0
    while i < len(lines) - 1 and _PREAMBLE.match(lines[i]):
        if lines[i].lstrip().startswith("/*"):  # a block comment's lines need not start with '*' (javadoc)
            while i < len(lines) - 1 and "*/" not in lines[i]:
                i += 1
        i += 1
    return "\n".join(lines[i : i + MAX_SIGNATURE_LINES])


@lru_cache(maxsize=16384)
def signature_line(d: Definition, max_chars: int = 120) -> str:
    """The signature on one line: continuation lines joined until the brackets close (cached: outlines list the
    same members keystroke after keystroke)."""
    out, depth = [], 0
    for line in signature(d).split("\n"):
        out.append(line.strip())
        depth += line.count("(") + line.count("[") - line.count(")") - line.count("]")
        if depth <= 0:
            break
    text = " ".join(out).replace("( ", "(").replace(" )", ")").removesuffix("{").rstrip()
    return text if len(text) <= max_chars else text[: max_chars - 3] + "..."


_ALIAS = re.compile(r"\s*(?:(?:pub(?:\([^)]*\))?|export|declare)\s+)*type\s+[\w$]+\s*(?:<[^=]*>)?\s*=\s*([^;\n]+)")


def base_names(language: str, cls: Definition) -> list[str]:
    header = signature(cls)
    if language == "python":
        match = re.search(r"class\s+\w+\s*(?:\[[^\]]*\])?\s*\((.*?)\)\s*:", header, re.S)
        parts = split_top(match.group(1)) if match else []
        return [normalize_type(p) for p in parts if "=" not in p and normalize_type(p)]
    if language == "go":
        return [
            normalize_type(m.group(1))
            for m in re.finditer(r"(?m)^\s*(\*?[\w.]+)\s*(?:`[^`]*`)?\s*$", cls.summary)
            if normalize_type(m.group(1))
        ]
    alias = _ALIAS.match(header)
    if alias:  # type A<T> = B<T>: A has B's members
        target = normalize_type(alias.group(1))
        return [target] if target else []
    match = re.search(r"\b(?:extends|implements|:)\s+([^{]+)", header.split("{", 1)[0].split("\n{")[0])
    if not match:
        return []
    parts = split_top(re.sub(r"\b(?:extends|implements|with)\b", ",", match.group(1)))
    return [normalize_type(p) for p in parts if normalize_type(p)]
