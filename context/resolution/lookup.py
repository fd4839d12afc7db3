"""Definitions by name for one request: imports and what they bind, re-export chains, what a name means in a file."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from ..gathering import Gathering, resolve_import
from ..index.repo_index import FileRecord
from ..syntax.languages import language_named
from ..syntax.symbols import Definition
from .imports import Import, Target
from .manifests import crate_named, go_package_name, resolve_by_manifest
from .modules import default_export, is_module_named, package_files
from .scopes import FileContext, Found

MAX_HOPS = 4  # re-export hops, base-class depth, nested resolutions
MAX_AMBIGUOUS = 4
MAX_VISITED = 48  # files a re-export search may open


@dataclass
class NameLookup:
    """Names to definitions for one request: the files' imports and what they bind, definitions by name (re-exports
    followed), and what a name means in a file; every answer kept for the request."""

    g: Gathering
    _bindings: dict[str, dict[str, list[tuple[Import, str]]]] = field(default_factory=dict)
    _contexts: dict[str, FileContext] = field(default_factory=dict)
    _texts: dict[str, str] = field(default_factory=dict)
    _lookups: dict[tuple[str, str, frozenset[str] | None], list[Found]] = field(default_factory=dict)
    _named: dict[str, list[tuple[FileRecord, Definition]]] = field(default_factory=dict)
    _following: set[tuple[str, Import]] = field(default_factory=set)  # module re-exports being followed

    # --- files and imports ----------------------------------------------------------------------------------------

    def here(self) -> FileContext:
        ctx = self._contexts.get("")
        if ctx is None:
            g = self.g
            language = g.spec.name if g.spec else ""
            dialect = g.spec.import_dialect if g.spec else ""
            ctx = self._contexts[""] = FileContext(
                g.key, g.record, tuple(g.imports), language, dialect, g.folder, g.rel
            )
        return ctx

    def context_of(self, record: FileRecord) -> FileContext:
        if record.key == self.g.key:
            return self.here()
        ctx = self._contexts.get(record.key)
        if ctx is None:
            spec = language_named(record.language)
            ctx = self._contexts[record.key] = FileContext(
                record.key, record, tuple(record.imports), spec.name, spec.import_dialect, record.folder, record.rel
            )
        return ctx

    def bindings(self, ctx: FileContext) -> dict[str, list[tuple[Import, str]]]:
        out = self._bindings.get(ctx.key)
        if out is None:
            out = self._bindings[ctx.key] = {}
            for imp in ctx.imports:
                if ctx.dialect == "rust" and " as " in imp.module:  # use other_crate as alias; binds the crate
                    imp = Import(imp.module.split(" as ")[0].strip(), tuple((a, "*") for a, _ in imp.names), imp.line)
                for local, original in imp.names:
                    out.setdefault(local, []).append((imp, original))
        return out

    def resolve(self, ctx: FileContext, imp: Import) -> list[str]:
        if ctx.dialect in ("rust", "go"):  # a crate's or module's own paths, by its manifest
            found = resolve_by_manifest(self.g.index, ctx.key, ctx.folder, ctx.rel, ctx.dialect, imp)
            if found and ctx.dialect == "rust":
                found = self._reexported_module(imp, found) or found
            if found:
                return found
        if ctx.key == self.g.key:
            return self.g.resolve(imp)
        return resolve_import(self.g.index, imp, ctx.dialect, ctx.key, ctx.folder, ctx.rel, ctx.record)

    def _reexported_module(self, imp: Import, found: list[str]) -> list[str]:
        """``a::b::m`` where ``a/b`` has no file ``m`` but re-exports a module by that name (``pub use
        super::other::m;``, or ``pub use other::*;`` where ``other`` has it): that module's files (hops followed,
        cycles guarded)."""
        name = imp.module.rsplit("::", 1)[-1]
        record = self.g.index.files.get(found[0])
        if record is None or any(is_module_named(key, name) for key in found) or len(self._following) >= MAX_HOPS:
            return []
        ctx = self.context_of(record)
        globs = [(imp, name) for imp in ctx.imports if not imp.names][:MAX_AMBIGUOUS]  # pub use tokenizer::*;
        for reexport, original in [*self.bindings(ctx).get(name, ()), *globs]:
            module = Import(f"{reexport.module}::{original}", ())
            if (ctx.key, module) in self._following:
                continue
            self._following.add((ctx.key, module))
            try:
                files = [k for k in self.resolve(ctx, module) if is_module_named(k, original)]
            finally:
                self._following.discard((ctx.key, module))
            if files:
                return files
        return []

    def package_files(self, keys: list[str]) -> list[str]:
        return package_files(self.g.index, keys)

    def module_files(self, ctx: FileContext, imp: Import) -> list[str]:
        files = self.resolve(ctx, imp)
        return self.package_files(files) if ctx.dialect in ("go",) else files

    def package_named(self, ctx: FileContext, name: str) -> list[str]:
        """Files of the module ``name`` denotes though no import binds it: a crate the file's crate depends on
        (``other_crate::f()``, no ``use`` needed), or a Go package whose declared name differs from the end of its
        import path (``.../go-toml/v2`` declaring ``toml``)."""
        index = self.g.index
        if ctx.dialect == "rust":
            root = crate_named(index, ctx.folder, ctx.rel, name)
            return index.resolve(Target(root, True), None, ctx.folder, "") if root else []
        for imp in ctx.imports:
            bound = imp.names[0][0] if imp.names else ""
            if bound and bound != name and bound == imp.module.rstrip("/").rsplit("/", 1)[-1]:  # not renamed
                files = self.module_files(ctx, imp)
                record = index.files.get(files[0]) if files else None
                if record is not None and go_package_name(index, record.folder, record.rel) == name:
                    return files
        return []

    # --- definitions by name --------------------------------------------------------------------------------------

    def defined_in(
        self, files: list[str] | tuple[str, ...], name: str, hops: int = MAX_HOPS
    ) -> list[tuple[FileRecord, Definition]]:
        """Top-level definitions of ``name`` in ``files``; else where those files re-export it from (``from .core
        import Name``, ``export * from``, ``export { X } from``, ``pub use``), several hops, breadth first (a
        barrel file's hundred ``export *`` are checked before any is followed further), cycles guarded, at most
        ``MAX_VISITED`` files opened; answers kept for the request."""
        memo_key = ("defined_in", tuple(files), name, hops)
        cached = self.g.index.cached_lookup(memo_key)
        if cached is not None:
            return cached  # type: ignore[return-value]
        frontier = list(dict.fromkeys((key, name) for key in files))
        seen: set[tuple[str, str]] = set()
        found: list[tuple[FileRecord, Definition]] = []
        for depth in range(hops + 1):
            for wanted in dict.fromkeys(n for _, n in frontier):
                keys = {key for key, n in frontier if n == wanted}
                found += [(r, d) for r, d in self.named(wanted) if r.key in keys and not d.parent]
            if found or depth == hops:
                break
            following: list[tuple[str, str]] = []
            for key, wanted in frontier:
                record = self.g.index.files.get(key)
                if record is None or (key, wanted) in seen or len(seen) >= MAX_VISITED:
                    continue
                seen.add((key, wanted))
                for imp in record.imports:
                    originals = [original for local, original in imp.names if local == wanted]
                    if originals or not imp.names:
                        targets = self.module_files(self.context_of(record), imp)
                        following += [(t, o) for t in targets for o in originals or [wanted]]
            frontier = [item for item in dict.fromkeys(following) if item not in seen]
            if not frontier or (self.g.expired() and len(seen) > 8):
                break
        if not self.g.expired():  # a search cut short by the deadline is not the answer
            self.g.index.store_lookup(memo_key, found)
        return found

    def imported(self, ctx: FileContext, imp: Import, original: str, local: str) -> list[tuple[FileRecord, Definition]]:
        """Definitions an import binds to ``local``: the named definition (re-exports followed), a default export,
        or a member the import names (Java ``import static a.B.member``)."""
        if original == "*":
            return []
        files = self.module_files(ctx, imp)
        if original == "default":
            return default_export(self.g.index, files, local)
        found = self.defined_in(files, original)
        return found or [(r, d) for r, d in self.named(original) if r.key in files][:MAX_AMBIGUOUS]

    def lookup(self, ctx: FileContext, name: str, kinds: frozenset[str] | set[str] | None = None) -> list[Found]:
        """What ``name`` means in the file ``ctx``: its own definition, an imported one, one in the same folder
        (same package), or one of a few in the workspace."""

        memo_key = (ctx.key, name, None if kinds is None else frozenset(kinds))
        found = self._lookups.get(memo_key)
        if found is None:
            found = self._lookups[memo_key] = self._lookup(ctx, name, kinds)
        return found

    def named(self, name: str) -> list[tuple[FileRecord, Definition]]:
        """``index.definitions_named``, once per request: a common name has thousands."""
        found = self._named.get(name)
        if found is None:
            found = self._named[name] = self.g.index.definitions_named(name)
        return found

    def _lookup(self, ctx: FileContext, name: str, kinds: frozenset[str] | set[str] | None) -> list[Found]:
        def ok(d: Definition) -> bool:
            return not d.parent and (kinds is None or d.kind in kinds)

        everywhere = [(r, d) for r, d in self.named(name) if ok(d)]
        own = [Found(r, d, 1.0) for r, d in everywhere if r.key == ctx.key]
        if own:
            return own
        for imp, original in self.bindings(ctx).get(name, ()):
            found = [
                Found(r, d, 1.0) for r, d in self.imported(ctx, imp, original, name) if kinds is None or d.kind in kinds
            ]
            if found:
                return found
        directory = posixpath.dirname(ctx.rel)
        near = [
            Found(r, d, 0.9) for r, d in everywhere if r.folder == ctx.folder and posixpath.dirname(r.rel) == directory
        ]
        if near:
            return near
        same_language = [(r, d) for r, d in everywhere if r.language == ctx.language] or everywhere
        if len(same_language) <= MAX_AMBIGUOUS:
            return [Found(r, d, 0.7 / len(same_language) ** 0.5) for r, d in same_language]
        return []
