"""generator.tree: a folder synced to a list of files, whatever it held before."""

from __future__ import annotations

import os
from pathlib import Path

from generator.tree import SiteTree


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*") if p.is_file()}


def dirs(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_dir()}


def sources(tmp: Path) -> tuple[SiteTree, Path]:
    src = tmp / "src"
    for rel, text in {"index.html": "home", "papers/2601.00001/index.html": "paper",
                      "feed.xml": "feed", "a/b/c.txt": "deep", "x": "x is a file now",
                      "scratch/moved.css": "css"}.items():
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
    assert files(target) == {"index.html": b"home", "papers/2601.00001/index.html": b"paper",
                             "feed.xml": b"feed", "a/b/c.txt": b"deep", "x": b"x is a file now",
                             "assets/moved.css": b"css"}
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
    assert files(target) == {**{k: v for k, v in before.items() if k != "assets/moved.css"},
                             "feed.xml": b"new feed"}
    assert "assets" not in dirs(target)  # a folder left empty goes
    assert (report.kept, report.linked, report.removed) == (4, 1, 1)
