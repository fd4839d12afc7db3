"""The background worker: order, debouncing, idleness, surviving failing jobs."""

from __future__ import annotations

import threading
import time

import pytest

from qwen_lsp.context.index.worker import Worker


@pytest.fixture
def worker():
    w = Worker()
    yield w
    w.stop()


def test_jobs_run_in_order_and_failures_do_not_stop_the_thread(worker: Worker) -> None:
    seen: list[int] = []
    worker.submit(lambda: seen.append(1))
    failing = worker.submit(lambda: 1 / 0)
    last = worker.submit(lambda: seen.append(2) or "done")
    assert last.result(5) == "done" and seen == [1, 2]
    with pytest.raises(ZeroDivisionError):
        failing.result(0)


def test_debounced_jobs_replace_each_other(worker: Worker) -> None:
    ran: list[str] = []
    done = threading.Event()
    for i in range(5):
        worker.submit_later("doc", lambda i=i: (ran.append(f"v{i}"), done.set()), 0.05)
    assert not worker.idle()
    assert done.wait(5)
    assert ran == ["v4"]


def test_background_jobs_do_not_count_as_work(worker: Worker) -> None:
    worker.submit_later("snapshot", lambda: None, 60, background=True)
    worker.submit(lambda: None).result(5)
    assert worker.idle()
    worker.submit_later("doc", lambda: None, 60)
    assert not worker.idle()
    worker.cancel_later("doc")
    assert worker.idle()


def test_due_jobs_run_between_steps_of_a_long_job(worker: Worker) -> None:
    order: list[str] = []
    worker.submit_later("doc", lambda: order.append("refresh"), 0.01)

    def long_job() -> None:
        time.sleep(0.05)
        worker.run_due()
        order.append("long job end")

    worker.submit(long_job).result(5)
    assert order == ["refresh", "long job end"]


def test_stopping_wakes_whoever_waits_for_queued_jobs() -> None:
    # The server waits for the initial scan with ``concurrent.futures.wait``; a shutdown while the scan is still
    # queued must release that wait, or the process never exits.
    from concurrent.futures import wait

    w = Worker()
    release = threading.Event()
    w.submit(release.wait)
    queued = w.submit(lambda: "never runs")
    waiter = threading.Thread(target=lambda: wait([queued]), daemon=True)
    waiter.start()
    w._cond.acquire()  # stop while the first job still blocks the thread
    w._stopped = True
    w._cond.release()
    release.set()
    waiter.join(5)
    assert not waiter.is_alive()
    with pytest.raises(RuntimeError, match="stopped"):
        queued.result(0)
