"""The new site as a list of files, and a folder made to hold exactly those files.

Every file of a built site already exists somewhere in the build cache (rendered pages,
feeds, JSON, search bundles) or in the folder MkDocs just rendered into. A build collects
`site path -> source file` in a SiteTree, then `sync` makes a folder hold exactly those
files as hard links (a copy where the file system cannot link).

The folder synced is the site published before the current one (publish swaps the new
site in and keeps the old one as `build/site-previous`), so a daily update touches only
what changed: a file already linked to its source (same inode) stays, others are
replaced, files not in the list are deleted, and folders left empty are removed. Building
every site into an empty folder instead cost ~3 s at 20,000 papers (23,000 page folders to
make, 68,000 files to link). The folder synced is never the published one, and sync leaves
it equal to the list whatever state it starts in (empty, a site of last month, a sync
killed half-way), so the result is byte for byte a full build's.

Listing the folder synced reads 23,000 folders at 20,000 papers, seconds when the disk's
metadata is not in memory (a daily cron job: the folder synced was last touched two builds
ago). So `sync` can leave a record of what it made (FolderRecords): per folder its inode,
its ctime and its entries. The next scan of that folder stats each folder instead of
listing it, and lists only those whose ctime moved: adding, removing or renaming an entry
changes a folder's ctime, which no program can set back, so an entry added or replaced by
hand since is found as before. Folders changed just before the record was taken (within
RACY_NS: a change in the same clock tick would leave the ctime as recorded) are not
recorded, so they are listed next time. A record that is stale (a sync killed before it
saved one) is harmless for the same reason: every folder changed since shows another ctime.

Sources must never be changed in place: caches replace their files (fsutil.write_if_changed).
A tree keeps the inodes its folder listings gave, so it is made once its sources are final.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from generator.errors import GeneratorError
from generator.fsutil import replace_file


@dataclass
class SyncReport:
    kept: int = 0
    linked: int = 0
    removed: int = 0


class SiteTree:
    """`site path -> source file` of every file of a site; `sync(folder)` makes it so."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}
        #: Sources in a scratch folder (MkDocs' output): moved into place, not linked.
        self.movable: set[str] = set()
        #: (device, inode) of sources whose folder listing gave them, so that `sync` need
        #: not stat them: at 68,000 files those stats were seconds when the disk's
        #: metadata was not in memory (as in a daily cron job).
        self.inodes: dict[str, tuple[int, int]] = {}

    def add(
        self,
        rel: str,
        source: str | Path,
        *,
        movable: bool = False,
        inode: tuple[int, int] | None = None,
    ) -> None:
        self.files[rel] = str(source)
        if movable:
            self.movable.add(rel)
        if inode is not None:
            self.inodes[rel] = inode

    def add_folder(
        self,
        prefix: str,
        folder: Path,
        wanted: Callable[[str], bool] | None = None,
        *,
        movable: bool = False,
    ) -> None:
        """Add every file under `folder` as `prefix` + its POSIX path relative to `folder`."""
        if not os.path.isdir(folder):
            return
        device = os.stat(folder).st_dev
        for rel, path, inode in entries_under(folder):
            if wanted is None or wanted(rel):
                self.add(prefix + rel, path, movable=movable, inode=(device, inode))

    def sync(
        self, target: Path, listing: Listing | None = None, records: FolderRecords | None = None
    ) -> SyncReport:
        """Make `target` hold exactly these files, each the same inode as its source.

        `listing`: what `target` holds, if read before (`Prescan`); nothing may have
        changed it since. `records`: where to leave a record of what `target` then holds,
        for the next scan of it."""
        report = SyncReport()
        root = str(target)
        os.makedirs(root, exist_ok=True)
        files, dirs = (
            listing if listing is not None else _scan(root, records.of(root) if records else None)
        )
        device = os.stat(root).st_dev
        needed_dirs = {""}
        for rel in self.files:
            parent = rel.rpartition("/")[0]
            while parent not in needed_dirs:
                needed_dirs.add(parent)
                parent = parent.rpartition("/")[0]
        # First clear the way: files not wanted (or where a folder must go), folders where
        # a file must go.
        for rel in list(files):
            if rel not in self.files:
                os.unlink(f"{root}/{rel}")
                del files[rel]
                report.removed += 1
        for rel in [d for d in dirs - needed_dirs if d in self.files]:
            shutil.rmtree(f"{root}/{rel}")  # its files are gone; sub-folders may be left
            dirs = {d for d in dirs if d != rel and not d.startswith(rel + "/")}
        made = needed_dirs & dirs
        for rel, source in self.files.items():
            dest = f"{root}/{rel}"
            old = files.get(rel)
            if old is not None:
                known = self.inodes.get(rel)
                if known is None:
                    st = os.stat(source)
                    known = st.st_dev, st.st_ino
                if known == (device, old):
                    report.kept += 1
                    continue
                os.unlink(dest)
            parent = rel.rpartition("/")[0]
            if parent not in made:
                os.makedirs(f"{root}/{parent}", exist_ok=True)
                made.add(parent)
            same = _place(source, dest, move=rel in self.movable)
            known = self.inodes.get(rel)
            files[rel] = known[1] if same and known is not None and known[0] == device else -1
            report.linked += 1
        for rel in sorted(dirs - needed_dirs, key=len, reverse=True):
            with contextlib.suppress(FileNotFoundError):  # removed with a parent above
                os.rmdir(f"{root}/{rel}")  # empty by now: its files were not wanted
        if records is not None:
            with contextlib.suppress(OSError):  # no record: the next scan lists every folder
                records.save(root, _record(root, files, needed_dirs))
        return report


def files_under(folder: Path | str) -> Iterator[tuple[str, str]]:
    """(POSIX path relative to `folder`, path) of every file under `folder` (none if it
    does not exist)."""
    for rel, path, _inode in entries_under(folder):
        yield rel, path


def entries_under(folder: Path | str) -> Iterator[tuple[str, str, int]]:
    """(POSIX path relative to `folder`, path, inode) of every file under `folder` (none
    if it does not exist)."""
    for rel, path, inode, is_dir in _walk(str(folder)):
        if not is_dir:
            yield rel, path, inode


def _walk(root: str, record: Record | None = None) -> Iterator[tuple[str, str, int, bool]]:
    """(POSIX path relative to `root`, path, inode, is a folder) of everything under
    `root`, from the folders' listings alone: no stat per file. A folder whose inode and
    ctime are as in `record` (see FolderRecords) is taken from it instead of listed."""
    if not os.path.isdir(root):
        return
    stack = [("", root)]
    while stack:
        rel_dir, path = stack.pop()
        known = record.get(rel_dir.rstrip("/")) if record else None
        if known is not None:
            st = os.lstat(path)
            if (st.st_ino, st.st_ctime_ns) == known[:2]:
                for name, inode in known[2].items():
                    yield f"{rel_dir}{name}", f"{path}/{name}", inode, False
                for name in known[3]:
                    stack.append((f"{rel_dir}{name}/", f"{path}/{name}"))
                    yield f"{rel_dir}{name}", f"{path}/{name}", -1, True
                continue
        with os.scandir(path) as entries:
            for entry in entries:
                rel = f"{rel_dir}{entry.name}"
                is_dir = entry.is_dir(follow_symlinks=False)
                if is_dir:
                    stack.append((rel + "/", entry.path))
                yield rel, entry.path, entry.inode(), is_dir


#: ({file: inode}, {folder}) under a folder, as POSIX paths relative to it.
Listing = tuple[dict[str, int], set[str]]


class Prescan:
    """A folder's listing, read in a thread while the build renders, for `sync` later.

    Listing the site a build syncs into reads 23,000 folders at 20,000 papers: seconds
    when the disk's metadata is not in memory (a daily cron job), spent waiting on the
    disk, which the build's other work can overlap (and `records` mostly spares)."""

    def __init__(self, target: Path, records: FolderRecords | None = None) -> None:
        self._listing: Listing | None = None
        self._thread = threading.Thread(
            target=self._run, args=(str(target), records), name="prescan", daemon=True
        )
        self._thread.start()

    def _run(self, root: str, records: FolderRecords | None) -> None:
        with contextlib.suppress(OSError):  # then sync lists the folder itself
            self._listing = _scan(root, records.of(root) if records else None)

    def result(self) -> Listing | None:
        """The listing, or None if it could not be read (sync reads it itself then)."""
        self._thread.join()
        return self._listing


def _scan(root: str, record: Record | None = None) -> Listing:
    """({file: inode}, {folder}) under `root`, as POSIX paths relative to it (folders as
    in `record` taken from it: see _walk)."""
    files: dict[str, int] = {}
    dirs: set[str] = set()
    for rel, _path, inode, is_dir in _walk(root, record):
        if is_dir:
            dirs.add(rel)
        else:
            files[rel] = inode
    return files, dirs


#: {folder: (its inode, its ctime in ns, {file name: inode}, [sub-folder names])}, "" the root.
Record = dict[str, tuple[int, int, dict[str, int], list[str]]]
#: A folder changed this close (in ns) to the taking of a record is left out of it: a change
#: within the same tick of the file system's clock (up to 2 s on some) keeps its ctime.
RACY_NS = 3_000_000_000


def _record(root: str, files: dict[str, int], dirs: set[str]) -> Record:
    """What `root` holds (its files' inodes as sync left them, -1 when not known), with
    each folder's inode and ctime; folders changed within RACY_NS of now, or holding a
    file of unknown inode, are left out (and listed by the next scan)."""
    probe = f"{root}/.record-probe-{os.getpid()}"
    with open(probe, "wb") as fh:  # "now" on the file system's own clock
        now = os.fstat(fh.fileno()).st_ctime_ns
    os.unlink(probe)
    entries: dict[str, tuple[dict[str, int], list[str]]] = {d: ({}, []) for d in dirs}
    for rel, inode in files.items():
        parent, _, name = rel.rpartition("/")
        entries[parent][0][name] = inode
    for rel in dirs:
        if rel:
            parent, _, name = rel.rpartition("/")
            entries[parent][1].append(name)
    record: Record = {}
    for rel, (names, subdirs) in entries.items():
        st = os.lstat(f"{root}/{rel}" if rel else root)
        if st.st_ctime_ns < now - RACY_NS and -1 not in names.values():
            record[rel] = (st.st_ino, st.st_ctime_ns, names, subdirs)
    return record


class FolderRecords:
    """The records `sync` left of the folders it made (see the module docstring), in one
    file, under each folder's (device, inode): renaming a folder (publishing it, keeping it
    as the spare) keeps both. Holds the latest KEEP, the two sites that take turns."""

    KEEP = 2
    FORMAT = 1

    def __init__(self, path: Path) -> None:
        self.path = path
        self._records: dict[tuple[int, int], Record] | None = None  # read once

    def _load(self) -> dict[tuple[int, int], Record]:
        if self._records is None:
            try:
                with open(self.path, "rb") as fh:
                    fmt, records = pickle.load(fh)
                ok = fmt == self.FORMAT and isinstance(records, dict)
                self._records = records if ok else {}
            except Exception:  # noqa: BLE001 - missing or damaged: every folder is listed
                self._records = {}
        return self._records

    def of(self, root: str) -> Record | None:
        try:
            st = os.stat(root)
        except OSError:
            return None
        return self._load().get((st.st_dev, st.st_ino))

    def save(self, root: str, record: Record) -> None:
        st = os.stat(root)
        records = self._load()
        records.pop((st.st_dev, st.st_ino), None)
        records[(st.st_dev, st.st_ino)] = record
        kept = self._records = dict(list(records.items())[-self.KEEP :])
        with contextlib.suppress(GeneratorError):  # not saved: the next scan lists every folder
            replace_file(
                self.path, pickle.dumps((self.FORMAT, kept), protocol=pickle.HIGHEST_PROTOCOL)
            )


def _place(source: str, dest: str, *, move: bool) -> bool:
    """Put `source` at `dest`; False if it had to be copied (another inode)."""
    if move:
        with contextlib.suppress(OSError):
            os.rename(source, dest)
            return True
    try:
        os.link(source, dest)
        return True
    except OSError:
        shutil.copyfile(source, dest)
        return False
