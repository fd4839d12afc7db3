"""A temporary copy of a workspace folder where commands and verification see the staged edits.

The real workspace is never written, and nothing in the copy leads back to it: symlinks that stay inside the folder
become relative links inside the copy, ones that leave it are left out. Version-control folders, caches and files
matching the secret patterns and ignored folders are left out too. Dependency and build folders (``node_modules``,
``.venv``, ``build``...) are not copied: they are recorded in ``mounts`` so a sandbox can show them read-only at their
place in the copy (see ``isolation``); without one, commands run without them.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from qwen_lsp.context.index.files import EXCLUDED_DIRS

from .paths import WorkspacePaths

log = logging.getLogger(__name__)
# Never shown to commands, not even read-only: history and credentials (.git/config), and caches (stale results).
# fmt: off
LEFT_OUT_DIRS = frozenset(
    {".git", ".hg", ".svn", ".bzr", "_darcs", ".jj", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache",
     ".hypothesis", ".cache"}
)
# fmt: on


class SandboxError(RuntimeError):
    pass


class WorkspaceCopy:
    def __init__(self, paths: WorkspacePaths, root: Path, max_files: int) -> None:
        self.paths = paths
        self.root = root
        self.max_files = max_files
        self.mounts: list[str] = []  # '/'-separated folders of the real workspace a sandbox may show read-only
        self._dir: tempfile.TemporaryDirectory | None = None
        self._written: dict[Path, str] = {}

    @property
    def base(self) -> Path:
        """The temporary folder holding the copy and the private home and temp folders of unsandboxed commands."""
        assert self._dir is not None, "call ensure() first"
        return Path(self._dir.name)

    @property
    def path(self) -> Path:
        return self.base / self.root.name

    def ensure(self) -> Path:
        """Copy the folder once (in a worker thread, callers use ``asyncio.to_thread``)."""
        if self._dir is None:
            directory = tempfile.TemporaryDirectory(prefix="qwen-lsp-agent-")
            try:
                self.mounts = []
                self._copy(self.root, Path(directory.name) / self.root.name)
            except BaseException:
                directory.cleanup()
                raise
            self._dir = directory
        return self.path

    def sync(self, staged: dict[Path, str]) -> None:
        """Write the staged texts of files in this folder into the copy (and restore ones no longer staged)."""
        base = self.ensure()
        for path, text in staged.items():
            if (path == self.root or self.root in path.parents) and self._written.get(path) != text:
                target = base / path.relative_to(self.root)
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.is_symlink():
                    target.unlink()
                target.write_text(text, encoding="utf-8")
                self._written[path] = text

    def cleanup(self) -> None:
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None
            self._written.clear()

    def _copy(self, source: Path, target: Path) -> None:
        count = 0
        for directory, dirnames, filenames in os.walk(source):
            here = Path(directory)
            rel_dir = here.relative_to(source)
            (target / rel_dir).mkdir(parents=True, exist_ok=True)
            for name in list(dirnames):
                full, rel = here / name, (rel_dir / name).as_posix()
                if self.paths.secrets.match_file(rel + "/") or name in LEFT_OUT_DIRS:
                    dirnames.remove(name)
                elif full.is_symlink():
                    dirnames.remove(name)
                    self._relink(full, target / rel_dir / name, target)
                elif name in EXCLUDED_DIRS:
                    dirnames.remove(name)  # environments and build output: read-only in a sandbox
                    self.mounts.append(rel)
                elif not self.paths.visible(self.root, rel, True):
                    dirnames.remove(name)  # ignored folders may hold anything, local secrets too
            for name in filenames:
                rel = (rel_dir / name).as_posix()
                if self.paths.secrets.match_file(rel):
                    continue
                count += 1
                if count > self.max_files:
                    raise SandboxError(
                        f"{source} has more than {self.max_files} files to copy (agent.copy_max_files); "
                        "commands and verification need a copy of the workspace"
                    )
                if (here / name).is_symlink():
                    self._relink(here / name, target / rel_dir / name, target)
                    continue
                try:
                    shutil.copy2(here / name, target / rel_dir / name, follow_symlinks=False)
                except OSError as error:
                    log.info("agent copy: skipping %s: %s", rel, error)

    def _relink(self, link: Path, target: Path, copy_root: Path) -> None:
        """A link to a place inside the folder becomes a relative link in the copy; any other link is left out."""
        real = Path(os.path.realpath(link))
        if real != self.root and self.root not in real.parents:
            log.info("agent copy: leaving out %s (it links outside the workspace)", link)
            return
        relative = real.relative_to(self.root)
        if LEFT_OUT_DIRS.intersection(relative.parts) or self.paths.secrets.match_file(relative.as_posix()):
            return
        try:
            os.symlink(os.path.relpath(copy_root / relative, target.parent), target)
        except OSError as error:
            log.info("agent copy: cannot link %s: %s", link, error)
