"""Every network answer is bounded: size (decoded), time (per request, per run), nesting,
numbers, items per day, the length of a range, and a host that does not resolve.

Each test runs the real fetch against the real local server (tests/apiserver.py) and checks
the limit's message names the URL and the setting, and that stored days are untouched.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from apiserver import FakeApi, load_items, make_item
from click.testing import CliRunner
from conftest import make_project

from generator import store
from generator.cli import cli
from generator.config import FetchSettings, Paths
from generator.errors import FetchError
from generator.fetch import Fetcher, decode_json

DAY = "2026-10-03"
DATE = dt.date(2026, 10, 3)
FAST: dict[str, Any] = {
    "timeout": 2.0,
    "retries": 0,
    "max_wait": 0.05,
    "rate_limit": 1000,
    "rate_window": 1.0,
}


def fetch_day(api: FakeApi, **overrides: Any) -> tuple[list, list]:
    with Fetcher(api.url, FetchSettings(**{**FAST, **overrides})) as fetcher:
        return fetcher.fetch_day(DATE)


@pytest.fixture
def project(tmp_path: Path) -> Paths:
    """A project with one stored day (so 'untouched' has something to keep)."""
    paths = make_project(tmp_path / "p", content_from=None, settings={"fetch": FAST})
    from apiserver import FakeApi as Api

    with Api({DAY: load_items(DAY)}) as api:
        assert run(paths, api, "--date", DAY).exit_code == 0
    return paths


def run(paths: Paths, api: FakeApi, *args: str, fetch: dict | None = None):  # noqa: ANN201
    if fetch is not None:
        paths.config_file.write_text(json.dumps({"fetch": {**FAST, **fetch}}))
    return CliRunner().invoke(cli, ["fetch", "--root", str(paths.root), "--api", api.url, *args])


def snapshot(paths: Paths) -> dict[str, bytes]:
    return {
        p.relative_to(paths.content).as_posix(): p.read_bytes()
        for p in sorted(paths.content.rglob("*"))
        if p.is_file()
    }


# ---------------------------------------------------------------- size


def test_an_endless_answer_stops_at_the_size_limit(api_server: FakeApi) -> None:
    api_server.add_faults(DAY, ("endless",))
    start = time.monotonic()
    with pytest.raises(
        FetchError,
        match=r"date=2026-10-03.*larger than fetch.max_body_bytes "
        r"\(1,000,000 bytes",
    ):
        fetch_day(api_server, max_body_bytes=1_000_000)
    assert time.monotonic() - start < 10


def test_a_gzip_bomb_is_counted_decoded(api_server: FakeApi) -> None:
    bomb = gzip.compress(b"[" + b" " * 50_000_000 + b"]", compresslevel=9)
    assert len(bomb) < 100_000  # small on the wire
    api_server.add_faults(
        DAY,
        (
            "raw",
            200,
            {
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
                "Content-Length": str(len(bomb)),
            },
            bomb,
        ),
    )
    with pytest.raises(
        FetchError,
        match=r"larger than fetch.max_body_bytes \(2,000,000 bytes, "
        r"counted decoded\)",
    ):
        fetch_day(api_server, max_body_bytes=2_000_000)


def test_a_gzip_answer_within_the_limit_is_read(api_server: FakeApi) -> None:
    body = gzip.compress(json.dumps(load_items(DAY)).encode())
    api_server.add_faults(
        DAY, ("raw", 200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, body)
    )
    papers, rejections = fetch_day(api_server)
    assert len(papers) == len(load_items(DAY)) and rejections == []


def test_a_declared_length_over_the_limit_is_refused_before_reading(api_server: FakeApi) -> None:
    api_server.add_faults(DAY, ("raw", 200, {"Content-Length": "50000000"}, b"[]"))
    with pytest.raises(FetchError, match=r"larger than fetch.max_body_bytes"):
        fetch_day(api_server, max_body_bytes=1_000_000)


def test_an_oversized_answer_leaves_the_stored_day_untouched(project: Paths) -> None:
    before = snapshot(project)
    with FakeApi() as api:
        api.add_faults(DAY, ("endless",))
        result = run(project, api, "--date", DAY, fetch={"max_body_bytes": 100_000})
    assert (
        result.exit_code == 1
        and result.exception is None
        or isinstance(result.exception, SystemExit)
    ), result.output
    assert "fetch.max_body_bytes" in result.output
    assert snapshot(project) == before


# ---------------------------------------------------------------- time


def test_a_dripping_answer_stops_at_the_request_deadline(api_server: FakeApi) -> None:
    api_server.days[DAY] = load_items(DAY)
    api_server.add_faults(DAY, ("drip", 0.05))
    start = time.monotonic()
    with pytest.raises(FetchError, match=r"deadline passed \(fetch.request_deadline\)"):
        fetch_day(api_server, request_deadline=1.0, timeout=5.0)
    assert time.monotonic() - start < 4  # not the drip's ~minutes, nor the 5 s read timeout


def test_the_run_deadline_ends_the_run_and_names_the_days_not_fetched(project: Paths) -> None:
    before = snapshot(project)
    with FakeApi({DAY: load_items(DAY), "2026-10-01": load_items(DAY)}) as api:
        api.add_faults("2026-10-01", ("drip", 0.05))
        start = time.monotonic()
        result = run(
            project,
            api,
            "--from",
            "2026-10-01",
            "--to",
            DAY,
            fetch={"run_deadline": 1.0, "request_deadline": 30, "timeout": 5},
        )
        elapsed = time.monotonic() - start
        dates = [r.query.get("date") for r in api.requests]
    assert result.exit_code == 1, result.output
    assert elapsed < 5
    assert "fetch.run_deadline" in result.output
    assert "2026-10-03: not fetched:" in result.output
    assert dates == ["2026-10-01"]  # the days after the deadline send no request
    assert snapshot(project) == before


def test_a_retry_wait_past_the_run_deadline_is_not_waited(api_server: FakeApi) -> None:
    api_server.add_faults(DAY, ("status", 503, {"Retry-After": "60"}))
    start = time.monotonic()
    with pytest.raises(FetchError, match=r"would pass the run's deadline"):
        fetch_day(api_server, retries=2, max_wait=60, run_deadline=2)
    assert time.monotonic() - start < 2


# ---------------------------------------------------------------- JSON


def test_deep_nesting_is_an_error_not_a_recursion_error(api_server: FakeApi) -> None:
    api_server.add_faults(DAY, ("json", 200, "[" * 200_000 + "]" * 200_000))
    with pytest.raises(
        FetchError,
        match=r"date=2026-10-03.*nests deeper than "
        r"fetch.max_json_depth \(32\)",
    ):
        fetch_day(api_server)


def test_nesting_over_the_setting_is_an_error_even_when_python_could_decode_it() -> None:
    with pytest.raises(FetchError, match=r"src: the answer nests deeper than fetch.max_json_depth"):
        decode_json(b"[" * 40 + b"]" * 40, "src", max_depth=32)
    assert decode_json(b"[" * 32 + b"]" * 32, "src", max_depth=32) is not None


def test_a_huge_number_rejects_its_item_only(api_server: FakeApi) -> None:
    good = [make_item(f"2610.0000{i}", f"Paper {i}") for i in range(3)]
    body = json.dumps(good + [make_item("2610.00009", "Huge", upvotes=1)])
    body = body.replace('"upvotes": 1,', '"upvotes": ' + "9" * 5000 + ",")
    api_server.add_faults(DAY, ("json", 200, body))
    papers, rejections = fetch_day(api_server)
    assert [p.id for p in papers] == ["2610.00000", "2610.00001", "2610.00002"]
    assert len(rejections) == 1 and rejections[0].startswith("item 3: paper 2610.00009")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_reject_their_item_only(api_server: FakeApi, constant: str) -> None:
    body = json.dumps([make_item("2610.00001", "Good"), make_item("2610.00002", "Bad", upvotes=7)])
    body = body.replace('"upvotes": 7', f'"upvotes": {constant}')
    api_server.add_faults(DAY, ("json", 200, body))
    papers, rejections = fetch_day(api_server)
    assert [p.id for p in papers] == ["2610.00001"] and len(rejections) == 1


def test_a_body_that_is_not_utf8_is_an_error_naming_the_url(api_server: FakeApi) -> None:
    api_server.add_faults(
        DAY, ("raw", 200, {"Content-Type": "application/json"}, b'[{"title": "\xff\xfe caf\xe9"}]')
    )
    with pytest.raises(FetchError, match=r"date=2026-10-03.*not JSON"):
        fetch_day(api_server)


def test_a_utf8_bom_is_accepted(api_server: FakeApi) -> None:
    body = b"\xef\xbb\xbf" + json.dumps(load_items(DAY)).encode()
    api_server.add_faults(DAY, ("raw", 200, {"Content-Type": "application/json"}, body))
    assert len(fetch_day(api_server)[0]) == len(load_items(DAY))


@pytest.mark.parametrize("answer", ["null", "{}", '"papers"', "42", "true"])
def test_an_answer_that_is_not_an_array_is_an_error(api_server: FakeApi, answer: str) -> None:
    api_server.add_faults(DAY, ("json", 200, answer))
    with pytest.raises(FetchError, match=r"expected a JSON array"):
        fetch_day(api_server)


# ---------------------------------------------------------------- items and redirects


def test_one_page_of_20000_items_is_refused_by_the_item_cap(project: Paths) -> None:
    before = snapshot(project)
    many = [make_item(f"2610.{i:05d}", f"Paper {i}") for i in range(20_000)]
    with FakeApi() as api:
        api.add_faults(DAY, ("json", 200, json.dumps(many)))
        result = run(project, api, "--date", DAY)
    assert result.exit_code == 1
    assert "more than 2,000 items for 2026-10-03 (fetch.max_items_per_day)" in result.output
    assert snapshot(project) == before


def test_a_redirect_loop_is_an_error_naming_the_url(api_server: FakeApi) -> None:
    loop = f"{api_server.url}api/daily_papers?date={DAY}&limit=100&p=0"
    api_server.add_faults(DAY, *[("raw", 302, {"Location": loop}, b"")] * 10)
    with pytest.raises(FetchError, match=r"date=2026-10-03.*TooManyRedirects"):
        fetch_day(api_server)


def test_a_redirect_to_another_scheme_is_an_error(api_server: FakeApi) -> None:
    api_server.add_faults(DAY, ("raw", 302, {"Location": "file:///etc/passwd"}, b""))
    with pytest.raises(FetchError, match=r"date=2026-10-03"):
        fetch_day(api_server)


# ---------------------------------------------------------------- ranges


def test_a_long_range_needs_yes_and_says_what_it_costs(project: Paths) -> None:
    with FakeApi() as api:
        result = run(project, api, "--from", "2020-01-01", "--to", "2026-01-01")
        assert api.requests == []
    assert result.exit_code == 1
    assert "2,193 days from 2020-01-01 to 2026-01-01: at least 2,193 requests" in result.output
    assert "more than fetch.max_range_days (400); add --yes" in result.output


def test_a_long_range_goes_ahead_with_yes(project: Paths) -> None:
    with FakeApi({DAY: load_items(DAY)}) as api:
        result = run(
            project, api, "--from", "2026-09-28", "--to", DAY, "--yes", fetch={"max_range_days": 3}
        )
        assert len(api.requests) == 6
    assert result.exit_code == 0, result.output
    assert "6 days from 2026-09-28 to 2026-10-03" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["--from", "1976-01-01", "--to", "2026-01-01"],
        ["--date", "0001-01-01"],
        ["--to", "0001-01-02"],
        ["--date", "9999-12-31"],
    ],
)
def test_days_outside_the_window_are_refused_before_any_request(
    project: Paths, args: list[str]
) -> None:
    with FakeApi() as api:
        result = run(project, api, *args)
        assert api.requests == []
    assert result.exit_code == 2 and "is outside 2000-01-01 to 2100-12-31" in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


# ---------------------------------------------------------------- DNS


def test_a_host_that_does_not_resolve_fails_the_run_at_once(
    project: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def no_dns(host: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(str(host))
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    before = snapshot(project)
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    project.config_file.write_text(json.dumps({"fetch": {**FAST, "retries": 5}}))
    start = time.monotonic()
    result = CliRunner().invoke(
        cli,
        [
            "fetch",
            "--root",
            str(project.root),
            "--api",
            "http://api.invalid/",
            "--from",
            "2026-09-01",
            "--to",
            "2026-09-30",
        ],
    )
    assert time.monotonic() - start < 5
    assert result.exit_code == 1, result.output
    assert calls == ["api.invalid"]  # one lookup: no retries, no further days
    assert "cannot resolve the host 'api.invalid'" in result.output
    assert "2026-09-30: not fetched:" in result.output
    assert snapshot(project) == before


def test_a_failed_lookup_is_not_mistaken_for_a_refused_connection() -> None:
    """Connection refused is still retried (a server restarting), unlike a failed lookup."""
    settings = FetchSettings(**{**FAST, "retries": 2})
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with (
        Fetcher(f"http://127.0.0.1:{port}/", settings) as fetcher,
        pytest.raises(FetchError, match=r"gave up after 3 attempt\(s\)"),
    ):
        fetcher.fetch_day(DATE)


def test_the_stored_day_survives_every_bound(project: Paths) -> None:
    """The fixture's stored day is valid and loadable: the snapshots above compare real bytes."""
    day = store.load_day(store.day_path(project.content, DATE))
    assert len(day.papers) == len(load_items(DAY))
