"""One llama.cpp context and the one thread that generates on it.

The local backend has a slot for completions and, by default, a second slot for chats (code actions, agent
steps) on the same loaded weights: a long agent step then no longer holds up the ghost text, and neither kind of
request evicts the other's KV cache. Chunks cross to the event loop through a queue. Cancellation is checked
after every token and, through llama.cpp's abort callback, inside prompt evaluation too, so a superseded request
frees the context within one token or one graph step. Background jobs (warm-ups, speculative completions) give
way the same way: as soon as a foreground job is submitted, the running background job is stopped and queued ones
are skipped, so background work never makes a request wait longer than one graph step.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .generation_stats import GenerationStats, common_prefix
from .kv_reuse import reuse_shifted

_DONE = object()
Job = Callable[[Callable[[str], None], Callable[[], bool]], None]


class GenerationSlot:
    """A ``Llama`` (set by ``attach``) used only from this slot's thread."""

    def __init__(self, name: str, closed: threading.Event) -> None:
        self.llm: Any = None
        self.last_stats = GenerationStats()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"qwen-lsp-{name}")
        self._closed = closed  # the backend's: stops running work
        self._should_abort: Callable[[], bool] = lambda: False
        self._abort_callback: Any = None
        self._foreground_waiting = 0  # foreground jobs submitted and not yet started
        self._waiting_lock = threading.Lock()

    def attach(self, llm: Any) -> None:
        import llama_cpp

        self._abort_callback = llama_cpp.ggml_abort_callback(lambda _data: bool(self._should_abort()))
        self.llm = llm

    async def run(self, fn: Callable[[], Any]) -> Any:
        """``fn()`` on this slot's thread, after what was submitted before."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    def foreground_waiting(self) -> bool:
        return self._foreground_waiting > 0

    async def stream(self, job: Job, cancel: threading.Event, background: bool = False) -> AsyncIterator[str]:
        """Run ``job(emit, should_stop)`` on this slot's thread and yield what it emits. A ``background`` job
        stops (and sets ``cancel``) as soon as a foreground job is waiting for the thread."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        gone = threading.Event()  # the consumer stopped listening (closed or cancelled the stream)

        def should_stop() -> bool:
            if background and self._foreground_waiting > 0:
                cancel.set()  # pre-empted: what was produced so far is not a finished answer
            return cancel.is_set() or gone.is_set() or self._closed.is_set()

        def put(item: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the event loop is closed: nobody is listening any more
                gone.set()

        def run() -> None:
            if not background:
                self._count_waiting(-1)
            try:
                job(put, should_stop)
            except BaseException as exc:
                put(exc)
            finally:
                put(_DONE)

        if not background:
            self._count_waiting(+1)
        loop.run_in_executor(self._executor, run)
        try:
            while not cancel.is_set():
                item = await queue.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                if not cancel.is_set():
                    yield item
        finally:
            gone.set()

    def _count_waiting(self, change: int) -> None:
        with self._waiting_lock:
            self._foreground_waiting += change

    def watch_prompt_evaluation(self, on: bool) -> None:
        """llama.cpp calls the abort hook at every graph node (~550 per token for a 0.5B model), which costs
        a few percent of generation speed from Python; so it is on only while the prompt is evaluated, and
        cancellation is checked per token after that."""
        import llama_cpp

        callback = self._abort_callback if on else llama_cpp.ggml_abort_callback(0)
        llama_cpp.llama_set_abort_callback(self.llm._ctx.ctx, callback, ctypes.c_void_p(0))

    @contextlib.contextmanager
    def generating(
        self, tokens: list[int], should_stop: Callable[[], bool], shift_cache: bool = False
    ) -> Iterator[GenerationStats]:
        """Bookkeeping around one generation on this slot's thread: stats, abort hook, cancellation."""
        stats = GenerationStats(prompt_tokens=len(tokens))
        if shift_cache and tokens:
            stats.shifted_tokens = reuse_shifted(self.llm, tokens)
        stats.cached_tokens = common_prefix(self.llm.input_ids[: self.llm.n_tokens].tolist(), tokens)
        self.last_stats = stats
        start = time.perf_counter()
        try:
            with self.abortable(should_stop):
                yield stats
        finally:
            if should_stop():
                stats.finish_reason = "cancelled"
            stats.total_ms = (time.perf_counter() - start) * 1000

    @contextlib.contextmanager
    def abortable(self, should_stop: Callable[[], bool]) -> Iterator[None]:
        """llama.cpp work inside stops within a graph step once ``should_stop()``; the abort ends the block quietly."""
        self._should_abort = should_stop
        self.watch_prompt_evaluation(True)
        try:
            yield
        except RuntimeError:
            if not should_stop():  # an abort we asked for surfaces as a failed llama_decode
                raise
        finally:
            self.watch_prompt_evaluation(False)
            self._should_abort = lambda: False

    async def wait_idle(self) -> None:
        """Wait until this slot's thread has finished everything submitted so far."""
        await self.run(lambda: None)

    async def shutdown(self) -> None:
        """Drop queued work and wait for the running job (which sees the backend's ``closed`` within a token)."""
        await asyncio.get_running_loop().run_in_executor(None, lambda: self._executor.shutdown(cancel_futures=True))
