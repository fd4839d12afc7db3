"""Which files of a workspace folder get indexed, and reading them safely.

The walk honours ``.gitignore`` and ``.qwenignore`` files at any depth (gitignore semantics via ``pathspec``),
``.git/info/exclude``, the configured patterns and built-in excludes (VCS folders, virtualenvs, dependency and
build folders), keeps only languages with a grammar, and never follows directory symlinks (no loops). Reading
skips what cannot be useful context: too large, binary, not UTF-8, minified. Every skip of a bad file is logged.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pathspec

from .languages import LanguageSpec, language_for_path

log = logging.getLogger(__name__)

EXCLUDED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".bzr", "_darcs", ".jj",
    "node_modules", "bower_components", "jspm_packages", "vendor",
    ".venv", "venv", "site-packages", "__pypackages__",
    "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis", ".tox", ".nox", ".eggs",
    "build", "dist", "target", "out", "obj", ".next", ".nuxt", ".svelte-kit", ".turbo", ".parcel-cache",
    ".gradle", ".idea", ".vs", "coverage", "htmlcov", ".cache", ".terraform", "Pods", "DerivedData",
})
EXCLUDED_SUFFIXES = (".min.js", ".min.mjs", ".bundle.js", ".min.css", "-min.js", ".chunk.js")
IGNORE_FILES = (".gitignore", ".qwenignore")


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: Path  # absolute
    rel: str  # relative to the workspace folder, '/'-separated
    size: int
    mtime_ns: int
    language: LanguageSpec


def _read_patterns(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


class IgnoreRules:
    """The ignore specs in force for one directory: (directory relative to the root, spec) pairs."""

    def __init__(self, rules: tuple[tuple[str, pathspec.PathSpec], ...] = ()) -> None:
        self.rules = rules

    def extended(self, rel_dir: str, directory: Path | str, names: set[str] | None = None) -> "IgnoreRules":
        """The rules for ``directory``: these plus its own ignore files (``names``: its entries, when known)."""
        lines: list[str] = []
        for name in IGNORE_FILES:
            if names is not None and name not in names:
                continue
            candidate = Path(directory) / name
            if candidate.is_file():
                lines += _read_patterns(candidate)
        if not lines:
            return self
        return IgnoreRules(self.rules + ((rel_dir, pathspec.GitIgnoreSpec.from_lines(lines)),))

    def ignored(self, rel: str, is_dir: bool) -> bool:
        for base, spec in self.rules:
            if base and not rel.startswith(base + "/"):
                continue
            sub = rel[len(base) + 1:] if base else rel
            if spec.match_file(sub + "/" if is_dir else sub):
                return True
        return False


_VENV_MARKERS = ("pyvenv.cfg", "conda-meta")


def _is_virtualenv(directory: Path) -> bool:
    return any((directory / marker).exists() for marker in _VENV_MARKERS)


def root_rules(root: Path, exclude: list[str] | None) -> IgnoreRules:
    """The rules a walk of ``root`` starts with: ``exclude`` and ``.git/info/exclude`` (not yet root's own ignore
    files: ``extended("", root)`` adds them)."""
    lines = list(exclude or []) + _read_patterns(root / ".git" / "info" / "exclude")
    return IgnoreRules(((("", pathspec.GitIgnoreSpec.from_lines(lines)),) if lines else ()))


def walk_folder(root: Path, exclude: list[str] | None = None, max_files: int = 50_000,
                max_bytes: int = 1 << 20) -> Iterator[FileEntry]:
    """Indexable files under ``root``, in a stable (sorted) order. Plain strings and one ``scandir`` per folder:
    this runs over every file at each start."""
    stack: list[tuple[str, str, IgnoreRules]] = [(str(root), "", root_rules(root, exclude))]
    real_root = os.path.realpath(root)
    count = 0
    while stack:
        directory, rel_dir, rules = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:  # permission denied, deleted meanwhile, not a directory any more
            log.info("context index: skipping folder %s: %s", directory, exc.strerror or exc)
            continue
        names = {entry.name for entry in entries}
        if rel_dir and any(marker in names for marker in _VENV_MARKERS):
            continue  # a virtualenv or conda environment, whatever its name
        rules = rules.extended(rel_dir, directory, names)
        subdirs: list[tuple[str, str, IgnoreRules]] = []
        for entry in entries:
            name = entry.name
            rel = f"{rel_dir}/{name}" if rel_dir else name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if name in EXCLUDED_DIRS or name.endswith(".egg-info") or rules.ignored(rel, True):
                        continue
                    subdirs.append((entry.path, rel, rules))
                    continue
                spec = language_for_path(name)
                if spec is None or name.endswith(EXCLUDED_SUFFIXES) or rules.ignored(rel, False):
                    continue
                if entry.is_symlink() and leaves_folder(entry.path, real_root):
                    log.info("context index: skipping %s: a link to a file outside the workspace folder", rel)
                    continue
                info = entry.stat(follow_symlinks=True)  # a file symlink is fine; a loop raises ELOOP here
                if not stat.S_ISREG(info.st_mode):
                    continue
            except OSError as exc:
                log.info("context index: skipping %s: %s", entry.path, exc.strerror or exc)
                continue
            if info.st_size > max_bytes:
                log.info("context index: skipping %s: %d KB is over the %d KB limit", rel, info.st_size >> 10,
                         max_bytes >> 10)
                continue
            count += 1
            if count > max_files:
                log.warning("context index: %s has more than %d files; indexing only the first ones", root, max_files)
                return
            yield FileEntry(Path(entry.path), rel, info.st_size, info.st_mtime_ns, spec)
        stack.extend(reversed(subdirs))


def leaves_folder(path: str, real_root: str) -> bool:
    """Whether ``path``, with every symlink resolved, is outside the folder ``real_root`` (itself resolved)."""
    target = os.path.realpath(path)
    return target != real_root and not target.startswith(real_root.rstrip("/") + "/")


def why_unusable(data: bytes) -> str | None:
    """Why file content cannot be useful context (binary, not UTF-8, minified), or None if it can."""
    if b"\0" in data[:8192]:
        return "binary content"
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "not UTF-8"
    if len(data) > 20_000 and data.count(b"\n") * 1000 < len(data):  # average line over 1000 bytes
        return "minified or generated (very long lines)"
    return None


def decode_source(data: bytes, label: str) -> str | None:
    """The text of a source file, or None (logged) for binary, non-UTF-8 or minified content."""
    reason = why_unusable(data)
    if reason is not None:
        log.info("context index: skipping %s: %s", label, reason)
        return None
    return data.decode("utf-8-sig")


def read_bytes(path: Path | str, max_bytes: int) -> tuple[bytes | None, str]:
    """(the bytes of a file, "") or (None, why not: gone, unreadable, too large)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:  # deleted while indexing, permission denied, symlink loop
        return None, str(exc.strerror or exc)
    if len(data) > max_bytes:
        return None, f"over the {max_bytes >> 10} KB limit"
    return data, ""


def read_file(path: Path, max_bytes: int) -> bytes | None:
    """The bytes of a file, or None (logged) if it is gone, unreadable or too large."""
    data, reason = read_bytes(path, max_bytes)
    if data is None:
        log.info("context index: skipping %s: %s", path, reason)
    return data


def indexable(root: Path, rel: str, exclude: list[str] | None = None) -> LanguageSpec | None:
    """The language of ``root/rel`` if the walk would index it (used for single-file change events)."""
    spec = language_for_path(rel)
    parts = rel.split("/")
    if spec is None or rel.endswith(EXCLUDED_SUFFIXES):
        return None
    if any(p in EXCLUDED_DIRS or p.endswith(".egg-info") for p in parts[:-1]):
        return None
    if is_ignored(root, rel, exclude, _is_virtualenv) or leaves_folder(str(root / rel), os.path.realpath(root)):
        return None
    return spec


def is_ignored(root: Path, rel: str, exclude: list[str] | None = None,
               folder_left_out: Callable[[Path], bool] | None = None) -> bool:
    """Whether ``root/rel``, or a folder on its way, is ignored (``exclude``, ``.git/info/exclude``, and
    ``.gitignore``/``.qwenignore`` at any depth) or, for a folder, ``folder_left_out``."""
    rules = root_rules(root, exclude).extended("", root)
    directory, rel_dir = root, ""
    for part in rel.split("/")[:-1]:
        rel_dir = f"{rel_dir}/{part}" if rel_dir else part
        directory = directory / part
        if rules.ignored(rel_dir, True) or (folder_left_out is not None and folder_left_out(directory)):
            return True
        rules = rules.extended(rel_dir, directory)
    return rules.ignored(rel, False)
