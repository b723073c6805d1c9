"""`python -m generator fetch` against a real local API: what lands in content/, and exit codes."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from apiserver import FakeApi, load_items
from click.testing import CliRunner
from conftest import REPO, make_project

from generator import store
from generator.cli import cli
from generator.config import Paths

DAY = "2026-10-03"
FAST = {"fetch": {"retries": 2, "max_wait": 0.05, "timeout": 0.5}}


@pytest.fixture
def project(tmp_path: Path) -> Paths:
    return make_project(tmp_path / "p", content_from=None, settings=FAST)


def fetch(paths: Paths, api: FakeApi, *args: str):  # noqa: ANN201
    result = CliRunner().invoke(cli, ["fetch", "--root", str(paths.root), "--api", api.url, *args])
    return result


def stored(paths: Paths, day: str = DAY) -> Path:
    return store.day_path(paths.content, dt.date.fromisoformat(day))


def test_fetch_stores_the_day(project: Paths, api_server: FakeApi) -> None:
    api_server.days[DAY] = load_items(DAY)
    result = fetch(project, api_server, "--date", DAY)
    assert result.exit_code == 0, result.output
    day = store.load_day(stored(project))
    assert len(day.papers) == len(api_server.days[DAY])
    assert "1 day(s) written" in result.output


def test_unchanged_refetch_keeps_bytes_and_mtime(project: Paths, api_server: FakeApi) -> None:
    api_server.days[DAY] = load_items(DAY)
    assert fetch(project, api_server, "--date", DAY).exit_code == 0
    os.utime(stored(project), (1_000_000, 1_000_000))
    before = stored(project).read_bytes()
    result = fetch(project, api_server, "--date", DAY)
    assert result.exit_code == 0 and "1 unchanged" in result.output
    assert stored(project).read_bytes() == before and stored(project).stat().st_mtime == 1_000_000


def test_refetch_updates_counts_and_keeps_missing_papers(
    project: Paths, api_server: FakeApi
) -> None:
    items = load_items(DAY)
    api_server.days[DAY] = items
    fetch(project, api_server, "--date", DAY)
    first_id = items[0]["paper"]["id"]
    items[0]["paper"]["upvotes"] = 77
    api_server.days[DAY] = items[:1]
    assert fetch(project, api_server, "--date", DAY).exit_code == 0
    day = store.load_day(stored(project))
    assert len(day.papers) == len(items)
    assert {p.id: p.upvotes for p in day.papers}[first_id] == 77


def test_empty_answer_never_replaces_a_stored_day(project: Paths, api_server: FakeApi) -> None:
    api_server.days[DAY] = load_items(DAY)
    fetch(project, api_server, "--date", DAY)
    before = stored(project).read_bytes()
    api_server.days[DAY] = []
    result = fetch(project, api_server, "--date", DAY)
    assert result.exit_code == 0
    assert stored(project).read_bytes() == before


def test_empty_new_day_writes_no_file(project: Paths, api_server: FakeApi) -> None:
    result = fetch(project, api_server, "--date", "2026-10-04")
    assert result.exit_code == 0 and "1 empty" in result.output
    assert not stored(project, "2026-10-04").exists()


@pytest.mark.parametrize(
    "fault",
    [
        ("body", 200, "<!DOCTYPE html><html><body>Error</body></html>"),
        ("truncated",),
        ("status", 400),
    ],
)
def test_a_failed_day_is_untouched_others_stored_exit_1(
    project: Paths, api_server: FakeApi, fault: tuple
) -> None:
    api_server.days[DAY] = load_items(DAY)
    api_server.days["2026-06-03"] = load_items("2026-06-03")
    fetch(project, api_server, "--date", DAY)
    before = stored(project).read_bytes()
    api_server.days[DAY] = load_items(DAY)[:3]
    api_server.add_faults(DAY, fault)
    result = fetch(project, api_server, "--from", "2026-10-02", "--to", DAY)
    assert result.exit_code == 1
    assert f"{DAY}:" in result.output and "1 day(s) failed" in result.output
    assert "api/daily_papers" in result.output  # names the URL
    assert "Traceback" not in result.output
    assert stored(project).read_bytes() == before


def test_retries_exhausted_fail_cleanly(project: Paths, api_server: FakeApi) -> None:
    api_server.days[DAY] = load_items(DAY)
    api_server.add_faults(DAY, *[("status", 503)] * 3)
    result = fetch(project, api_server, "--date", DAY)
    assert result.exit_code == 1 and "503" in result.output
    assert not stored(project).exists()


def test_429_then_200_succeeds(project: Paths, api_server: FakeApi) -> None:
    api_server.days[DAY] = load_items(DAY)
    api_server.add_faults(DAY, ("status", 429, {"Retry-After": "1"}), ("status", 503))
    result = fetch(project, api_server, "--date", DAY)
    assert result.exit_code == 0, result.output
    assert stored(project).exists()


def test_invalid_items_rejected_others_stored(project: Paths, api_server: FakeApi) -> None:
    items = load_items(DAY)
    items[1] = {"paper": {"title": "no id"}}
    items[2]["paper"]["upvotes"] = "many"
    api_server.days[DAY] = items
    result = fetch(project, api_server, "--date", DAY)
    assert result.exit_code == 0
    assert "2 invalid item(s) rejected" in result.output
    assert len(store.load_day(stored(project)).papers) == len(items) - 2


def test_help_has_examples() -> None:
    for command in ([], ["fetch"], ["build"], ["serve"], ["check"]):
        result = CliRunner().invoke(cli, [*command, "--help"])
        assert result.exit_code == 0 and (
            "Example" in result.output or "Typical use" in result.output
        )


def test_module_entry_point_and_bad_content_exit_1(tmp_path: Path) -> None:
    paths = make_project(tmp_path / "p", content_from=None)
    bad = paths.content / "2026" / "2026-10-03.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("date: 2026-10-03\npapers:\n  - id: 2610.01092\n")
    proc = subprocess.run(
        [sys.executable, "-m", "generator", "check", "--root", str(paths.root)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 1
    assert "2026-10-03.yml:3" in proc.stderr and "quoted string" in proc.stderr
    assert "Traceback" not in proc.stderr
