"""Where an agent command runs: inside bubblewrap when it works on this machine, otherwise unsandboxed, and then only
when the user agrees to each run (or allows it with ``agent.allow_unsandboxed_commands``).

Inside bubblewrap a command sees the workspace copy mounted at the real folder's path (so a virtualenv inside it and
editable installs still resolve), the dependency and build folders read-only at their places, a read-only view of
the rest of the system with the user's home, the other workspace folders, the temp folders and ``/run`` hidden
(sockets there stay reachable through a read-only mount; the directories of the tools on PATH stay visible), a private
empty ``/tmp`` that is also its ``HOME``, no network (its own network namespace), no capabilities and its own PID
namespace (it dies with the server). Its environment is an allowlist.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .sandbox import WorkspaceCopy

# fmt: off
_ISOLATION = [
    "--unshare-all",
    "--cap-drop", "ALL",
    "--die-with-parent",
    "--new-session",
    "--ro-bind", "/", "/",
    "--dev", "/dev",
    "--proc", "/proc",
    "--tmpfs", "/tmp",
]  # fmt: skip
# fmt: on
PRIVATE_HOME = "/tmp/home"
SOCKET_DIRS = [Path("/run"), Path("/var/run"), Path("/var/tmp")]


@dataclass(frozen=True)
class SandboxStatus:
    name: str  # "bubblewrap" or "none"
    detail: str

    @property
    def active(self) -> bool:
        return self.name != "none"


@functools.lru_cache(maxsize=1)
def sandbox_status() -> SandboxStatus:
    """Whether bubblewrap runs here (checked once with a trial command: containers and some distributions forbid
    the namespaces it needs)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return SandboxStatus("none", "bubblewrap is not installed (apt-get install bubblewrap)")
    try:
        done = subprocess.run([bwrap, *_ISOLATION, "true"], capture_output=True, timeout=30)
        version = subprocess.run([bwrap, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as error:
        return SandboxStatus("none", f"bubblewrap does not start: {error}")
    if done.returncode != 0:
        reason = (done.stderr.decode(errors="replace").strip().splitlines() or ["no message"])[-1]
        return SandboxStatus("none", f"bubblewrap cannot create its namespaces here: {reason}")
    return SandboxStatus("bubblewrap", f"{version or 'bubblewrap'} ({bwrap})")


def configured_sandbox(setting: str) -> SandboxStatus:
    """The sandbox ``agent.sandbox`` gives here: none when it is "off", else whatever works on this machine."""
    if setting == "off":
        return SandboxStatus("none", "turned off (agent.sandbox)")
    return sandbox_status()


@dataclass(frozen=True)
class Launch:
    argv: list[str]
    cwd: Path  # where the process starts (a host path)
    workspace: Path  # the workspace folder as the command sees it; arguments are checked against it
    env: dict[str, str]
    sandboxed: bool


def unsandboxed(argv: list[str], copy: WorkspaceCopy, env: dict[str, str]) -> Launch:
    """In the copy, with a private HOME and temp folder next to it; nothing else is contained."""
    home, temp = copy.base / "home", copy.base / "tmp"
    home.mkdir(exist_ok=True)
    temp.mkdir(exist_ok=True)
    private = {"HOME": str(home), "TMPDIR": str(temp), "TMP": str(temp), "TEMP": str(temp)}
    return Launch(argv, copy.path, copy.path, {**env, **private}, False)


def in_bubblewrap(argv: list[str], copy: WorkspaceCopy, env: dict[str, str], others: list[Path]) -> Launch:
    """``others``: the other workspace folders (hidden like the home folder)."""
    inside = copy.root
    options = [shutil.which("bwrap") or "bwrap", *_ISOLATION]
    # /run and the temp folders hold sockets (docker, databases, agents): a read-only mount still lets a process
    # connect to a socket, so they are hidden, not shown read-only.
    hidden = _existing([Path.home(), Path(tempfile.gettempdir()), *SOCKET_DIRS, *others, inside])
    for directory in hidden:
        if not _under(directory, Path("/tmp")):
            options += ["--tmpfs", str(directory)]
    options += ["--bind", str(copy.path), str(inside)]
    for rel in copy.mounts:
        options += ["--ro-bind", str(inside / rel), str(inside / rel)]
    for tool_dir in _tool_prefixes(argv, env, hidden):
        if not _under(tool_dir, inside):  # ones inside the workspace are among the mounts
            options += ["--ro-bind", str(tool_dir), str(tool_dir)]
    options += ["--dir", PRIVATE_HOME, "--chdir", str(inside), "--"]
    private = {"HOME": PRIVATE_HOME, "TMPDIR": "/tmp", "TMP": "/tmp", "TEMP": "/tmp"}
    return Launch(options + argv, copy.path, inside, {**env, **private}, True)


def _tool_prefixes(argv: list[str], env: dict[str, str], hidden: list[Path]) -> list[Path]:
    """Install prefixes (the folder above ``bin``) of the PATH entries, the command and this Python that lie in a
    hidden folder, e.g. a virtualenv or ``~/.local`` under the home folder: the command needs them."""
    places = [Path(entry) for entry in env.get("PATH", "").split(os.pathsep) if entry]
    places.append(Path(sys.executable).parent)
    found = shutil.which(argv[0], path=env.get("PATH")) if argv else None
    if found:
        places += [Path(found).parent, Path(os.path.realpath(found)).parent]
    out: list[Path] = []
    for place in places:
        if not place.is_absolute() or not any(_under(place, directory) for directory in hidden):
            continue
        prefix = place.parent if place.name in ("bin", "Scripts") else place
        if prefix.is_dir() and prefix not in out and prefix not in hidden:
            out.append(prefix)
    return out


def _existing(directories: list[Path]) -> list[Path]:
    out: list[Path] = []
    for directory in directories:
        real = Path(os.path.realpath(directory))
        if real.is_dir() and real != Path("/") and real not in out:  # HOME=/ (some services): nothing to hide
            out.append(real)
    return out


def _under(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents
