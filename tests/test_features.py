"""Page types beyond days and papers, their feeds and the JSON export, read from a built site.

The site is tests/richcontent.py's: the embedded days with known upvotes, keywords and
organizations, and an empty Saturday (2026-05-30, between the stored 2026-05-12 and 2026-07-01).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import feedparser
import pytest
from conftest import build_project, make_project
from sitecheck import broken_links, load

from generator import groups, store
from generator.config import Paths
from generator.pages import Archive

pytestmark = pytest.mark.slow
SITE_URL = "https://example.org/daily-papers/"


@pytest.fixture(scope="module")
def archive(rich_site: Paths) -> Archive:
    return Archive.of(store.load_all(rich_site.content))


def ranked_ids(page) -> list[str]:
    """Paper ids in page order, from the cards' ids and the rows' title links."""
    ids = []
    for tag, attrs in page.elements:
        if tag == "li" and attrs.get("class") == "dp-card":
            ids.append(attrs["id"].removeprefix("paper-"))
        if tag == "a" and attrs.get("class") == "dp-row-title":
            ids.append(attrs["href"].rstrip("/").rsplit("/", 1)[-1])
    return ids


def by_rank(archive: Archive, ids) -> list[str]:
    last = archive.last_day
    return sorted(set(ids), key=lambda p: (-archive.papers[p].upvotes, -last[p].toordinal(), p))


def parse_feed(path):
    feed = feedparser.parse(path.read_bytes())
    assert feed.bozo == 0, (path, feed.get("bozo_exception"))
    ids = [e.id for e in feed.entries]
    assert len(ids) == len(set(ids)), path
    return feed


# ---------------------------------------------------------------- pages


def test_trending_ranks_the_last_days_papers_with_their_day(
    rich_site: Paths, archive: Archive
) -> None:
    page = load(rich_site.site, "papers/trending/")
    newest = archive.days[-1].date
    window = {
        p.id for d in archive.days if d.date > newest - dt.timedelta(days=7) for p in d.papers
    }
    assert ranked_ids(page) == by_rank(archive, window)
    assert f"../date/{newest}/" in page.links()  # each card names its day
    older = archive.days[0].papers[0].id
    assert older not in window and older not in ranked_ids(page)


@pytest.mark.parametrize(("kind", "of"), [("week", groups.week_key), ("month", groups.month_key)])
def test_period_pages_rank_top_cards_then_the_rest(
    rich_site: Paths, archive: Archive, kind, of
) -> None:
    key = Counter(of(d.date) for d in archive.days for _ in d.papers).most_common(1)[0][0]
    page = load(rich_site.site, f"papers/{kind}/{key}/")
    expected = by_rank(archive, [p.id for d in archive.days if of(d.date) == key for p in d.papers])
    assert len(expected) > 20
    assert ranked_ids(page) == expected
    cards = [a for a in page.find("li") if a.get("class") == "dp-card"]
    assert len(cards) == 20  # pages.period_top; the rest are rows under #all-papers
    assert "all-papers" in page.ids and "#all-papers" in page.links()


def test_period_pages_link_previous_and_next_periods(rich_site: Paths) -> None:
    days = store.load_all(rich_site.content)
    weeks = sorted(p.name for p in (rich_site.site / "papers" / "week").iterdir())
    assert weeks == sorted({groups.week_key(d.date) for d in days if d.papers})
    assert "2026-W33" in weeks and "2026-W32" in weeks and "2026-W34" in weeks
    middle = load(rich_site.site, "papers/week/2026-W33/").links()
    assert "../2026-W32/" in middle and "../2026-W34/" in middle
    months = load(rich_site.site, "papers/month/2026-05/").links()  # May and July: no June
    assert "../2026-04/" in months and "../2026-07/" in months


def test_empty_days_are_blank_in_the_calendar_and_skipped_by_day_links(rich_site: Paths) -> None:
    archive_page = load(rich_site.site, "archive/")
    assert "../papers/date/2026-05-30/" not in archive_page.links()
    empty_cells = [a for a in archive_page.find("td") if a.get("class") == "dp-empty"]
    assert len(empty_cells) > 80  # every day of the three months without papers
    before = load(rich_site.site, "papers/date/2026-05-12/").links()
    assert "../2026-07-01/" in before and "../2026-05-30/" not in before
    saturday = load(rich_site.site, "papers/date/2026-05-30/")  # stored, empty: a page, no error
    assert "No papers were featured on this day." in saturday.text("p")
    assert "../2026-05-12/" in saturday.links() and "../2026-07-01/" in saturday.links()


def test_topics_group_spellings_and_need_a_minimum(rich_site: Paths, archive: Archive) -> None:
    index = load(rich_site.site, "topics/")
    chips = {a["href"] for a in index.find("a") if a.get("class") == "dp-chip"}
    assert "reasoning/" in chips and "large-language-models/" in chips
    page = load(rich_site.site, "topics/large-language-models/")
    expected = by_rank(
        archive, [pid for pid, p in archive.papers.items() if "Large Language Models" in p.keywords]
    )
    assert ranked_ids(page) == expected[:50]
    assert "feed.xml" in page.links() and "atom.xml" in page.links()
    head = [a for a in page.find("link") if "alternate" in a.get("rel", "").split()]
    assert {a["href"] for a in head} >= {"feed.xml", "atom.xml"}


@pytest.mark.parametrize(
    ("keyword", "key"),
    [
        ("Large Language Models", "large language model"),
        ("large  language\tmodel", "large language model"),
        ("Diffusion Models.", "diffusion model"),
        ("Robotics", "robotics"),
        ("agents", "agent"),
        ("Policies", "policy"),
        ("  ", ""),
        ("Time Series", "time series"),
    ],
)
def test_keywords_normalise_case_plural_and_spacing(keyword: str, key: str) -> None:
    assert groups.normalize_keyword(keyword) == key


def test_slugs_are_ascii_unique_and_never_an_index_page() -> None:
    names = {"a": "C++", "b": "C", "c": "日本語", "d": "index", "e": "../etc"}
    slugs = groups._slugs(names)
    assert len(set(slugs.values())) == len(slugs)
    assert all(
        s.isascii() and "/" not in s and "." not in s and s != "index" for s in slugs.values()
    )


def test_topic_minimum_comes_from_configuration(tmp_path, rich_site: Paths) -> None:
    counts = Counter()
    for path in rich_site.content.rglob("*.yml"):
        for paper in store.load_day(path).papers:
            counts.update(groups.normalize_keyword(k) for k in paper.keywords)
    paths = make_project(tmp_path / "p", content_from=rich_site.content)
    site_yml = paths.config_file.read_text() + "\n"
    paths.config_file.write_text(site_yml.replace("topic_min_papers: 10", "topic_min_papers: 30"))
    build_project(paths)
    built = {p.name for p in (paths.site / "topics").iterdir() if p.is_dir()}
    assert len(built) == sum(1 for n in counts.values() if n >= 30) < len(counts)


def test_organization_pages_and_paper_links(rich_site: Paths, archive: Archive) -> None:
    index = load(rich_site.site, "orgs/")
    assert {"google/", "nvidia/", "meta/", "qwen/", "allenai/"} <= set(index.links())
    page = load(rich_site.site, "orgs/google/")
    google = [
        pid
        for pid, p in archive.papers.items()
        if p.organization and p.organization.name == "google"
    ]
    assert ranked_ids(page) == by_rank(archive, google)[:50]
    paper = load(rich_site.site, f"papers/{google[0]}/")
    assert "../../orgs/google/" in paper.links()
    topics = [a["href"] for a in paper.find("a") if a.get("class") == "dp-chip"]
    assert topics and all(h.startswith("../../topics/") for h in topics)


def test_paper_pages_have_social_meta_and_canonical(rich_site: Paths, archive: Archive) -> None:
    pid, paper = next(iter(archive.papers.items()))
    page = load(rich_site.site, f"papers/{pid}/")
    meta = {a.get("property") or a.get("name"): a.get("content") for a in page.find("meta")}
    assert meta["og:url"] == f"{SITE_URL}papers/{pid}/"
    assert meta["og:image"] == paper.thumbnail and meta["twitter:card"] == "summary_large_image"
    assert meta["og:title"] == paper.title
    assert meta["og:description"].startswith(paper.summary[:50])
    # Material writes it; exactly one
    assert [a["href"] for a in page.find("link", rel="canonical")] == [f"{SITE_URL}papers/{pid}/"]


def test_feeds_page_lists_every_feed_with_absolute_urls(rich_site: Paths) -> None:
    page = load(rich_site.site, "feeds/")
    urls = page.text("code")
    for path in (
        "feed.xml",
        "atom.xml",
        "feed.json",
        "feeds/daily.xml",
        "feeds/top-10.xml",
        "feeds/top-50.xml",
        "feeds.opml",
        "api/index.json",
    ):
        assert SITE_URL + path in urls
        assert (rich_site.site / path).is_file()


def test_every_internal_link_resolves(rich_site: Paths) -> None:
    assert broken_links(rich_site.site, "/daily-papers/") == []


# ---------------------------------------------------------------- feeds


def test_topic_and_org_feeds(rich_site: Paths, archive: Archive) -> None:
    feed = parse_feed(rich_site.site / "topics" / "reasoning" / "feed.xml")
    atom = parse_feed(rich_site.site / "topics" / "reasoning" / "atom.xml")
    reasoning = {pid for pid, p in archive.papers.items() if "Reasoning" in p.keywords}
    assert len(feed.entries) == 10 == len(atom.entries)  # feeds.topic_items
    assert {e.id.rsplit(":", 1)[-1] for e in feed.entries} <= reasoning
    assert feed.feed.link == f"{SITE_URL}topics/reasoning/"
    org = parse_feed(rich_site.site / "orgs" / "qwen" / "atom.xml")
    assert all(e.link.startswith(f"{SITE_URL}papers/") for e in org.entries)


@pytest.mark.parametrize("threshold", [10, 50])
def test_top_n_feeds_hold_only_papers_at_or_above_n(
    rich_site: Paths, archive: Archive, threshold
) -> None:
    feed = parse_feed(rich_site.site / "feeds" / f"top-{threshold}.xml")
    ids = [e.id.rsplit(":", 1)[-1] for e in feed.entries]
    assert ids and all(archive.papers[i].upvotes >= threshold for i in ids)
    assert len(ids) == min(50, sum(p.upvotes >= threshold for p in archive.papers.values()))


def test_a_filter_nothing_passes_gives_a_valid_empty_feed(tmp_path, rich_site: Paths) -> None:
    paths = make_project(tmp_path / "p", content_from=rich_site.content)
    text = paths.config_file.read_text().replace("top: [10, 50]", "top: [100000]")
    paths.config_file.write_text(text)
    build_project(paths)
    feed = parse_feed(paths.site / "feeds" / "top-100000.xml")
    assert feed.entries == [] and feed.feed.title.endswith("100000+ upvotes")


def test_daily_feed_has_one_item_per_day_with_its_top_papers(
    rich_site: Paths, archive: Archive
) -> None:
    feed = parse_feed(rich_site.site / "feeds" / "daily.xml")
    days = [d for d in archive.days if d.papers][::-1][:30]  # feeds.daily_items
    assert [e.id for e in feed.entries] == [f"urn:daily-papers:day:{d.date}" for d in days]
    first = feed.entries[0]
    assert first.link == f"{SITE_URL}papers/date/{days[0].date}/"
    top = days[0].ranked()[:10]
    assert first.summary.count("<li>") == 10
    assert f"{SITE_URL}papers/{top[0].id}/" in first.summary


# ---------------------------------------------------------------- JSON export


def test_json_export_lists_days_and_holds_days_and_papers(
    rich_site: Paths, archive: Archive
) -> None:
    api = rich_site.site / "api"
    index = json.loads((api / "index.json").read_text())
    days = [d for d in archive.days if d.papers]
    assert [d["date"] for d in index["days"]] == [str(d.date) for d in reversed(days)]
    for entry in index["days"]:
        day = json.loads((api / entry["url"]).read_text())
        assert len(day["papers"]) == entry["papers"]
    first = days[-1].ranked()[0]
    day = json.loads((api / "daily" / f"{days[-1].date}.json").read_text())
    assert day["papers"][0]["id"] == first.id and day["papers"][0]["title"] == first.title
    paper = json.loads((api / "papers" / f"{first.id}.json").read_text())
    assert paper["paper"]["upvotes"] == first.upvotes
    assert paper["featured"] == [str(d) for d in archive.featured[first.id]]
    assert len(list((api / "papers").iterdir())) == len(archive.papers)


def test_no_per_paper_json_unless_asked(embedded_site: Paths) -> None:
    """export.papers is off by default: the day files hold every paper already."""
    api = embedded_site.site / "api"
    assert (api / "index.json").is_file() and any((api / "daily").iterdir())
    assert not (api / "papers").exists()
