"""File-system primitives shared by the stages: atomic writes, locks, temp clean-up."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import hashlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

from generator.errors import GeneratorError

log = logging.getLogger(__name__)

TMP_MARK = ".tmp-"


def write_if_changed(path: Path, data: bytes, *, durable: bool = True) -> bool:
    """Write `data` unless the file already holds exactly it; True if written.

    durable: atomically and fsynced (content/). Without it (build caches, which are
    compared and rewritten on every run) no fsync, much faster for 20,000 files. Either
    way the file is replaced, never written in place: a cache file may be hard-linked
    into the published site, which must not change before the next publish.
    """
    try:
        if path.read_bytes() == data:
            return False
    except OSError:  # missing, or unreadable: the write below fails with the real cause
        pass
    if durable:
        atomic_write(path, data)
    else:
        replace_file(path, data)
    return True


def replace_file(path: Path, data: bytes) -> None:
    """Replace `path` by a new file holding `data` (no fsync: for build caches)."""
    tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise GeneratorError(f"{path}: cannot write: {exc.strerror or exc}") from None


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temp file in the same folder, fsync, then rename over `path`."""
    tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # fails if a file is in the way
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        culprit = f" ({exc.filename})" if exc.filename not in (None, str(path), str(tmp)) else ""
        raise GeneratorError(
            f"{path}: cannot write: {os.strerror(exc.errno or 0) or exc}{culprit}"
        ) from None
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def clean_temp_files(folder: Path, *, recursive: bool = True) -> int:
    """Remove temp files a killed writer left under `folder` (or, not `recursive`, in it);
    call while holding its lock."""
    removed = 0
    for tmp in (folder.rglob if recursive else folder.glob)(f".*{TMP_MARK}*"):
        if tmp.is_file():
            try:
                tmp.unlink(missing_ok=True)
            except OSError as exc:  # e.g. a read-only folder: the write that follows will say so
                log.warning("%s: cannot remove leftover temp file: %s", tmp, exc.strerror or exc)
                continue
            removed += 1
    if removed:
        log.info("removed %d leftover temp file(s) under %s", removed, folder)
    return removed


@contextlib.contextmanager
def exclusive_lock(lock_file: Path, what: str, wait: float = 0.0) -> Iterator[None]:
    """Hold an exclusive lock on `lock_file`, waiting up to `wait` seconds, else fail clearly."""
    try:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:  # a read-only or misplaced folder: say so, not a traceback
        raise GeneratorError(
            f"{lock_file}: cannot create the lock file: {exc.strerror or exc}"
        ) from None
    try:
        deadline = time.monotonic() + wait
        waiting = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() >= deadline:
                    raise GeneratorError(
                        f"{lock_file}: another {what} is running; try again when it has finished"
                    ) from None
                if not waiting:
                    log.warning(
                        "%s: another %s is running; waiting up to %.0f s for it",
                        lock_file,
                        what,
                        wait,
                    )
                    waiting = True
                time.sleep(0.2)
        yield
    finally:
        os.close(fd)


@functools.cache
def code_digest() -> str:
    """Digest of the generator package's own source: outputs cached across builds depend on
    the code that made them, not only on the version number."""
    digest = hashlib.sha256()
    for file in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(file.name.encode() + file.read_bytes())
    return digest.hexdigest()
