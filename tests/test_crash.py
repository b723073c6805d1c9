"""Crash safety: `fetch` and `build` killed with SIGKILL at several points (subprocesses,
killed with their process group, as cron or systemd would) leave every content file old or
new, never partial, and site/ the old or the new complete site; the next run succeeds,
equals an uninterrupted run, and leaves no temp files or unfinished folders.

Kill points: random delays spread over a measured run, plus points found by polling for
the moment itself (a temp file being written, MkDocs' output folder, the feeds).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from apiserver import FakeApi, load_items
from click.testing import CliRunner
from conftest import REPO, build_project, make_project
from sitecheck import manifest

from generator import fsutil, store
from generator.cli import cli
from generator.config import Paths

DAYS = ["2026-06-03", "2026-10-03", "2026-10-04", "2026-10-05"]
SEED = int.from_bytes(os.urandom(4), "big")
#: Runs the CLI with os.fsync slowed down, so a poll can see a temp file being written.
SLOW_FSYNC = (
    "import os, sys, time\n"
    "real = os.fsync\n"
    "os.fsync = lambda fd: (time.sleep(float(os.environ['SLOW_FSYNC'])), real(fd))[1]\n"
    "from generator.cli import main\n"
    "main()\n"
)


def spawn(paths: Paths, *args: str, slow_fsync: float = 0.0) -> subprocess.Popen[bytes]:
    """The CLI in its own process group (so a kill takes Pagefind and other children too)."""
    head = [sys.executable, "-c", SLOW_FSYNC] if slow_fsync else [sys.executable, "-m", "generator"]
    return subprocess.Popen(
        [*head, args[0], "--root", str(paths.root), *args[1:]],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "SLOW_FSYNC": str(slow_fsync)},
    )


def kill_when(
    proc: subprocess.Popen[bytes], ready: Callable[[], object], timeout: float = 60
) -> bool:
    """SIGKILL the process group once `ready()` holds (polled); True if it was still running."""
    deadline = time.monotonic() + timeout
    while not ready() and proc.poll() is None:
        assert time.monotonic() < deadline, "timed out waiting for the kill point"
        time.sleep(0.002)
    running = proc.poll() is None
    if running:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return running


def after(seconds: float) -> Callable[[], bool]:
    start = time.monotonic()
    return lambda: time.monotonic() - start >= seconds


def temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if fsutil.TMP_MARK in p.name]


def content_bytes(paths: Paths) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in store.day_files(paths.content)}


# ---------------------------------------------------------------- fetch


def api_days(version: int) -> dict[str, list]:
    """Every day's items; version 2 changes counts and adds papers, so files change."""
    base = load_items("2026-10-03") + load_items("2026-06-03")
    days = {}
    for n, day in enumerate(DAYS):
        items = [
            dict(i, paper=dict(i["paper"], upvotes=version * (k + n))) for k, i in enumerate(base)
        ]
        days[day] = items[: 8 + 4 * version + n]
    return days


def test_killed_fetch_leaves_old_or_new_files_and_the_next_run_cleans_up(tmp_path: Path) -> None:
    paths = make_project(
        tmp_path / "p", content_from=None, settings={"fetch": {"retries": 0, "timeout": 10}}
    )
    reference = make_project(tmp_path / "reference", content_from=None)
    fetch = ["fetch", "--from", DAYS[0], "--to", DAYS[-1]]
    with FakeApi(api_days(1)) as api:
        for project in (paths, reference):
            argv = [*fetch, "--root", str(project.root), "--api", api.url]
            result = CliRunner().invoke(cli, argv)
            assert result.exit_code == 0, result.output
        old = content_bytes(paths)
        api.days = api_days(2)
        assert (
            CliRunner()
            .invoke(cli, [*fetch, "--root", str(reference.root), "--api", api.url])
            .exit_code
            == 0
        )
        new = content_bytes(reference)
        assert len(old) == len(new) == len(DAYS) and all(old[d] != new[d] for d in old)

        rng = random.Random(SEED)
        points: list[tuple[str, Callable[[], object], float]] = [
            (f"after {delay:.2f} s", after(delay), 0.0)
            for delay in sorted(rng.uniform(0.3, 2.0) for _ in range(3))
        ] + [
            ("while a temp file is written", lambda: temp_files(paths.content), 0.3),
            ("while another temp file is written", lambda: temp_files(paths.content), 0.3),
        ]
        landed = mid_write = 0
        files = {p.name: p for p in store.day_files(paths.content)}
        for name, ready, slow in points:
            for day, data in old.items():  # each kill point starts from the old files: a
                files[day].write_bytes(data)  # run that finished first would leave nothing to do
            api.faults.clear()
            for day in DAYS:
                api.add_faults(day, ("sleep", 0.15))  # a slow API: the run takes ~1-2 s
            proc = spawn(paths, *fetch, "--api", api.url, slow_fsync=slow)
            landed += kill_when(proc, ready)
            mid_write += bool(temp_files(paths.content))
            for day, data in content_bytes(paths).items():
                assert data in (old[day], new[day]), (name, day, SEED)  # never partial
            assert set(content_bytes(paths)) == set(old), name
        assert landed >= 4 and mid_write >= 2, (landed, mid_write, SEED)

        api.faults.clear()
        result = CliRunner().invoke(cli, [*fetch, "--root", str(paths.root), "--api", api.url])
    assert result.exit_code == 0, result.output
    assert content_bytes(paths) == new and not temp_files(paths.content)


# ---------------------------------------------------------------- build


def test_killed_build_leaves_old_or_new_site_and_the_next_run_equals_a_full_build(
    tmp_path: Path,
) -> None:
    paths = make_project(tmp_path / "p", content_from=None)
    (paths.content / "2026").mkdir()
    for day in ("2026-08-19", "2026-08-20"):
        shutil.copy(REPO / "content" / "2026" / f"{day}.yml", paths.content / "2026")
    start = time.monotonic()
    assert spawn(paths, "build").wait() == 0
    seconds = time.monotonic() - start  # a whole run, from a cold start
    old = manifest(paths.site)
    shutil.copy(REPO / "content" / "2026" / "2026-08-21.yml", paths.content / "2026")
    reference = make_project(tmp_path / "reference", content_from=paths.content)
    build_project(reference)
    new = manifest(reference.site)
    assert old != new

    def unfinished(*parts: str) -> Callable[[], bool]:
        return lambda: any(
            (d / Path(*parts)).exists() for d in paths.root.glob(".site-[ns][et]*")
        )  # -new-, -stage-

    rng = random.Random(SEED)
    points = [
        (f"after {f:.2f} of a run", after(f * seconds))
        for f in sorted(rng.uniform(0.1, 0.9) for _ in range(4))
    ]
    points += [
        ("MkDocs writing", unfinished()),
        ("search indexed", unfinished("pagefind")),
        ("site synced", unfinished("feed.json")),
    ]
    landed = 0
    for name, ready in points:
        landed += kill_when(spawn(paths, "build"), ready)
        assert manifest(paths.site) in (old, new), (name, SEED)  # old or new, complete
    assert landed >= 4, (landed, SEED)

    assert spawn(paths, "build").wait() == 0
    assert manifest(paths.site) == new  # caches a killed run left do not change the result
    assert not [p for p in paths.root.glob(".site-*") if not p.name.startswith(".site-trash-")]
    deadline = time.monotonic() + 30
    while list(paths.root.glob(".site-trash-*")):  # the old site, deleted in the background
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert store.load_all(paths.content) and not temp_files(paths.root)
    assert (paths.site / "papers" / "date" / dt.date(2026, 8, 21).isoformat()).is_dir()
