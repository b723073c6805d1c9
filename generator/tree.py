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

Sources must never be changed in place: caches replace their files (fsutil.write_if_changed).
A tree keeps the inodes its folder listings gave, so it is made once its sources are final.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path


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

    def add(self, rel: str, source: str | Path, *, movable: bool = False,
            inode: tuple[int, int] | None = None) -> None:
        self.files[rel] = str(source)
        if movable:
            self.movable.add(rel)
        if inode is not None:
            self.inodes[rel] = inode

    def add_folder(
        self, prefix: str, folder: Path, wanted: Callable[[str], bool] | None = None,
        *, movable: bool = False,
    ) -> None:
        """Add every file under `folder` as `prefix` + its POSIX path relative to `folder`."""
        if not os.path.isdir(folder):
            return
        device = os.stat(folder).st_dev
        for rel, path, inode in entries_under(folder):
            if wanted is None or wanted(rel):
                self.add(prefix + rel, path, movable=movable, inode=(device, inode))

    def sync(self, target: Path, listing: Listing | None = None) -> SyncReport:
        """Make `target` hold exactly these files, each the same inode as its source.

        `listing`: what `target` holds, if read before (`Prescan`); nothing may have
        changed it since."""
        report = SyncReport()
        root = str(target)
        os.makedirs(root, exist_ok=True)
        files, dirs = listing if listing is not None else _scan(root)
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
            _place(source, dest, move=rel in self.movable)
            report.linked += 1
        for rel in sorted(dirs - needed_dirs, key=len, reverse=True):
            with contextlib.suppress(FileNotFoundError):  # removed with a parent above
                os.rmdir(f"{root}/{rel}")  # empty by now: its files were not wanted
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


def _walk(root: str) -> Iterator[tuple[str, str, int, bool]]:
    """(POSIX path relative to `root`, path, inode, is a folder) of everything under
    `root`, from the folders' listings alone: no stat per file."""
    if not os.path.isdir(root):
        return
    stack = [("", root)]
    while stack:
        rel_dir, path = stack.pop()
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
    disk, which the build's other work can overlap."""

    def __init__(self, target: Path) -> None:
        self._listing: Listing | None = None
        self._thread = threading.Thread(target=self._run, args=(str(target),),
                                        name="prescan", daemon=True)
        self._thread.start()

    def _run(self, root: str) -> None:
        with contextlib.suppress(OSError):  # then sync lists the folder itself
            self._listing = _scan(root)

    def result(self) -> Listing | None:
        """The listing, or None if it could not be read (sync reads it itself then)."""
        self._thread.join()
        return self._listing


def _scan(root: str) -> Listing:
    """({file: inode}, {folder}) under `root`, as POSIX paths relative to it."""
    files: dict[str, int] = {}
    dirs: set[str] = set()
    for rel, _path, inode, is_dir in _walk(root):
        if is_dir:
            dirs.add(rel)
        else:
            files[rel] = inode
    return files, dirs


def _place(source: str, dest: str, *, move: bool) -> None:
    if move:
        with contextlib.suppress(OSError):
            os.rename(source, dest)
            return
    try:
        os.link(source, dest)
    except OSError:
        shutil.copyfile(source, dest)
