"""The upvote history on the built site: sparklines on paper pages, the Rising page and its
feed, the JSON export's history and 24-hour gains, and an incremental build after a new
capture equal to a full one. Counts come from `fetch` against the local stand-in API at
set times (DAILYPAPERS_NOW), so every 24-hour gain below is known."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import feedparser
import pytest
from apiserver import FakeApi, make_item
from click.testing import CliRunner
from conftest import build_project, make_project
from sitecheck import load, manifest
from tests_paths import GOLDEN, REPO

from generator import pages, store
from generator.cli import cli
from generator.config import Paths, SiteConfig
from generator.feeds import entry_id

pytestmark = pytest.mark.slow
DAY = "2026-11-30"
A, B, C, D, E, G = (f"2611.0000{n}" for n in (1, 2, 3, 4, 5, 7))
#: (capture time, {paper: upvotes}); the Rising window ends at the last capture.
CAPTURES = [
    ("2026-11-30T02:00:00Z", {A: 1, B: 3, C: 40, D: 5, G: 2}),
    ("2026-12-01T02:00:00Z", {A: 10, B: 10, C: 50, D: 5, G: 10}),  # 25 h before the last
    ("2026-12-02T01:00:00Z", {A: 30, B: 12, C: 51, D: 5, E: 1, G: 15}),
    ("2026-12-02T03:00:00Z", {A: 32, B: 20, C: 59, D: 5, E: 10, G: 20}),
]
#: Gained since the 2026-12-01T02:00 capture (the latest at least 24 h before the last);
#: E since its first point (tracked 2 h); D never moved. Ties: B and G (+10, 20 upvotes)
#: by id; C and E (+9) by latest upvotes.
RISING = [(A, 22), (B, 10), (G, 10), (C, 9), (E, 9)]


@dataclass
class Built:
    paths: Paths
    before: dict[str, bytes]  # pages of the build before the last capture


def fetch(paths: Paths, api: FakeApi, when: str, counts: dict[str, int]) -> None:
    api.days[DAY] = [make_item(pid, f"Paper {pid}", upvotes=up) for pid, up in counts.items()]
    result = CliRunner().invoke(
        cli,
        ["fetch", "--root", str(paths.root), "--api", api.url, "--date", DAY],
        env={"DAILYPAPERS_NOW": when},
    )
    assert result.exit_code == 0, result.output


def pages_of(site: Path) -> dict[str, bytes]:
    return {
        name: (site / name).read_bytes()
        for name in ("papers/rising/index.html", f"papers/{A}/index.html")
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """Three captures and a build, then a fourth capture and an incremental build."""
    paths = make_project(
        tmp_path_factory.mktemp("rising") / "p",
        content_from=None,
        settings={"pages": {"period_top": 2}, "export": {"papers": True}},
    )
    with FakeApi() as api:
        for when, counts in CAPTURES[:3]:
            fetch(paths, api, when, counts)
        build_project(paths)
        before = pages_of(paths.site)
        fetch(paths, api, *CAPTURES[3])
    report = build_project(paths)
    assert report.pages_cached > 0  # an incremental build
    yield Built(paths, before)


def gains_shown(html: str) -> list[tuple[str, int]]:
    """(paper id, gain) in page order, from the cards and rows of the Rising page."""
    shown = []
    for item in html.split('<li class="dp-')[1:]:
        pid = re.search(r'href="\.\./([0-9]{4}\.[0-9]{5})/"', item)
        gain = re.search(r'class="dp-gain">\+([0-9]+) in 24 h<', item)
        assert pid and gain, item
        shown.append((pid[1], int(gain[1])))
    return shown


def test_rising_ranks_by_24_hour_gain_with_a_stable_tiebreak(built: Built) -> None:
    html = (built.paths.site / "papers" / "rising" / "index.html").read_text(encoding="utf-8")
    assert gains_shown(html) == RISING
    assert html.count('class="dp-card"') == 2 and html.count('class="dp-row"') == 3
    assert '5 papers gained upvotes in the 24 h up to <time datetime="2026-12-02T03:00Z">' in html
    assert D not in html  # gained nothing


def test_home_and_trending_link_rising(built: Built) -> None:
    for page, href in (("", "papers/rising/"), ("papers/trending/", "../rising/")):
        assert href in load(built.paths.site, page).links(), page


def test_rising_feed_parses_in_page_order_with_unique_stable_ids(built: Built) -> None:
    feed = feedparser.parse((built.paths.site / "feeds" / "rising.xml").read_bytes())
    assert feed.bozo == 0, feed.get("bozo_exception")
    ids = [entry.id for entry in feed.entries]
    assert ids == [entry_id("feeds/rising.xml", pid) for pid, _gain in RISING]
    assert len(set(ids)) == len(ids)
    assert all(not entry.get("guidislink") for entry in feed.entries)
    assert "rising.xml" in load(built.paths.site, "feeds/").links()  # announced there
    head = (built.paths.site / "papers" / "rising" / "index.html").read_text(encoding="utf-8")
    assert (
        '<link rel="alternate feed" type="application/rss+xml" title="Rising papers (RSS)" '
        'href="../../feeds/rising.xml">'
    ) in head  # and in the Rising page's head


def test_sparkline_labels_first_and_latest_count_and_one_point_shows_the_count(
    built: Built,
) -> None:
    page = load(built.paths.site, f"papers/{A}/")
    (svg,) = page.find("svg", **{"class": "dp-spark"})
    assert svg["role"] == "img"
    assert svg["aria-label"] == "Upvotes: 1 on 2026-11-30, 32 on 2026-12-02"
    points = [
        tuple(map(int, xy.split(","))) for xy in page.find("polyline")[0]["points"].split(" ")
    ]
    assert len(points) == 4 and [x for x, _ in points] == sorted(x for x, _ in points)
    assert points[0][1] > points[-1][1]  # from 1 up to 32: the line rises
    single = load(built.paths.site, f"papers/{D}/")  # one point: its count, no svg
    assert single.find("svg", **{"class": "dp-spark"}) == []
    assert "▲ 5" in single.text("span")


def test_json_export_has_history_and_gains(built: Built) -> None:
    api = built.paths.site / "api"
    paper = json.loads((api / "papers" / f"{A}.json").read_text())
    assert paper["history_fields"] == ["t", "upvotes", "comments"]
    assert paper["history"] == [[t, counts[A], 1] for t, counts in CAPTURES]
    assert json.loads((api / "papers" / f"{D}.json").read_text())["history"] == [
        [CAPTURES[0][0], 5, 1]
    ]
    day = json.loads((api / "daily" / f"{DAY}.json").read_text())
    gains = {p["id"]: p["gain_24h"] for p in day["papers"]}
    assert gains == {**dict(RISING), D: 0}


def test_incremental_build_after_a_new_capture_equals_a_full_build(
    built: Built, tmp_path: Path
) -> None:
    after = pages_of(built.paths.site)
    changed = {name for name in after if after[name] != built.before[name]}
    assert {"papers/rising/index.html", f"papers/{A}/index.html"} <= changed
    full = make_project(
        tmp_path / "full",
        content_from=built.paths.content,
        settings={"pages": {"period_top": 2}, "export": {"papers": True}},
    )
    assert build_project(full).pages_cached == 0
    assert manifest(full.site) == manifest(built.paths.site)


def test_embedded_history_without_gains_says_so_and_the_feed_is_empty(embedded_site: Paths) -> None:
    """The embedded captures were each saved once: no paper gained in the last 24 h."""
    paths = embedded_site
    page = load(paths.site, "papers/rising/")
    assert "gained upvotes in the 24 hours up to the newest fetch" in page.text("p")
    assert page.find("li", **{"class": "dp-card"}) == []
    feed = feedparser.parse((paths.site / "feeds" / "rising.xml").read_bytes())
    assert feed.bozo == 0 and feed.entries == []


def test_no_history_says_so() -> None:
    day = store._parse(GOLDEN / "day.yml")[0]
    assert day is not None
    renderer = pages.PageRenderer(SiteConfig(), REPO / "site_config" / "templates")
    text = renderer.all_pages(pages.Archive.of([day]))["papers/rising.md"]
    assert "No upvote history yet" in text and 'class="dp-card"' not in text


def test_embedded_papers_listed_by_two_captures_show_a_sparkline(embedded_site: Paths) -> None:
    html = (embedded_site.site / "papers" / "2608.13558" / "index.html").read_text(encoding="utf-8")
    assert 'role="img" aria-label="Upvotes: 2 on 2026-08-14, 54 on 2026-08-20"' in html
    once = (embedded_site.site / "papers" / "2511.17592" / "index.html").read_text(encoding="utf-8")
    assert 'role="img"' not in once  # one capture: its count only
