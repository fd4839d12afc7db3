"""Imports: what a file's import statements name, and which workspace paths they may point to.

Statements are found by tree-sitter (``queries.IMPORTS``) and parsed here from their text, one small parser per
import dialect. Resolution is by path: an import becomes candidate path keys (lower-case, '/'-separated, without
extension) that the index looks up, exactly for relative imports and by longest matching suffix otherwise (so
``django.db.models`` finds ``django/db/models/__init__.py`` whatever the source root is).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import NamedTuple


class Import(NamedTuple):
    module: str  # as written: "os.path", "./util", "github.com/x/y", "crate::a::b", "x/y.h"
    names: tuple[tuple[str, str], ...] = ()  # (name bound in this file, name in the module); "*" = the module itself
    line: int = 0


@dataclass(frozen=True, slots=True)
class Target:
    key: str  # lower-case path without extension, '/'-separated
    exact: bool  # relative import: the whole key must match a workspace path
    directory: bool = False  # the import names a directory (Go package, Java wildcard, C# namespace)


_QUOTED = re.compile(r"""["'`]([^"'`\n]+)["'`]""")
_WORD = re.compile(r"[A-Za-z_$][\w$]*")


def _pairs(items: str, separator: str = " as ") -> tuple[tuple[str, str], ...]:
    out = []
    for item in items.split(","):
        item = item.strip().strip("(){} \n\t;")
        if not item or item == "*":
            continue
        original, _, alias = item.partition(separator)
        original = re.split(r"::|\.|\\", original.strip())[-1]
        alias = alias.strip() or original
        if _WORD.fullmatch(original) and _WORD.fullmatch(alias):
            out.append((alias, original))
    return tuple(out)


def _python(text: str) -> list[Import]:
    text = " ".join(text.replace("\\\n", " ").split())
    if text.startswith("from "):
        match = re.match(r"from\s+(\S+)\s+import\s+(.*)", text)
        if not match:
            return []
        return [Import(match.group(1), _pairs(match.group(2)))]
    imports = []
    for part in text[len("import ") :].split(","):
        module, _, alias = part.strip().partition(" as ")
        module = module.strip()
        imports.append(Import(module, ((alias.strip() or module.split(".")[0], "*"),)))
    return imports


def _javascript(text: str) -> list[Import]:
    sources = _QUOTED.findall(text)
    if not sources:
        return []
    names: list[tuple[str, str]] = []
    head = text.split("from")[0] if " from" in text else ""
    braces = re.search(r"\{([^}]*)\}", head)
    if braces:
        names.extend(_pairs(braces.group(1)))
    namespace = re.search(r"\*\s+as\s+([\w$]+)", head)
    if namespace:
        names.append((namespace.group(1), "*"))
    default = re.match(r"\s*import\s+(?:type\s+)?([\w$]+)\s*(?:,|from)", head + "from")
    if default and default.group(1) != "type":
        names.append((default.group(1), "default"))
    return [Import(sources[-1], tuple(names))]


def _go(text: str) -> list[Import]:
    sources = _QUOTED.findall(text)
    if not sources:
        return []
    alias = text.split(sources[-1])[0].strip(' "`\t')
    local = alias if alias and alias not in ("_", ".") else sources[-1].rstrip("/").split("/")[-1]
    return [Import(sources[-1], ((local, "*"),))]


def _rust(text: str) -> list[Import]:
    text = " ".join(text.split())
    if re.match(r"(pub(\([^)]*\))?\s+)?mod\s", text):
        name = re.search(r"mod\s+(\w+)", text)
        return [Import("self::" + name.group(1), ((name.group(1), "*"),))] if name else []
    body = re.sub(r"^(pub(\([^)]*\))?\s+)?use\s+", "", text).rstrip(";").strip()
    if "{" in body:
        prefix, _, items = body.partition("{")
        return [Import(prefix.rstrip(":"), _pairs(re.sub(r"[{}]", ",", items)))]
    module, _, last = body.rpartition("::")
    return [Import(module or last, _pairs(last) if last != "*" else ())]


def _dotted(text: str, keywords: str) -> list[Import]:
    """Java, Kotlin, Scala, C#, PHP ``use`` statements: a dotted (or backslashed) path, maybe with braces/alias."""
    text = " ".join(text.split()).rstrip(";")
    text = re.sub(rf"^({keywords})\s+", "", text)
    text = re.sub(r"^(static|function|const)\s+", "", text)
    alias = None
    if "=" in text:  # C#: using Alias = A.B;
        alias, _, text = (part.strip() for part in text.partition("="))
    if "{" in text:
        prefix, _, items = text.partition("{")
        return [Import(prefix.rstrip(".\\"), _pairs(items.replace("=>", " as ")))]
    text = text.replace(" as ", " ")
    parts = text.split()
    path = parts[0] if parts else ""
    if path.endswith((".*", "._", "\\*")):
        return [Import(path[:-2], ())]
    last = re.split(r"\.|\\", path)[-1]
    local = alias or (parts[1] if len(parts) > 1 else last)
    return [Import(path, ((local, last),))] if path else []


def _quoted_path(text: str) -> list[Import]:
    sources = _QUOTED.findall(text)
    if sources:
        source = sources[-1]
        if text.lstrip().startswith("require_relative") and not source.startswith("."):
            source = "./" + source
        return [Import(source)]
    match = re.search(r"<([^>]+)>", text)
    if match:
        return [Import(match.group(1))]
    words = text.split()
    return [Import(words[-1])] if len(words) > 1 else []


_PARSERS = {
    "python": _python,
    "javascript": _javascript,
    "go": _go,
    "rust": _rust,
    "java": lambda text: _dotted(text, "import"),
    "kotlin": lambda text: _dotted(text, "import"),
    "scala": lambda text: _dotted(text, "import"),
    "csharp": lambda text: _dotted(text, "global using|using"),
    "php": lambda text: _quoted_path(text) if _QUOTED.search(text) else _dotted(text, "use"),
    "swift": lambda text: _dotted(text, "import"),
    "c": _quoted_path,
    "ruby": _quoted_path,
    "lua": _quoted_path,
    "bash": _quoted_path,
}


def parse_import(dialect: str, text: str, line: int) -> list[Import]:
    parser = _PARSERS.get(dialect)
    if parser is None:
        return []
    try:
        return [Import(imp.module, imp.names, line) for imp in parser(text) if imp.module]
    except (IndexError, AttributeError):  # a statement being typed; nothing to resolve yet
        return []


def _strip_extension(path: str) -> str:
    base, ext = posixpath.splitext(path)
    return base if ext and len(ext) <= 5 and not ext[1:].isdigit() else path


def is_relative(imp: Import, dialect: str) -> bool:
    """An import of the workspace's own code by its place (``from .x``, ``./x``, ``crate::``, ``super::``): when it
    cannot be resolved, the resolution is what failed, not the code, so its names may be looked up by name."""
    if dialect == "python":
        return imp.module.startswith(".")
    if dialect == "javascript":
        return imp.module.startswith((".", "/"))
    if dialect == "rust":
        return imp.module.split("::", 1)[0] in ("crate", "self", "super")
    return False


def targets(imp: Import, dialect: str, current_path: str) -> list[Target]:
    """The workspace path keys an import may refer to, most specific first."""
    here = posixpath.dirname(current_path)
    module = imp.module
    out: list[Target] = []

    def relative(path: str) -> str:
        return posixpath.normpath(posixpath.join(here, path)).lower()

    if dialect == "python":
        dots = len(module) - len(module.lstrip("."))
        rest = module[dots:].replace(".", "/")
        if dots:
            base = here
            for _ in range(dots - 1):
                base = posixpath.dirname(base)
            base_key = posixpath.join(base, rest) if rest else base
            out += [Target(posixpath.join(base_key, original).lower(), True) for _, original in imp.names]
            out.append(Target(posixpath.normpath(base_key or ".").lower(), True))
        else:
            out += [Target(f"{rest}/{original}".lower(), False) for _, original in imp.names if original != "*"]
            out.append(Target(rest.lower(), False))
    elif dialect in ("javascript", "c", "ruby", "bash", "lua", "php"):
        path = module.replace(".", "/") if dialect == "lua" else module
        if path.startswith((".", "/")) or dialect == "c":
            stem = _strip_extension(path)
            out.append(Target(relative(stem), True))
            if dialect == "c":
                out.append(Target(stem.lower(), False))
        else:
            out.append(Target(_strip_extension(path.replace("\\", "/")).lower(), False))
    elif dialect == "go":
        out.append(Target(module.lower(), False, directory=True))
    elif dialect == "rust":
        parts = [p for p in module.split("::") if p]
        if parts and parts[0] in ("self", "super"):
            # the file's own module: ``a/b.rs`` is ``a::b``, ``a/b/mod.rs`` (and ``lib.rs``, ``main.rs``) its folder's
            stem = _strip_extension(current_path)
            base = here if posixpath.basename(stem) in ("mod", "lib", "main") else stem
            while parts and parts[0] == "super":
                base, parts = posixpath.dirname(base), parts[1:]
            if parts and parts[0] == "self":
                parts = parts[1:]
            key = posixpath.join(base, *parts) if parts else base
            out.append(Target(posixpath.normpath(key).lower(), True))
        else:
            if parts and parts[0] == "crate":
                parts = parts[1:]
            for cut in range(len(parts), 0, -1):
                out.append(Target("/".join(parts[:cut]).lower(), False))
            # ``use mycrate::a::B`` from the crate's examples, tests or benches: the crate root is ``lib.rs``
            for cut in range(len(parts), 1, -1):
                out.append(Target("/".join(parts[1:cut]).lower(), False))
            out.append(Target("lib", False))
    else:  # dotted languages: Java, Kotlin, Scala, C#, Swift, PHP namespaces
        parts = [p for p in re.split(r"\.|\\", module) if p]
        if not imp.names:
            out.append(Target("/".join(parts).lower(), False, directory=True))
        else:
            out.append(Target("/".join(parts).lower(), False))
            if len(parts) > 1:
                out.append(Target("/".join(parts[:-1]).lower(), False))
        if dialect == "csharp":
            out.append(Target("/".join(parts).lower(), False, directory=True))
    return [t for t in out if t.key and t.key != "."]
