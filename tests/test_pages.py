"""Generated Markdown: golden files, and page structure. Regenerate goldens with --update-golden."""

from __future__ import annotations

import datetime as dt
import shutil
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


@pytest.mark.parametrize(
    "doc", ["index.md", "papers/date/2026-10-03.md", "papers/2610.01092.md", "archive.md"]
)
def test_golden(doc: str, request: pytest.FixtureRequest) -> None:
    text = render_all()[doc]
    golden = GOLDEN / (doc.replace("/", "__") + ".golden")
    if request.config.getoption("--update-golden"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), (
        f"{doc} differs from {golden} (--update-golden)"
    )


def test_pages_are_deterministic() -> None:
    assert render_all() == render_all()


def test_every_page_generated() -> None:
    assert sorted(render_all()) == [
        "archive.md",
        "feeds/index.md",
        "index.md",
        "orgs/index.md",
        "orgs/reactiveai.md",
        "papers/2610.00002.md",
        "papers/2610.01092.md",
        "papers/date/2026-10-02.md",
        "papers/date/2026-10-03.md",
        "papers/month/2026-10.md",
        "papers/rising.md",
        "papers/trending.md",
        "papers/week/2026-W40.md",
        "topics/index.md",
    ]


def test_day_is_ranked_by_upvotes_and_links_neighbours() -> None:
    text = render_all()["papers/date/2026-10-03.md"]
    assert text.index("paper-2610.00002") < text.index("paper-2610.01092")  # 40 before 12 upvotes
    assert '<a class="dp-prev" rel="prev" href="../2026-10-02/">← Oct 2, 2026</a>' in text
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
    assert pages.write_pages(renderer, specs, docs, tmp_path / "none", manifest).written == len(
        specs
    )
    calls: list[str] = []
    original = renderer.render
    renderer.render = lambda template, doc, **kw: calls.append(doc) or original(template, doc, **kw)  # type: ignore[method-assign]
    assert pages.write_pages(renderer, specs, docs, tmp_path / "none", manifest).written == 0
    assert calls == []  # unchanged inputs: not even rendered
    bumped = day.model_copy(update={"papers": [day.papers[0].model_copy(update={"upvotes": 1})]})
    specs = renderer.plan(pages.Archive.of([bumped]))
    assert pages.write_pages(renderer, specs, docs, tmp_path / "none", manifest).written == 8
    assert sorted(calls) == [  # every page that shows the paper's upvotes or the day's count
        "archive.md",
        "index.md",
        "orgs/reactiveai.md",
        "papers/2610.01092.md",
        "papers/date/2026-10-03.md",
        "papers/month/2026-10.md",
        "papers/trending.md",
        "papers/week/2026-W40.md",
    ]
    assert not (docs / "papers" / "2610.00002.md").exists()  # no longer generated: removed


def test_pages_rendered_in_forked_shares_equal_pages_rendered_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    renderer = pages.PageRenderer(SiteConfig(), REPO / "site_config" / "templates")
    day = store._parse(GOLDEN / "day.yml")[0]
    assert day is not None
    specs = renderer.plan(pages.Archive.of([day]))
    here = pages.write_pages(renderer, specs, tmp_path / "here", tmp_path / "none", tmp_path / "m1")
    monkeypatch.setattr(pages, "PARALLEL_MIN", 1)  # a share per core, however few pages
    monkeypatch.setattr(pages.os, "cpu_count", lambda: 2)
    started: list[str] = []
    real_forked = pages.Forked
    monkeypatch.setattr(
        pages, "Forked", lambda *a, **k: started.append(a[0]) or real_forked(*a, **k)
    )
    forked = pages.write_pages(
        renderer, specs, tmp_path / "forked", tmp_path / "none", tmp_path / "m2"
    )
    assert forked.written == here.written == len(specs)
    assert started == ["pages", "pages"]
    read = lambda root: {p.relative_to(root): p.read_bytes() for p in root.rglob("*.md")}  # noqa: E731
    assert read(tmp_path / "forked") == read(tmp_path / "here")


@pytest.mark.parametrize(
    ("src", "dst", "expected"),
    [
        ("", "papers/1/", "papers/1/"),
        ("papers/date/x/", "papers/1/", "../../1/"),
        ("archive/", "", "../"),
        ("papers/1/", "papers/1/", "./"),
        ("papers/1/", "feed.xml", "../../feed.xml"),
    ],
)
def test_rel(src: str, dst: str, expected: str) -> None:
    assert pages.rel(src, dst) == expected


def test_write_pages_after_a_build_killed_while_writing_rewrites_what_it_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages are compared with the digests the manifest recorded, not read back. A build
    killed after replacing a page, before recording it, must not leave that page as the
    killed build made it when the next build wants the old text again."""
    renderer = pages.PageRenderer(SiteConfig(), REPO / "site_config" / "templates")
    day = store._parse(GOLDEN / "day.yml")[0]
    assert day is not None
    docs, manifest, none = tmp_path / "docs", tmp_path / "manifest.json", tmp_path / "none"
    specs = renderer.plan(pages.Archive.of([day]))
    pages.write_pages(renderer, specs, docs, none, manifest)
    before = {p: p.read_bytes() for p in docs.rglob("*.md")}
    bumped = day.model_copy(update={"papers": [day.papers[0].model_copy(update={"upvotes": 1})]})
    real_replace, replaced = pages.replace_file, []

    def killed_after_two(path: Path, data: bytes) -> None:
        if len(replaced) == 2:
            raise KeyboardInterrupt  # the build is killed here
        replaced.append(path)
        real_replace(path, data)

    monkeypatch.setattr(pages, "replace_file", killed_after_two)
    with pytest.raises(KeyboardInterrupt):
        pages.write_pages(renderer, renderer.plan(pages.Archive.of([bumped])), docs, none, manifest)
    assert len(replaced) == 2 and all(p.read_bytes() != before[p] for p in replaced)
    monkeypatch.setattr(pages, "replace_file", real_replace)
    pages.write_pages(renderer, specs, docs, none, manifest)  # the old content again
    assert {p: p.read_bytes() for p in docs.rglob("*.md")} == before


def test_write_pages_with_new_templates_replaces_only_pages_whose_text_changes(
    tmp_path: Path,
) -> None:
    """A new fingerprint (templates, config, code) renders every page again, but replaces
    only those whose Markdown differs (the others keep their files)."""
    day = store._parse(GOLDEN / "day.yml")[0]
    assert day is not None
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "site_config" / "templates", templates)
    docs, manifest, none = tmp_path / "docs", tmp_path / "manifest.json", tmp_path / "none"
    renderer = pages.PageRenderer(SiteConfig(), templates)
    pages.write_pages(renderer, renderer.plan(pages.Archive.of([day])), docs, none, manifest)
    inodes = {p: p.stat().st_ino for p in docs.rglob("*.md")}
    feeds = templates / "feeds.md.j2"
    feeds.write_text(feeds.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    renderer = pages.PageRenderer(SiteConfig(), templates)
    written = pages.write_pages(
        renderer, renderer.plan(pages.Archive.of([day])), docs, none, manifest
    )
    assert written.written == 1
    changed = [p for p in docs.rglob("*.md") if p.stat().st_ino != inodes[p]]
    assert [p.relative_to(docs).as_posix() for p in changed] == ["feeds/index.md"]
