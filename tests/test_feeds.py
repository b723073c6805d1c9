"""Tests for generator.feeds: every written feed is parsed back (feedparser, lxml, json)."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
from pathlib import Path

import feedgen.entry
import feedgen.feed
import feedparser
import lxml.etree
import lxml.html
import pytest

from generator.config import SiteConfig
from generator.feeds import FeedItem, latest_items, write_feeds
from generator.models import Day, Paper

SITE = "https://example.org/daily-papers/"
UTC = dt.UTC
XML_FILES = ("feed.xml", "atom.xml")
ALL_FILES = ("feed.xml", "atom.xml", "feed.json")


def paper(pid: str = "2610.01092", **fields: object) -> Paper:
    values: dict = {
        "id": pid,
        "title": f"Paper {pid}",
        "summary": f"Abstract of {pid}.",
        "authors": ["Ada Lovelace", "Alan Turing"],
        "published": dt.date(2026, 10, 1),
        "upvotes": 10,
        "comments": 0,
    }
    values.update(fields)
    return Paper(**values)


def day(date: str, *papers: Paper) -> Day:
    return Day(date=dt.date.fromisoformat(date), papers=list(papers))


def config(**fields: object) -> SiteConfig:
    return SiteConfig(**{"site_url": SITE, **fields})


def write(tmp_path: Path, items: list[FeedItem], cfg: SiteConfig | None = None, **kw) -> dict:
    """Write the feeds and parse every file; return {name: parsed}."""
    paths = write_feeds(items, cfg or config(), tmp_path, **kw)
    assert sorted(p.name for p in paths) == sorted(ALL_FILES)
    parsed: dict = {}
    for path in paths:
        raw = path.read_bytes()
        if path.name == "feed.json":
            parsed[path.name] = json.loads(raw.decode("utf-8"))
            continue
        lxml.etree.fromstring(raw)  # well-formed, or raises
        feed = feedparser.parse(raw)
        assert feed.bozo == 0, (path.name, feed.get("bozo_exception"))
        parsed[path.name] = feed
    return parsed


def feed_ids(parsed: dict) -> dict[str, list[str]]:
    ids = {name: [e.id for e in parsed[name].entries] for name in XML_FILES}
    ids["feed.json"] = [i["id"] for i in parsed["feed.json"]["items"]]
    return ids


#: The counts an item shows before its abstract, for the default paper().
COUNTS = "▲ 10 upvotes · 0 comments"


def counted(summary: str) -> str:
    """An Atom summary or JSON Feed content_text: the counts, a blank line, the abstract."""
    return f"{COUNTS}\n\n{summary}"


def items_of(*papers: Paper, date: str = "2026-10-03") -> list[FeedItem]:
    return latest_items([day(date, *papers)], 50)


# --- latest_items -------------------------------------------------------------------


def test_latest_items_orders_newest_day_then_upvotes_then_id():
    days = [
        day("2026-10-01", paper("2610.00001", upvotes=99)),
        day(
            "2026-10-02",
            paper("2610.00003", upvotes=5),
            paper("2610.00002", upvotes=5),
            paper("2610.00004", upvotes=7),
        ),
    ]
    got = [(i.featured.isoformat(), i.paper.id) for i in latest_items(days, 10)]
    assert got == [
        ("2026-10-02", "2610.00004"),
        ("2026-10-02", "2610.00002"),
        ("2026-10-02", "2610.00003"),
        ("2026-10-01", "2610.00001"),
    ]


def test_latest_items_same_paper_on_two_days_once_on_first_day():
    days = [day("2026-10-03", paper(upvotes=50)), day("2026-10-02", paper(upvotes=20))]
    items = latest_items(days, 10)
    assert len(items) == 1
    assert items[0].featured == dt.date(2026, 10, 2)
    assert items[0].paper.upvotes == 50  # freshest record


def test_latest_items_limit_caps_count():
    days = [day("2026-10-03", *(paper(f"2610.{n:05d}") for n in range(20)))]
    assert len(latest_items(days, 7)) == 7
    assert latest_items(days, 0) == []
    assert latest_items([], 5) == []


# --- the written feeds --------------------------------------------------------------


def test_entries_ids_links_and_dates(tmp_path):
    items = latest_items(
        [
            day("2026-10-03", paper("2610.01092"), paper("2610.01093")),
            day("2026-10-02", paper("2610.00500")),
        ],
        50,
    )
    parsed = write(tmp_path, items)
    for name, ids in feed_ids(parsed).items():
        assert ids == [f"urn:daily-papers:{name}:{i.paper.id}" for i in items], name
        assert len(set(ids)) == len(ids)
    for name in XML_FILES:
        for entry, item in zip(parsed[name].entries, items, strict=True):
            assert entry.link == f"{SITE}papers/{item.paper.id}/"
            assert entry.published_parsed[:6] == (*item.featured.timetuple()[:3], 0, 0, 0)
    rss_dates = [email.utils.parsedate_to_datetime(e.published) for e in parsed["feed.xml"].entries]
    atom_dates = [dt.datetime.fromisoformat(e.updated) for e in parsed["atom.xml"].entries]
    expected = [dt.datetime(2026, 10, 3, tzinfo=UTC)] * 2 + [dt.datetime(2026, 10, 2, tzinfo=UTC)]
    assert rss_dates == atom_dates == expected
    assert all(d.tzinfo is not None for d in rss_dates + atom_dates)
    for entry, item in zip(parsed["feed.json"]["items"], items, strict=True):
        assert entry["url"] == f"{SITE}papers/{item.paper.id}/"
        assert dt.datetime.fromisoformat(entry["date_published"]).tzinfo is not None


def test_rss_guid_is_not_a_permalink(tmp_path):
    write(tmp_path, items_of(paper()))
    guids = lxml.etree.parse(str(tmp_path / "feed.xml")).findall(".//item/guid")
    assert [(g.text, g.get("isPermaLink")) for g in guids] == [
        ("urn:daily-papers:feed.xml:2610.01092", "false")
    ]


def test_feed_level_fields(tmp_path):
    parsed = write(tmp_path, items_of(paper()), config(title="My Papers", language="de"))
    rss, atom, js = parsed["feed.xml"].feed, parsed["atom.xml"].feed, parsed["feed.json"]
    assert rss.title == atom.title == js["title"] == "My Papers"
    assert rss.link == atom.link == js["home_page_url"] == SITE
    assert {"rel": "self", "href": f"{SITE}feed.xml"}.items() <= _self_link(rss).items()
    assert {"rel": "self", "href": f"{SITE}atom.xml"}.items() <= _self_link(atom).items()
    assert js["feed_url"] == f"{SITE}feed.json"
    assert js["version"] == "https://jsonfeed.org/version/1.1"
    assert rss.language == js["language"] == "de"
    assert rss.generator == atom.generator == "Daily Papers"
    assert rss.updated_parsed[:3] == atom.updated_parsed[:3] == (2026, 10, 3)


def _self_link(feed) -> dict:
    return next(link for link in feed.links if link.get("rel") == "self")


def test_sub_path_and_title_argument(tmp_path):
    parsed = write(tmp_path, items_of(paper()), path="topics/llm", title="LLM papers")
    assert (tmp_path / "topics" / "llm" / "feed.xml").is_file()
    assert parsed["feed.xml"].feed.title == parsed["feed.json"]["title"] == "LLM papers"
    assert parsed["atom.xml"].feed.link == f"{SITE}topics/llm/"
    assert _self_link(parsed["feed.xml"].feed)["href"] == f"{SITE}topics/llm/feed.xml"
    assert parsed["feed.json"]["feed_url"] == f"{SITE}topics/llm/feed.json"
    # entries still link to the paper page at the site root
    assert parsed["atom.xml"].entries[0].link == f"{SITE}papers/2610.01092/"


@pytest.mark.parametrize("bad", ["../x/", "/etc/", "topics/../../x"])
def test_sub_path_must_stay_inside(tmp_path, bad):
    with pytest.raises(ValueError):
        write_feeds([], config(), tmp_path, path=bad)


def test_authors_organization_and_categories(tmp_path):
    names = [f"Author {n}" for n in range(15)]
    p = paper(
        authors=names,
        organization={"name": "acme", "fullname": "ACME Labs"},
        keywords=["LLM", "RL", "LLM"],
    )
    parsed = write(tmp_path, items_of(p))
    byline = ", ".join(names[:10]) + " et al. (ACME Labs)"
    for name in XML_FILES:
        entry = parsed[name].entries[0]
        assert entry.author == byline
        assert [t.term for t in entry.tags] == ["LLM", "RL"]
    item = parsed["feed.json"]["items"][0]
    assert item["authors"] == [{"name": byline}]
    assert item["tags"] == ["LLM", "RL"]


def test_paper_without_authors_still_valid(tmp_path):
    parsed = write(tmp_path, items_of(paper(authors=[])))
    assert "author" not in parsed["atom.xml"].entries[0]
    assert "authors" not in parsed["feed.json"]["items"][0]


# --- hostile inputs (reference/hostile-inputs.md rows 1, 11, 12, 13, 14, 15, 30) ---------


def _has_element(raw: bytes, local_name: str) -> bool:
    root = lxml.etree.fromstring(raw)
    return any(lxml.etree.QName(el).localname.lower() == local_name for el in root.iter("{*}*"))


def test_script_title_is_literal_text(tmp_path):
    hostile = "<script>alert(1)</script>"
    parsed = write(tmp_path, items_of(paper(title=hostile, summary=f"Abstract {hostile} end")))
    for name in XML_FILES:
        entry = parsed[name].entries[0]
        assert entry.title == hostile
        assert not _has_element((tmp_path / name).read_bytes(), "script")
    assert parsed["atom.xml"].entries[0].summary == counted(f"Abstract {hostile} end")
    assert parsed["feed.json"]["items"][0]["title"] == hostile
    assert parsed["feed.json"]["items"][0]["content_text"] == counted(f"Abstract {hostile} end")
    # RSS description is HTML to readers: parsed as HTML it is text, not a script
    raw_desc = lxml.etree.parse(str(tmp_path / "feed.xml")).findtext(".//item/description")
    fragment = lxml.html.fragment_fromstring(raw_desc, create_parent="div")
    assert fragment.findall(".//script") == []
    assert fragment.text_content() == COUNTS + f"Abstract {hostile} end"


def test_rss_description_html_escaped(tmp_path):
    text = "a < b && c > d; 'q' \"dq\" &amp; <img src=x onerror=alert(1)>"
    write(tmp_path, items_of(paper(summary=text)))
    raw_desc = lxml.etree.parse(str(tmp_path / "feed.xml")).findtext(".//item/description")
    fragment = lxml.html.fragment_fromstring(raw_desc, create_parent="div")
    assert fragment.text_content() == COUNTS + text
    assert [(el.tag, len(el)) for el in fragment] == [("p", 0), ("p", 0)]  # text only
    atom = lxml.etree.parse(str(tmp_path / "atom.xml"))
    summary = atom.find(".//{http://www.w3.org/2005/Atom}summary")
    assert summary.get("type") == "text" and summary.text == counted(text)


def test_cdata_end_in_abstract(tmp_path):
    text = "before ]]> after <![CDATA[ x ]]>"
    parsed = write(tmp_path, items_of(paper(summary=text, title="T ]]> T")))
    for name in XML_FILES:
        assert len(parsed[name].entries) == 1
        assert parsed[name].entries[0].title == "T ]]> T"
    assert parsed["atom.xml"].entries[0].summary == counted(text)
    assert parsed["feed.json"]["items"][0]["content_text"] == counted(text)


def test_control_characters_stripped_by_model(tmp_path):
    p = paper(title="bad\x00ti\x0btle\ufffe", summary="ab\x00st\x1bract\x7f")
    parsed = write(tmp_path, items_of(p))
    assert parsed["atom.xml"].entries[0].title == "badtitle"
    assert parsed["atom.xml"].entries[0].summary == counted("abstract")


def test_control_characters_stripped_even_without_validation(tmp_path):
    # model_copy skips validation: the feed writer must not rely on the model's cleaning
    dirty = paper().model_copy(
        update={
            "title": "ti\x00t\x0ble\ud800\uffff",
            "summary": "ab\x00s\x08tract\ufffe",
            "authors": ["A\x01da"],
            "keywords": ["k\x02w", "\x00"],
        }
    )
    parsed = write(
        tmp_path,
        [FeedItem(dirty, dt.date(2026, 10, 3))],
        config(title="Site\x00", description="D\x0besc"),
    )
    for name in XML_FILES:
        entry = parsed[name].entries[0]
        assert entry.title == "title"
        assert entry.author == "Ada"
        assert [t.term for t in entry.tags] == ["kw"]
        assert parsed[name].feed.title == "Site"
    assert parsed["atom.xml"].entries[0].summary == counted("abstract")
    assert parsed["feed.json"]["items"][0]["content_text"] == counted("abstract")


def test_emoji_rtl_and_cjk_kept(tmp_path):
    title = "🤖 Robots \u202eevil\u202c 大模型 𝔸"
    parsed = write(tmp_path, items_of(paper(title=title, summary=title)))
    for name in XML_FILES:
        assert parsed[name].entries[0].title == title
    assert parsed["atom.xml"].entries[0].summary == counted(title)
    assert parsed["feed.json"]["items"][0]["title"] == title


def test_same_paper_on_two_days_one_entry(tmp_path):
    days = [day("2026-10-02", paper()), day("2026-10-03", paper(), paper("2610.01093"))]
    parsed = write(tmp_path, latest_items(days, 50))
    for name, ids in feed_ids(parsed).items():
        assert sorted(ids) == [
            f"urn:daily-papers:{name}:2610.01092",
            f"urn:daily-papers:{name}:2610.01093",
        ], name
    entry = next(e for e in parsed["atom.xml"].entries if e.id.endswith("2610.01092"))
    assert entry.published_parsed[:3] == (2026, 10, 2)


def test_upvotes_change_keeps_ids(tmp_path):
    before = write(tmp_path / "a", items_of(paper(upvotes=1)))
    after = write(tmp_path / "b", items_of(paper(upvotes=500, comments=9)))
    assert feed_ids(before) == feed_ids(after)


def test_site_url_change_keeps_ids(tmp_path):
    items = items_of(paper(), paper("2610.01093"))
    old = write(tmp_path / "a", items, config())
    new = write(tmp_path / "b", items, config(site_url="https://papers.example.com/"))
    assert feed_ids(old) == feed_ids(new)
    assert new["atom.xml"].entries[0].link.startswith("https://papers.example.com/papers/")


def test_limit_caps_feed(tmp_path):
    days = [
        day(f"2026-10-{d:02d}", *(paper(f"26{d:02d}.{n:05d}") for n in range(10)))
        for d in range(1, 11)
    ]
    parsed = write(tmp_path, latest_items(days, 25))
    for name, ids in feed_ids(parsed).items():
        assert len(ids) == 25 == len(set(ids)), name


def test_empty_feed_is_valid(tmp_path):
    parsed = write(tmp_path, [])
    for name in XML_FILES:
        assert parsed[name].entries == []
        assert parsed[name].feed.title == "Daily Papers"
    assert parsed["feed.json"]["items"] == []
    assert parsed["feed.json"]["version"] == "https://jsonfeed.org/version/1.1"


class _AnyDatetime(type):
    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, dt.datetime)  # feedgen checks isinstance(value, datetime)


class _FutureClock(dt.datetime, metaclass=_AnyDatetime):
    """Stands in for feedgen's `datetime`: now() is far in the future."""

    @classmethod
    def now(cls, tz=None):
        return dt.datetime(2099, 1, 2, 3, 4, 5, tzinfo=tz)


@pytest.mark.parametrize("papers", [[], [paper(), paper("2610.01093", upvotes=3)]])
def test_deterministic_bytes_whatever_the_clock(tmp_path, monkeypatch, papers):
    items = items_of(*papers)
    first = [p.read_bytes() for p in write_feeds(items, config(), tmp_path / "a")]
    monkeypatch.setattr(feedgen.feed, "datetime", _FutureClock)
    monkeypatch.setattr(feedgen.entry, "datetime", _FutureClock)
    second = [p.read_bytes() for p in write_feeds(items, config(), tmp_path / "b")]
    assert first == second
    assert not any(b"2099" in data for data in second)


# --- ids across all of a built site's feeds (issue 20 item 6) ------------------------------


def site_feed_ids(site_dir: Path) -> dict[str, list[str]]:
    """{feed file (site-relative): its entry ids} for every feed of a built site."""
    found: dict[str, list[str]] = {}
    for path in sorted(site_dir.rglob("*")):
        name = path.relative_to(site_dir).as_posix()
        if path.name == "feed.json":
            found[name] = [i["id"] for i in json.loads(path.read_text(encoding="utf-8"))["items"]]
        elif path.suffix == ".xml" and not path.name.startswith("sitemap"):
            parsed = feedparser.parse(path.read_bytes())
            assert parsed.bozo == 0 and parsed.version, name
            found[name] = [e.id for e in parsed.entries]
    return found


def build_feeds_only(paths, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Build for real but with MkDocs and Pagefind stubbed out (they do not touch feeds)."""
    from conftest import build_project

    from generator import build as build_module
    from generator import site

    monkeypatch.setattr(
        site,
        "run_mkdocs",
        lambda paths, config, stage, tree, **_: stage.mkdir() or site.MkDocsReport(),
    )
    monkeypatch.setattr(build_module.search, "build_index", lambda *args: None)
    build_project(paths)
    return site_feed_ids(paths.site)


def test_no_entry_id_is_shared_by_two_feeds_of_the_site(embedded_site):
    # A reader (newsboat, …) merges entries with equal ids across its subscriptions: with the
    # arXiv URL as every feed's id, subscribing to feed.xml and feeds/top-10.xml showed 40
    # of the 50 papers of one of them (or none).
    ids = site_feed_ids(embedded_site.site)
    assert {
        "feed.xml",
        "atom.xml",
        "feed.json",
        "feeds/top-10.xml",
        "feeds/top-50.xml",
        "feeds/daily.xml",
    } <= set(ids)
    assert sum(name.startswith("topics/") for name in ids) >= 10
    assert sum(name.startswith("orgs/") for name in ids) >= 10
    assert len(ids["feeds/top-50.xml"]) > 0 and len(ids["feeds/top-10.xml"]) > 10
    owner: dict[str, str] = {}
    for name, entries in ids.items():
        assert len(entries) == len(set(entries)), name
        for entry in entries:
            assert owner.setdefault(entry, name) == name, (entry, owner[entry], name)


def test_feed_ids_survive_a_rebuild_with_other_upvotes_and_site_url(tmp_path, monkeypatch):
    from conftest import make_project

    from generator import store

    first = make_project(tmp_path / "a")
    before = build_feeds_only(first, monkeypatch)
    second = make_project(tmp_path / "b", settings={"site_url": "https://moved.example.net/x/"})
    changed = 0
    for one in store.load_all(second.content):  # re-fetched: other upvotes and comments
        papers = []
        for p in one.papers:  # one more upvote, unless it would cross a top-N threshold
            more = 0 if p.upvotes + 1 in (10, 50) else 1
            changed += more
            papers.append(
                p.model_copy(update={"upvotes": p.upvotes + more, "comments": p.comments + 1})
            )
        store.save_day(second.content, one.model_copy(update={"papers": papers}))
    assert changed > 500
    after = build_feeds_only(second, monkeypatch)
    assert after.keys() == before.keys()
    for name in before:  # the same entries with the same ids (the order may follow upvotes)
        assert sorted(after[name]) == sorted(before[name]), name
    assert all("example" not in entry for entries in after.values() for entry in entries)


# --- thumbnails and counts (issue 23) --------------------------------------------------------

THUMB = "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2610.01092.png"


def test_items_carry_the_thumbnail_and_the_counts(tmp_path):
    parsed = write(tmp_path, items_of(paper(thumbnail=THUMB, upvotes=60, comments=1)))
    rss = parsed["feed.xml"].entries[0]
    assert [t["url"] for t in rss.media_thumbnail] == [THUMB]
    assert [(e.href, e.length, e.type) for e in rss.enclosures] == [(THUMB, "0", "image/png")]
    assert rss.description.startswith("<p>▲ 60 upvotes · 1 comment</p><p>")
    atom = parsed["atom.xml"].entries[0]
    assert [t["url"] for t in atom.media_thumbnail] == [THUMB]
    assert [link.href for link in atom.links] == [f"{SITE}papers/2610.01092/"]  # one alternate
    assert atom.summary.startswith("▲ 60 upvotes · 1 comment\n\n")
    item = parsed["feed.json"]["items"][0]
    assert item["image"] == THUMB and item["content_text"].startswith("▲ 60 upvotes")


def test_a_thumbnail_of_no_known_image_type_has_no_enclosure(tmp_path):
    parsed = write(tmp_path, items_of(paper(thumbnail="https://example.com/thumb?id=1")))
    rss = parsed["feed.xml"].entries[0]
    assert [t["url"] for t in rss.media_thumbnail] == ["https://example.com/thumb?id=1"]
    assert rss.enclosures == []


@pytest.mark.parametrize(
    "bad",
    [
        "javascript:alert(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        'https://x.org/a".png',
        " https://x.org/a.png",
        "//x.org/a.png",
    ],
)
def test_a_hostile_thumbnail_never_reaches_a_feed(tmp_path, bad):
    # model_copy skips validation: the feeds check the URL themselves
    dirty = paper().model_copy(update={"thumbnail": bad})
    parsed = write(tmp_path, [FeedItem(dirty, dt.date(2026, 10, 3))])
    assert "image" not in parsed["feed.json"]["items"][0]
    for name in XML_FILES:
        raw = (tmp_path / name).read_bytes()
        assert b"x.org" not in raw and b"javascript" not in raw and b"data:" not in raw
        assert not _has_element(raw, "thumbnail") and not _has_element(raw, "enclosure")
