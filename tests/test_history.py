"""The upvote history (content/history/*.jsonl): what `fetch` records against the local
stand-in API, what a failed fetch leaves, what `check` reports, and (hypothesis) that any
sequence of captures only appends and keeps each paper's times increasing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from apiserver import FakeApi, make_item
from click.testing import CliRunner
from conftest import make_project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import history, store
from generator.cli import cli
from generator.config import Paths

DAY = "2026-12-01"
PID = "2612.01234"
FAST = {"fetch": {"retries": 1, "max_wait": 0.01, "timeout": 0.5}}


@pytest.fixture
def project(tmp_path: Path) -> Paths:
    return make_project(tmp_path / "p", content_from=None, settings=FAST)


def fetch(paths: Paths, api: FakeApi, now: str, *args: str):  # noqa: ANN201
    return CliRunner().invoke(
        cli,
        ["fetch", "--root", str(paths.root), "--api", api.url, "--date", DAY, *args],
        env={"DAILYPAPERS_NOW": now},
    )


def answer(api: FakeApi, upvotes: int, comments: int = 1, **extra: object) -> None:
    item = make_item(PID, "A paper", upvotes=upvotes, **extra)
    item["numComments"] = comments
    api.days[DAY] = [item, make_item("2612.00001", "A quiet paper", upvotes=2)]


def snapshot(content: Path) -> dict[str, bytes]:
    return {
        p.relative_to(content).as_posix(): p.read_bytes()
        for p in sorted(content.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def test_three_fetches_three_points_unchanged_adds_none(
    project: Paths, api_server: FakeApi
) -> None:
    for when, up in (
        ("2026-12-01T02:45:00Z", 40),
        ("2026-12-02T02:45:00Z", 55),
        ("2026-12-03T02:45:00Z", 60),
    ):
        answer(api_server, up)
        result = fetch(project, api_server, when)
        assert result.exit_code == 0, result.output
    before = snapshot(project.content)
    assert fetch(project, api_server, "2026-12-04T02:45:00Z").exit_code == 0  # nothing moved
    assert snapshot(project.content) == before
    points = history.load(project.content)
    assert [(history.format_time(p.t), p.up) for p in points[PID]] == [
        ("2026-12-01T02:45:00Z", 40),
        ("2026-12-02T02:45:00Z", 55),
        ("2026-12-03T02:45:00Z", 60),
    ]
    assert len(points["2612.00001"]) == 1  # recorded once: its count never changed
    lines = (project.content / "history" / "2026-12.jsonl").read_text().splitlines()
    assert lines[1] == '{"t":"2026-12-02T02:45:00Z","papers":{"2612.01234":[55,1]}}'


def test_stars_and_comments_are_recorded(project: Paths, api_server: FakeApi) -> None:
    answer(api_server, 3, githubRepo="https://github.com/a/b", githubStars=12)
    fetch(project, api_server, "2026-12-01T10:00:00Z")
    answer(api_server, 3, comments=4, githubRepo="https://github.com/a/b", githubStars=12)
    fetch(project, api_server, "2026-12-01T11:00:00+00:00")
    assert [p.values for p in history.load(project.content)[PID]] == [(3, 1, 12), (3, 4, 12)]


def test_month_file_by_capture_time(project: Paths, api_server: FakeApi) -> None:
    answer(api_server, 1)
    fetch(project, api_server, "2026-12-31T23:59:59Z")
    answer(api_server, 2)
    fetch(project, api_server, "2027-01-01T00:00:01Z")
    assert sorted(p.name for p in (project.content / "history").iterdir()) == [
        "2026-12.jsonl",
        "2027-01.jsonl",
    ]


def test_failed_fetch_changes_no_file_in_content(project: Paths, api_server: FakeApi) -> None:
    answer(api_server, 40)
    assert fetch(project, api_server, "2026-12-01T02:45:00Z").exit_code == 0
    before = snapshot(project.content)
    answer(api_server, 99)
    api_server.add_faults(DAY, *[("status", 500)] * 5)
    result = fetch(project, api_server, "2026-12-02T02:45:00Z")
    assert result.exit_code == 1 and "500" in result.output
    assert snapshot(project.content) == before


def test_a_run_keeps_the_days_that_worked(project: Paths, api_server: FakeApi) -> None:
    answer(api_server, 40)
    api_server.days["2026-11-30"] = [make_item("2611.09999", "Other", upvotes=5)]
    api_server.add_faults("2026-11-30", *[("status", 500)] * 5)
    result = CliRunner().invoke(
        cli,
        [
            "fetch",
            "--root",
            str(project.root),
            "--api",
            api_server.url,
            "--from",
            "2026-11-30",
            "--to",
            DAY,
        ],
        env={"DAILYPAPERS_NOW": "2026-12-01T02:45:00Z"},
    )
    assert result.exit_code == 1
    assert set(history.load(project.content)) == {PID, "2612.00001"}


def test_bad_clock_setting_is_a_clear_error(project: Paths, api_server: FakeApi) -> None:
    answer(api_server, 1)
    result = fetch(project, api_server, "yesterday")
    assert result.exit_code == 1 and "DAILYPAPERS_NOW" in result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- check and layout


def _check(paths: Paths):  # noqa: ANN202
    return CliRunner().invoke(cli, ["check", "--root", str(paths.root)])


@pytest.mark.parametrize(
    ("line", "cause"),
    [
        ("{not json", "not valid JSON"),
        ('{"t":"2026-12-01T00:00:00Z","papers":{"2612.01234":[1,0]},"x":1}', "unknown key 'x'"),
        ('{"t":"2026-12-01","papers":{"2612.01234":[1,0]}}', "field 't'"),
        ('{"t":"2026-11-01T00:00:00Z","papers":{"2612.01234":[1,0]}}', "belongs in 2026-11.jsonl"),
        ('{"t":"2026-12-01T00:00:00Z","papers":{"2612.01234":[-1,0]}}', "negative"),
        ('{"t":"2026-12-01T00:00:00Z","papers":{"2612.01234":[true,0]}}', "whole number"),
        ('{"t":"2026-12-01T00:00:00Z","papers":{"2612.01234":[1]}}', "[upvotes, comments]"),
        ('{"t":"2026-12-01T00:00:00Z","papers":{"12":[1,0]}}', "not an arXiv id"),
        ('{"t":"2026-12-01T00:00:00Z","papers":{"2612.01234":[NaN,0]}}', "not valid JSON"),
        ('{"t":"2026-12-03T00:00:00Z","papers":{"2612.01234":[3,0]}}', "not after its previous"),
        ("", "an empty line"),
    ],
)
def test_check_reports_a_broken_line(tmp_path: Path, line: str, cause: str) -> None:
    paths = make_project(tmp_path / "p", content_from=None)
    good = [
        '{"t":"2026-12-02T00:00:00Z","papers":{"2612.01234":[1,0]}}',
        '{"t":"2026-12-04T00:00:00Z","papers":{"2612.01234":[2,0]}}',
    ]
    (paths.content / "history").mkdir()
    (paths.content / "history" / "2026-12.jsonl").write_text(
        "\n".join([*good, line, good[0].replace("02T", "05T").replace("[1,0]", "[5,0]")]) + "\n"
    )
    result = _check(paths)
    assert result.exit_code == 1, result.output
    assert "2026-12.jsonl:3: " in result.output and cause in result.output
    assert "Traceback" not in result.output


def test_check_accepts_history_and_counts_points(tmp_path: Path) -> None:
    paths = make_project(tmp_path / "p", content_from=None)
    (paths.content / "history").mkdir()
    (paths.content / "history" / "2026-12.jsonl").write_text(
        '{"t":"2026-12-02T00:00:00Z","papers":{"2612.01234":[1,0],"2612.00002":[4,1,9]}}\n'
    )
    result = _check(paths)
    assert result.exit_code == 0, result.output
    assert "2 history point(s)" in result.output


@pytest.mark.parametrize("make", ["file", "stray", "symlink", "folder"])
def test_layout_of_history_is_strict(tmp_path: Path, make: str) -> None:
    paths = make_project(tmp_path / "p", content_from=None)
    target = paths.content / "history"
    if make == "file":
        target.write_text("{}\n")
    else:
        target.mkdir()
        if make == "stray":
            (target / "notes.txt").write_text("hi\n")
        elif make == "symlink":
            (target / "2026-12.jsonl").symlink_to(tmp_path / "elsewhere.jsonl")
        else:
            (target / "2026-12.jsonl").mkdir()
    result = _check(paths)
    assert result.exit_code == 1 and "history" in result.output, result.output


def test_build_refuses_a_broken_history(tmp_path: Path) -> None:
    from conftest import build_project

    from generator.errors import ContentError

    paths = make_project(tmp_path / "p")
    (paths.content / "history").mkdir(exist_ok=True)  # the embedded content has one
    (paths.content / "history" / "2026-10.jsonl").write_text('{"t":1}\n')
    with pytest.raises(ContentError, match=r"2026-10.jsonl:1: "):
        build_project(paths)


def test_file_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "MAX_FILE_BYTES", 100)
    base = tmp_path / "history"
    base.mkdir()
    (base / "2026-12.jsonl").write_text('{"t":"2026-12-02T00:00:00Z","papers":{}}\n' * 5)
    assert "larger than" in history.check(tmp_path)[0]


# ---------------------------------------------------------------- append-only, time-ordered

T0 = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
_ids = st.sampled_from(["2611.00001", "2611.00002", "2612.00003"])
_values = st.tuples(st.integers(0, 5), st.integers(0, 2), st.none() | st.integers(0, 3))
_captures = st.lists(
    st.tuples(
        st.integers(-48, 24 * 9),  # hours from T0: out of order too
        st.dictionaries(_ids, _values, max_size=3),
    ),
    max_size=8,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(captures=_captures)
def test_any_sequence_of_captures_appends_in_time_order(
    tmp_path_factory: pytest.TempPathFactory, captures: list
) -> None:
    content = tmp_path_factory.mktemp("c")
    model: dict[str, list[tuple[dt.datetime, tuple]]] = {}
    for hours, seen in captures:
        when = T0 + dt.timedelta(hours=hours)
        before = {p.name: p.read_bytes() for p in (content / "history").glob("*.jsonl")}
        with store.locked(content):
            history.append(content, when, seen)
        after = {p.name: p.read_bytes() for p in (content / "history").glob("*.jsonl")}
        for name, data in before.items():
            assert after[name].startswith(data)  # append-only
        for pid, values in seen.items():  # what a correct recorder keeps
            points = model.setdefault(pid, [])
            if not points or (points[-1][1] != values and points[-1][0] < when):
                points.append((when, values))
    recorded, problems = history.read(content)
    assert problems == []
    assert check_is_clean(content)
    for pid, points in recorded.items():
        assert [p.t for p in points] == sorted({p.t for p in points})  # strictly increasing
        assert [(p.t, p.values) for p in points] == model[pid]
    assert set(recorded) == {pid for pid, points in model.items() if points}


def check_is_clean(content: Path) -> bool:
    for path in (content / "history").glob("*.jsonl"):
        for line in path.read_text().splitlines():
            data = json.loads(line)
            assert set(data) == {"t", "papers"} and data["papers"]
    return True


# ---------------------------------------------------------------- the refresh window


def test_default_fetch_repolls_the_last_stored_days(tmp_path: Path, api_server: FakeApi) -> None:
    from generator import update
    from generator.models import Day

    paths = make_project(
        tmp_path / "p",
        content_from=None,
        settings={**FAST, "fetch": {**FAST["fetch"], "refresh_days": 3}},
    )
    today = update.hf_today()
    stored = [today - dt.timedelta(days=n) for n in (2, 6, 9, 12, 40)]
    for day in stored:
        store.save_day(paths.content, Day(date=day, papers=[]))
    result = CliRunner().invoke(cli, ["fetch", "--root", str(paths.root), "--api", api_server.url])
    assert result.exit_code == 0, result.output
    asked = sorted({r.query["date"] for r in api_server.requests})
    new = [today - dt.timedelta(days=n) for n in range(4)]
    assert asked == sorted(d.isoformat() for d in {*new, *stored[:3]}), result.output


def test_refresh_window_off_and_with_dates(tmp_path: Path) -> None:
    from generator import update
    from generator.models import Day

    content = tmp_path / "content"
    for n in (1, 3, 5):
        store.save_day(content, Day(date=dt.date(2026, 12, n), papers=[]))
    days = [dt.date(2026, 12, 10)]
    assert update.with_refresh(content, days, 0) == days
    assert update.with_refresh(content, days, 2) == [
        dt.date(2026, 12, 3),
        dt.date(2026, 12, 5),
        dt.date(2026, 12, 10),
    ]
    assert update.with_refresh(content, [dt.date(2026, 12, 2)], 5) == [
        dt.date(2026, 12, 1),
        dt.date(2026, 12, 2),
    ]  # nothing after the run's last day
