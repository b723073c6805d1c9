"""End to end: the embedded content built into a site; pages, feeds and links checked as built."""

from __future__ import annotations

import datetime as dt
import gc
import html
import json
import time
from pathlib import Path

import feedparser
import pytest
from conftest import build_project, make_project
from markupsafe import escape
from sitecheck import broken_feed_links, broken_links, load

from generator import store
from generator.config import Paths
from generator.errors import GeneratorError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def days(embedded_site: Paths) -> list:
    return store.load_all(embedded_site.content)


def test_home_is_the_latest_day_ranked_by_upvotes(embedded_site: Paths, days: list) -> None:
    latest = days[-1]
    home = load(embedded_site.site, "")
    assert "Daily Papers" in home.text("h1")
    assert home.find("time", datetime=latest.date.isoformat())
    cards = [a["id"].removeprefix("paper-") for a in home.find("li") if a.get("class") == "dp-card"]
    assert cards == [p.id for p in latest.ranked()]
    assert len(cards) == len(latest.papers) > 10


def test_day_pages_link_previous_and_next(embedded_site: Paths, days: list) -> None:
    for i, day in enumerate(days):
        page = load(embedded_site.site, f"papers/date/{day.date}/")
        hrefs = page.links()
        if i > 0:
            assert f"../{days[i - 1].date}/" in hrefs
        if i + 1 < len(days):
            assert f"../{days[i + 1].date}/" in hrefs


def test_every_paper_has_a_page_with_its_fields(embedded_site: Paths, days: list) -> None:
    papers = {p.id: (p, d.date) for d in days for p in d.papers}
    assert len(papers) >= 250
    for pid, (paper, _featured) in list(papers.items())[:: max(1, len(papers) // 40)]:
        page = load(embedded_site.site, f"papers/{pid}/")
        assert page.find("article", **{"data-pagefind-body": ""})
        hrefs = page.links()
        for url in (paper.hf_url, paper.arxiv_url, paper.pdf_url):
            assert url in hrefs
        if paper.github:
            assert paper.github in hrefs
        raw = (embedded_site.site / "papers" / pid / "index.html").read_text(encoding="utf-8")
        for author in paper.authors:  # Jinja escapes ' as &#39;, Markdown leaves it
            assert str(escape(author)) in raw or html.escape(author, quote=False) in raw


def test_archive_lists_every_day_with_counts(embedded_site: Paths, days: list) -> None:
    archive = load(embedded_site.site, "archive/")
    cells = {a["href"]: a for a in archive.find("a") if a.get("title", "").endswith("papers")}
    for day in days:  # a calendar cell per day: links the day page, titled with its count
        assert cells[f"../papers/date/{day.date}/"]["title"] == f"{len(day.papers)} papers"


def test_feeds_parse_with_unique_absolute_ids_and_dates(embedded_site: Paths) -> None:
    for name in ("feed.xml", "atom.xml"):
        feed = feedparser.parse((embedded_site.site / name).read_bytes())
        assert feed.bozo == 0, (name, feed.get("bozo_exception"))
        ids = [e.id for e in feed.entries]
        assert len(ids) == len(set(ids)) == 50
        assert all(i.startswith(f"urn:daily-papers:{name}:") for i in ids)
        assert all(
            e.link.startswith("https://example.org/daily-papers/papers/") for e in feed.entries
        )
        assert all(e.published_parsed or e.updated_parsed for e in feed.entries)
    data = json.loads((embedded_site.site / "feed.json").read_text(encoding="utf-8"))
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert len({i["id"] for i in data["items"]}) == len(data["items"]) == 50


def test_feed_links_point_at_built_pages(embedded_site: Paths) -> None:
    assert broken_feed_links(embedded_site.site, "https://example.org/daily-papers/") == []


def test_no_broken_internal_links_or_anchors(embedded_site: Paths) -> None:
    assert broken_links(embedded_site.site, "/daily-papers/") == []


def test_search_indexes_only_paper_pages(embedded_site: Paths, days: list) -> None:
    entries = [
        json.loads(p.read_text())
        for p in (embedded_site.site / "pagefind").rglob("pagefind-entry.json")
    ]  # one bundle per year: the embedded days span 2025 and 2026
    assert len(entries) == 2
    page_count = sum(
        lang["page_count"] for entry in entries for lang in entry["languages"].values()
    )
    assert page_count == len({p.id for d in days for p in d.papers})
    assert not (embedded_site.site / "search" / "search_index.json").exists()  # lunr is off


def test_site_makes_no_third_party_requests(embedded_site: Paths) -> None:
    home = load(embedded_site.site, "")
    for tag, attrs in home.elements:
        if tag in ("script", "img", "iframe") or (
            tag == "link" and attrs.get("rel") == "stylesheet"
        ):
            src = attrs.get("src") or attrs.get("href") or ""
            assert not src.startswith(("http:", "https:", "//")), src


def test_rebuild_of_unchanged_content_rewrites_nothing(tmp_path: Path) -> None:
    paths = make_project(tmp_path / "p")
    first = build_project(paths)
    before = {
        p: p.read_bytes()
        for p in (paths.site).rglob("*")
        if p.is_file() and "pagefind" not in p.parts
    }
    leftover = paths.build / ".related-state.npz.tmp-999999"  # a killed build's forked step
    leftover.write_bytes(b"half written")
    assert gc.get_freeze_count() == 0  # the build froze its archive, and unfroze it
    second = build_project(paths)
    assert not leftover.exists()
    assert first.pages_written > 0 and second.pages_written == 0
    after = {
        p: p.read_bytes()
        for p in (paths.site).rglob("*")
        if p.is_file() and "pagefind" not in p.parts
    }
    changed = [str(p) for p in before if before[p] != after.get(p)]
    # sitemap.xml carries no build date here; everything else must be byte-identical too
    assert changed == []


def test_failed_build_leaves_published_site_untouched(tmp_path: Path) -> None:
    paths = make_project(tmp_path / "p")
    build_project(paths)
    snapshot = {p: p.stat().st_mtime_ns for p in paths.site.rglob("*")}
    template = paths.templates / "paper.md.j2"
    template.write_text(template.read_text() + "{{ missing_variable.x }}")
    with pytest.raises(GeneratorError, match="paper.md.j2"):
        build_project(paths)
    assert {p: p.stat().st_mtime_ns for p in paths.site.rglob("*")} == snapshot
    (paths.content / "2026" / "2026-08-20.yml").write_text("date: 2026-08-20\npapers: [1]\n")
    with pytest.raises(GeneratorError, match="2026-08-20.yml"):
        build_project(paths)
    assert {p: p.stat().st_mtime_ns for p in paths.site.rglob("*")} == snapshot
    assert not [p for p in paths.root.glob(".site-*") if not p.name.startswith(".site-trash-")]
    deadline = time.monotonic() + 30  # a failed build's stage, deleted in the background
    while list(paths.root.glob(".site-trash-*")):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_broken_markdown_link_fails_the_build(tmp_path: Path) -> None:
    paths = make_project(tmp_path / "p")
    archive = paths.templates / "archive.md.j2"
    archive.write_text(archive.read_text() + "\n[gone](papers/date/1999-01-01.md)\n")
    with pytest.raises(GeneratorError, match="MkDocs build failed.*1999-01-01"):
        build_project(paths)
    assert not paths.site.exists()


def test_empty_content_builds_a_site_that_says_so(tmp_path: Path) -> None:
    paths = make_project(tmp_path / "p", content_from=None)
    build_project(paths)
    assert "No papers yet" in load(paths.site, "").text("p")
    assert feedparser.parse((paths.site / "feed.xml").read_bytes()).bozo == 0


def test_build_date_independent(embedded_site: Paths) -> None:
    # nothing in the built pages depends on the day it was built
    today = dt.date.today().isoformat()
    assert today not in (embedded_site.site / "index.html").read_text() or today == "2026-08-21"


def test_incremental_build_equals_full_build(tmp_path: Path) -> None:
    """Add a day and re-fetch counts on a built site: the result equals a fresh full build."""
    inc = make_project(tmp_path / "inc")
    build_project(inc)
    days = store.load_all(inc.content)
    last = days[-1]
    bumped = last.papers[0].model_copy(update={"upvotes": 99})
    store.save_day(inc.content, store.merge(last, last.date, [bumped]))
    new_day = dt.date(2026, 10, 5)
    store.save_day(inc.content, store.merge(None, new_day, days[0].papers[:3]))
    report = build_project(inc)
    assert 0 < report.pages_rendered < 40 and report.pages_cached > 250

    full = make_project(tmp_path / "full", content_from=inc.content)
    assert build_project(full).pages_cached == 0
    inc_files = sorted(p.relative_to(inc.site) for p in inc.site.rglob("*") if p.is_file())
    full_files = sorted(p.relative_to(full.site) for p in full.site.rglob("*") if p.is_file())
    assert inc_files == full_files
    differing = [
        str(f) for f in inc_files if (inc.site / f).read_bytes() != (full.site / f).read_bytes()
    ]
    assert differing == []
    home = (inc.site / "index.html").read_text(encoding="utf-8")
    assert "2026-10-05" in home


def test_sitemap_is_a_small_index_listing_every_page(embedded_site: Paths, days: list) -> None:
    from lxml import etree

    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    index = etree.fromstring((embedded_site.site / "sitemap.xml").read_bytes())
    parts = index.xpath("//s:sitemap/s:loc/text()", namespaces=ns)
    assert parts and (embedded_site.site / "sitemap.xml").stat().st_size < 2000
    urls = []
    for part in parts:
        name = part.removeprefix("https://example.org/daily-papers/")
        urls += etree.fromstring((embedded_site.site / name).read_bytes()).xpath(
            "//s:url/s:loc/text()", namespaces=ns
        )
    papers = {p.id for d in days for p in d.papers}
    built = {
        p.parent.relative_to(embedded_site.site).as_posix() + "/"
        for p in embedded_site.site.rglob("index.html")
    }
    built = {"https://example.org/daily-papers/" + u.removeprefix("./") for u in built}
    assert len(urls) == len(set(urls)) == len(built) > len(papers) + len(days)
    assert set(urls) == built
    assert "https://example.org/daily-papers/papers/2608.19880/" in urls


def test_pages_skipping_markdown_are_the_pages_markdown_makes(
    rich_site: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paper, day, week, month, trending, topic and organization pages are generated HTML
    (`dp_html: true`); MkDocs' plugin hands them to the theme without Python-Markdown,
    whose raw-HTML parser was most of a page's render time. Built through Markdown they are
    the same bytes: hostile titles and abstracts, math, authors, organizations and all."""
    from generator import site

    monkeypatch.setattr(site, "RAW_HTML_PAGES", False)
    through_markdown = make_project(tmp_path / "p", content_from=rich_site.content)
    build_project(through_markdown)
    raw = [
        doc
        for doc in sorted(rich_site.docs.rglob("*.md"))
        if "\ndp_html: true\n---\n" in doc.read_text(encoding="utf-8")
    ]
    pages = [
        rich_site.site / site.dest_of(doc.relative_to(rich_site.docs).as_posix()) for doc in raw
    ]
    kinds = {page.relative_to(rich_site.site).parts[:2] for page in pages}
    assert {
        ("papers", "date"),
        ("papers", "week"),
        ("papers", "month"),
        ("papers", "trending"),
        ("index.html",),
    } <= kinds
    assert any(k[0] == "topics" for k in kinds) and any(k[0] == "orgs" for k in kinds)
    assert sum(1 for k in kinds if k[0] == "papers" and k[1][:1].isdigit()) > 200
    for page in pages:
        rel = page.relative_to(rich_site.site)
        assert page.read_bytes() == (through_markdown.site / rel).read_bytes(), rel


def test_many_small_mkdocs_shards_build_the_same_site_and_keep_a_previous_one(
    embedded_site: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large render is split into shards of at most MAX_SHARD pages, each rendered by a
    process of its own, two at a time; the pages merge into the site a single MkDocs run
    makes. The first publish also leaves build/site-previous (hard links of the site) for
    the next build to sync into."""
    from sitecheck import manifest

    from generator import site

    monkeypatch.setattr(site, "MIN_SHARD", 20)
    monkeypatch.setattr(site, "MAX_SHARD", 60)  # ~330 pages: 6 shards
    assert len(site._shards(list(range(330)), 2)) == 6
    sharded = make_project(tmp_path / "p")
    report = build_project(sharded)
    assert report.pages_rendered > 300
    assert manifest(sharded.site) == manifest(embedded_site.site)
    previous = sharded.build / site.SPARE
    assert manifest(previous) == manifest(sharded.site)
    page = Path("papers", "2608.19880", "index.html")
    assert (previous / page).stat().st_ino == (sharded.site / page).stat().st_ino


def test_a_failing_step_ends_the_forked_steps_instead_of_waiting_on_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The JSON export, the feeds and related papers run in forked children that send their
    result through a pipe; when a later step fails nobody reads it. A result larger than a
    pipe holds must not leave the build waiting on a child that waits to send it."""
    import multiprocessing
    import threading

    from generator import build as build_module
    from generator.errors import BuildError

    paths = make_project(tmp_path / "p")
    build_project(paths)  # a second build forks those steps (a first one makes them inline)
    (paths.content / "2026" / "2026-08-21.yml").unlink()
    big = b"x" * 4_000_000  # a pipe holds 64 KB
    monkeypatch.setattr(build_module.export, "write_api", lambda archive, cache: big)

    def fail(*args: object, **kwargs: object) -> None:
        raise BuildError("the pages step failed")

    monkeypatch.setattr(build_module.pages.PageRenderer, "plan", fail)
    raised: list[BaseException] = []

    def run() -> None:
        try:
            build_project(paths)
        except BaseException as exc:  # noqa: BLE001 - checked below
            raised.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=90)
    assert not worker.is_alive(), "the build hung on its forked steps"
    assert [str(e) for e in raised] == ["the pages step failed"]
    assert not multiprocessing.active_children()
    assert not [p for p in paths.root.glob(".site-*") if not p.name.startswith(".site-trash-")]
    deadline = time.monotonic() + 30  # a failed build's stage, deleted in the background
    while list(paths.root.glob(".site-trash-*")):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_paper_and_day_pages_use_the_lean_template(embedded_site: Paths, days: list) -> None:
    """Paper and day pages (overrides/lean.html): the header with its search button and
    palette, the article, no sidebars, no search dialog markup (search.js adds it)."""
    paper = days[-1].ranked()[0]
    for rel in (f"papers/{paper.id}", f"papers/date/{days[-1].date.isoformat()}", ""):
        text = (embedded_site.site / rel / "index.html").read_text(encoding="utf-8")
        assert "pagefind-modal-trigger" in text and 'id="__palette_0"' in text, rel
        assert "<pagefind-modal>" not in text and "md-sidebar" not in text, rel
        assert text.count("<h1") == 1, rel
        assert '<div class="md-content" data-md-component="content"><article' in text, rel
        assert "\n\n\n" not in text.split('data-md-component="content"')[1].split("</main>")[0]
    archive = (embedded_site.site / "archive" / "index.html").read_text(encoding="utf-8")
    assert "<pagefind-modal>" not in archive and "pagefind-modal-trigger" in archive


def test_squeeze_keeps_one_line_break_and_leaves_pre_alone() -> None:
    from generator.site import squeeze

    assert squeeze("<p>a</p>\n    \n\n  <p>b</p>\n\t<a>c</a> <a>d</a>") == (
        "<p>a</p>\n<p>b</p>\n<a>c</a> <a>d</a>"
    )
    page = "<div>\n   <pre>  x\n    y</pre>\n</div>"
    assert squeeze(page) == page


def test_built_pages_carry_no_blank_lines_or_indentation(embedded_site: Paths) -> None:
    for rel in ("index.html", "papers/2511.17592/index.html", "topics/index.html"):
        text = (embedded_site.site / rel).read_text(encoding="utf-8")
        assert "\n\n" not in text and "\n " not in text, rel
