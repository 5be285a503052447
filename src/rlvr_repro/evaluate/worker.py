"""Grading worker: a separate Python process that runs math-verify for the parent's pool.

Run as ``python -m rlvr_repro.evaluate.worker``. Protocol: one JSON object per line.
The worker first writes ``{"ready": true}``; then for each request
``{"i": int, "pred": str, "gold": str, "mode": str, "soft": int | null}`` on stdin it writes
``{"i": int, "correct": bool, "timeout": bool, "error": str | null, "extracted": str | null}``
on stdout (``mode`` is a judge kind, :data:`rlvr_repro.evaluate.judge.KINDS`).

Why a plain subprocess and not ``multiprocessing``: the grader is also used from Snakemake
``script:`` files, Ray actors (verl's reward workers) and threads. ``spawn``/``forkserver``
children re-import the parent's ``__main__`` (a Snakemake script would run again) and ``fork``
copies torch's thread state; a fresh interpreter has neither problem, and the parent can kill
it by pid when it hangs. Stray prints are redirected to stderr so they cannot corrupt the
protocol; the worker dies with its parent (``PR_SET_PDEATHSIG``) and caps its own memory
(``RLVR_GRADER_MEM_MB``, default 4096) because sympy blow-ups can also eat memory
(Math-Verify #63).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL us when the parent dies (no orphaned sympy loops)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # parent already gone before prctl took effect
        os._exit(1)


def _limit_memory() -> None:
    mb = int(os.environ.get("RLVR_GRADER_MEM_MB", "4096"))
    if mb <= 0:
        return
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (mb << 20, mb << 20))
    except (ImportError, ValueError, OSError):
        pass


def main() -> None:
    parent_pid = int(os.environ.get("RLVR_GRADER_PARENT", os.getppid()))
    _die_with_parent(parent_pid)
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)  # anything printed by libraries goes to stderr, never into the protocol
    sys.stdout = sys.stderr
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    _limit_memory()

    from math_verify.errors import TimeoutException

    from rlvr_repro.evaluate.judge import judge

    proto.write(json.dumps({"ready": True}) + "\n")
    while True:
        line = sys.stdin.readline()
        if not line:
            return
        request = json.loads(line)
        reply = {"i": request["i"], "correct": False, "timeout": False, "error": None, "extracted": None}
        try:
            verdict = judge(request["pred"], request["gold"], request["mode"], request.get("soft"))
            reply["correct"], reply["timeout"] = bool(verdict.correct), bool(verdict.timed_out)
            reply["extracted"] = verdict.extracted
        except TimeoutException:
            reply["timeout"] = True
        except (Exception, RecursionError, MemoryError) as exc:  # an answer we cannot compare
            reply["error"] = type(exc).__name__
        proto.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    main()
