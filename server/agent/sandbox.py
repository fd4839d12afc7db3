"""A temporary copy of a workspace folder where commands and verification see the staged edits.

The real workspace is never written. Dependency, build, VCS and ignored folders (``node_modules``, ``.venv``,
``.git``, ...) are linked rather than copied, so a copy is quick and tests still find their environment. Files matching
the secret patterns are left out: a command's output may go to a remote model.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from qwen_lsp.context.files import EXCLUDED_DIRS

from .paths import WorkspacePaths

log = logging.getLogger(__name__)


class SandboxError(RuntimeError):
    pass


class WorkspaceCopy:
    def __init__(self, paths: WorkspacePaths, root: Path, max_files: int) -> None:
        self.paths = paths
        self.root = root
        self.max_files = max_files
        self._dir: tempfile.TemporaryDirectory | None = None
        self._written: dict[Path, str] = {}

    @property
    def path(self) -> Path:
        assert self._dir is not None, "call ensure() first"
        return Path(self._dir.name) / self.root.name

    def ensure(self) -> Path:
        """Copy the folder once (in a worker thread, callers use ``asyncio.to_thread``)."""
        if self._dir is None:
            directory = tempfile.TemporaryDirectory(prefix="qwen-lsp-agent-")
            try:
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
                if self.paths.secrets.match_file(rel + "/"):
                    dirnames.remove(name)
                elif name in EXCLUDED_DIRS or full.is_symlink() or not self.paths.visible(self.root, rel, True):
                    dirnames.remove(name)  # linked, not copied: environments, caches, ignored output
                    _link(full, target / rel_dir / name)
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
                try:
                    shutil.copy2(here / name, target / rel_dir / name, follow_symlinks=False)
                except OSError as error:
                    log.info("agent copy: skipping %s: %s", rel, error)


def _link(source: Path, target: Path) -> None:
    try:
        os.symlink(os.path.realpath(source), target, target_is_directory=True)
    except OSError as error:
        log.info("agent copy: cannot link %s: %s", source, error)
