"""Where the site can be hosted: its size as hosts count it, against their limits (hosting.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, make_project

from generator import hosting
from generator.hosting import GB, SiteSize


def _tree(root: Path) -> Path:
    """A small site: 5 files of known sizes in 3 folders (4 entries at the top)."""
    (root / "papers" / "2401.00001").mkdir(parents=True)
    (root / "assets").mkdir()
    (root / "index.html").write_bytes(b"x" * 1000)
    (root / "404.html").write_bytes(b"x" * 10)
    (root / "papers" / "2401.00001" / "index.html").write_bytes(b"x" * 300)
    (root / "papers" / "index.html").write_bytes(b"")
    (root / "assets" / "a.css").write_bytes(b"x" * 7)
    return root


def test_measure_counts_file_sizes_files_entries_and_the_fullest_folder(tmp_path: Path) -> None:
    site = _tree(tmp_path / "site")
    (site / "assets" / "b.css").write_bytes(b"y" * 5)
    (site / "assets" / "c.css").write_bytes(b"z" * 5)
    size = hosting.measure(site)
    assert size.bytes == 1000 + 10 + 300 + 0 + 7 + 5 + 5  # the files' sizes, not du's blocks
    assert size.files == 7
    assert size.entries == 7 + 3  # files and folders: papers/, papers/2401.00001/, assets/
    assert (size.folder, size.folder_path) == (4, "")  # the top: index, 404, papers/, assets/
    for i in range(5):
        (site / "papers" / f"f{i}").write_bytes(b"")
    assert (hosting.measure(site).folder, hosting.measure(site).folder_path) == (7, "papers")


def test_a_hard_link_counts_in_each_place_and_a_symlink_is_not_followed(tmp_path: Path) -> None:
    site = _tree(tmp_path / "site")
    os.link(site / "index.html", site / "copy.html")  # a host uploads it twice
    outside = tmp_path / "big"
    outside.write_bytes(b"x" * 10_000)
    (site / "link").symlink_to(outside)
    size = hosting.measure(site)
    assert size.bytes == 2 * 1000 + 10 + 300 + 7 + len(str(outside))
    assert size.files == 7


def test_the_line_names_what_fits_and_what_is_too_large() -> None:
    size = SiteSize(
        bytes=380_000_000, files=61_000, entries=95_000, folder=33_000, folder_path="papers"
    )
    line, warnings = hosting.verdict(size)
    assert line == (
        "site: 380 MB, 61,000 files — fits GitHub Pages (1 GB), Cloudflare Pages paid "
        "(100k files), Netlify (54k entries a folder), GitLab Pages (1 GB, 200k entries); "
        "too large for Cloudflare Pages free (20k files)"
    )
    assert warnings == []


def test_small_site_fits_everywhere() -> None:
    line, warnings = hosting.verdict(SiteSize(25_000_000, 3_000, 4_000, 1_200, "papers"))
    assert line.startswith("site: 25 MB, 3,000 files — fits GitHub Pages (1 GB), ")
    assert "too large" not in line and warnings == []


@pytest.mark.parametrize(
    ("size", "warned"),
    [
        (
            SiteSize(int(0.95 * GB), 10_000, 12_000, 5_000, "papers"),
            ["GitHub Pages", "GitLab Pages"],
        ),
        (SiteSize(10**8, 18_500, 19_000, 5_000, "papers"), ["Cloudflare Pages free"]),
        (SiteSize(10**8, 95_000, 150_000, 49_000, "papers"), ["Cloudflare Pages paid", "Netlify"]),
        (SiteSize(10**8, 15_000, 16_000, 5_000, "papers"), []),  # 75 %: no warning yet
    ],
)
def test_a_limit_nearly_reached_warns(size: SiteSize, warned: list[str]) -> None:
    line, warnings = hosting.verdict(size)
    assert [re.search(r"of (.+?)'s limit", w).group(1) for w in warnings] == warned
    for w in warnings:
        assert w.startswith("warning: the site is at 9") and "Deployment" in w


def test_over_every_limit() -> None:
    line, warnings = hosting.verdict(SiteSize(2 * GB, 300_000, 400_000, 60_000, "papers"))
    assert line.startswith("site: 2,000 MB, 300,000 files — too large for GitHub Pages (1 GB), ")
    assert "fits" not in line and warnings == []


@pytest.mark.slow
def test_build_ends_with_the_hosting_line(tmp_path: Path) -> None:
    """A real build (the CLI, MkDocs, Pagefind) of three days prints the line last."""
    content = tmp_path / "three"
    for day in sorted((REPO / "content").glob("*/*.yml"))[-3:]:
        (content / day.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(day, content / day.parent.name / day.name)
    paths = make_project(tmp_path / "p", content_from=content)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "generator", "build", "--root", str(paths.root)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    last = proc.stdout.strip().splitlines()[-1]
    size = hosting.measure(paths.site)
    assert last == hosting.verdict(size)[0]
    assert re.fullmatch(r"site: [\d,]+ MB, [\d,]+ files — fits GitHub Pages \(1 GB\), .+", last)
    assert f"{size.files:,} files" in last and "too large" not in last
    assert "warning:" not in proc.stderr
