"""Which files of a workspace folder get indexed, and reading them safely.

The walk honours ``.gitignore`` and ``.qwenignore`` files at any depth (gitignore semantics via ``pathspec``),
``.git/info/exclude``, the configured patterns and built-in excludes (VCS folders, virtualenvs, dependency and
build folders), keeps only languages with a grammar, and never follows directory symlinks (no loops). Reading
skips what cannot be useful context: too large, binary, not UTF-8, minified. Every skip of a bad file is logged.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pathspec

from ..syntax.languages import LanguageSpec, language_for_path

log = logging.getLogger(__name__)

# fmt: off
EXCLUDED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".bzr", "_darcs", ".jj",
    "node_modules", "bower_components", "jspm_packages", "vendor",
    ".venv", "venv", "site-packages", "__pypackages__",
    "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis", ".tox", ".nox", ".eggs",
    "build", "dist", "target", "out", "obj", ".next", ".nuxt", ".svelte-kit", ".turbo", ".parcel-cache",
    ".gradle", ".idea", ".vs", "coverage", "htmlcov", ".cache", ".terraform", "Pods", "DerivedData",
})
# fmt: on
EXCLUDED_SUFFIXES = (".min.js", ".min.mjs", ".bundle.js", ".min.css", "-min.js", ".chunk.js")
IGNORE_FILES = (".gitignore", ".qwenignore")


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: Path  # absolute
    rel: str  # relative to the workspace folder, '/'-separated
    size: int
    mtime_ns: int
    language: LanguageSpec


def open_regular(path: Path | str) -> int:
    """A read-only descriptor of ``path`` if it is a regular file; OSError otherwise. Opened non-blocking and
    checked with fstat, so a FIFO, socket or device never blocks the caller (a FIFO's open waits for a writer)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_patterns(path: Path | str) -> list[str]:
    """The lines of a gitignore-style file; none if it is missing, unreadable or not a regular file (a FIFO there
    is skipped, never waited on)."""
    try:
        with open(open_regular(path), "rb") as handle:
            return handle.read().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return []


@functools.lru_cache(maxsize=4096)
def _compiled(line: str) -> Any:
    """One gitignore line compiled, or None for a blank line or a comment (cached: nested ignore files often
    repeat the same lines)."""
    patterns = pathspec.GitIgnoreSpec.from_lines([line]).patterns
    return patterns[0] if patterns and patterns[0].include is not None else None


class IgnoreRules:
    """The ignore patterns in force for one directory.

    A pattern without a slash ('*.log', 'build/') matches an entry's name at any depth below its file, so those of
    all the ancestors' files are merged into one spec, deeper files last (a deeper '!name' re-includes, as in git),
    duplicates dropped, and matched against the name alone. A pattern with a slash is matched relative to its
    file's folder, and only while an entry is shallow enough to match it: a chain of nested ignore files then
    costs time in proportion to its length, not its square. Used top-down (a folder is checked before what is in
    it), as the walk does.
    """

    def __init__(
        self,
        rules: tuple[tuple[str, pathspec.PathSpec[Any]], ...] = (),
        names: dict[str, Any] | None = None,
        reach: tuple[int | None, ...] | None = None,
    ) -> None:
        self.rules = rules  # (directory relative to the root, spec of its patterns with a slash)
        self._reach = reach if reach is not None else (None,) * len(rules)  # most path segments a spec matches
        self._names = names or {}  # pattern text -> compiled pattern, in file order
        self._names_spec = pathspec.GitIgnoreSpec(list(self._names.values())) if self._names else None

    def extended(self, rel_dir: str, directory: Path | str, names: set[str] | None = None) -> IgnoreRules:
        """The rules for ``directory``: these plus its own ignore files (``names``: its entries, when known)."""
        lines: list[str] = []
        for name in IGNORE_FILES:
            if names is not None and name not in names:
                continue
            candidate = os.path.join(directory, name)  # strings: pathlib re-parses deep paths at each step
            if os.path.isfile(candidate):
                lines += read_patterns(candidate)
        return self.with_lines(rel_dir, lines)

    def with_lines(self, rel_dir: str, lines: list[str]) -> IgnoreRules:
        """These rules plus gitignore ``lines`` of the folder ``rel_dir``, minus slash patterns that can no
        longer match anything in it."""
        depth = rel_dir.count("/") + 1 if rel_dir else 0
        live = [
            (rule, reach)
            for rule, reach in zip(self.rules, self._reach, strict=True)
            if reach is None or depth + 1 - (rule[0].count("/") + 1 if rule[0] else 0) <= reach
        ]
        merged, anchored = dict(self._names), []
        reach_of_new: int | None = 0
        for line in lines:
            compiled = _compiled(line)
            if compiled is None:
                continue  # blank or comment
            body = line.strip()
            body = body[1:] if body.startswith("!") else body
            if "/" in body.rstrip("/"):
                anchored.append(compiled)
                segments = len(body.strip("/").split("/"))
                reach_of_new = None if "**" in body or reach_of_new is None else max(reach_of_new, segments)
            else:
                merged.pop(line, None)  # a repeat counts where it last appears
                merged[line] = compiled
        if anchored:
            live.append(((rel_dir, pathspec.GitIgnoreSpec(anchored)), reach_of_new))
        if not anchored and len(live) == len(self.rules) and list(merged) == list(self._names):
            return self  # nothing new (as for most folders): share the compiled specs
        return IgnoreRules(tuple(r for r, _ in live), merged, tuple(reach for _, reach in live))

    def ignored(self, rel: str, is_dir: bool) -> bool:
        if self._names_spec is not None:
            name = rel.rsplit("/", 1)[-1]
            if self._names_spec.match_file(name + "/" if is_dir else name):
                return True
        for base, spec in self.rules:
            if base and not rel.startswith(base + "/"):
                continue
            sub = rel[len(base) + 1 :] if base else rel
            if spec.match_file(sub + "/" if is_dir else sub):
                return True
        return False


_VENV_MARKERS = ("pyvenv.cfg", "conda-meta")


def _is_virtualenv(directory: Path | str) -> bool:
    return any(os.path.exists(os.path.join(directory, marker)) for marker in _VENV_MARKERS)


def root_rules(root: Path, exclude: list[str] | None) -> IgnoreRules:
    """The rules a walk of ``root`` starts with: ``exclude`` and ``.git/info/exclude`` (not yet root's own ignore
    files: ``extended("", root)`` adds them)."""
    return IgnoreRules().with_lines("", list(exclude or []) + read_patterns(root / ".git" / "info" / "exclude"))


def walk_folder(
    root: Path,
    exclude: list[str] | None = None,
    max_files: int = 50_000,
    max_bytes: int = 1 << 20,
    rules_cache: dict[str, IgnoreRules] | None = None,
) -> Iterator[FileEntry]:
    """Indexable files under ``root``, in a stable (sorted) order. Plain strings and one ``scandir`` per folder:
    this runs over every file at each start. ``rules_cache`` gets the rules of each folder walked (see
    ``indexable``)."""
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
        if rules_cache is not None:
            rules_cache[rel_dir] = rules
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
                log.info(
                    "context index: skipping %s: %d KB is over the %d KB limit",
                    rel,
                    info.st_size >> 10,
                    max_bytes >> 10,
                )
                continue
            count += 1
            if count > max_files:
                log.warning("context index: %s has more than %d files; indexing only the first ones", root, max_files)
                return
            yield FileEntry(Path(entry.path), rel, info.st_size, info.st_mtime_ns, spec)
        stack.extend(reversed(subdirs))


def resolved_path(path: str) -> str:
    """``os.path.realpath(path)``, resolved by the kernel where it can: realpath takes one lstat per folder on the
    way, each walking the path from the root again, so a file N folders deep costs N² steps (a 2,000-deep tree:
    0.3 s per file)."""
    if _PROC_FD:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)  # resolves every link; opens nothing for reading
        except OSError:  # gone, a dangling link, a loop: realpath resolves as far as it can
            return os.path.realpath(path)
        try:
            return os.readlink(f"/proc/self/fd/{fd}")
        finally:
            os.close(fd)
    return os.path.realpath(path)


_PROC_FD = hasattr(os, "O_PATH") and os.path.isdir("/proc/self/fd")


def leaves_folder(path: str, real_root: str) -> bool:
    """Whether ``path``, with every symlink resolved, is outside the folder ``real_root`` (itself resolved)."""
    target = resolved_path(path)
    return target != real_root and not target.startswith(real_root.rstrip("/") + "/")


def why_unusable(data: bytes) -> str | None:
    """Why file content cannot be useful context (binary, not UTF-8, minified), or None if it can."""
    return _decoded(data)[1]


def _decoded(data: bytes) -> tuple[str, str | None]:
    """(the text, None) or ("", why the content cannot be useful context): decoded once for both."""
    if b"\0" in data[:8192]:
        return "", "binary content"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "", "not UTF-8"
    if is_minified(data):
        return "", "minified or generated (very long lines)"
    return text, None


def is_minified(data: bytes) -> bool:
    return len(data) > 20_000 and data.count(b"\n") * 1000 < len(data)  # average line over 1000 bytes


def decoded_lines(data: bytes, start: int, end: int) -> list[str] | None:
    """Lines [start, end) of a source file's bytes as ``decode_source`` and ``split_lines`` would give them, decoding
    only those lines (None where ``decode_source`` would refuse the file for what those lines show)."""
    if b"\0" in data[:8192] or is_minified(data):
        return None
    pieces = data.split(b"\n", end)[start:end]  # a UTF-8 sequence never holds a newline byte
    try:
        text = b"\n".join(pieces).decode("utf-8-sig" if start == 0 else "utf-8")
    except UnicodeDecodeError:
        return None
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")] if pieces else []


def decode_source(data: bytes, label: str) -> str | None:
    """The text of a source file, or None (logged) for binary, non-UTF-8 or minified content."""
    text, reason = _decoded(data)
    if reason is not None:
        log.info("context index: skipping %s: %s", label, reason)
        return None
    return text


def read_bytes(path: Path | str, max_bytes: int) -> tuple[bytes | None, str]:
    """(the bytes of a file, "") or (None, why not: gone, unreadable, too large)."""
    try:
        with open(open_regular(path), "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:  # deleted while indexing, permission denied, symlink loop, a FIFO
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


def indexable(
    root: Path, rel: str, exclude: list[str] | None = None, rules_cache: dict[str, IgnoreRules] | None = None
) -> LanguageSpec | None:
    """The language of ``root/rel`` if the walk would index it (used for single-file change events).
    ``rules_cache`` keeps the rules of the folders seen (by folder relative to the root) for the next call: the
    caller clears it when an ignore file changes."""
    spec = language_for_path(rel)
    parts = rel.split("/")
    if spec is None or rel.endswith(EXCLUDED_SUFFIXES):
        return None
    if any(p in EXCLUDED_DIRS or p.endswith(".egg-info") for p in parts[:-1]):
        return None
    if is_ignored(root, rel, exclude, _is_virtualenv, rules_cache):
        return None
    return None if leaves_folder(str(root / rel), os.path.realpath(root)) else spec


def is_ignored(
    root: Path,
    rel: str,
    exclude: list[str] | None = None,
    folder_left_out: Callable[[str], bool] | None = None,
    rules_cache: dict[str, IgnoreRules] | None = None,
) -> bool:
    """Whether ``root/rel``, or a folder on its way, is ignored (``exclude``, ``.git/info/exclude``, and
    ``.gitignore``/``.qwenignore`` at any depth) or, for a folder, ``folder_left_out``. ``rules_cache`` keeps the
    rules of each folder passed (folders found ignored are not cached), so a chain of N ignore files costs N reads."""
    cache = {} if rules_cache is None else rules_cache
    rules = cache.get("")
    if rules is None:
        rules = cache[""] = root_rules(root, exclude).extended("", root)
    rel_dir = ""
    for part in rel.split("/")[:-1]:
        rel_dir = f"{rel_dir}/{part}" if rel_dir else part
        known = cache.get(rel_dir)
        if known is None:
            directory = os.path.join(root, rel_dir)
            if rules.ignored(rel_dir, True) or (folder_left_out is not None and folder_left_out(directory)):
                return True
            known = cache[rel_dir] = rules.extended(rel_dir, directory)
        rules = known
    return rules.ignored(rel, False)
