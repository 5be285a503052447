"""A pool of grading worker processes with hard per-item deadlines.

Each worker handles one comparison at a time, in the order it was sent, so when a comparison runs
past its deadline the parent knows exactly which item hung (the oldest unanswered one): it SIGKILLs
that worker (by pid), records the item as a timeout, hands the worker's other queued items to the
rest, and starts a replacement; the other workers keep going. A worker holds up to
:data:`PIPELINE_DEPTH` items so it never idles waiting for the parent to be scheduled (on a loaded
machine each round trip cost ~20 ms, as much as a comparison); an item's deadline runs from the
moment the worker starts it (the previous item's answer). Queued requests never exceed what the
worker's stdin pipe holds (:data:`PIPE_BUDGET`), so writing to a hung worker cannot block the parent
past that worker's deadline. This is the same fix the
ecosystem converged on (Qwen2.5-Math's pebble pool, verl PR #5839, UniRL PR #462), built on a
plain subprocess protocol (see :mod:`rlvr_repro.evaluate.worker` for why not multiprocessing).

Pools are cheap to keep: :func:`shared_pool` returns one long-lived pool per worker count so the
training reward does not pay the ~0.5 s worker start-up on every step.
"""

from __future__ import annotations

import atexit
import collections
import json
import os
import selectors
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from tqdm import tqdm

STARTUP_TIMEOUT_S = 120.0
PIPELINE_DEPTH = 4
# A worker also takes the pending tasks that follow its last one with the same gold, up to this many in
# flight: each worker parses a gold once (judge._parse's cache), instead of every worker parsing every
# gold (a MATH-500 gold costs ~4 ms to parse; its tasks are adjacent once grade_many orders them).
MAX_RUN = 32
# Bytes of requests a worker has not read yet, at most (Linux pipes hold 64 KiB): see _Worker.fits.
PIPE_BUDGET = 48 * 1024


@dataclass
class PoolResult:
    """Outcome of one task: ``status`` is "ok", "timeout" (hard kill or soft timeout) or
    "error" (the worker raised or died); ``extracted`` is the answer the worker read, if it says."""
    correct: bool
    status: str
    extracted: str | None = None


class _Worker:
    """One worker subprocess plus its read buffer and the task it is running."""

    def __init__(self) -> None:
        env = dict(os.environ, RLVR_GRADER_PARENT=str(os.getpid()))
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rlvr_repro.evaluate.worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, env=env)
        self.fd = self.proc.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.buffer = b""
        self.ready = False
        self.started = time.monotonic()
        self.inflight: collections.deque[int] = collections.deque()  # sent, unanswered; [0] is running
        self.sizes: collections.deque[int] = collections.deque()     # their request lines' bytes
        self.head_since = float("inf")                                # when inflight[0] started

    def fits(self, line: bytes) -> bool:
        """Whether ``line`` can be written without blocking: the worker has read its running item, so
        the pipe holds the rest of what is in flight. A write into a full pipe would block the parent
        until the worker reads, and a hung worker never reads: the parent could then never kill it."""
        return not self.inflight or sum(self.sizes) - self.sizes[0] + len(line) <= PIPE_BUDGET

    def send(self, task_id: int, line: bytes) -> bool:
        try:
            self.proc.stdin.write(line)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return False
        if not self.inflight:
            self.head_since = time.monotonic()
        self.inflight.append(task_id)
        self.sizes.append(len(line))
        return True

    def answered(self) -> int:
        """The running item was answered: the next one starts now. Returns the answered id."""
        task_id = self.inflight.popleft()
        self.sizes.popleft()
        self.head_since = time.monotonic() if self.inflight else float("inf")
        return task_id

    def read_lines(self) -> list[dict] | None:
        """Complete reply lines now available; None at EOF (the worker died)."""
        try:
            chunk = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return []
        if not chunk:
            return None
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        return [json.loads(line) for line in lines if line.strip()]

    def stderr_tail(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read()[-2000:].decode(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.stderr.close()


class GraderPool:
    """``workers`` grading processes; :meth:`run` judges a list of tasks with hard deadlines.

    ``soft_timeout`` (int seconds or None) is passed to math-verify inside the worker so most
    slow comparisons give up on their own; the hard ``timeout`` of :meth:`run` is the guarantee.
    """

    def __init__(self, workers: int = 2) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.n_workers = workers
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self.restarts = 0

    def start(self) -> None:
        """Spawn missing workers now, without waiting for them: each imports math-verify (~1 s of CPU)
        while the caller goes on (grade_many starts the pool when it plans its first worker task, so
        the start-up overlaps the rest of its planning). A no-op while a batch runs."""
        if self._lock.acquire(blocking=False):
            try:
                self._ensure_started()
            finally:
                self._lock.release()

    def _ensure_started(self) -> None:
        self._workers = [w for w in self._workers if w.proc.poll() is None]
        while len(self._workers) < self.n_workers:
            self._workers.append(_Worker())

    def _replace(self, worker: _Worker) -> _Worker:
        worker.kill()
        self.restarts += 1
        fresh = _Worker()
        self._workers[self._workers.index(worker)] = fresh
        return fresh

    def run(self, tasks: list[tuple[str, str, str]], *, timeout: float = 5.0,
            soft_timeout: int | None = 3, progress: bool = False) -> list[PoolResult]:
        """Judge ``(pred, gold, mode)`` tasks; every task finishes within ``timeout`` seconds of
        being handed to a worker or is recorded as a timeout."""
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0, got {timeout}")
        if not tasks:
            return []
        with self._lock:
            return self._run(tasks, timeout, soft_timeout, progress)

    def _run(self, tasks, timeout, soft_timeout, progress) -> list[PoolResult]:
        self._ensure_started()
        results: list[PoolResult | None] = [None] * len(tasks)
        pending = collections.deque(range(len(tasks)))
        bar = tqdm(total=len(tasks), desc="grading (math-verify)", disable=not progress,
                   mininterval=1.0)
        selector = selectors.DefaultSelector()
        for w in self._workers:
            selector.register(w.fd, selectors.EVENT_READ, w)

        encoded: dict[int, bytes] = {}  # request lines built but not sent yet (one did not fit its worker)

        def request(task_id: int) -> bytes:
            if task_id not in encoded:
                pred, gold, mode = tasks[task_id]
                encoded[task_id] = json.dumps({"i": task_id, "pred": pred, "gold": gold, "mode": mode,
                                               "soft": soft_timeout}).encode() + b"\n"
            return encoded[task_id]

        def finish(task_id: int, result: PoolResult) -> None:
            results[task_id] = result
            bar.update(1)

        def replace(worker: _Worker) -> None:
            """Kill ``worker``; its queued items (all but a finished head) go back to the front."""
            pending.extendleft(reversed(worker.inflight))
            worker.inflight.clear()
            selector.unregister(worker.fd)
            fresh = self._replace(worker)
            selector.register(fresh.fd, selectors.EVENT_READ, fresh)

        try:
            while pending or any(w.inflight for w in self._workers):
                for w in list(self._workers):
                    while w.ready and pending and (len(w.inflight) < PIPELINE_DEPTH or (
                            len(w.inflight) < MAX_RUN and tasks[pending[0]][1] == tasks[w.inflight[-1]][1])):
                        line = request(pending[0])
                        if not w.fits(line):
                            break
                        i = pending.popleft()
                        del encoded[i]
                        if not w.send(i, line):
                            pending.appendleft(i)
                            replace(w)
                            break
                now = time.monotonic()
                wait = min([w.head_since + timeout for w in self._workers]
                           + [w.started + STARTUP_TIMEOUT_S for w in self._workers if not w.ready])
                for key, _ in selector.select(timeout=max(0.0, min(wait - now, 1.0))):
                    w = key.data
                    lines = w.read_lines()
                    if lines is None:  # worker died (crash, memory limit)
                        if not w.ready:
                            raise RuntimeError("grading worker failed to start:\n" + w.stderr_tail())
                        if w.inflight:
                            finish(w.answered(), PoolResult(False, "error"))
                        replace(w)
                        continue
                    for msg in lines:
                        if msg.get("ready"):
                            w.ready = True
                        elif w.inflight and msg.get("i") == w.inflight[0]:
                            status = "timeout" if msg["timeout"] and not msg["correct"] else (
                                "error" if msg.get("error") else "ok")
                            finish(w.answered(), PoolResult(bool(msg["correct"]), status, msg.get("extracted")))
                now = time.monotonic()
                for w in list(self._workers):
                    if w.inflight and now > w.head_since + timeout:
                        finish(w.answered(), PoolResult(False, "timeout"))
                        replace(w)
                    elif not w.ready and now > w.started + STARTUP_TIMEOUT_S:
                        raise RuntimeError(f"grading worker not ready after {STARTUP_TIMEOUT_S}s:\n"
                                           + w.stderr_tail())
        finally:
            selector.close()
            bar.close()
        return results  # type: ignore[return-value]

    def close(self) -> None:
        """Stop every worker (closing stdin lets idle workers exit; hung ones are killed)."""
        for w in self._workers:
            w.kill()
        self._workers = []

    def __enter__(self) -> "GraderPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_SHARED: dict[int, GraderPool] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(workers: int) -> GraderPool:
    """A process-wide pool with ``workers`` workers, started lazily, closed at interpreter exit."""
    with _SHARED_LOCK:
        pool = _SHARED.get(workers)
        if pool is None:
            pool = _SHARED[workers] = GraderPool(workers)
        return pool


@atexit.register
def _close_shared() -> None:
    for pool in _SHARED.values():
        pool.close()
