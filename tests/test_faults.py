"""Concurrency, full disks and read-only folders: two runs at once never corrupt anything
(the second waits, saying so, or gives up clearly); a failed write is a clear error (exit 1,
the file and the cause, no traceback) and loses nothing."""

from __future__ import annotations

import builtins
import datetime as dt
import errno
import functools
import os
import pathlib
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from apiserver import FakeApi, load_items
from click.testing import CliRunner, Result
from conftest import REPO, build_project, make_project
from sitecheck import broken_links, manifest

from generator import fsutil, store
from generator.cli import cli
from generator.config import Paths

DAY = "2026-10-03"
FAST = {"fetch": {"retries": 1, "max_wait": 0.05, "timeout": 5}}


@pytest.fixture
def project(tmp_path: Path) -> Paths:
    return make_project(tmp_path / "p", content_from=None, settings=FAST)


def day_file(paths: Paths, day: str = DAY) -> Path:
    return store.day_path(paths.content, dt.date.fromisoformat(day))


def invoke(paths: Paths, *args: str) -> Result:
    argv = [args[0], "--root", str(paths.root), *args[1:]]
    return CliRunner(env={"COLUMNS": "500"}).invoke(cli, argv)


def spawn(paths: Paths, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "generator", args[0], "--root", str(paths.root), *args[1:]],
        cwd=REPO,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "500"},
    )


def wait_for(condition: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the condition"
        time.sleep(0.01)


def failed_cleanly(result: Result, *expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # a clear error, no traceback
    for text in expected:
        assert text in result.output, (text, result.output)


def temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if fsutil.TMP_MARK in p.name]


# ---------------------------------------------------------------- two runs at once


def test_two_fetches_at_once_the_second_waits_then_both_succeed(project: Paths) -> None:
    with FakeApi({DAY: load_items(DAY)}) as api:
        api.add_faults(DAY, ("sleep", 1.5))  # the first fetch holds the lock for 1.5 s
        first = spawn(project, "fetch", "--date", DAY, "--api", api.url)
        wait_for(lambda: api.requests)  # the first fetch holds the lock once it asks the API
        second = spawn(project, "fetch", "--date", DAY, "--api", api.url)
        out1, out2 = first.communicate(timeout=60), second.communicate(timeout=60)
    assert first.returncode == 0 and second.returncode == 0, (out1, out2)
    assert "1 day(s) written" in out1[0] and "1 unchanged" in out2[0]
    assert "another fetch or fix of content/ is running; waiting" in out2[1]
    first_done = api.requests[0].time + 1.5
    assert len(api.requests) == 2 and api.requests[1].time >= first_done - 0.1  # serialised
    assert len(store.load_day(day_file(project)).papers) == len(load_items(DAY))
    assert not temp_files(project.content)


def test_a_fetch_that_cannot_get_the_lock_exits_clearly(
    project: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "locked", functools.partial(store.locked, wait=0.3))
    with FakeApi({DAY: load_items(DAY)}) as api, store.locked(project.content):
        result = invoke(project, "fetch", "--date", DAY, "--api", api.url)
    failed_cleanly(
        result,
        ".dailypapers-content.lock: another fetch or fix of content/ is "
        "running; try again when it has finished",
    )
    assert api.requests == [] and not day_file(project).exists()


def test_two_builds_at_once_the_second_waits_both_publish_a_complete_site(tmp_path: Path) -> None:
    paths = make_project(tmp_path / "p")  # all six days: the build outlasts a process start
    first = spawn(paths, "build")
    wait_for(lambda: (paths.build / "search" / "src").is_dir())  # inside the lock, content loaded
    second = spawn(paths, "build")
    out1, out2 = first.communicate(timeout=120), second.communicate(timeout=120)
    assert first.returncode == 0 and second.returncode == 0, (out1, out2)
    assert "another build is running; waiting" in out2[1]
    built = manifest(paths.site)
    assert build_project(paths).pages_written == 0 and manifest(paths.site) == built
    assert broken_links(paths.site, "/daily-papers/") == []
    wait_for(lambda: not list(paths.root.glob(".site-*")))  # old sites: deleted in the background


# ---------------------------------------------------------------- full disk, read-only folders


def raise_errno(code: int, *_args: object, **_kw: object) -> None:
    raise OSError(code, os.strerror(code))


def test_full_disk_during_fetch_keeps_the_old_file(
    project: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeApi({DAY: load_items(DAY)[:3]}) as api:
        assert invoke(project, "fetch", "--date", DAY, "--api", api.url).exit_code == 0
        before = day_file(project).read_bytes()
        api.days[DAY] = load_items(DAY)
        monkeypatch.setattr(fsutil.os, "fsync", functools.partial(raise_errno, errno.ENOSPC))
        result = invoke(project, "fetch", "--date", DAY, "--api", api.url)
    failed_cleanly(result, f"{day_file(project)}: cannot write: No space left on device")
    assert day_file(project).read_bytes() == before and not temp_files(project.content)


def test_read_only_content_folder_is_a_clear_error(
    project: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests may run as root, where chmod does not stop writes: EROFS is injected instead,
    first at the temp file of the day's write, then at the lock file."""
    with FakeApi({DAY: load_items(DAY)[:3]}) as api:
        assert invoke(project, "fetch", "--date", DAY, "--api", api.url).exit_code == 0
        before = day_file(project).read_bytes()
        api.days[DAY] = load_items(DAY)

        def read_only(file: object, mode: str = "r", *args: object, **kw: object) -> object:
            if "w" in mode and str(file).startswith(str(project.content)):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(file))
            return builtins.open(file, mode, *args, **kw)  # type: ignore[call-overload]

        monkeypatch.setattr(fsutil, "open", read_only, raising=False)
        result = invoke(project, "fetch", "--date", DAY, "--api", api.url)
        failed_cleanly(result, f"{day_file(project)}: cannot write: Read-only file system")

        real_open = os.open
        monkeypatch.setattr(
            fsutil.os,
            "open",
            lambda path, flags, *a: (
                raise_errno(errno.EROFS) if flags & os.O_CREAT else real_open(path, flags, *a)
            ),
        )
        result = invoke(project, "fetch", "--date", DAY, "--api", api.url)
    failed_cleanly(
        result, ".dailypapers-content.lock: cannot create the lock file: Read-only file system"
    )
    assert day_file(project).read_bytes() == before and not temp_files(project.content)


def test_a_file_where_a_folder_is_expected(project: Paths) -> None:
    (project.content / "2026").write_text("not a folder")
    with FakeApi({DAY: load_items(DAY)}) as api:
        result = invoke(project, "fetch", "--date", DAY, "--api", api.url)
    failed_cleanly(
        result, f"{day_file(project)}: cannot write: File exists ({project.content / '2026'})"
    )
    assert (project.content / "2026").read_text() == "not a folder"


def test_full_disk_during_build_leaves_the_site_and_no_leftovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = make_project(tmp_path / "p", content_from=None)
    with FakeApi({DAY: load_items(DAY)}) as api:
        assert invoke(paths, "fetch", "--date", DAY, "--api", api.url).exit_code == 0
    build_project(paths)
    before = manifest(paths.site)
    store.save_day(
        paths.content,
        store.merge(None, dt.date(2026, 10, 4), store.load_day(day_file(paths)).papers[:2]),
    )
    real = pathlib.Path.write_bytes

    def full_at_feeds(self: Path, data: bytes) -> int:
        if "daily.xml" in self.name:  # a feed, after MkDocs: the build is half done
            raise_errno(errno.ENOSPC)
        return real(self, data)

    monkeypatch.setattr(pathlib.Path, "write_bytes", full_at_feeds)
    result = invoke(paths, "build")
    failed_cleanly(result, "daily.xml: cannot write: No space left on device")
    assert manifest(paths.site) == before
    assert not list(paths.root.glob(".site-*"))
