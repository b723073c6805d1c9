"""generator.fetch against a real local HTTP server (tests/apiserver.py); no transport mocks."""

from __future__ import annotations

import copy
import datetime as dt
import email.utils
import itertools
import logging
import socket
import time
from typing import Any

import pytest
from apiserver import FakeApi, load_items

from generator import fetch
from generator.config import FetchSettings
from generator.errors import FetchError
from generator.fetch import Fetcher, parse_items

DAY = "2026-10-03"
DATE = dt.date(2026, 10, 3)
OTHER = "2026-06-03"


def settings(**overrides: Any) -> FetchSettings:
    """Fast settings: tiny waits, no client-side pacing unless asked for."""
    values: dict[str, Any] = {
        "timeout": 2.0,
        "retries": 3,
        "max_wait": 0.05,
        "page_size": 100,
        "rate_limit": 1000,
        "rate_window": 1.0,
    }
    values.update(overrides)
    return FetchSettings(**values)


def fetch_day(api: FakeApi, token: str | None = None, **overrides: Any) -> tuple[list, list]:
    with Fetcher(api.url, settings(**overrides), token=token) as fetcher:
        return fetcher.fetch_day(DATE)


def item(paper_id: str = "2610.01092", **top: Any) -> dict[str, Any]:
    """A small valid API item; keyword arguments set item-level fields."""
    base: dict[str, Any] = {
        "paper": {
            "id": paper_id,
            "title": f"Paper {paper_id}",
            "summary": "An abstract.",
            "authors": [{"name": "Ada Lovelace", "hidden": False}],
            "publishedAt": "2026-10-01T00:00:00.000Z",
            "upvotes": 12,
        },
        "publishedAt": "2026-10-03T00:00:00.000Z",
        "numComments": 3,
    }
    base.update(top)
    return base


@pytest.fixture
def no_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff draws 0, so any wait seen comes from a response header."""

    class Low:
        @staticmethod
        def uniform(a: float, b: float) -> float:
            return a

    monkeypatch.setattr(fetch, "random", Low)


def gaps(api: FakeApi) -> list[float]:
    times = [r.time for r in api.requests]
    return [b - a for a, b in itertools.pairwise(times)]


# --- paging and mapping ----------------------------------------------------------------------


@pytest.mark.parametrize(("count", "pages"), [(12, 3), (10, 3), (3, 1), (0, 1)])
def test_pages_until_a_short_or_empty_page(api_server: FakeApi, count: int, pages: int) -> None:
    items = load_items(DAY)[:count]
    api_server.days[DAY] = items
    papers, rejections = fetch_day(api_server, page_size=5)
    assert [p.id for p in papers] == [i["paper"]["id"] for i in items]
    assert rejections == []
    assert [r.query for r in api_server.requests] == [
        {"date": DAY, "limit": "5", "p": str(n)} for n in range(pages)
    ]
    assert all(r.path == "/api/daily_papers" for r in api_server.requests)


def test_real_item_maps_to_paper(api_server: FakeApi) -> None:
    api_server.days[DAY] = load_items(OTHER)
    with Fetcher(api_server.url, settings()) as fetcher:
        papers, _ = fetcher.fetch_day(DATE)
    raw = load_items(OTHER)[0]
    first = papers[0]
    assert first.id == raw["paper"]["id"] == "2605.23895"
    assert first.title == raw["paper"]["title"]
    assert first.authors[0] == "Yuval Golbari" and len(first.authors) == 8
    assert first.published == dt.date(2026, 5, 22)  # the arXiv date, not the featured day
    assert first.submitted_by == raw["submittedBy"]["name"]
    assert first.thumbnail == raw["thumbnail"]
    assert (first.upvotes, first.comments, first.github) == (0, 0, None)
    assert len(papers) == 12
    assert api_server.requests[0].headers["user-agent"] == "dailypapers/0.1"


def test_duplicates_within_and_across_pages_keep_the_first(api_server: FakeApi) -> None:
    first = item("2610.00001")
    again = item("2610.00001", numComments=99)
    api_server.days[DAY] = [first, item("2610.00002"), again, item("2610.00003"), again]
    papers, rejections = fetch_day(api_server, page_size=2)
    assert [p.id for p in papers] == ["2610.00001", "2610.00002", "2610.00003"]
    assert papers[0].comments == 3
    assert rejections == []


def test_fields_at_top_level_or_inside_paper() -> None:
    top = item(
        "2610.00001",
        ai_summary="Top summary.",
        ai_keywords=["a", 5, "b"],
        githubRepo="https://github.com/o/r",
        githubStars=40,
        projectPage="https://example.org/p",
        organization={"name": "Org", "fullname": "O"},
        submittedBy={"name": "akhaliq"},
        thumbnail="https://cdn.example/t.png",
    )
    inner = item("2610.00002", ai_summary="Top loses.", githubRepo="https://github.com/top/x")
    inner["paper"].update(
        ai_summary="Inner wins.",
        githubRepo="https://github.com/in/x",
        githubStars=7,
        organization={"name": "Inner"},
    )
    only_top = {
        "id": "2610.00003",
        "title": "No paper object",
        "summary": "S.",
        "publishedAt": "2026-10-03T00:00:00.000Z",
    }
    papers, rejections = parse_items([top, inner, only_top], "test")
    assert rejections == []
    a, b, c = papers
    assert (a.ai_summary, a.keywords, a.github, a.github_stars) == (
        "Top summary.",
        ["a", "b"],
        "https://github.com/o/r",
        40,
    )
    assert (a.project_page, a.submitted_by, a.thumbnail) == (
        "https://example.org/p",
        "akhaliq",
        "https://cdn.example/t.png",
    )
    assert a.organization is not None and a.organization.fullname == "O"
    assert (b.ai_summary, b.github, b.github_stars) == ("Inner wins.", "https://github.com/in/x", 7)
    assert b.organization is not None and b.organization.name == "Inner"
    assert (c.id, c.title, c.published, c.authors, c.upvotes) == (
        "2610.00003",
        "No paper object",
        DATE,
        [],
        0,
    )


def test_hidden_and_malformed_authors_are_dropped() -> None:
    entry = item()
    entry["paper"]["authors"] = [
        {"name": "Shown"},
        {"name": "Hidden", "hidden": True},
        "Plain string",
        {"_id": "x"},
        {"name": 42},
        {"name": "Also shown", "hidden": False},
        None,
    ]
    papers, rejections = parse_items([entry], "test")
    assert rejections == []
    assert papers[0].authors == ["Shown", "Also shown"]


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,x",
        "ftp://h/x",
        "//evil.example/x",
        'https://h/x" onclick="y',
    ],
)
def test_non_http_urls_are_dropped_not_rejected(url: str) -> None:
    entry = item(thumbnail=url)
    entry["paper"].update(githubRepo=url, projectPage=url)
    papers, rejections = parse_items([entry], "test")
    assert rejections == []
    assert (papers[0].github, papers[0].project_page, papers[0].thumbnail) == (None, None, None)


def test_wrong_typed_optional_fields_are_dropped() -> None:
    entry = item(organization="Org as a string", submittedBy="akhaliq", thumbnail=3)
    entry["paper"].update(
        githubStars="lots",
        ai_keywords="not a list",
        ai_summary=["x"],
        githubRepo=True,
        projectPage={"url": "https://x.org"},
    )
    bad_org = item("2610.00002", organization={"fullname": "no name"})
    negative_stars = item("2610.00003", githubStars=-1)
    papers, rejections = parse_items([entry, bad_org, negative_stars], "test")
    assert rejections == []
    p = papers[0]
    assert (p.organization, p.submitted_by, p.thumbnail, p.github_stars) == (None, None, None, None)
    assert (p.keywords, p.ai_summary, p.github, p.project_page) == ([], None, None, None)
    assert papers[1].organization is None and papers[2].github_stars is None


def test_invalid_items_are_rejected_with_their_position() -> None:
    good = [item(f"2610.0000{n}") for n in range(3)]
    bad_upvotes = item("2610.00010")
    bad_upvotes["paper"]["upvotes"] = "many"
    no_id = item()
    del no_id["paper"]["id"]
    float_id = item()
    float_id["paper"]["id"] = 2401.1
    no_title = item("2610.00011")
    del no_title["paper"]["title"]
    bad_date = item("2610.00012")
    bad_date["paper"]["publishedAt"] = "yesterday"
    items = [
        good[0],
        bad_upvotes,
        no_id,
        good[1],
        float_id,
        "just a string",
        no_title,
        item("not-an-id"),
        bad_date,
        item("2610.00013", numComments=-2),
        good[2],
    ]
    papers, rejections = parse_items(items, "test")
    assert [p.id for p in papers] == ["2610.00000", "2610.00001", "2610.00002"]
    assert [r.split(":")[0] for r in rejections] == [f"item {n}" for n in (1, 2, 4, 5, 6, 7, 8, 9)]
    assert "upvotes" in rejections[0] and "2610.00010" in rejections[0]
    assert "no paper id" in rejections[1]
    assert "2401.1" in rejections[2]
    assert "no title" in rejections[4]
    assert "'not-an-id'" in rejections[5]
    assert "yesterday" in rejections[6]
    assert "comments" in rejections[7]


def test_rejections_through_the_server_count_across_pages(api_server: FakeApi) -> None:
    items = load_items(DAY)[:6]
    items[4] = copy.deepcopy(items[4])
    items[4]["paper"]["upvotes"] = "many"
    api_server.days[DAY] = items
    papers, rejections = fetch_day(api_server, page_size=3)
    assert len(papers) == 5
    assert len(rejections) == 1 and rejections[0].startswith("item 4: ")


def test_a_page_that_is_not_an_array_is_an_error(api_server: FakeApi) -> None:
    with pytest.raises(FetchError, match=r"^test: expected a JSON array, got dict$"):
        parse_items({"error": "x"}, "test")
    api_server.add_faults(DAY, ("body", 200, '{"error": "maintenance"}'))
    with pytest.raises(FetchError, match=r"daily_papers\?date=2026-10-03.*JSON array, got dict"):
        fetch_day(api_server)


def test_page_loop_is_bounded_by_the_item_cap(api_server: FakeApi) -> None:
    api_server.days[DAY] = load_items(DAY)
    with pytest.raises(
        FetchError,
        match=r"p=4: more than 4 items for 2026-10-03 "
        r"\(fetch.max_items_per_day\)",
    ):
        fetch_day(api_server, page_size=1, max_items_per_day=4)
    assert len(api_server.requests) == 5


def test_a_server_that_ignores_p_stops_at_the_second_page(
    api_server: FakeApi, caplog: pytest.LogCaptureFixture
) -> None:
    api_server.days[DAY] = load_items(DAY)
    api_server.add_faults(DAY, ("repeat",), ("repeat",))
    papers, _ = fetch_day(api_server, page_size=2)
    assert [p.id for p in papers] == [i["paper"]["id"] for i in load_items(DAY)[:2]]
    assert len(api_server.requests) == 2
    assert "page 1 repeats the items of earlier pages" in caplog.text


# --- retries -----------------------------------------------------------------------------


def test_429_with_retry_after_waits_capped_then_succeeds(
    api_server: FakeApi, no_jitter: None, caplog: pytest.LogCaptureFixture
) -> None:
    api_server.days[DAY] = load_items(DAY)
    api_server.add_faults(DAY, ("status", 429, {"Retry-After": "1"}))
    caplog.set_level(logging.WARNING, logger="generator.fetch")
    papers, _ = fetch_day(api_server, max_wait=0.2)
    assert len(papers) == 12 and len(api_server.requests) == 2
    assert 0.18 <= gaps(api_server)[0] < 0.9  # Retry-After honoured, capped at max_wait
    assert "HTTP 429" in caplog.text and "retry 1 of 3" in caplog.text


@pytest.mark.parametrize(
    "headers",
    [
        {"RateLimit": '"api";r=0;t=55'},
        {"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"},
        {"Retry-After": "later", "RateLimit": '"api";r=0;t=3'},
    ],
)
def test_rate_limit_headers_are_honoured(
    api_server: FakeApi, no_jitter: None, headers: dict[str, str]
) -> None:
    api_server.days[DAY] = load_items(DAY)
    api_server.add_faults(DAY, ("status", 429, headers))
    papers, _ = fetch_day(api_server, max_wait=0.2)
    assert len(papers) == 12 and len(api_server.requests) == 2
    assert 0.18 <= gaps(api_server)[0] < 0.9


def test_rate_limit_with_requests_remaining_is_not_a_wait(
    api_server: FakeApi, no_jitter: None
) -> None:
    api_server.days[DAY] = load_items(DAY)
    api_server.add_faults(DAY, ("status", 503, {"RateLimit": '"api";r=200;t=55'}))
    fetch_day(api_server, max_wait=0.5)
    assert gaps(api_server)[0] < 0.3


def test_429_forever_fails_cleanly(api_server: FakeApi) -> None:
    api_server.add_faults(DAY, *[("status", 429, {"Retry-After": "55"})] * 3)
    started = time.monotonic()
    with pytest.raises(FetchError) as error:
        fetch_day(api_server, retries=2, max_wait=0.05)
    assert time.monotonic() - started < 1.0
    message = str(error.value)
    assert message.startswith(f"{api_server.url}api/daily_papers?date={DAY}&limit=100&p=0: ")
    assert "HTTP 429" in message and "3 attempt" in message
    assert len(api_server.requests) == 3


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
def test_server_errors_are_retried_with_backoff(
    api_server: FakeApi, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    api_server.days[DAY] = load_items(DAY)
    api_server.add_faults(DAY, ("status", status), ("status", status))
    caplog.set_level(logging.WARNING, logger="generator.fetch")
    papers, _ = fetch_day(api_server, max_wait=0.05)
    assert len(papers) == 12 and len(api_server.requests) == 3
    retries = [r for r in caplog.records if f"HTTP {status}" in r.getMessage()]
    assert len(retries) == 2 and all(r.levelno == logging.WARNING for r in retries)
    assert all(g < 0.5 for g in gaps(api_server))  # waits stay under max_wait (+ slack)


def test_backoff_is_exponential_full_jitter_and_capped() -> None:
    draws = [fetch._backoff(retry, cap=100.0) for retry in (1, 4) for _ in range(200)]
    assert all(0 <= d <= 0.5 for d in draws[:200]) and all(0 <= d <= 4.0 for d in draws[200:])
    assert max(draws[200:]) > 1.0 and len(set(draws)) > 300  # grows, and is random
    assert all(fetch._backoff(10, cap=0.05) <= 0.05 for _ in range(50))


def test_read_timeout_is_retried(api_server: FakeApi, caplog: pytest.LogCaptureFixture) -> None:
    api_server.days[DAY] = load_items(DAY)
    api_server.add_faults(DAY, ("sleep", 1.0))
    caplog.set_level(logging.WARNING, logger="generator.fetch")
    papers, _ = fetch_day(api_server, timeout=0.3)
    assert len(papers) == 12 and len(api_server.requests) == 2  # gave up on the slow answer
    assert "ReadTimeout" in caplog.text


def test_timeouts_exhausted_raise(api_server: FakeApi) -> None:
    api_server.days[DAY] = load_items(DAY)
    api_server.add_faults(DAY, ("sleep", 1.0), ("sleep", 1.0))
    with pytest.raises(FetchError, match=r"date=2026-10-03.*ReadTimeout.*2 attempt"):
        fetch_day(api_server, timeout=0.3, retries=1)
    assert len(api_server.requests) == 2


def test_dropped_connection_is_retried(api_server: FakeApi) -> None:
    api_server.days[DAY] = load_items(DAY)
    api_server.add_faults(DAY, ("disconnect",))
    papers, _ = fetch_day(api_server)
    assert len(papers) == 12 and len(api_server.requests) == 2


def test_connection_refused_fails_after_retries() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    refused = rf"127.0.0.1:{port}/api/.*ConnectError.*3 attempt"
    with (
        Fetcher(f"http://127.0.0.1:{port}", settings(retries=2)) as fetcher,
        pytest.raises(FetchError, match=refused),
    ):
        fetcher.fetch_day(DATE)


# --- answers that are never retried ------------------------------------------------------


def test_html_error_page_is_an_error_naming_the_url(api_server: FakeApi) -> None:
    api_server.add_faults(DAY, ("body", 200, "<!DOCTYPE html><html><h1>Down</h1></html>"))
    with pytest.raises(FetchError) as error:
        fetch_day(api_server)
    message = str(error.value)
    assert f"{api_server.url}api/daily_papers?date={DAY}" in message
    assert "not JSON (starts with '<!DOCTYPE html>" in message
    assert len(api_server.requests) == 1


def test_truncated_json_is_an_error(api_server: FakeApi) -> None:
    api_server.days[DAY] = load_items(DAY)
    api_server.add_faults(DAY, ("truncated",))
    with pytest.raises(FetchError, match=r"date=2026-10-03.*not JSON \(starts with '\[\{"):
        fetch_day(api_server)
    assert len(api_server.requests) == 1


def test_http_400_is_not_retried(api_server: FakeApi) -> None:
    api_server.add_faults(DAY, ("status", 400))
    with pytest.raises(FetchError) as error:
        fetch_day(api_server, retries=5)
    assert f"date={DAY}" in str(error.value)
    assert "HTTP 400 (the API rejected date 2026-10-03)" in str(error.value)
    assert len(api_server.requests) == 1


@pytest.mark.parametrize("status", [401, 403, 404, 422])
def test_other_4xx_are_not_retried(api_server: FakeApi, status: int) -> None:
    api_server.add_faults(DAY, ("status", status))
    with pytest.raises(FetchError, match=rf"date=2026-10-03.*: HTTP {status} "):
        fetch_day(api_server, retries=5)
    assert len(api_server.requests) == 1


def test_the_server_answers_400_like_the_api(api_server: FakeApi) -> None:
    too_big = settings().model_copy(update={"page_size": 500})  # not validated: limit=500
    with (
        Fetcher(api_server.url, too_big) as fetcher,
        pytest.raises(FetchError, match=r"limit=500.*HTTP 400.*between 1 and 100"),
    ):
        fetcher.fetch_day(DATE)
    assert len(api_server.requests) == 1


# --- headers and pacing --------------------------------------------------------------------


def test_authorization_header_only_with_a_token(api_server: FakeApi) -> None:
    api_server.days[DAY] = load_items(DAY)
    fetch_day(api_server, token="hf_secret")
    fetch_day(api_server)
    with_token, without = api_server.requests
    assert with_token.headers["authorization"] == "Bearer hf_secret"
    assert "authorization" not in without.headers


def test_the_limiter_waits_when_the_window_is_full(api_server: FakeApi) -> None:
    api_server.days[DAY] = load_items(DAY)
    fetch_day(api_server, page_size=5, rate_limit=2, rate_window=0.5)
    times = [r.time for r in api_server.requests]
    assert len(times) == 3
    assert times[1] - times[0] < 0.3  # no wait while the window has room
    assert times[2] - times[0] >= 0.45  # the third waited for the first to leave the window


def test_the_limiter_counts_retries(api_server: FakeApi) -> None:
    api_server.days[DAY] = load_items(DAY)
    api_server.add_faults(DAY, ("status", 503))
    fetch_day(api_server, rate_limit=1, rate_window=0.3, max_wait=0.01)
    # Without the limiter the retry would follow after ~0.01 s (max_wait). The gap is taken
    # at the server, where the first request also carries the connection's set-up, so a
    # loaded machine (the suite runs on 2 workers) can shorten it by tens of milliseconds.
    assert len(api_server.requests) == 2 and gaps(api_server)[0] >= 0.2


def test_retry_after_http_date_is_parsed() -> None:
    soon = email.utils.format_datetime(
        dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30), usegmt=True
    )
    wait = fetch._header_wait(fetch.httpx.Headers({"Retry-After": soon}))
    assert wait is not None and 25 <= wait <= 31
    assert fetch._header_wait(fetch.httpx.Headers({"Retry-After": "12"})) == 12
    assert fetch._header_wait(fetch.httpx.Headers({})) is None
