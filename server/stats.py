"""Local acceptance statistics: what was offered, shown and accepted, per model. Never sent anywhere.

Events are appended as JSON lines to ``stats.jsonl`` in the user data dir (``QWEN_LSP_DATA_DIR`` overrides).
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import platformdirs

log = logging.getLogger(__name__)
MAX_PENDING = 2048  # offered completions remembered for a later show/accept


def data_dir() -> Path:
    return Path(os.environ.get("QWEN_LSP_DATA_DIR") or platformdirs.user_data_dir("qwen-lsp"))


@dataclass
class Offered:
    model: str
    chars: int
    latency_ms: float


class StatsRecorder:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or data_dir() / "stats.jsonl"
        self._offered: dict[str, Offered] = {}
        self._lock = threading.Lock()

    def offered(self, completion_id: str, model: str, text: str, latency_ms: float) -> None:
        with self._lock:
            self._offered[completion_id] = Offered(model, len(text), latency_ms)
            while len(self._offered) > MAX_PENDING:
                self._offered.pop(next(iter(self._offered)))
        self._write(
            {"event": "offered", "id": completion_id, "model": model, "chars": len(text), "latency_ms": latency_ms}
        )

    def shown(self, completion_id: str) -> None:
        self._record_known("shown", completion_id)

    def accepted(self, completion_id: str) -> None:
        self._record_known("accepted", completion_id)

    def partially_accepted(self, completion_id: str, accepted_length: int) -> None:
        self._record_known("partial", completion_id, accepted_length)

    def _record_known(self, event: str, completion_id: str, chars: int | None = None) -> None:
        with self._lock:
            offered = self._offered.get(str(completion_id))
        if offered is None:
            log.debug("%s for an unknown completion id %r", event, completion_id)
            return
        self._write(
            {
                "event": event,
                "id": completion_id,
                "model": offered.model,
                "chars": offered.chars if chars is None else int(chars),
            }
        )

    def _write(self, record: dict) -> None:
        record["t"] = round(time.time(), 3)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
        except OSError as error:
            log.warning("cannot write completion statistics to %s: %s", self.path, error)


@dataclass
class ModelSummary:
    model: str
    offered: int = 0
    shown: int = 0
    accepted: int = 0
    partially_accepted: int = 0
    chars_accepted: int = 0
    latency_p50_ms: float = 0.0
    latency_p90_ms: float = 0.0
    latency_p99_ms: float = 0.0

    @property
    def acceptance_rate(self) -> float:
        return (self.accepted + self.partially_accepted) / self.shown if self.shown else 0.0


def summarize(path: Path) -> list[ModelSummary]:
    summaries: dict[str, ModelSummary] = {}
    latencies: dict[str, list[float]] = defaultdict(list)
    accepted_ids: set[tuple[str, str]] = set()
    if not path.exists():
        return []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
            model, event = str(record["model"]), record["event"]
        except (ValueError, KeyError, TypeError):
            continue  # a torn line from a crash must not hide the rest
        summary = summaries.setdefault(model, ModelSummary(model))
        if event == "offered":
            summary.offered += 1
            latencies[model].append(float(record.get("latency_ms", 0.0)))
        elif event == "shown":
            summary.shown += 1
        elif event in ("accepted", "partial"):
            key = (model, str(record.get("id")))
            if key in accepted_ids:
                continue  # one completion counts once, however it was taken
            accepted_ids.add(key)
            summary.accepted += event == "accepted"
            summary.partially_accepted += event == "partial"
            summary.chars_accepted += int(record.get("chars", 0))
    for model, values in latencies.items():
        if values:
            summaries[model].latency_p50_ms = _percentile(values, 50)
            summaries[model].latency_p90_ms = _percentile(values, 90)
            summaries[model].latency_p99_ms = _percentile(values, 99)
    return sorted(summaries.values(), key=lambda s: s.model)


def _percentile(values: list[float], pct: int) -> float:
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[pct - 1], 1)


def format_summary(summaries: list[ModelSummary]) -> str:
    if not summaries:
        return "No completions recorded yet."
    header = f"{'model':<32} {'offered':>8} {'shown':>6} {'accepted':>8} {'partial':>7} {'rate':>6} {'chars':>7} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7}"
    rows = [header]
    for s in summaries:
        rows.append(
            f"{s.model:<32} {s.offered:>8} {s.shown:>6} {s.accepted:>8} {s.partially_accepted:>7} "
            f"{s.acceptance_rate:>6.1%} {s.chars_accepted:>7} {s.latency_p50_ms:>7.0f} {s.latency_p90_ms:>7.0f} {s.latency_p99_ms:>7.0f}"
        )
    return "\n".join(rows)
