"""Which paths the agent may touch: resolved (symlinks followed) inside a workspace folder, and never a secret
or an ignored file.

Every tool goes through ``WorkspacePaths.resolve`` before it reads, lists, searches or stages anything, so a
path like ``../x``, an absolute path elsewhere or a symlink pointing out of the workspace is refused, and files
matching the secret patterns (.env, keys, credentials) or ignore rules (.gitignore, .qwenignore, dependency and
VCS folders) never reach a prompt, local or remote.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from qwen_lsp.context.index.files import EXCLUDED_DIRS, IgnoreRules
from qwen_lsp.context.privacy import PrivacyPolicy, is_secret, secret_spec


class PathError(ValueError):
    """A path the agent may not use; the message says why and is shown to the model."""


@dataclass(frozen=True)
class Resolved:
    path: Path  # absolute, symlinks resolved
    root: Path  # the workspace folder it is in
    rel: str  # '/'-separated, relative to ``root`` ("." for the root itself)


class WorkspacePaths:
    def __init__(
        self,
        roots: list[Path],
        secret_files: list[str],
        exclude: list[str] | None = None,
        privacy: PrivacyPolicy | None = None,
    ) -> None:
        if not roots:
            raise PathError("the agent needs a workspace folder; open a folder in the editor")
        self.roots = [root.resolve() for root in roots]
        self._given = [Path(os.path.abspath(root)) for root in roots]  # as the editor named them (maybe via symlinks)
        self.secrets = secret_spec(secret_files)  # privacy.secret_files
        self.exclude = list(exclude or [])  # context.exclude: kept out of the agent's reach like ignored files
        # the ignore rules of each folder come from the privacy policy (the session's: one cache with completions
        # and the context engine), which has these same patterns
        self._privacy = privacy or PrivacyPolicy(secret_files, self.exclude)

    @property
    def primary(self) -> Path:
        return self.roots[0]

    def resolve(self, raw: str) -> Resolved:
        """An agent-supplied path (relative to the first folder, or absolute) checked to stay inside a folder."""
        text = str(raw).strip()
        if not text or "\x00" in text:
            raise PathError(f"invalid path {raw!r}")
        if os.sep == "/":
            text = text.replace("\\", "/")  # models often write Windows paths (".\\notes.txt")
        candidate = Path(text)
        if not candidate.is_absolute():
            candidate = self._root_for_relative(text) / text
        resolved_path = candidate.resolve(strict=False)  # follows every symlink on the way
        inside = self._inside(resolved_path)
        if inside is None:
            raise PathError(f"{text} is outside the workspace folders; use a path inside {self.primary}")
        root, rel = inside
        self._check_visible(root, rel)
        # The name used matters too: a link called .env is a secret whatever it points to.
        lexical = Path(os.path.normpath(candidate))
        named = self._inside(lexical) or self._inside(lexical, self._given)
        if named is not None:
            self._check_visible(*named)
        return Resolved(resolved_path, root, rel)

    def relative(self, path: Path) -> str:
        """How a path is shown to the model: relative to the first folder, or 'folder-name/...' for the others."""
        inside = self._inside(path)
        if inside is None:
            return str(path)
        root, rel = inside
        return rel if root == self.primary else f"{root.name}/{rel}"

    def visible(self, root: Path, rel: str, is_dir: bool) -> bool:
        try:
            self._check_visible(root, rel, is_dir)
        except PathError:
            return False
        return True

    def _root_for_relative(self, text: str) -> Path:
        first = PurePosixPath(text.replace("\\", "/")).parts[0] if text not in (".", "") else ""
        for root in self.roots[1:]:
            if first == root.name:
                return root.parent
        return self.primary

    def _inside(self, path: Path, roots: list[Path] | None = None) -> tuple[Path, str] | None:
        best = None
        for root in roots or self.roots:
            inside = path == root or root in path.parents
            if inside and (best is None or len(root.parts) > len(best.parts)):
                best = root
        if best is None:
            return None
        rel = path.relative_to(best).as_posix()
        return best, rel or "."

    def _check_visible(self, root: Path, rel: str, is_dir: bool | None = None) -> None:
        if rel == ".":
            return
        if is_secret(rel + ("/" if is_dir or (is_dir is None and (root / rel).is_dir()) else ""), self.secrets):
            raise PathError(
                f"{rel} matches a secret-file pattern (privacy.secret_files); it is never read or shown to the model"
            )
        parts = rel.split("/")
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            last = depth == len(parts)
            as_dir = (root / sub).is_dir() if is_dir is None or not last else is_dir
            if as_dir and parts[depth - 1] in EXCLUDED_DIRS:
                raise PathError(f"{rel} is in an excluded folder ({parts[depth - 1]}); the agent does not use it")
            parent = "/".join(parts[: depth - 1])
            if self._rules(root, parent).ignored(sub, as_dir):
                raise PathError(f"{rel} is ignored (.gitignore/.qwenignore); the agent does not use it")

    def _rules(self, root: Path, rel_dir: str) -> IgnoreRules:
        return self._privacy.ignore_rules(root, rel_dir)
