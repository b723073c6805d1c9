"""Rows 13-30 of shared/reference/hostile-inputs.md, through the whole path: a local API
(with scripted faults) -> `fetch` (the CLI) -> content/ -> `build` -> assertions on site/.

One story runs once per module, so the whole file costs four small builds: fetch three
days (pagination, invalid items, a paper on two days), build; re-fetch and rebuild
identical data; fetch through every kind of fault; rebuild; change site_url, rebuild;
hand-edit a day file and build. Each test then checks one row on what the story left.
Rows 24, 25, 28 and 29 are proven elsewhere (see SECURITY.md).
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import itertools
import re
import socket
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from apiserver import FakeApi, Request, make_item
from click.testing import CliRunner, Result
from conftest import REPO, build_project, make_project
from sitecheck import Page, broken_feed_links, broken_links, feed_links, load, manifest

from generator import build as build_module
from generator import feeds, site, store
from generator.cli import cli
from generator.config import Paths
from generator.models import Day, Paper

A, B, C = "2026-10-01", "2026-10-02", "2026-10-03"
SHARED = "2610.70001"  # featured on days A and B
BUMPED = "2610.72001"  # its upvotes change between fetches
OLD_URL, NEW_URL = "https://example.org/daily-papers/", "https://papers.example.net/mirror/"
CONFIG = {
    "site_url": OLD_URL,
    "fetch": {"retries": 4, "max_wait": 0.05, "timeout": 0.3, "page_size": 5},
}
#: Day B: 15 items over 3 pages of 5; these positions are invalid, each in its own way.
INVALID = {
    2: "no paper id",
    7: "paper 2610.71007: no title",
    11: "paper 2610.71011: upvotes",
    13: "paper 2610.71013: authors",
}


def day_a(title: str = "Shared paper") -> list[dict]:
    return [make_item(SHARED, title, upvotes=5), make_item("2610.70002", "Alpha two")]


def day_b() -> list[dict]:
    items = [make_item(f"2610.710{i:02d}", f"Beta {i}", upvotes=i) for i in range(15)]
    items[0] = make_item(SHARED, "Shared paper", upvotes=5)
    items[2] = {"paper": {"title": "no id"}}
    del items[7]["paper"]["title"]
    items[11]["paper"]["upvotes"] = "many"
    items[13]["paper"]["authors"] = "not a list"
    return items


def day_c(upvotes: int = 1) -> list[dict]:
    return [make_item(BUMPED, "Gamma one", upvotes=upvotes), make_item("2610.72002", "Gamma two")]


@dataclass
class Story:
    paths: Paths
    results: dict[str, Result] = field(default_factory=dict)
    requests: dict[str, list[Request]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    content: dict[str, dict[str, tuple[bytes, int]]] = field(default_factory=dict)
    sites: dict[str, dict[str, str]] = field(default_factory=dict)
    feeds: dict[str, dict[str, list[tuple[str, str]]]] = field(default_factory=dict)
    reports: dict[str, Any] = field(default_factory=dict)
    pages: dict[str, dict[str, str]] = field(default_factory=dict)

    def run(
        self, name: str, *args: str, api: FakeApi | None = None, date: str | None = None
    ) -> Result:
        """Run one CLI command, recording its result and the API requests made for `date`."""
        mark, start = len(api.requests) if api else 0, time.monotonic()
        argv = [args[0], "--root", str(self.paths.root), *args[1:]]
        if api and "--api" not in args:
            argv += ["--api", api.url]
        # a wide console, so rich does not wrap the logged warnings the tests look for
        self.results[name] = CliRunner(env={"COLUMNS": "500"}).invoke(cli, argv)
        self.seconds[name] = time.monotonic() - start
        if api:
            self.requests[name] = [
                r for r in api.requests[mark:] if date is None or r.query.get("date") == date
            ]
        return self.results[name]

    def snapshot(self, name: str) -> None:
        """Record content/ (bytes and mtimes) and, if built, site/ and its feeds."""
        self.content[name] = {
            p.name: (p.read_bytes(), p.stat().st_mtime_ns)
            for p in store.day_files(self.paths.content)
        }
        if self.paths.site.exists():
            self.sites[name] = manifest(self.paths.site)
            self.feeds[name] = feed_links(self.paths.site)
            urls = [f"papers/date/{d}/" for d in (A, B, C)] + [f"papers/{BUMPED}/"]
            self.pages[name] = {
                url.split("/")[-2]: (self.paths.site / url / "index.html").read_text(
                    encoding="utf-8"
                )
                for url in urls
            }

    def build(self, name: str) -> None:
        self.reports[name] = build_project(self.paths)
        self.snapshot(name)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/"


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    paths = make_project(tmp_path_factory.mktemp("story"), content_from=None, settings=CONFIG)
    s = Story(paths)
    with FakeApi({A: day_a(), B: day_b(), C: day_c()}) as api:
        s.run("first", "fetch", "--from", A, "--to", C, api=api, date=B)
        s.build("built")
        s.run("again", "fetch", "--from", A, "--to", C, api=api)
        s.build("rebuilt")

        api.days[A] = day_a("MUTATED title")  # must never reach content/ through a failed fetch
        api.add_faults(
            A,
            *[("status", 429, {"Retry-After": "55"})] * 3,
            *[("status", 429, {"RateLimit": '"default";r=0;t=55'})] * 2,
        )
        s.run("429", "fetch", "--date", A, api=api, date=A)
        api.add_faults(A, *[("sleep", 1.0)] * 5)
        s.run("timeout", "fetch", "--date", A, api=api, date=A)
        s.run("refused", "fetch", "--date", A, "--api", closed_port_url())
        api.add_faults(A, ("status", 400))
        s.run("400", "fetch", "--date", A, api=api, date=A)

        api.days[B] = day_b()[:4]
        api.add_faults(B, ("body", 200, "<!DOCTYPE html><html><body>Bad gateway</body></html>"))
        s.run("html", "fetch", "--date", B, api=api)
        api.add_faults(B, ("truncated",))
        s.run("truncated", "fetch", "--date", B, api=api)
        api.days[B] = []
        s.run("empty", "fetch", "--date", B, api=api)

        api.days[C] = day_c(upvotes=42)
        api.add_faults(C, *[("status", code) for code in (500, 502, 503, 504)])
        s.run("5xx", "fetch", "--date", C, api=api, date=C)
    s.build("after-faults")

    config = yaml.safe_load(paths.config_file.read_text())
    paths.config_file.write_text(yaml.safe_dump({**config, "site_url": NEW_URL}))
    s.build("moved")

    day_file = store.day_path(paths.content, dt.date.fromisoformat(C))
    good = day_file.read_bytes()
    day_file.write_text(good.decode().replace("upvotes: 42", "upvotes: lots\n  colour: red", 1))
    s.run("hand-edited", "build")
    s.snapshot("hand-edited")
    day_file.write_bytes(good)
    return s


def ok(result: Result) -> None:
    assert result.exit_code == 0, result.output


def failed_cleanly(result: Result, *expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    for text in expected:
        assert text in result.output, (text, result.output)


def cards(html: str) -> list[str]:
    return [
        a["id"].removeprefix("paper-") for a in Page(html).find("li") if a.get("class") == "dp-card"
    ]


def test_row13_same_paper_on_two_days_one_page_one_entry(story: Story) -> None:
    site_dir = story.paths.site
    assert SHARED in cards(story.pages["built"][A]) and SHARED in cards(story.pages["built"][B])
    assert len(list((site_dir / "papers").glob(f"{SHARED}*"))) == 1
    page = load(site_dir, f"papers/{SHARED}/")
    assert f"../date/{A}/" in page.links() and f"../date/{B}/" in page.links()
    for name, entries in story.feeds["built"].items():
        ids = [i for i, _ in entries]
        assert len(ids) == len(set(ids)), name
        assert sum(i.endswith(f":{SHARED}") for i in ids) == 1, name


def test_row14_upvotes_change_updates_page_keeps_feed_ids(story: Story) -> None:
    assert "▲ 1<" in story.pages["built"][BUMPED]
    assert "▲ 42<" in story.pages["after-faults"][BUMPED]
    assert '<span class="dp-count">42</span>' in story.pages["after-faults"][C]
    assert story.feeds["after-faults"] == story.feeds["built"]  # same ids, links and order


def test_row15_site_url_change_keeps_feed_ids(story: Story) -> None:
    before, after = story.feeds["after-faults"], story.feeds["moved"]
    for name in before:
        assert [i for i, _ in after[name]] == [i for i, _ in before[name]], name
        assert all(link.startswith(NEW_URL) for _, link in after[name]), name
        assert all(i.startswith("urn:daily-papers:") for i, _ in after[name]), name


def test_row16_rate_limited_waits_capped_then_fails_nothing_written(story: Story) -> None:
    failed_cleanly(
        story.results["429"], f"{A}:", "HTTP 429", "gave up after 5 attempt(s)", "api/daily_papers"
    )
    times = [r.time for r in story.requests["429"]]
    assert len(times) == 5  # 1 + fetch.retries
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.045  # it did wait: the 55 s asked for, capped by fetch.max_wait
    assert story.seconds["429"] < 10  # ... and not 55 s
    assert_day_untouched(story, A)


def assert_day_untouched(story: Story, day: str) -> None:
    """The day's file has its bytes and mtime from before the faulty fetches; so has its page."""
    assert story.content["after-faults"][f"{day}.yml"] == story.content["rebuilt"][f"{day}.yml"]
    assert story.pages["after-faults"][day] == story.pages["rebuilt"][day]


def test_row17_server_errors_retried_then_success(story: Story) -> None:
    ok(story.results["5xx"])
    assert len(story.requests["5xx"]) == 5
    assert "retry 4 of 4" in story.results["5xx"].output  # logged with its wait
    before, after = story.content["rebuilt"][f"{C}.yml"], story.content["after-faults"][f"{C}.yml"]
    assert before[0] != after[0] and b"upvotes: 42" in after[0]


def test_row18_timeouts_and_refused_connections_fail_clearly(story: Story) -> None:
    failed_cleanly(story.results["timeout"], f"{A}:", "Timeout", "gave up after 5 attempt(s)")
    assert len(story.requests["timeout"]) == 5
    failed_cleanly(story.results["refused"], f"{A}:", "ConnectError", "gave up after 5 attempt(s)")
    assert_day_untouched(story, A)


def test_row19_error_page_or_truncated_json_names_the_url(story: Story) -> None:
    failed_cleanly(
        story.results["html"], f"{B}:", f"api/daily_papers?date={B}", "not JSON", "<!DOCTYPE html>"
    )
    failed_cleanly(story.results["truncated"], f"{B}:", f"api/daily_papers?date={B}", "not JSON")
    assert_day_untouched(story, B)


def test_row20_empty_answer_keeps_the_stored_day_with_a_warning(story: Story) -> None:
    result = story.results["empty"]
    ok(result)
    assert "1 empty" in result.output
    assert "returned no papers; keeping the 11 stored" in result.output
    assert_day_untouched(story, B)
    assert len(cards(story.pages["after-faults"][B])) == 11


def test_row21_invalid_items_rejected_with_position_others_kept(story: Story) -> None:
    result = story.results["first"]
    ok(result)
    assert "4 invalid item(s) rejected" in result.output
    for position, cause in INVALID.items():
        assert f"{B}: rejected item {position}: {cause}" in result.output
    shown = cards(story.pages["built"][B])
    rejected = {f"2610.710{i:02d}" for i in INVALID}
    assert len(shown) == 11 and not rejected & set(shown)
    assert not [p for p in rejected if (story.paths.site / "papers" / p).exists()]


def test_row22_every_page_of_results_fetched_and_stored(story: Story) -> None:
    assert [r.query["p"] for r in story.requests["first"]] == ["0", "1", "2", "3"]
    assert {r.query["limit"] for r in story.requests["first"]} == {"5"}
    expected = {f"2610.710{i:02d}" for i in range(1, 15) if i not in INVALID} | {SHARED}
    assert set(cards(story.pages["built"][B])) == expected


def test_row23_http_400_names_the_date_not_retried(story: Story) -> None:
    failed_cleanly(story.results["400"], f"the API rejected date {A}", "HTTP 400")
    assert len(story.requests["400"]) == 1
    assert_day_untouched(story, A)


def test_row26_identical_rerun_rewrites_nothing(story: Story) -> None:
    result = story.results["again"]
    ok(result)
    assert "0 day(s) written, 3 unchanged" in result.output
    assert story.content["rebuilt"] == story.content["built"]  # same bytes and mtimes
    assert story.reports["rebuilt"].pages_written == 0
    assert story.reports["rebuilt"].pages_rendered == 0
    assert story.sites["rebuilt"] == story.sites["built"]  # byte-identical site, search and feeds


def test_row27_hand_edited_yaml_is_named_build_refused_site_kept(story: Story) -> None:
    result = story.results["hand-edited"]
    line = next(
        i
        for i, text in enumerate(
            story.content["hand-edited"][f"{C}.yml"][0].decode().splitlines(), 1
        )
        if "lots" in text
    )
    failed_cleanly(
        result,
        "2 problem(s) in content",
        f"{C}.yml:{line}: paper 1 (id '{BUMPED}'): "
        "field 'upvotes': Input should be a valid integer",
        f"{C}.yml:{line + 1}: paper 1 (id '{BUMPED}'): field 'colour': unknown key",
    )
    assert story.sites["hand-edited"] == story.sites["moved"]


def test_feed_links_and_internal_links_resolve(story: Story) -> None:
    assert broken_feed_links(story.paths.site, NEW_URL) == []
    assert broken_links(story.paths.site, "/mirror/") == []
    entries = sum(len(feed) for feed in story.feeds["moved"].values())
    assert entries == 3 * 14  # every paper once in each feed


def test_broken_feed_links_are_found(tmp_path: Path) -> None:
    site_dir = tmp_path / "site"
    (site_dir / "papers" / "2610.00001").mkdir(parents=True)
    (site_dir / "papers" / "2610.00001" / "index.html").write_text("<p>x</p>")
    papers = [paper("2610.00001"), paper("2610.00002")]
    config = build_module.SiteConfig(site_url=OLD_URL)
    feeds.write_feeds(
        feeds.latest_items([Day(date=dt.date(2026, 10, 3), papers=papers)], 50), config, site_dir
    )
    assert broken_feed_links(site_dir, OLD_URL) == [
        f"{name}: {OLD_URL}papers/2610.00002/" for name in ("feed.xml", "atom.xml", "feed.json")
    ]
    assert len(broken_feed_links(site_dir, NEW_URL)) == 6


def paper_fields(pid: str) -> dict[str, Any]:
    return dict(
        id=pid,
        title=f"Paper {pid}",
        summary="An abstract. " * 100,
        authors=[f"Author {i}" for i in range(12)],
        published=dt.date(2026, 9, 30),
        upvotes=int(pid[-3:]),
        comments=0,
        keywords=["feeds", "scale"],
    )


def paper(pid: str, **kw: Any) -> Paper:
    return Paper(**{**paper_fields(pid), **kw})


def test_row30_thousands_of_papers_feeds_capped_by_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2,100 papers in content/ go through build(); MkDocs and Pagefind are stubbed out
    (they are what costs time here and do not touch the feeds), the rest runs for real."""
    paths = make_project(tmp_path / "p", content_from=None, settings={"feeds": {"items": 40}})
    first = dt.date(2026, 6, 1)
    text = store.dump_day(Day(date=first, papers=[paper(f"2609.00{i:03d}") for i in range(30)]))
    for d in range(70):  # the same day's YAML with other dates and ids: 30x faster than dumping
        day = first + dt.timedelta(days=d)
        path = store.day_path(paths.content, day)
        path.parent.mkdir(exist_ok=True)
        path.write_text(
            text.replace(first.isoformat(), day.isoformat()).replace("'2609.00", f"'2609.{d:02d}"),
            encoding="utf-8",
        )
    monkeypatch.setattr(
        site,
        "run_mkdocs",
        lambda paths, config, stage, tree, **_: stage.mkdir() or site.MkDocsReport(),
    )
    monkeypatch.setattr(build_module.search, "build_index", lambda *args: None)
    report = build_project(paths)
    assert report.papers == 2100
    for name, entries in feed_links(paths.site).items():
        assert len(entries) == 40 == len({i for i, _ in entries}), name
        assert (paths.site / name).stat().st_size < 1_000_000, name
    newest = {i for i, _ in feed_links(paths.site)["feed.xml"]}
    assert "urn:daily-papers:feed.xml:2609.69029" in newest  # the newest day's best paper first


# ---------------------------------------------------------------- dependency safety

SECURITY_FLOORS = {
    "mkdocs-material": (9, 7, 7),  # search DOM XSS (CVE-2026-73295) fixed
    "pymdown-extensions": (10, 16),
}  # ReDoS fixes; Material depends on it


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def test_dependencies_pinned_and_installed_at_or_above_their_security_fixes() -> None:
    pins = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    for package, floor in SECURITY_FLOORS.items():
        pin = next(p for p in pins if p.startswith(package + ">="))
        assert version_tuple(pin.split(">=", 1)[1]) >= floor, pin
        assert version_tuple(importlib.metadata.version(package)) >= floor, package


def test_pathological_200kb_abstract_renders_in_time_relative_to_a_normal_one() -> None:
    """Page template + MkDocs' Markdown (mkdocs.yml's extensions): a 200 KB abstract of
    backtick, `*`, bracket and `$` runs costs at most 50x an ordinary 200 KB abstract.
    The model caps abstracts at 20,000 characters; model_construct skips that cap here,
    so the renderers themselves are shown to be linear."""
    import markdown

    from generator.config import SiteConfig
    from generator.pages import PageRenderer

    mkdocs_yml = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    listed = mkdocs_yml["markdown_extensions"]
    extensions = [e if isinstance(e, str) else next(iter(e)) for e in listed]
    configs = {next(iter(e)): next(iter(e.values())) for e in listed if isinstance(e, dict)}
    renderer = PageRenderer(SiteConfig(), REPO / "site_config" / "templates")
    unit = (
        "`" * 2000
        + " "
        + "*" * 2000
        + " "
        + "[" * 1000
        + "]" * 1000
        + " "
        + "$" * 2000
        + " "
        + "$a" * 1000
        + " "
        + "_" * 1000
        + "<" * 500
        + " "
    )
    bad = (unit * (200_000 // len(unit) + 1))[:200_000]
    good = ("An ordinary abstract with $x^2$ and words [1] of *note*. " * 4000)[:200_000]

    def seconds(summary: str) -> float:
        paper = Paper.model_construct(**{**paper_fields("2610.00001"), "summary": summary})
        best = float("inf")
        for _ in range(3):  # the best of three: other work on the machine only slows a run
            start = time.perf_counter()
            page = renderer.render(
                "paper.md.j2",
                "papers/2610.00001.md",
                paper=paper,
                featured=[dt.date(2026, 10, 3)],
                topics=[],
                org=None,
                related=[],
                weeks=["2026-W40"],
                spark=None,
                papers_by_id={},
                last_day={},
            )
            markdown.Markdown(extensions=extensions, extension_configs=configs).convert(page)
            best = min(best, time.perf_counter() - start)
        return best

    normal, pathological = seconds(good), seconds(bad)
    assert pathological <= 50 * normal, (pathological, normal)
