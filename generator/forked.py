"""Run one build step in a forked process while the build goes on with the next ones.

The machine this runs on has two cores and a daily update is mostly single-threaded
Python: the related papers, the feeds and the JSON export need only the loaded archive (and
the groups), and nothing else needs them until later, so they run beside the pages and
MkDocs. The child inherits the parent's memory (nothing is pickled on the way in) and
sends its result back through a pipe. A child that fails or dies sends nothing: the step
then runs again in the parent, which raises the step's own error (a full disk, a bad
file) the way it would have without the fork. A step run this way must be safe to repeat:
every step here writes through OutputCache or atomic_write, which replace files whole.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Niceness of a forked step (and of Pagefind in a daily update): nothing needs them before
#: the site is assembled, so the build's own critical path (pages, MkDocs) gets the cores first.
NICE = 10


class Forked(Generic[T]):
    """`fn(*args)` in a forked child; `result()` waits for it and returns what it returned.

    `early`: `fn` takes a keyword argument `deliver` and calls it with its result as soon as
    it is known, then goes on (writing its caches, say); `result()` returns it then, and
    leaving the block waits for the child to finish. Use it as a context manager: leaving
    the block without taking the result (the build failed on the way) ends the child, which
    would otherwise wait forever to send it. `fork=False` runs `fn` here and now. `nice`:
    the child's niceness (0 for a step the build soon waits on).
    """

    def __init__(
        self,
        name: str,
        fn: Callable[..., T],
        *args: object,
        fork: bool = True,
        early: bool = False,
        nice: int = NICE,
    ) -> None:
        self.name, self._fn, self._args, self._early = name, fn, args, early
        self._inline: tuple[T] | None = None
        if not fork:
            self._inline = (self._call(),)
            return
        ctx = multiprocessing.get_context("fork")
        self._reader, writer = ctx.Pipe(duplex=False)
        self._child = ctx.Process(
            target=_run, args=(fn, args, early, writer, os.getpid(), nice), name=name, daemon=True
        )
        self._child.start()
        writer.close()

    def _call(self) -> T:
        if self._early:
            return self._fn(*self._args, deliver=lambda _result: None)
        return self._fn(*self._args)

    def __enter__(self) -> Forked[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._inline is not None:
            return
        if not self._reader.closed and self._child.is_alive():
            self._child.terminate()  # its result was never taken
        self._child.join()
        self._reader.close()

    def result(self) -> T:
        if self._inline is not None:
            return self._inline[0]
        try:
            ok, value = self._reader.recv()
        except (EOFError, OSError):  # the child died before it answered
            ok, value = False, None
        finally:
            self._reader.close()
        if ok:
            return value
        self._child.join()
        log.info("%s: the forked step failed (%s); running it here", self.name, value)
        return self._call()


def _die_with(parent: int) -> None:
    """End this child when the build that forked it dies (killed, say): a step must not go on
    writing the build's caches after its lock is gone, beside the next build. (Linux sends
    the signal when the thread that forked it ends: a build ends its steps before that.)"""
    with contextlib.suppress(Exception):  # Linux: prctl(PR_SET_PDEATHSIG, SIGKILL)
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it died before that took effect
        os._exit(1)


def _run(
    fn: Callable[..., object], args: tuple, early: bool, writer, parent: int, nice: int
) -> None:
    _die_with(parent)
    if nice:
        with contextlib.suppress(OSError):
            os.nice(nice)
    sent = False

    def answer(ok: bool, value: object) -> None:  # once: the first answer is the one
        nonlocal sent
        if not sent:
            sent = True
            writer.send((ok, value))
            writer.close()

    try:
        value = fn(*args, deliver=lambda v: answer(True, v)) if early else fn(*args)
    except BaseException as exc:  # noqa: BLE001 - reported by re-running in the parent
        if sent:  # after the answer (writing a cache, say): the parent has what it needs
            log.warning(
                "%s: failed after it answered: %s: %s",
                multiprocessing.current_process().name,
                type(exc).__name__,
                exc,
            )
        answer(False, f"{type(exc).__name__}: {exc}")
        return
    answer(True, value)
