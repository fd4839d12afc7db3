"""Offer to download a missing local model preset from the editor, instead of failing until a command is run.

The server asks once (``window/showMessageRequest``) and, if the user agrees, downloads the preset with
``$/progress`` (percentage, cancellable through ``window/workDoneProgress/cancel``) before the model is loaded.
A refusal, a cancelled or a failed download is remembered for the session: no second prompt. A client that cannot
answer a message request or show progress gets the usual error with the ``qwen-lsp model pull`` command.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from pathlib import Path

from lsprotocol import types

from qwen_lsp.clients.base import BackendError
from qwen_lsp.clients.models import files as models

from ..host import Host
from ..user_question import ask_user
from .status import send_status

log = logging.getLogger(__name__)
DOWNLOAD, NOT_NOW = "Download", "Not now"
PROBLEM_KEY = "model-download"


def download_size(preset: models.ModelPreset) -> str:
    """ "491 MB", "~18.6 GB": what the prompt tells before a download."""
    approx = "" if preset.sha256 else "~"
    if preset.size_bytes >= 10**9:
        return f"{approx}{preset.size_bytes / 10**9:.1f} GB"
    return f"{approx}{max(1, round(preset.size_bytes / 10**6))} MB"


async def offer_model_download(server: Host) -> None:
    """When the configured local model is a preset that is not downloaded, ask once and download it if wanted.

    Returns when there is nothing to do, the user declined, or the download ended (either way); loading then
    proceeds and reports whatever is still wrong.
    """
    # Only a backend that loads a model file on this machine may need a download (not a stand-in, nor a test's).
    model = server.session.backend.local_model()
    preset = models.get_preset(model) if model else None
    if preset is None:
        return
    downloads = server.model_downloads
    async with downloads.lock:
        if models.downloaded_path(preset) is not None or preset.name in downloads.declined:
            return
        if not _can_offer(server):
            log.info("%s is not downloaded; the client cannot answer a download prompt or show progress", preset.name)
            return
        if not await _ask(server, preset):
            downloads.declined.add(preset.name)
            return
        if not await _download(server, preset):
            downloads.declined.add(preset.name)


def _can_offer(server: Host) -> bool:
    window = server.client_capabilities.window
    return bool(window and window.show_message is not None and window.work_done_progress)


async def _ask(server: Host, preset: models.ModelPreset) -> bool:
    message = (
        f"qwen-lsp: Download {preset.name} ({download_size(preset)})? The configured local model is not "
        f"downloaded yet; it goes to {models.models_dir()}."
    )
    if not await ask_user(server, message, DOWNLOAD, NOT_NOW):
        log.info("download of %s declined for this session", preset.name)
        return False
    return True


async def _download(server: Host, preset: models.ModelPreset) -> bool:
    """Download with cancellable progress; True when the file is in place and verified."""
    token = f"qwen-lsp-download-{uuid.uuid4().hex[:8]}"
    try:
        await asyncio.wait_for(server.work_done_progress.create_async(token), timeout=5)
    except Exception as error:
        log.info("client refused a progress token (%s); not downloading without progress", error)
        return False
    progress = server.work_done_progress
    progress.begin(
        token,
        types.WorkDoneProgressBegin(
            title=f"Downloading {preset.name}", cancellable=True, message=download_size(preset), percentage=0
        ),
    )
    cancelled_by_client = progress.tokens[token]  # a concurrent Future pygls cancels on workDoneProgress/cancel
    stop = threading.Event()
    loop = asyncio.get_running_loop()
    shown = [-1]

    def report(percent: int, done: int, total: int) -> None:
        message = f"{done / 10**6:.0f} / {total / 10**6:.0f} MB"
        progress.report(token, types.WorkDoneProgressReport(message=message, percentage=percent))
        send_status(server, "loading", f"downloading {preset.name} {percent}%", percent / 100)

    def on_progress(done: int, total: int) -> None:  # on the download thread
        if stop.is_set() or cancelled_by_client.cancelled():
            raise models.DownloadCancelled(f"the download of {preset.name} was cancelled")
        percent = min(100, done * 100 // total) if total else 0
        if percent != shown[0]:
            shown[0] = percent
            loop.call_soon_threadsafe(report, percent, done, total)

    outcome = "failed"
    try:
        path = await _in_daemon_thread(lambda: models.pull(preset.name, progress=on_progress))
        outcome = "done"
        log.info("downloaded %s to %s", preset.name, path)
        server.problems.resolve(PROBLEM_KEY)
        return True
    except models.DownloadCancelled:
        outcome = "cancelled"
        server.problems.report(
            PROBLEM_KEY,
            f"download of {preset.name} cancelled; nothing was kept. Run: qwen-lsp model pull {preset.name}",
            types.MessageType.Warning,
        )
        return False
    except (BackendError, OSError) as error:
        server.problems.report(PROBLEM_KEY, f"downloading {preset.name} failed: {error}")
        return False
    finally:
        stop.set()  # also when the server shuts down while downloading
        try:
            progress.end(token, types.WorkDoneProgressEnd(message=outcome))
        except Exception:
            log.debug("could not end the download progress", exc_info=True)


async def _in_daemon_thread(work) -> Path:
    """Run a download in a daemon thread: a server that exits mid-download must not wait for it."""
    loop = asyncio.get_running_loop()
    result: asyncio.Future[Path] = loop.create_future()

    def run() -> None:
        value, failure = None, None
        try:
            value = work()
        except BaseException as error:  # handed to the awaiting task
            failure = error
        with contextlib.suppress(RuntimeError):  # the loop is closed: the server has exited
            loop.call_soon_threadsafe(_settle, result, value, failure)

    threading.Thread(target=run, name="model-download", daemon=True).start()
    return await result


def _settle(future: asyncio.Future, value: object, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
