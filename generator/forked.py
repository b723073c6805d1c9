"""Run one build step in a forked process while the build goes on with the next ones.

The machine this runs on has two cores and a daily update is mostly single-threaded
Python: the feeds and the JSON export need only the loaded archive (and the groups), and
nothing else needs them until the new site is assembled, so they run beside the pages
and MkDocs. The child inherits the parent's memory (nothing is pickled on the way in) and
sends its result back through a pipe. A child that fails or dies sends nothing: the step
then runs again in the parent, which raises the step's own error (a full disk, a bad
file) the way it would have without the fork. A step run this way must be safe to repeat:
every step here writes through OutputCache, which replaces files whole.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Forked(Generic[T]):
    """`fn(*args)` in a forked child; `result()` waits for it and returns what it returned.

    Use it as a context manager: leaving the block without taking the result (the build
    failed on the way) ends the child, which would otherwise wait forever to send it.
    """

    def __init__(self, name: str, fn: Callable[..., T], *args: object, fork: bool = True) -> None:
        self.name, self._fn, self._args = name, fn, args
        self._inline: tuple[T] | None = None
        if not fork:  # run here and now (see build.py: a full build keeps both cores busy)
            self._inline = (fn(*args),)
            return
        ctx = multiprocessing.get_context("fork")
        self._reader, writer = ctx.Pipe(duplex=False)
        self._child = ctx.Process(target=_run, args=(fn, args, writer), name=name, daemon=True)
        self._child.start()
        writer.close()

    def __enter__(self) -> Forked[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._inline is not None:
            return
        if self._child.is_alive():
            self._child.terminate()
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
            self._child.join()
        if ok:
            return value
        log.info("%s: the forked step failed (%s); running it here", self.name, value)
        return self._fn(*self._args)


#: Niceness of a forked step (and of Pagefind in a daily update): nothing needs them before
#: the site is assembled, so the build's own critical path (pages, MkDocs) gets the cores first.
NICE = 10


def _run(fn: Callable[..., object], args: tuple, writer) -> None:
    with contextlib.suppress(OSError):
        os.nice(NICE)
    try:
        answer = (True, fn(*args))
    except BaseException as exc:  # noqa: BLE001 - reported by re-running in the parent
        answer = (False, f"{type(exc).__name__}: {exc}")
    try:
        writer.send(answer)
    finally:
        writer.close()
