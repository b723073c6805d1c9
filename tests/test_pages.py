"""Generated Markdown: golden files, and page structure. Regenerate goldens with --update-golden."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from tests_paths import GOLDEN, REPO

from generator import pages, store
from generator.config import SiteConfig


def render_all() -> dict[str, str]:
    day = store._parse(GOLDEN / "day.yml")[0]  # the golden input's name is not a date
    assert day is not None, store.check_day_file(GOLDEN / "day.yml")
    earlier = day.model_copy(update={"date": dt.date(2026, 10, 2), "papers": day.papers[1:]})
    archive = pages.Archive.of([earlier, day])
    renderer = pages.PageRenderer(SiteConfig(), REPO / "site_config" / "templates")
    return renderer.all_pages(archive)


@pytest.mark.parametrize("doc", ["index.md", "papers/date/2026-10-03.md", "papers/2610.01092.md", "archive.md"])
def test_golden(doc: str, request: pytest.FixtureRequest) -> None:
    text = render_all()[doc]
    golden = GOLDEN / (doc.replace("/", "__") + ".golden")
    if request.config.getoption("--update-golden"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), f"{doc} differs from {golden} (--update-golden)"


def test_pages_are_deterministic() -> None:
    assert render_all() == render_all()


def test_every_page_generated() -> None:
    assert sorted(render_all()) == [
        "archive.md", "feeds/index.md", "index.md", "orgs/index.md", "orgs/reactiveai.md",
        "papers/2610.00002.md", "papers/2610.01092.md",
        "papers/date/2026-10-02.md", "papers/date/2026-10-03.md",
        "papers/month/2026-10.md", "papers/trending.md", "papers/week/2026-W40.md",
        "topics/index.md",
    ]


def test_day_is_ranked_by_upvotes_and_links_neighbours() -> None:
    text = render_all()["papers/date/2026-10-03.md"]
    assert text.index("paper-2610.00002") < text.index("paper-2610.01092")  # 40 before 12 upvotes
    assert '<a href="../2026-10-02/">← Oct 2, 2026</a>' in text
    assert 'href="../../2610.01092/"' in text


def test_paper_featured_on_two_days_lists_both() -> None:
    text = render_all()["papers/2610.00002.md"]
    assert 'href="../date/2026-10-02/"' in text and 'href="../date/2026-10-03/"' in text


def test_write_pages_renders_only_changes_and_removes_stale(tmp_path: Path) -> None:
    renderer = pages.PageRenderer(SiteConfig(), REPO / "site_config" / "templates")
    day = store._parse(GOLDEN / "day.yml")[0]
    assert day is not None
    specs = renderer.plan(pages.Archive.of([day]))
    docs, manifest = tmp_path / "docs", tmp_path / "manifest.json"
    assert pages.write_pages(renderer, specs, docs, tmp_path / "none", manifest).written == len(specs)
    calls: list[str] = []
    original = renderer.render
    renderer.render = lambda template, doc, **kw: calls.append(doc) or original(template, doc, **kw)  # type: ignore[method-assign]
    assert pages.write_pages(renderer, specs, docs, tmp_path / "none", manifest).written == 0
    assert calls == []  # unchanged inputs: not even rendered
    bumped = day.model_copy(update={"papers": [day.papers[0].model_copy(update={"upvotes": 1})]})
    specs = renderer.plan(pages.Archive.of([bumped]))
    assert pages.write_pages(renderer, specs, docs, tmp_path / "none", manifest).written == 8
    assert sorted(calls) == [  # every page that shows the paper's upvotes or the day's count
        "archive.md", "index.md", "orgs/reactiveai.md", "papers/2610.01092.md",
        "papers/date/2026-10-03.md", "papers/month/2026-10.md", "papers/trending.md",
        "papers/week/2026-W40.md",
    ]
    assert not (docs / "papers" / "2610.00002.md").exists()  # no longer generated: removed


@pytest.mark.parametrize(("src", "dst", "expected"), [
    ("", "papers/1/", "papers/1/"), ("papers/date/x/", "papers/1/", "../../1/"),
    ("archive/", "", "../"), ("papers/1/", "papers/1/", "./"), ("papers/1/", "feed.xml", "../../feed.xml"),
])
def test_rel(src: str, dst: str, expected: str) -> None:
    assert pages.rel(src, dst) == expected
