"""generator.search.build_index: lean pages, one Pagefind bundle per year, incremental runs."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from collections import Counter
from pathlib import Path

import cbor2
import pytest

from generator import pagefind_bundle, search
from generator.errors import BuildError
from generator.models import Day, Organization, Paper
from generator.pages import Archive

HOSTILE_TITLE = '<script>alert("x")</script> Bounds for $a<b$ & </main><h1>Fake</h1>'


def paper(pid: str, title: str = "", summary: str = "") -> Paper:
    return Paper(
        id=pid,
        title=title or f"Paper {pid} about retrieval",
        summary=summary or f"The abstract of {pid}.",
        authors=["Ada Lovelace", "<b>Bold</b> Author"],
        published=dt.date(2024, 1, 1),
        upvotes=1,
        comments=0,
    )


def day(date: str, *papers: Paper) -> Day:
    return Day(date=dt.date.fromisoformat(date), papers=list(papers))


def three_years() -> list[Day]:
    return [
        day("2024-03-01", paper("2403.00001"), paper("2403.00002")),
        day("2025-06-02", paper("2506.00001", title=HOSTILE_TITLE), paper("2403.00002")),
        day("2026-01-05", paper("2601.00001"), paper("2601.00002")),
    ]


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The source folder of every Pagefind run, in order."""
    calls: list[str] = []
    real_spawn = search._spawn

    def spawn(cmd, *args, **kwargs):
        if "--site" in cmd:
            calls.append(Path(cmd[cmd.index("--site") + 1]).name)
        return real_spawn(cmd, *args, **kwargs)

    monkeypatch.setattr(search, "_spawn", spawn)
    return calls


def index(days: list[Day], tmp: Path, cache: Path) -> Path:
    """build_index into a fresh site folder (as a build does); the site folder."""
    site = tmp / f"site{len(list(tmp.glob('site*')))}"
    site.mkdir()
    search.build_index(Archive.of(days), site, cache)
    return site


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def fragments(bundle: Path) -> dict[str, dict]:
    """The records of one bundle (not its sub-bundles), by URL."""
    records = {}
    for frag in (bundle / "fragment").glob("*.pf_fragment"):
        data = json.loads(gzip.decompress(frag.read_bytes()).removeprefix(b"pagefind_dcd"))
        records[data["url"]] = data
    return records


def merge_data(site: Path) -> dict:
    script = (site / "pagefind" / search.MERGE_SCRIPT).read_text(encoding="utf-8")
    return json.loads(re.search(r"dailyPapersSearchIndexes = (\{.*\});", script).group(1))


def merged(site: Path) -> list[str]:
    """The bundles the browser merges, recent ones first."""
    data = merge_data(site)
    return data["recent"] + data["older"]


def page_count(bundle: Path) -> int:
    entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
    return sum(lang["page_count"] for lang in entry["languages"].values())


# ---------------------------------------------------------------- tests


HOSTILE_ORG = '<b>Lab</b> "A", B: C & </p></main><script>x</script>'


def test_lean_pages_escape_hostile_text(tmp_path: Path) -> None:
    days = three_years()
    hostile = days[1].papers[0]
    days[1].papers[0] = hostile.model_copy(
        update={"organization": Organization(name="lab", fullname=HOSTILE_ORG)}
    )
    site = index(days, tmp_path, tmp_path / "cache")
    source = (tmp_path / "cache/src/2025/papers/2506.00001/index.html").read_text()
    assert "<script>" not in source and "</main><h1>" not in source
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in source
    assert "$a&lt;b$ &amp;" in source  # math stays LaTeX text
    assert "&lt;b&gt;Bold&lt;/b&gt; Author" in source
    assert source.count("<h1") == 1 and source.count("<main") == 1
    assert 'data-pagefind-meta="date:2025-06-02"' in source
    assert 'data-pagefind-filter="year:2025"' in source
    assert "data-pagefind-sort" not in source  # no sort key: the UI ranks by relevance
    # What Pagefind stored: the title as literal text, the real page's URL, date and year.
    record = fragments(site / "pagefind" / "2025")["/papers/2506.00001/"]
    assert record["meta"]["title"] == HOSTILE_TITLE
    assert record["meta"]["date"] == "2025-06-02"
    # The organization as text, and as a filter value Pagefind can match (no `"`).
    assert HOSTILE_ORG in record["content"]
    assert record["content"].count("Lab") == 1
    assert record["filters"] == {
        "year": ["2025"],
        "organization": [HOSTILE_ORG.replace('"', "'")],
    }
    assert merge_data(site)["filters"] == ["year", "organization"]
    # A paper without an organization is in no organization's filter.
    assert fragments(site / "pagefind" / "2024")["/papers/2403.00001/"]["filters"] == {
        "year": ["2024"]
    }


def test_one_bundle_per_year_newest_is_primary(tmp_path: Path, runs: list[str]) -> None:
    site = index(three_years(), tmp_path, tmp_path / "cache")
    assert runs == ["2024", "2025", "2026"]
    bundles = site / "pagefind"
    assert merged(site) == ["2025/", "2024/"]
    # 2403.00002 was featured in 2024 and 2025: it belongs to 2025 only.
    assert set(fragments(bundles)) == {"/papers/2601.00001/", "/papers/2601.00002/"}
    assert set(fragments(bundles / "2025")) == {"/papers/2506.00001/", "/papers/2403.00002/"}
    assert set(fragments(bundles / "2024")) == {"/papers/2403.00001/"}
    assert (bundles / "pagefind-component-ui.js").is_file()
    assert (bundles / "pagefind.js").is_file() and (bundles / "wasm.en.pagefind").is_file()
    for year in ("2024", "2025"):
        assert (bundles / year / "pagefind-entry.json").is_file()
        assert list((bundles / year).glob("*.pf_meta"))
        assert not list((bundles / year).glob("*.js"))  # scripts come from the primary
    # Published files are the cache's files, linked (or copied) byte for byte.
    cache_2025 = files(tmp_path / "cache/index/2025")
    assert {k: v for k, v in cache_2025.items() if search._is_data(k)} == files(bundles / "2025")


def test_unchanged_rebuild_runs_pagefind_zero_times(tmp_path: Path, runs: list[str]) -> None:
    first = index(three_years(), tmp_path, tmp_path / "cache")
    sources = {p: p.stat().st_mtime_ns for p in (tmp_path / "cache/src").rglob("*")}
    runs.clear()
    second = index(three_years(), tmp_path, tmp_path / "cache")
    assert runs == []
    assert files(first / "pagefind") == files(second / "pagefind")
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "cache/src").rglob("*")} == sources


def test_a_killed_runs_output_folder_is_removed_by_the_next_build(tmp_path: Path) -> None:
    index(three_years(), tmp_path, tmp_path / "cache")
    leftover = tmp_path / "cache" / "index" / ".2025.tmp-999999"
    (leftover / "fragment").mkdir(parents=True)
    (leftover / "fragment" / "x.pf_fragment").write_bytes(b"half written")
    index(three_years(), tmp_path, tmp_path / "cache")
    assert not leftover.exists()
    assert (tmp_path / "cache" / "index" / "2025" / "pagefind-entry.json").is_file()


def test_a_first_search_covers_the_newest_slices_holding_recent_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # three_years(): 2026 has 2 papers, 2025 has 2 (one of them first featured in 2024), 2024 1.
    assert merge_data(index(three_years(), tmp_path, tmp_path / "c1")) == {
        "recent": ["2025/", "2024/"],  # 5 papers, fewer than RECENT_PAGES: all of them
        "older": [],
        "filters": ["year"],  # no paper has an organization
    }
    monkeypatch.setattr(search, "RECENT_PAGES", 3)
    assert merge_data(index(three_years(), tmp_path, tmp_path / "c2")) == {
        "recent": ["2025/"],  # 2026 and 2025 hold 4 papers, at least 3
        "older": ["2024/"],
        "since": "2 June 2025",  # the first day a paper of the recent slices was last featured
        "oldest": "March 2024",
        "filters": ["year"],
    }
    monkeypatch.setattr(search, "RECENT_PAGES", 2)
    data = merge_data(index(three_years(), tmp_path, tmp_path / "c3"))
    assert (data["recent"], data["older"]) == ([], ["2025/", "2024/"])
    assert (data["since"], data["oldest"]) == ("5 January 2026", "March 2024")


def test_a_change_reindexes_only_its_year_and_equals_a_full_build(
    tmp_path: Path, runs: list[str]
) -> None:
    index(three_years(), tmp_path, tmp_path / "cache")
    runs.clear()
    days = three_years()
    days[1] = day("2025-06-02", paper("2506.00001", title="A retitled paper"), paper("2403.00002"))
    days.append(day("2024-03-04", paper("2403.00003")))
    incremental = index(days, tmp_path, tmp_path / "cache")
    assert runs == ["2024", "2025"]
    runs.clear()
    full = index(days, tmp_path, tmp_path / "fresh-cache")
    assert runs == ["2024", "2025", "2026"]
    # Pagefind's output is byte-identical for identical input.
    assert files(incremental / "pagefind") == files(full / "pagefind")


def test_removed_papers_and_years_leave_the_cache_and_the_site(
    tmp_path: Path, runs: list[str]
) -> None:
    index(three_years(), tmp_path, tmp_path / "cache")
    runs.clear()
    days = three_years()[1:]
    days[0] = day("2025-06-02", paper("2506.00001", title=HOSTILE_TITLE))
    site = index(days, tmp_path, tmp_path / "cache")
    assert runs == ["2025"]  # 2026 is unchanged; 2024 is gone
    assert merged(site) == ["2025/"] and not (site / "pagefind" / "2024").exists()
    assert set(fragments(site / "pagefind" / "2025")) == {"/papers/2506.00001/"}
    assert sorted(p.name for p in (tmp_path / "cache/src").iterdir()) == ["2025", "2026"]
    assert sorted(p.name for p in (tmp_path / "cache/src/2025/papers").iterdir()) == ["2506.00001"]
    assert sorted(p.name for p in (tmp_path / "cache/index").iterdir()) == ["2025", "2026"]
    assert set(json.loads((tmp_path / "cache/manifest.json").read_text())) == {"2025", "2026"}


def test_empty_archive_has_a_valid_primary_index(tmp_path: Path) -> None:
    site = index([], tmp_path, tmp_path / "cache")
    bundles = site / "pagefind"
    assert page_count(bundles) == 1  # Pagefind writes no index of zero pages
    assert fragments(bundles)["/"]["meta"]["title"] == "No papers yet"
    assert (bundles / "pagefind-component-ui.js").is_file()
    assert merged(site) == []
    assert merge_data(site)["filters"] == []  # the modal shows no filter menu
    # The first paper replaces the stand-in.
    site = index([day("2026-01-05", paper("2601.00001"))], tmp_path, tmp_path / "cache")
    assert set(fragments(site / "pagefind")) == {"/papers/2601.00001/"}
    assert sorted(p.name for p in (tmp_path / "cache/index").iterdir()) == ["2026"]


def test_pagefind_failure_names_the_folder_and_keeps_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index(three_years(), tmp_path, tmp_path / "cache")
    manifest = (tmp_path / "cache/manifest.json").read_bytes()
    bundle = files(tmp_path / "cache/index/2026")

    def fail(cmd, *args, **kwargs):
        return 1, "Indexed 0 pages\nError: Pagefind was not able to build"

    monkeypatch.setattr(search, "_spawn", fail)
    days = three_years() + [day("2026-01-06", paper("2601.00003"))]
    with pytest.raises(
        BuildError, match=r"src/2026: Pagefind failed \(exit 1\): .*Error: Pagefind was not"
    ):
        index(days, tmp_path, tmp_path / "cache")
    assert (tmp_path / "cache/manifest.json").read_bytes() == manifest
    assert files(tmp_path / "cache/index/2026") == bundle
    assert [p.name for p in (tmp_path / "cache/index").iterdir() if p.name.startswith(".")] == []


def test_a_year_too_big_for_one_run_is_cut_into_calendar_slices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(search, "MAX_PAGES", 4)
    assert set(search.slices(2026, Counter({1: 2, 12: 2})).values()) == {"2026"}
    halves = search.slices(2026, Counter({1: 2, 3: 2, 12: 1}))
    assert (halves[1], halves[6], halves[7], halves[12]) == ("2026-h1",) * 2 + ("2026-h2",) * 2
    quarters = search.slices(2026, Counter({1: 2, 3: 2, 5: 3, 12: 1}))
    assert (quarters[3], quarters[4], quarters[12]) == ("2026-q1", "2026-q2", "2026-q4")
    months = search.slices(2026, Counter({1: 3, 2: 2, 3: 9}))  # March alone is too big
    assert (months[1], months[3], months[12]) == ("2026-01", "2026-03", "2026-12")
    days = [
        day(f"2026-{m:02d}-02", *(paper(f"26{m:02d}.0000{i}") for i in range(3))) for m in (1, 9)
    ]
    sources = search.lean_sources(Archive.of(days))
    assert {k: len(v) for k, v in sources.items()} == {"2026-h1": 3, "2026-h2": 3}
    # The newest slice sorts last, so it becomes the primary bundle.
    assert max(sources) == "2026-h2"


# ---------------------------------------------------------------- deterministic bundles


def with_orgs(count: int) -> list[Day]:
    """One year of papers from `count` organizations (a filter with `count` values)."""
    papers = [
        paper(f"2601.{i:05d}").model_copy(
            update={"organization": Organization(name=f"lab{i}", fullname=f"Lab {i}")}
        )
        for i in range(count)
    ]
    return [day("2026-01-05", *papers[: count // 2]), day("2026-01-06", *papers[count // 2 :])]


def filter_chunks(bundle: Path) -> dict[str, list]:
    """{filter name: [[value, [page, ...]], ...]} as the bundle stores them."""
    chunks = {}
    for path in (bundle / "filter").glob("*.pf_filter"):
        name, values = pagefind_bundle.read(path)
        chunks[name] = values
    return chunks


def test_a_filter_of_many_values_is_written_the_same_on_every_run(tmp_path: Path) -> None:
    # Pagefind 1.5.2 orders a filter's values (and the filters) at random on each run; for
    # 12 organizations two runs agreeing by chance is a 1 in 479,001,600 event.
    first = index(with_orgs(12), tmp_path, tmp_path / "cache-a")
    second = index(with_orgs(12), tmp_path, tmp_path / "cache-b")
    assert files(first / "pagefind") == files(second / "pagefind")
    orgs = filter_chunks(first / "pagefind")["organization"]
    assert [value for value, _pages in orgs] == sorted(f"Lab {i}" for i in range(12))
    assert all(len(pages) == 1 for _value, pages in orgs)
    # The entry file names the rewritten metadata, which names the rewritten chunks.
    entry = json.loads((first / "pagefind" / "pagefind-entry.json").read_text(encoding="utf-8"))
    meta = pagefind_bundle.read(
        first / "pagefind" / f"pagefind.{entry['languages']['en']['hash']}.pf_meta"
    )
    listed = meta[pagefind_bundle.META_FILTERS]
    assert [name for name, _hash in listed] == ["organization", "year"]
    assert {chunk for _name, chunk in listed} == {
        p.stem for p in (first / "pagefind" / "filter").glob("*.pf_filter")
    }
    # Rewriting a rewritten bundle changes nothing.
    before = files(tmp_path / "cache-a/index/2026")
    assert pagefind_bundle.canonicalize(tmp_path / "cache-a/index/2026")
    assert files(tmp_path / "cache-a/index/2026") == before


def test_an_unknown_bundle_layout_is_left_as_pagefind_wrote_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    index(with_orgs(3), tmp_path, tmp_path / "cache")
    bundle = tmp_path / "cache/index/2026"
    meta = next(bundle.glob("*.pf_meta"))
    meta.write_bytes(gzip.compress(b"pagefind_dcd" + cbor2.dumps(["9.0", [], [], "no filters"])))
    before = files(bundle)
    assert not pagefind_bundle.canonicalize(bundle)
    assert files(bundle) == before
    assert f"{meta.name}: no list of [filter, chunk] at 3" in caplog.text
    (bundle / "pagefind-entry.json").write_text("{}", encoding="utf-8")
    assert not pagefind_bundle.canonicalize(bundle)
    assert "pagefind-entry.json: 'languages'" in caplog.text
