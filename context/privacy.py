"""The privacy policy: which files never reach a prompt, whatever builds it.

A file is *kept out* when it matches a secret-file pattern (``.env*``, keys, credentials: gitignore-style, so a
pattern without a slash matches at any depth), is ignored (``.gitignore``/``.qwenignore`` at any depth,
``.git/info/exclude``, ``context.exclude``), or is a symlink whose target leaves its workspace folder. A kept-out
file is not indexed, not used as context even while it is open or edited, gets no completions or code actions,
and the agent does not read it. The index, every context source, the completion pipeline, code actions and the
agent all ask this one policy.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pathspec

from .index.files import IgnoreRules, is_ignored, leaves_folder, root_rules
from .uris import uri_to_key

# fmt: off
DEFAULT_SECRET_FILES = [
    ".env",
    ".env.*",
    "*.env",
    ".envrc",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    "secrets.json",
    "secrets.yaml",
    "secrets.yml",
    "secrets.toml",
    ".secrets",
    "*.secret",
    "credentials",
    "credentials*.json",
    "credentials.yaml",
    "credentials.yml",
    ".aws/",
    ".ssh/",
    ".gnupg/",
    "*.kdbx",
]
# fmt: on
_CACHE_SECONDS = 2.0  # ignore files rarely change: decisions and folder rules are re-read at most this often


def secret_spec(secret_files: Sequence[str]) -> pathspec.PathSpec[Any]:
    return pathspec.GitIgnoreSpec.from_lines(list(secret_files))


def is_secret(path: str, secret_files: Sequence[str] | pathspec.PathSpec[Any] = DEFAULT_SECRET_FILES) -> bool:
    """Whether a relative path, or any folder on its way, matches the secret-file patterns (at any depth).
    A trailing '/' says the path itself is a folder."""
    spec = secret_files if isinstance(secret_files, pathspec.PathSpec) else secret_spec(secret_files)
    text = path.replace("\\", "/")
    parts = [p for p in text.split("/") if p]
    folder = text.endswith("/")
    return any(
        spec.match_file("/".join(parts[:i]) + ("/" if i < len(parts) or folder else ""))
        for i in range(1, len(parts) + 1)
    )


class PrivacyPolicy:
    """``why_kept_out(path or uri)``: the reason a file must stay out of every prompt, or None."""

    def __init__(
        self,
        secret_files: Sequence[str] = DEFAULT_SECRET_FILES,
        exclude: Sequence[str] = (),
        roots: Sequence[Path | str] = (),
    ) -> None:
        self._lock = threading.Lock()
        self._decisions: dict[tuple[str, tuple[str, ...]], str | None] = {}
        # the ignore rules of each folder (by workspace folder, then folder relative to it): the decisions here and
        # the agent's path checks read each ignore file once; all is forgotten every _CACHE_SECONDS
        self._folder_rules: dict[str, dict[str, IgnoreRules]] = {}
        self._real_roots: dict[str, tuple[Path, str]] = {}  # workspace folder -> (its Path, resolved)
        # whether a path prefix ("a/", "a/b/", "a/b/f") matches a secret pattern: depends on the patterns alone, and
        # the folders on the way are shared by many files
        self._secret_prefixes: dict[str, bool] = {}
        self._fresh_until = 0.0
        self.roots: list[str] = []
        self.configure(secret_files, exclude)
        self.set_roots(roots)

    def configure(self, secret_files: Sequence[str], exclude: Sequence[str]) -> None:
        """New patterns (settings changed); everyone holding this policy uses them from now on."""
        with self._lock:
            self.secret_files = list(secret_files)
            self.exclude = list(exclude)
            self._secrets = secret_spec(self.secret_files)
            self._secret_prefixes = {}
            self._forget()

    @property
    def index_excludes(self) -> list[str]:
        """The patterns a folder walk leaves out on top of the ignore files: ``context.exclude`` and secrets."""
        return self.exclude + self.secret_files

    def set_roots(self, roots: Sequence[Path | str]) -> None:
        """The workspace folders (ignore rules and the symlink check are relative to them)."""
        with self._lock:
            self.roots = [Path(os.path.abspath(root)).as_posix() for root in roots]
            self._forget()

    def _forget(self) -> None:
        self._decisions.clear()
        self._folder_rules.clear()
        self._real_roots.clear()

    def _expire(self) -> None:
        now = time.monotonic()
        if now >= self._fresh_until:
            self._forget()
            self._fresh_until = now + _CACHE_SECONDS

    def is_secret(self, rel: str) -> bool:
        """``is_secret`` with this policy's patterns, each folder on the way matched once."""
        memo, spec = self._secret_prefixes, self._secrets
        if len(memo) > 20_000:
            memo.clear()
        text = rel.replace("\\", "/")
        parts = [p for p in text.split("/") if p]
        folder = text.endswith("/")
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i]) + ("/" if i < len(parts) or folder else "")
            found = memo.get(prefix)
            if found is None:
                found = memo[prefix] = bool(spec.match_file(prefix))
            if found:
                return True
        return False

    def allows(self, location: str | Path, roots: Sequence[str] | None = None) -> bool:
        return self.why_kept_out(location, roots) is None

    def why_kept_out(self, location: str | Path, roots: Sequence[str] | None = None) -> str | None:
        """Why the file at ``location`` (a path, a file URI or another document URI) is kept out, or None.
        ``roots`` overrides the workspace folders set with ``set_roots``."""
        key = uri_to_key(location) if isinstance(location, str) else Path(location).as_posix()
        folders = tuple(self.roots if roots is None else roots)
        with self._lock:
            self._expire()
            if (key, folders) in self._decisions:
                return self._decisions[(key, folders)]
        reason = self._decide(key, folders)
        with self._lock:
            if len(self._decisions) > 4096:
                self._decisions.clear()
            self._decisions[(key, folders)] = reason
        return reason

    def ignore_rules(self, root: Path, rel_dir: str) -> IgnoreRules:
        """The ignore rules in the folder ``rel_dir`` ('/'-separated, "" for the root) of the workspace folder
        ``root``: ``context.exclude``, ``.git/info/exclude`` and the ignore files from the root down to it."""
        rules = self._rules_under(root)
        known = rules.get(rel_dir)
        if known is None:
            if not rel_dir:
                # a FIFO or device here is skipped, never waited on (root_rules opens regular files only)
                known = root_rules(root, self.exclude).extended("", root)
            else:
                parent = rel_dir.rsplit("/", 1)[0] if "/" in rel_dir else ""
                known = self.ignore_rules(root, parent).extended(rel_dir, root / rel_dir)
            rules[rel_dir] = known
        return known

    def _rules_under(self, root: Path | str) -> dict[str, IgnoreRules]:
        # on the agent's walks this runs per entry and folder level: no lock unless something changes
        if time.monotonic() >= self._fresh_until:
            with self._lock:
                self._expire()
        key = os.fspath(root)
        rules = self._folder_rules.get(key)
        if rules is None:
            with self._lock:
                rules = self._folder_rules.setdefault(key, {})
        return rules

    def _decide(self, key: str, folders: tuple[str, ...]) -> str | None:
        if not key.startswith("/"):  # untitled: and other non-file documents: only their name can tell
            return "its name matches privacy.secret_files" if self.is_secret(key.rsplit("/", 1)[-1]) else None
        key = os.path.normpath(key)
        root = max((f for f in folders if key.startswith(f.rstrip("/") + "/")), key=len, default=None)
        if root is None:
            return "it matches privacy.secret_files" if self.is_secret(key) else None
        rel = key[len(root.rstrip("/")) + 1 :]
        if self.is_secret(rel):
            return f"{rel} matches privacy.secret_files"
        paths = self._real_roots.get(root)
        if paths is None:
            paths = self._real_roots[root] = (Path(root), os.path.realpath(root))
        if is_ignored(paths[0], rel, self.exclude, rules_cache=self._rules_under(root)):
            return f"{rel} is ignored (.gitignore, .qwenignore or context.exclude)"
        if leaves_folder(key, paths[1]):
            return f"{rel} is a link to a file outside the workspace folder"
        return None
