"""Package manifests read as an IDE reads them, to resolve an import exactly rather than by the end of its path:
a Rust crate's ``Cargo.toml`` (``crate::``, the crates it depends on by ``path``, workspace dependencies) and a Go
module's ``go.mod`` (the module path, local ``replace`` directives, ``vendor/``), and a Go package's declared name.

Manifests are read from disk once per index paths generation (when files appear or disappear), per folder.
"""

from __future__ import annotations

import posixpath
import re
import tomllib
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from ..index.repo_index import RepoIndex
from .imports import Import, Target

MAX_LEVELS = 12  # folders walked up from a file to its manifest
_GO_MODULE = re.compile(r"^module\s+(\S+)", re.M)
_GO_REPLACE = re.compile(r"^\s*(?:replace\s+)?(\S+)(?:\s+\S+)?\s+=>\s+(\.{1,2}/\S*)", re.M)
_EXTERN_CRATE = re.compile(r"^\s*(?:pub\s+)?extern\s+crate\s+(\w+)\s+as\s+(\w+)\s*;", re.M)
_ROOT_CHARS = 20_000  # of a crate root read for its extern crate lines
_GO_PACKAGE = re.compile(r"^package\s+([A-Za-z_]\w*)", re.M)


@dataclass(frozen=True)
class Crate:
    folder: str  # folder-relative, '' for the workspace folder itself
    root: str  # the crate root's stem key (``src/lib``)
    dependencies: dict[str, str]  # name as code writes it -> the dependency's crate folder (path dependencies)


@dataclass(frozen=True)
class GoModule:
    folder: str
    path: str  # the module path: ``github.com/x/y``
    replaced: dict[str, str]  # module path -> folder of a local replacement

    def local_folder(self, import_path: str) -> str | None:
        """The folder (folder-relative) an import path under the module's path or a local replacement names;
        None for one outside them (the standard library, another module)."""
        for module, local in ((self.path, self.folder), *self.replaced.items()):
            if import_path == module or import_path.startswith(module + "/"):
                return posixpath.normpath(posixpath.join(local, import_path[len(module) + 1 :]))
        return None


@dataclass
class _Cache:
    generation: int = -1
    manifests: dict[str, object] = field(default_factory=dict)  # absolute folder -> Crate / GoModule / None
    packages: dict[str, str] = field(default_factory=dict)  # absolute folder -> its Go package's declared name


_CACHES: weakref.WeakKeyDictionary[RepoIndex, _Cache] = weakref.WeakKeyDictionary()


def _cache(index: RepoIndex) -> _Cache:
    cache = _CACHES.get(index)
    if cache is None or cache.generation != index.paths_generation:
        cache = _CACHES[index] = _Cache(index.paths_generation)
    return cache


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _table(manifest: dict[str, object], key: str) -> dict[str, object]:
    """A manifest's table, or an empty one where the file has something else (a hand-edited Cargo.toml)."""
    value = manifest.get(key)
    return value if isinstance(value, dict) else {}


def _crate(folder: str, rel_dir: str, text: str) -> Crate | None:
    try:
        manifest = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    lib, package = _table(manifest, "lib"), _table(manifest, "package")
    lib_path = lib.get("path")
    root = posixpath.normpath(posixpath.join(rel_dir, lib_path if isinstance(lib_path, str) else "src/lib.rs"))
    dependencies: dict[str, str] = {}
    name = lib.get("name", package.get("name"))
    if isinstance(name, str):  # its own examples, tests and benches use it by name
        dependencies[name.replace("-", "_")] = rel_dir
    workspace = None
    for table in ("dependencies", "dev-dependencies", "build-dependencies"):
        for dependency, spec in _table(manifest, table).items():
            if not isinstance(spec, dict):
                continue
            base = rel_dir
            if spec.get("workspace") is True:  # declared once in the workspace's manifest, its path from there
                workspace = _workspace_dependencies(folder, rel_dir) if workspace is None else workspace
                spec, base = workspace.get(dependency, {}), ""
            if not isinstance(spec, dict) or not isinstance(spec.get("path"), str):
                continue  # a registry's crate
            path = posixpath.normpath(posixpath.join(base, spec["path"]))
            if not _outside(path):  # a crate outside the folder: not indexed, its manifest not read
                dependencies[dependency.replace("-", "_")] = path
    # extern crate x as y; in the crate root puts y in every module's scope
    for crate, alias in _EXTERN_CRATE.findall(_read(posixpath.join(folder, root))[:_ROOT_CHARS]):
        if crate in dependencies:
            dependencies[alias] = dependencies[crate]
    return Crate(rel_dir, posixpath.splitext(root)[0].lower(), dependencies)


def _workspace_dependencies(folder: str, rel_dir: str) -> dict[str, object]:
    here = rel_dir
    while here:
        here = posixpath.dirname(here) if "/" in here else ""
        text = _read(posixpath.join(folder, here, "Cargo.toml"))
        if "[workspace" in text:
            try:
                manifest = tomllib.loads(text)
            except tomllib.TOMLDecodeError:
                return {}
            workspace = manifest.get("workspace")
            found = workspace.get("dependencies") if isinstance(workspace, dict) else None
            if not isinstance(found, dict):
                return {}
            return {
                k: {**v, "path": posixpath.join(here, str(v["path"]))} if isinstance(v, dict) and "path" in v else v
                for k, v in found.items()
            }
    return {}


def _outside(path: str) -> bool:
    return path == ".." or path.startswith("../")


def _go_module(rel_dir: str, text: str) -> GoModule | None:
    match = _GO_MODULE.search(text)
    if not match:
        return None
    replaced = {m.group(1): posixpath.normpath(posixpath.join(rel_dir, m.group(2))) for m in _GO_REPLACE.finditer(text)}
    replaced = {module: path for module, path in replaced.items() if not _outside(path)}
    return GoModule(rel_dir, match.group(1).strip('"'), replaced)


def manifest_of(index: RepoIndex, folder: str, rel: str, dialect: str) -> Crate | GoModule | None:
    """The crate or Go module the file ``rel`` of workspace folder ``folder`` belongs to: the nearest manifest up."""
    name = {"rust": "Cargo.toml", "go": "go.mod"}.get(dialect)
    if name is None or not folder:
        return None
    cache = _cache(index)
    here = posixpath.dirname(rel)
    walked: list[str] = []
    found: object = None
    for _ in range(MAX_LEVELS):
        absolute = posixpath.join(folder, here, name)
        if absolute in cache.manifests:
            found = cache.manifests[absolute]
            break
        walked.append(absolute)
        text = _read(absolute)
        if text:
            found = _crate(folder, here, text) if dialect == "rust" else _go_module(here, text)
            if found is not None:
                break
        if not here:
            break
        here = posixpath.dirname(here)
    for absolute in walked:
        cache.manifests[absolute] = found
    return found  # type: ignore[return-value]


def exact_targets(index: RepoIndex, folder: str, rel: str, dialect: str, imp: Import) -> list[Target]:
    """Where an import points by its manifest: ``crate::a::b`` and ``dep::a::b`` (a path dependency) in the
    crate's source folder, a Go import path under the module's path (or a local replacement, or ``vendor/``);
    [] when the manifest says nothing about it (another registry's crate or module: resolved by path)."""
    manifest = manifest_of(index, folder, rel, dialect)
    if isinstance(manifest, Crate):
        parts = [p for p in imp.module.split("::") if p]
        if not parts:
            return []
        root = manifest.root if parts[0] == "crate" else _dependency_root(index, folder, manifest, parts[0])
        if not root:
            return []
        base = posixpath.dirname(root)
        rest = [p.lower() for p in parts[1:]]
        out = [Target(posixpath.join(base, *rest[:cut]), True) for cut in range(len(rest), 0, -1)]
        return [*out, Target(root, True)]
    if isinstance(manifest, GoModule):
        local = manifest.local_folder(imp.module)
        if local is not None:
            return [Target(local.lower(), True, True)]
        return [Target(posixpath.join(manifest.folder, "vendor", imp.module).lower(), True, True)]
    return []


def crate_named(index: RepoIndex, folder: str, rel: str, name: str) -> str:
    """The root file's stem key of the crate ``name`` (a path dependency, or the crate itself) as code in ``rel``
    uses it without a ``use`` (Rust 2018: ``other_crate::f()``), or ''."""
    manifest = manifest_of(index, folder, rel, "rust")
    return _dependency_root(index, folder, manifest, name) if isinstance(manifest, Crate) else ""


def _dependency_root(index: RepoIndex, folder: str, crate: Crate, name: str) -> str:
    """The root file's stem key of the crate ``crate`` knows as ``name`` (a path dependency, or itself), or ''."""
    if name not in crate.dependencies:
        return ""
    dependency = manifest_of(index, folder, posixpath.join(crate.dependencies[name], "Cargo.toml"), "rust")
    return dependency.root if isinstance(dependency, Crate) else ""


def go_package_name(index: RepoIndex, folder: str, rel: str) -> str:
    """The package a Go file declares (``package toml`` in folder ``go-toml``), read once per folder."""
    cache = _cache(index)
    directory = posixpath.join(folder, posixpath.dirname(rel))
    name = cache.packages.get(directory)
    if name is None:
        match = _GO_PACKAGE.search(_read(posixpath.join(folder, rel))[:8192])
        name = cache.packages[directory] = match.group(1) if match else ""
    return name


def resolve_by_manifest(index: RepoIndex, key: str, folder: str, rel: str, dialect: str, imp: Import) -> list[str]:
    """File keys an import of file ``key`` points to by its manifest, [] when the manifest does not say (cached
    until a file appears or disappears)."""
    cache_key = ("manifest", key, imp)
    cached = index.resolve_cache.get(cache_key)
    if cached is not None and cached[0] == index.paths_generation:
        return cached[1]
    generation = index.paths_generation
    found: list[str] = []
    for target in exact_targets(index, folder, rel, dialect, imp):
        found = [k for k in index.resolve(target, None, folder, "") if k != key]
        if found:
            break
    index.resolve_cache[cache_key] = (generation, found)
    return found
