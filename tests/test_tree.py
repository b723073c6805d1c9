"""generator.tree: a folder synced to a list of files, whatever it held before."""

from __future__ import annotations

import os
from pathlib import Path

import generator.tree as tree_module
from generator.tree import FolderRecords, Prescan, SiteTree


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def dirs(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_dir()}


def sources(tmp: Path) -> tuple[SiteTree, Path]:
    src = tmp / "src"
    for rel, text in {
        "index.html": "home",
        "papers/2601.00001/index.html": "paper",
        "feed.xml": "feed",
        "a/b/c.txt": "deep",
        "x": "x is a file now",
        "scratch/moved.css": "css",
    }.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    tree = SiteTree()
    tree.add_folder("", src, lambda rel: not rel.startswith("scratch/"))
    tree.add("assets/moved.css", src / "scratch" / "moved.css", movable=True)
    return tree, src


def test_sync_into_a_messy_folder_leaves_exactly_the_list(tmp_path: Path) -> None:
    tree, src = sources(tmp_path)
    target = tmp_path / "site"
    (target / "old" / "deep").mkdir(parents=True)
    (target / "old" / "deep" / "page.html").write_text("stale page")
    (target / "feed.xml").write_text("an older feed")  # another file at a listed path
    (target / "x" / "y").mkdir(parents=True)  # a folder where a file goes
    (target / "x" / "y" / "z").write_text("in the way")
    (target / "a").write_text("a file where a folder goes")
    os.link(src / "index.html", target / "index.html")  # already the listed file
    report = tree.sync(target)
    assert files(target) == {
        "index.html": b"home",
        "papers/2601.00001/index.html": b"paper",
        "feed.xml": b"feed",
        "a/b/c.txt": b"deep",
        "x": b"x is a file now",
        "assets/moved.css": b"css",
    }
    assert dirs(target) == {"papers", "papers/2601.00001", "a", "a/b", "assets"}
    for rel in ("index.html", "feed.xml", "a/b/c.txt", "x"):  # hard links, not copies
        assert (target / rel).stat().st_ino == (src / rel).stat().st_ino
    assert not (src / "scratch" / "moved.css").exists()  # moved, not linked
    assert report.kept == 1 and report.linked == 5
    assert report.removed == 3  # old/deep/page.html, x/y/z, a (feed.xml: replaced, linked)


def test_sync_again_keeps_everything_and_replaces_what_changed(tmp_path: Path) -> None:
    tree, src = sources(tmp_path)
    target = tmp_path / "site"
    tree.sync(target)
    before = files(target)
    # A cache replaces a file (new inode), never edits it in place.
    (src / ".feed.tmp").write_text("new feed")
    os.replace(src / ".feed.tmp", src / "feed.xml")
    # A tree holds the inodes its folder listings gave: a source replaced after it was
    # listed is listed again (a build makes a new tree once its sources are final).
    tree.add_folder("", src, lambda rel: rel == "feed.xml")
    tree.files.pop("assets/moved.css")
    report = tree.sync(target)
    assert files(target) == {
        **{k: v for k, v in before.items() if k != "assets/moved.css"},
        "feed.xml": b"new feed",
    }
    assert "assets" not in dirs(target)  # a folder left empty goes
    assert (report.kept, report.linked, report.removed) == (4, 1, 1)


def _counting_scandir(monkeypatch) -> list[str]:
    listed: list[str] = []
    real = os.scandir

    def scandir(path):
        listed.append(os.fspath(path))
        return real(path)

    monkeypatch.setattr(tree_module.os, "scandir", scandir)
    return listed


def test_a_record_spares_listing_unchanged_folders_and_finds_changes_made_by_hand(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(tree_module, "RACY_NS", 0)  # every folder changed before "now"
    tree, src = sources(tmp_path)
    target, records = tmp_path / "site", FolderRecords(tmp_path / "records.pickle")
    tree.sync(target, records=records)
    record = records.of(str(target))
    assert record is not None and "papers/2601.00001" in record and "a/b" in record
    listed = _counting_scandir(monkeypatch)
    assert tree_module._scan(str(target), record) == tree_module._scan(str(target))
    assert listed.count(str(target / "a" / "b")) == 1  # by the full scan only
    # By hand: a stray file, a file replaced (another inode), a new folder with a file.
    (target / "papers" / "2601.00001" / "stray.html").write_text("stray")
    (target / "a" / "b" / ".new").write_text("edited")
    os.replace(target / "a" / "b" / ".new", target / "a" / "b" / "c.txt")
    (target / "a" / "new").mkdir()
    (target / "a" / "new" / "f.txt").write_text("new")
    listed.clear()
    assert tree_module._scan(str(target), record) == tree_module._scan(str(target))
    listing = Prescan(target, records).result()
    tree, _src = sources(tmp_path)  # the moved file again
    tree.sync(target, listing, records)
    assert files(target) == {
        "index.html": b"home",
        "papers/2601.00001/index.html": b"paper",
        "feed.xml": b"feed",
        "a/b/c.txt": b"deep",
        "x": b"x is a file now",
        "assets/moved.css": b"css",
    }
    assert dirs(target) == {"papers", "papers/2601.00001", "a", "a/b", "assets"}


def test_folders_changed_just_before_a_record_is_taken_are_listed_next_time(
    tmp_path: Path, monkeypatch
) -> None:
    tree, _src = sources(tmp_path)
    target, records = tmp_path / "site", FolderRecords(tmp_path / "records.pickle")
    tree.sync(target, records=records)  # every folder made just now: within RACY_NS
    assert records.of(str(target)) == {}
    listed = _counting_scandir(monkeypatch)
    assert Prescan(target, records).result() == tree_module._scan(str(target))
    assert len(listed) == 2 * len(dirs(target) | {""})  # each folder listed by both scans


def test_a_damaged_records_file_lists_every_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(tree_module, "RACY_NS", 0)
    tree, _src = sources(tmp_path)
    target, records = tmp_path / "site", FolderRecords(tmp_path / "records.pickle")
    tree.sync(target, records=records)
    (tmp_path / "records.pickle").write_bytes(b"\x80\x05garbage")
    records = FolderRecords(tmp_path / "records.pickle")  # as the next build reads it
    assert records.of(str(target)) is None
    (target / "a" / "b" / "stray").write_text("stray")
    listing = Prescan(target, records).result()
    tree, _src = sources(tmp_path)
    tree.sync(target, listing, records)
    assert "a/b/stray" not in files(target)
    assert FolderRecords(tmp_path / "records.pickle").of(str(target))  # written again


def test_a_record_that_cannot_be_taken_does_not_fail_the_sync(tmp_path: Path, monkeypatch) -> None:
    def cannot(*_args):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(tree_module, "_record", cannot)
    tree, _src = sources(tmp_path)
    target, records = tmp_path / "site", FolderRecords(tmp_path / "records.pickle")
    tree.sync(target, records=records)
    assert "a/b/c.txt" in files(target) and records.of(str(target)) is None
