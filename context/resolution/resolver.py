"""Resolving names to what they denote, from the index: modules bound by imports, types, members, base types.

A ``Scope`` is what a qualifier denotes: a module (its files) or a type (its class-like definition). The
``Resolver`` (one per request, with caches) turns the cursor's qualifier chain into scopes (``chain``), finds a
member in a scope (``members``: the type's own members, then its base classes / embedded structs / traits; a
module's definitions, following re-exports), and says what type a member or call result has. Every answer carries
a confidence, and ambiguous answers are several scopes rather than none.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from ..index.repo_index import FileRecord
from ..syntax.symbols import FUNCTION_LIKE
from .elements import SAME_VALUE, element_step
from .guesses import guarded, named_after
from .imports import Import
from .lookup import MAX_AMBIGUOUS, MAX_HOPS, NameLookup
from .macros import macro_result_type
from .modules import is_module_named
from .receivers import Guess, field_guesses, return_guesses, type_guesses, variable_guesses
from .references import enclosing_type, enclosing_type_in_text
from .scopes import MAX_SCOPES, TYPE_KINDS, FileContext, Found, Scope, distinct
from .signatures import base_names, signature

LOCAL_LOOKBACK_LINES = 300
SELF_NAMES = frozenset({"self", "this", "Self", "cls"})
IMPLICIT_THIS = frozenset({"java", "csharp", "kotlin", "scala", "cpp", "swift", "php"})  # ``f()`` may be ``this.f()``
_MODULE_SEPARATOR = {"python": ".", "rust": "::"}
_CONSTRUCTOR_LIKE = re.compile(
    r"(new|create|default|build|open|connect|of|from|with|get_?instance|value_?of)"
    r"(_\w+|[A-Z]\w*)?$"
)


def _without_doc_comment(text: str) -> str:
    """A declaration without the comment lines above it (``/** ... */`` over a Java field)."""
    return "\n".join(line for line in text.split("\n") if not line.lstrip().startswith(("/*", "*", "//")))


@dataclass
class Resolver(NameLookup):
    _heads: dict[str, list[Scope]] = field(default_factory=dict)

    # --- what a name, a type or a call denotes --------------------------------------------------------------------

    def _module_scope(self, ctx: FileContext, imp: Import, original: str, confidence: float) -> Scope | None:
        """The module an import binds to a name, if it binds a module (``import a.b as c``, ``from a import b``
        with ``b`` a module, ``import * as ns``, a Go package, ``use a::b``)."""
        if original in ("*", "default"):
            path = imp.module
            if ctx.dialect == "python" and not imp.module.startswith("."):
                local = next((local for local, o in imp.names if o == "*"), "")
                if local == imp.module.split(".")[0] and "." in imp.module:
                    path = local  # ``import a.b`` binds ``a``: the package itself
                    files = self.resolve(ctx, Import(path, ()))
                    return Scope("module", confidence, tuple(files), path)
            return Scope("module", confidence, tuple(self.module_files(ctx, imp)), path)
        sep = _MODULE_SEPARATOR.get(ctx.dialect)
        if sep is None:
            return None
        path = f"{imp.module}{sep}{original}" if not imp.module.endswith(sep) else imp.module + original
        files = [k for k in self.resolve(ctx, Import(path, ())) if is_module_named(k, original)]
        return Scope("module", confidence, tuple(files), path) if files else None

    def name_scopes(self, ctx: FileContext, name: str, confidence: float = 1.0) -> list[Scope]:
        """Scopes ``name`` denotes as a qualifier in ``ctx``: an imported module, or a type."""
        out: list[Scope] = []
        for imp, original in self.bindings(ctx).get(name, ()):
            scope = self._module_scope(ctx, imp, original, confidence)
            if scope is not None and original == "default":  # a default-exported class, or a namespace object
                classes = [
                    Scope("type", confidence, record=r, definition=d)
                    for r, d in self.named(name)
                    if r.key in scope.files and d.kind in TYPE_KINDS
                ]
                out += classes or [scope]
            elif scope is not None:
                out.append(scope)
        if out:
            return out
        if ctx.dialect == "rust" and name in ("crate", "super", "self"):
            return [Scope("module", confidence, tuple(self.resolve(ctx, Import(name, ()))), name)]
        if ctx.dialect in ("rust", "go"):  # another crate used by name, a Go package declaring another name
            files = self.package_named(ctx, name)
            if files:
                return [Scope("module", confidence, tuple(files), name)]
        return self.results(self.lookup(ctx, name, TYPE_KINDS), confidence, 0, False)

    def enclosing(self, confidence: float = 1.0) -> list[Scope]:
        name = enclosing_type(self.g.tree, self.g.cursor_byte) or enclosing_type_in_text(
            self.g.lines, self.g.cursor_line
        )
        if not name:
            return []
        here = self.here()
        own = [
            Scope("type", confidence, record=r, definition=d)
            for r, d in self.named(name)
            if r.key == here.key and d.kind in TYPE_KINDS
        ]
        return own or [s for s in self.name_scopes(here, name, confidence) if s.kind == "type"]

    def type_scopes(self, ctx: FileContext, guess: Guess, confidence: float, depth: int = 0) -> list[Scope]:
        """Types a guess denotes, looked up from ``ctx``: a type name, or the result of a call."""
        if depth > MAX_HOPS or not guess.path:
            return []
        if guess.element:  # a container: its members are not in the index, its element type is known
            return [Scope("container", confidence, (ctx.key,), guess.element)]
        if guess.iterate:  # a loop or closure variable: an element of what the expression denotes
            scopes = self.value_scopes(ctx, guess._replace(iterate=False), confidence, depth + 1)
            return distinct([e for s in scopes for e in self.elements(s, depth + 1)])
        parts = guess.path.split(".")
        if parts[-1] == "Self" and len(parts) == 1:
            return self.enclosing(confidence)
        if len(parts) == 1:
            found = self.lookup(ctx, parts[0], TYPE_KINDS | FUNCTION_LIKE if guess.call else TYPE_KINDS)
            return self.results(found, confidence, depth, called=guess.call)
        if ctx.key == self.g.key:  # ``self.factory.make()``, ``client.get()``: the head may be a local
            scopes = [s.scaled(confidence) for s in self.head(parts[0], depth=depth + 1)]
        else:
            scopes = self.name_scopes(ctx, parts[0], confidence)
        for part in parts[1:-1]:
            scopes = self.step(scopes, part, depth + 1)
        out = self.step(scopes, parts[-1] + ("()" if guess.call else ""), depth + 1)
        if out or guess.call:
            return out
        return self.type_scopes(ctx, Guess(parts[-1]), confidence * 0.6, depth + 1)  # the last name alone

    def value_scopes(self, ctx: FileContext, guess: Guess, confidence: float, depth: int) -> list[Scope]:
        """Types of an expression of the current file (``nodes``, ``cmd.args()``): its head may be a local."""
        parts = guess.path.split(".")
        if ctx.key != self.g.key or len(parts) > 1:
            return self.type_scopes(ctx, guess, confidence, depth)
        return [s.scaled(confidence) for s in self.head(parts[0], guess.call, depth)]

    def results(self, found: list[Found], confidence: float, depth: int, called: bool) -> list[Scope]:
        """Scopes for definitions reached by name: a type stays a type (called: its instance); a function called
        gives its return type; a field gives its declared type."""
        out: list[Scope] = []
        if any(f.definition.kind in TYPE_KINDS - {"impl"} for f in found):  # a Rust struct, not its impl blocks
            found = [f for f in found if f.definition.kind != "impl"]
        for f in found[:MAX_SCOPES]:
            d, conf = f.definition, confidence * f.confidence
            if d.kind in TYPE_KINDS:
                out.append(Scope("type", conf, record=f.record, definition=d))
            elif d.kind in FUNCTION_LIKE and called:
                guesses = return_guesses(f.record.language, d.name, signature(d))
                if not guesses and d.parent and _CONSTRUCTOR_LIKE.match(d.name):
                    guesses = [Guess(d.parent)]  # Type::new(), Type.create(): an instance, unless said otherwise
                for guess in guesses:
                    if guess.path == "Self" and d.parent:
                        guess = Guess(d.parent)
                    out += self._in_type_of(f.record, guess, conf, depth)
            elif d.kind in ("field", "variable", "constant") and not called:
                for guess in field_guesses(f.record.language, d.name, _without_doc_comment(d.summary)):
                    out += self._in_type_of(f.record, guess, conf, depth)
        return distinct(out)

    def _in_type_of(self, record: FileRecord, guess: Guess, confidence: float, depth: int) -> list[Scope]:
        if guess.path == "Self" and record.key == self.g.key:
            return self.enclosing(confidence)
        return self.type_scopes(self.context_of(record), guess, confidence, depth + 1)

    # --- members --------------------------------------------------------------------------------------------------

    def members(self, scope: Scope, name: str, depth: int = 0) -> list[Found]:
        """Definitions of member ``name`` of a scope: a module's (re-exports followed), a type's own, then its
        base types' (walked a few levels deep)."""
        if scope.kind == "module":
            return [Found(r, d, scope.confidence) for r, d in self.defined_in(scope.files, name)]
        record, cls = scope.record, scope.definition
        if record is None or cls is None:
            return []
        same = [(r, d) for r, d in self.named(name) if d.parent == cls.name and r.language == record.language]
        own = [Found(r, d, scope.confidence) for r, d in same if r.key == record.key]
        if not own:  # Go methods and Rust impls may live in other files of the package
            directory = posixpath.dirname(record.rel)
            own = [
                Found(r, d, scope.confidence * 0.9)
                for r, d in same
                if r.folder == record.folder and posixpath.dirname(r.rel) == directory
            ]
            if not own and len(same) <= MAX_AMBIGUOUS and record.language == "rust":
                own = [Found(r, d, scope.confidence * 0.6) for r, d in same]
        if own or depth >= MAX_HOPS:
            return own
        out: list[Found] = []
        for base in self.bases(scope):
            out += self.members(base, name, depth + 1)
            if out:
                break
        return out

    def bases(self, scope: Scope) -> list[Scope]:
        """Base classes, implemented interfaces, embedded structs, implemented traits (for Rust: of any impl)."""
        record, cls = scope.record, scope.definition
        if record is None or cls is None:
            return []
        ctx = self.context_of(record)
        names = base_names(record.language, cls)
        if record.language == "rust":
            for r, d in self.named(cls.name):
                if d.kind == "impl" and r.folder == record.folder:
                    match = re.match(r"\s*(?:unsafe\s+)?impl\s*(?:<[^>]*>)?\s*([\w:]+)[^{]*?\bfor\b", signature(d))
                    if match:
                        names.append(match.group(1).replace("::", "."))
        out: list[Scope] = []
        for name in names:
            for s in self.type_scopes(ctx, Guess(name), scope.confidence * 0.9, 1):
                if s.definition is not cls and s not in out:
                    out.append(s)
        return out[: MAX_SCOPES * 2]

    def ancestors(self, scope: Scope, levels: int, limit: int | None = None) -> list[Scope]:
        """Base types ``levels`` up, nearest first (deep hierarchies: Element extends Node...), at most ``limit``."""
        out: list[Scope] = []
        level = [scope]
        for _ in range(levels):
            level = [b for s in level for b in self.bases(s) if b not in out and b.definition is not scope.definition]
            out += level
            if limit is not None and len(out) >= limit:
                return out[:limit]
        return out

    def elements(self, scope: Scope, depth: int) -> list[Scope]:
        """What an element of ``scope`` denotes: a container's element type; any other type stands for its own
        elements (a slice declared ``[]T`` was read as ``T``)."""
        if scope.kind != "container":
            return [scope]
        record = self.g.index.files.get(scope.files[0]) if scope.files else None
        ctx = self.here() if record is None or record.key == self.g.key else self.context_of(record)
        return [
            s for guess in type_guesses(scope.path) for s in self.type_scopes(ctx, guess, scope.confidence, depth + 1)
        ]

    def step(self, scopes: list[Scope], segment: str, depth: int = 0) -> list[Scope]:
        """The scopes ``scope.segment`` denotes (``segment()``: the result of calling it, ``segment[]``: an
        element of it)."""
        if segment.endswith("[]"):
            return distinct([e for s in self.step(scopes, segment[:-2], depth) for e in self.elements(s, depth)])
        called = segment.endswith("()")
        name = segment[:-2] if called else segment
        out: list[Scope] = []
        for scope in scopes:
            if scope.kind == "container":
                how = element_step(name) if called else ""
                out += self.elements(scope, depth) if how == "element" else [scope] if how == "same" else []
                continue
            found = self.members(scope, name)
            out += self.results(found, 1.0, depth, called)
            if not found and called and scope.kind == "type" and name in SAME_VALUE:  # x.clone(), x.unwrap()
                out.append(scope)
            if scope.kind == "module" and not found and scope.path:
                ctx = self.here()
                sep = _MODULE_SEPARATOR.get(ctx.dialect)
                if sep:  # a submodule: pkg.sub / crate::a::b
                    path = f"{scope.path}{sep}{name}"
                    files = [k for k in self.resolve(ctx, Import(path, ())) if is_module_named(k, name)]
                    if files:
                        out.append(Scope("module", scope.confidence, tuple(files), path))
        return distinct(out)

    def chain(self, chain: tuple[str, ...]) -> list[Scope]:
        """Scopes the qualifier chain at the cursor denotes (``self.client`` -> the client's type)."""
        if not chain:
            return []
        head, called = (chain[0][:-2], True) if chain[0].endswith("()") else (chain[0], False)
        index = head.endswith("[]")  # items[i].
        scopes = self.head(head.removesuffix("[]"), called)
        if index:
            scopes = distinct([e for s in scopes for e in self.elements(s, 1)])
        rest = chain[1:]
        if head in SELF_NAMES and rest and not rest[0].endswith("()"):
            attribute = self.step(scopes, rest[0])
            if not attribute:  # the class as the index has it may lag behind the text: read the text
                here = self.here()
                for rank, guess in enumerate(variable_guesses(here.language, rest[0], self.text_before())):
                    attribute += self.type_scopes(here, guess, 0.8 if rank == 0 else 0.5 / rank, 1)
            scopes, rest = attribute, rest[1:]
        for segment in rest:
            if not scopes:
                break
            scopes = self.step(scopes, segment)
        return scopes

    def head(self, name: str, called: bool = False, depth: int = 0) -> list[Scope]:
        """What the first name of a chain denotes in the current file: ``self``, an imported module, a local
        variable or parameter (by its declaration), a type."""
        memo_key = f"{name}{'()' if called else ''}"
        if depth == 0 and memo_key in self._heads:
            return self._heads[memo_key]
        out = self._head(name, called, depth)
        if depth == 0:
            self._heads[memo_key] = out
        return out

    def _head(self, name: str, called: bool, depth: int) -> list[Scope]:
        here = self.here()
        if name.startswith(":"):  # a cast: (expr as Type)
            return self.type_scopes(here, Guess(name[1:]), 1.0, depth + 1)
        if name in SELF_NAMES:
            return self.enclosing()
        if name == "super":
            return [b for s in self.enclosing() for b in self.bases(s)]
        if called and name.endswith("!"):
            return self._macro_result(name[:-1], depth)
        if called:
            found = self.lookup(here, name) or self.implicit_members(name) or self._methods_named(name)
            return self.results(found, 1.0, depth, True)
        if name in self.bindings(here) or depth > MAX_HOPS:
            return self.name_scopes(here, name)
        out: list[Scope] = []
        guesses = guarded(self, here, name) + variable_guesses(here.language, name, self.text_before())
        for rank, guess in enumerate(guesses):
            out += self.type_scopes(here, guess, 1.0 if rank == 0 else 0.7 / rank, depth + 1)
        if not out and depth == 0 and (name[:1].islower() or name[:1] == "_"):  # an inherited field: ``_context.``
            out = self.results(self.implicit_members(name), 1.0, depth, False)
        return distinct(out) or self.name_scopes(here, name) or named_after(self, here, name)

    def _macro_result(self, name: str, depth: int) -> list[Scope]:
        """What a call of a macro defined in the repository gives: the type its body constructs."""
        out: list[Scope] = []
        macros = [(r, d) for r, d in self.named(name) if d.kind == "macro"]
        for record, d in macros[:MAX_AMBIGUOUS]:
            constructed = macro_result_type(self.g, record, d)
            if constructed:
                out += self.type_scopes(self.context_of(record), Guess(constructed), 0.8, depth + 1)
        return distinct(out)

    def implicit_members(self, name: str) -> list[Found]:
        """``name`` as a member of the enclosing class (its own or inherited), where a bare name may mean
        ``this.name`` (Java, C#, Kotlin...)."""
        if self.here().language not in IMPLICIT_THIS:
            return []
        return [f for scope in self.enclosing() for f in self.members(scope, name)]

    def _methods_named(self, name: str) -> list[Found]:
        """Methods called ``name`` anywhere (the head of a chain whose start is out of sight), if only a few."""
        found = [(r, d) for r, d in self.named(name) if d.parent and d.kind in FUNCTION_LIKE]
        return [Found(r, d, 0.7 / len(found) ** 0.5) for r, d in found] if len(found) <= MAX_AMBIGUOUS else []

    def text_before(self) -> str:
        text = self._texts.get("before")
        if text is None:
            g = self.g
            start = max(0, g.cursor_line - LOCAL_LOOKBACK_LINES)
            text = self._texts["before"] = "\n".join(g.lines[start : g.cursor_line + 1])
        return text
