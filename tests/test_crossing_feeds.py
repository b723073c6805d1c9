"""Threshold feeds by crossing, feed thumbnails and counts, and feeds.opml (issue 23).

Real parts: `fetch` against the local stand-in API (tests/apiserver.py) with the capture
time set by DAILYPAPERS_NOW, real builds (MkDocs included), feeds parsed with feedparser
and lxml, the OPML with xml.etree.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import lxml.etree
import pytest
from apiserver import FakeApi, make_item
from click.testing import CliRunner
from conftest import build_project, make_project
from test_feeds import site_feed_ids

from generator import opml
from generator.cli import cli
from generator.config import Paths, SiteConfig
from generator.feeds import LATE_HISTORY, crossing_items
from generator.history import Point
from generator.models import Day, Paper
from generator.pages import Archive

DAY = "2026-12-01"
PID, QUIET = "2612.01234", "2612.00001"
SITE = "https://example.org/daily-papers/"
FAST = {"fetch": {"retries": 1, "max_wait": 0.01, "timeout": 0.5}}
UTC = dt.UTC


def fetch(paths: Paths, api: FakeApi, now: str) -> None:
    result = CliRunner().invoke(
        cli,
        ["fetch", "--root", str(paths.root), "--api", api.url, "--date", DAY],
        env={"DAILYPAPERS_NOW": now},
    )
    assert result.exit_code == 0, result.output


def answer(api: FakeApi, upvotes: int) -> None:
    """The day as the API gives it: our paper at `upvotes`, a quiet one, hostile thumbnails."""
    loud = make_item(PID, "A paper", upvotes=upvotes)
    loud["thumbnail"] = "javascript:alert(1)"
    quiet = make_item(QUIET, "A quiet paper", upvotes=2)
    quiet["thumbnail"] = "data:image/png;base64,iVBORw0KGgo="
    api.days[DAY] = [loud, quiet]


def items(feed: Path) -> dict[str, bytes]:
    """{guid: the <item> element's bytes} of an RSS file."""
    root = lxml.etree.parse(str(feed)).getroot()
    return {el.findtext("guid"): lxml.etree.tostring(el) for el in root.iter("item")}


def test_a_paper_enters_the_threshold_feed_once_dated_at_its_crossing(
    tmp_path: Path, api_server: FakeApi
) -> None:
    paths = make_project(tmp_path / "p", content_from=None, settings=FAST)
    top50, top10 = paths.site / "feeds" / "top-50.xml", paths.site / "feeds" / "top-10.xml"
    guid = f"urn:daily-papers:feeds/top-50.xml:{PID}"
    seen = []
    for when, up in (
        ("2026-12-01T02:45:00Z", 40),
        ("2026-12-02T02:45:00Z", 55),
        ("2026-12-03T02:45:00Z", 60),
    ):
        answer(api_server, up)
        fetch(paths, api_server, when)
        build_project(paths)
        seen.append(items(top50))
    assert seen[0] == {}  # 40: not yet
    assert list(seen[1]) == list(seen[2]) == [guid]
    feed = feedparser.parse(top50.read_bytes())
    assert feed.bozo == 0 and len(feed.entries) == 1
    assert dt.datetime(*feed.entries[0].published_parsed[:6], tzinfo=UTC) == dt.datetime(
        2026, 12, 2, 2, 45, tzinfo=UTC
    )  # the second fetch, not the build or the featured day
    assert "▲ 60 upvotes · 1 comment" in feed.entries[0].description  # the count at build time
    # the first snapshot (40) already reached 10: dated there
    ten = feedparser.parse(top10.read_bytes()).entries
    assert [(e.id, e.published_parsed[:5]) for e in ten] == [
        (f"urn:daily-papers:feeds/top-10.xml:{PID}", (2026, 12, 1, 2, 45))
    ]

    build_project(paths)  # a fourth build: the item is the same, byte for byte
    assert items(top50) == seen[2]

    answer(api_server, 45)  # below 50 again: still there, once, with its date and id
    fetch(paths, api_server, "2026-12-04T02:45:00Z")
    build_project(paths)
    again = feedparser.parse(top50.read_bytes()).entries
    assert [(e.id, e.published_parsed[:5]) for e in again] == [(guid, (2026, 12, 2, 2, 45))]
    assert "▲ 45 upvotes" in again[0].description

    # The hostile thumbnails were dropped; no feed or page carries them.
    for path in paths.site.rglob("*"):
        if path.is_file() and path.suffix in (".xml", ".json", ".opml", ".html"):
            data = path.read_bytes()
            assert b"javascript:alert" not in data and b"data:image" not in data, path


# ---------------------------------------------------------------- crossing_items


def _paper(pid: str, upvotes: int) -> Paper:
    return Paper(
        id=pid,
        title=f"Paper {pid}",
        summary="",
        authors=[],
        upvotes=upvotes,
        comments=0,
        published=dt.date(2026, 11, 30),
    )


def _at(day: int, hour: int = 3) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, tzinfo=UTC)


def _archive(history: dict[str, list[tuple[dt.datetime, int]]], **stored: int) -> Archive:
    """Papers featured on Dec 1 at their stored counts (`stored`: id with '_' for '.')."""
    papers = [_paper(key.replace("_", "."), up) for key, up in stored.items()]
    points = {pid: [Point(t, up, 0) for t, up in values] for pid, values in history.items()}
    return Archive.of([Day(date=dt.date(2026, 12, 1), papers=papers)], points)


def test_crossings_are_newest_first_and_fall_back_to_the_featured_day() -> None:
    archive = _archive(
        {
            "2612.00001": [(_at(1), 10), (_at(2), 30), (_at(4), 60)],  # crossed 50 on Dec 4
            "2612.00002": [(_at(1), 70), (_at(2), 40)],  # first snapshot above; dropped since
            "2612.00003": [(_at(1), 10), (_at(3), 49)],  # never reached it
            "2612.00004": [(_at(1), 5), (_at(3), 55)],
        },  # crossed on Dec 3
        **{
            "2612_00001": 60,
            "2612_00002": 40,
            "2612_00003": 49,
            "2612_00004": 55,
            "2612_00005": 80,
            "2612_00006": 3,
        },
    )  # 00005 has no history: Dec 1, 00:00
    got = [(i.paper.id, i.at) for i in crossing_items(archive, 50, 10)]
    assert got == [
        ("2612.00001", _at(4)),
        ("2612.00004", _at(3)),
        ("2612.00002", _at(1)),
        ("2612.00005", dt.datetime(2026, 12, 1, tzinfo=UTC)),
    ]
    assert [i.paper.id for i in crossing_items(archive, 50, 2)] == ["2612.00001", "2612.00004"]
    assert crossing_items(archive, 1000, 10) == []


def test_a_history_that_began_after_the_paper_was_featured_is_no_crossing() -> None:
    # Stored at 60 before the history existed; its first snapshot, days later, is not the
    # moment it reached 50: it keeps its featured day instead of jumping to today.
    late = _at(1, 0) + LATE_HISTORY + dt.timedelta(hours=1)
    archive = _archive(
        {"2612.00001": [(late, 60)], "2612.00002": [(late, 40), (_at(5), 51)]},
        **{"2612_00001": 60, "2612_00002": 51},
    )
    got = {i.paper.id: i.at for i in crossing_items(archive, 50, 10)}
    assert got == {
        "2612.00001": dt.datetime(2026, 12, 1, tzinfo=UTC),
        "2612.00002": _at(5),
    }  # a crossing seen after the history began


# ---------------------------------------------------------------- feeds.opml


def test_the_opml_lists_every_feed_of_the_site_and_each_exists(embedded_site: Paths) -> None:
    raw = (embedded_site.site / "feeds.opml").read_bytes()
    root = ET.fromstring(raw)
    assert root.tag == "opml" and root.get("version") == "2.0"
    groups = {g.get("text"): g for g in root.find("body")}
    assert list(groups) == ["Site", "Thresholds", "Topics", "Organizations"]
    listed: dict[str, str] = {}
    for name, group in groups.items():
        for outline in group:
            url = outline.get("xmlUrl")
            assert url.startswith(SITE) and outline.get("type") == "rss"
            path = url.removeprefix(SITE)
            assert (embedded_site.site / path).is_file(), path
            assert opml.group_of(path) == name
            assert outline.get("htmlUrl") == SITE + path.rpartition("/")[0] + (
                "/" if "/" in path else ""
            )
            listed[path] = outline.get("title")
    assert sorted(listed) == sorted(site_feed_ids(embedded_site.site))  # every feed, once
    assert listed["feeds/top-50.xml"] == "Daily Papers: 50+ upvotes"
    assert listed["atom.xml"] == "Daily Papers (Atom)"
    feeds_page = (embedded_site.site / "feeds" / "index.html").read_text()
    assert '<link rel="outline" type="text/x-opml"' in feeds_page
    assert 'href="../feeds.opml"' in feeds_page


def test_opml_titles_are_escaped_text() -> None:
    hostile = 'Evil "org" <script>alert(1)</script> & co\x00\x0b'
    raw = opml.document(
        SiteConfig(site_url=SITE, title="T<&>"),
        {
            "orgs/evil/feed.xml": hostile,
            "feeds/top-5.xml": "Top",
            "feeds/rising.xml": "Rising",
            "orgs/x y/atom.xml": "",
        },
    )
    root = ET.fromstring(raw)  # well-formed despite the control characters
    assert root.findtext("head/title") == "T<&>: feeds"
    outlines = {
        o.get("xmlUrl"): (g.get("text"), o.get("title")) for g in root.find("body") for o in g
    }
    assert outlines == {
        f"{SITE}feeds/top-5.xml": ("Thresholds", "Top"),
        f"{SITE}feeds/rising.xml": ("Site", "Rising"),  # a feed of another kind: under Site
        f"{SITE}orgs/evil/feed.xml": ("Organizations", 'Evil "org" <script>alert(1)</script> & co'),
        f"{SITE}orgs/x%20y/atom.xml": ("Organizations", "orgs/x y/atom.xml"),
    }
    assert b"<script" not in raw


@pytest.mark.parametrize(
    "kind,expected", [("rss", "T"), ("atom", "T (Atom)"), ("json", "T (JSON Feed)")]
)
def test_opml_names_the_format(kind: str, expected: str) -> None:
    assert opml.format_title("T", kind) == expected
