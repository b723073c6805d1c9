"""Property-based: arbitrary Unicode titles, abstracts, author and organization names
(markup, Markdown, Jinja and attr_list syntax, math, control characters, very long strings)
through the whole path: local API -> `fetch` -> content/ -> build -> site/.

Per run: FETCH_EXAMPLES days of PAPERS generated papers each (one build per day), and
ROUND_TRIP_EXAMPLES days through the store's save and load (no build).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from apiserver import FakeApi, make_item
from click.testing import CliRunner
from conftest import build_project, make_project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitecheck import Page

from generator import store, textfmt
from generator.cli import cli
from generator.config import Paths
from generator.models import Day, Paper, clean_text

DAY = "2026-10-03"
FETCH_EXAMPLES, PAPERS, ROUND_TRIP_EXAMPLES = 8, 20, 40

SNIPPETS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href=javascript:x>y</a>",
    "{{ config }}",
    "{% include 'base.html' %}",
    "{# c #}",
    '{: onclick="alert(1)" }',
    "{ .cls #id onmouseover=x }",
    "[x](javascript:alert(1))",
    "<javascript:alert(1)>",
    "$x^2$",
    "$$\\frac{a}{b}$$",
    "$\\href{javascript:alert(1)}{x}$",
    "$a<b$",
    "costs $5",
    "`code`",
    "```",
    "**bold**",
    "__init__",
    "*args",
    "# heading",
    "\n\n    indented\n\n",
    "\n1. item\n",
    "\n> quote\n",
    "\n|a|b|\n|-|-|\n",
    "===",
    "---",
    "]]>",
    "<![CDATA[",
    "&amp;",
    "&#x3c;",
    "<!--",
    "-->",
    "\x00",
    "\x0b",
    "\x1b[31m",
    "\ufffe",
    "\ud800",
    "\u202e",
    "\u2028",
    "\r\n",
    "\t",
    "\\",
    "'\"",
    ": ",
    "- ",
    "!!python/object",
    "&",
    "<",
    ">",
    "  ",
    "<math><mi>x</mi></math>",
    "<svg onload=alert(1)>",
    "模型",
    "🤗",
]
fragment = st.one_of(
    st.sampled_from(SNIPPETS),
    st.text(max_size=20),
    st.text(st.characters(codec="utf-8"), max_size=10),
)
text = st.lists(fragment, max_size=10).map("".join)


def long(base: st.SearchStrategy[str], size: int) -> st.SearchStrategy[str]:
    """Mostly `base`, sometimes `base` padded past a length cap."""
    return st.one_of(base, base.map(lambda t: t + ("long " * size)[:size]))


paper_text = st.fixed_dictionaries(
    {
        "title": long(text, 1200),
        "summary": long(text, 25_000),
        "authors": st.lists(long(text, 600), max_size=3),
        "organization": st.none() | st.fixed_dictionaries({"name": text, "fullname": text}),
    }
)


# ---------------------------------------------------------------- expected text


def shown(fragment_html: str) -> str:
    """Visible text of some built HTML, math given back as its `$LaTeX$` source."""

    def source(match: re.Match[str]) -> str:
        dollars = "$$" if 'display="block"' in match.group(1) else "$"
        return dollars + match.group(2) + dollars

    math = r"<math([^>]*)>.*?<annotation[^>]*>(.*?)</annotation></semantics></math>"
    fragment_html = re.sub(math, source, fragment_html, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", fragment_html))


def squash(value: str) -> str:
    """Whitespace as a browser shows it (runs collapse; Markdown also expands tabs)."""
    return " ".join(value.split())


def inner(page: str, start: str, end: str) -> str | None:
    match = re.search(re.escape(start) + "(.*?)" + re.escape(end), page, flags=re.S)
    return match.group(1) if match else None


def line(value: str, limit: int = 500) -> str:
    return clean_text(value, limit, single_line=True)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def api() -> Iterator[FakeApi]:
    with FakeApi() as server:
        yield server


def items_of(papers: list[dict]) -> list[dict]:
    return [
        make_item(
            f"2610.{90000 + i}",
            p["title"],
            p["summary"],
            upvotes=i,
            authors=tuple(p["authors"]),
            organization=p["organization"],
        )
        for i, p in enumerate(papers)
    ]


def fetch_and_build(root: Path, api: FakeApi, papers: list[dict]) -> Paths:
    paths = make_project(root, content_from=None)
    api.days[DAY] = items_of(papers)
    argv = ["fetch", "--root", str(root), "--api", api.url, "--date", DAY]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 0, result.output
    build_project(paths)
    return paths


def markup_of(page: str) -> set[tuple[str, str]]:
    """Every (element, attribute) pair in a page; ("tag", "") for each element."""
    pairs: set[tuple[str, str]] = set()
    for tag, attrs in Page(page).elements:
        pairs.add((tag, ""))
        pairs.update((tag, a) for a in attrs)
    return pairs


def markup(paths: Paths) -> set[tuple[str, str]]:
    """markup_of every built page."""
    return set().union(
        *(
            markup_of(p.read_text(encoding="utf-8"))
            for p in paths.site.rglob("*.html")
            if "pagefind" not in p.parts
        )
    )


def context(page: str, foreign: set[tuple[str, str]]) -> list[str]:
    """Where the first foreign elements are, for the failure message."""
    spots = [m.start() for tag, _ in foreign for m in re.finditer(f"<{re.escape(tag)}[ >]", page)]
    return [page[max(0, i - 300) : i + 200] for i in sorted(spots)[:2]]


@pytest.fixture(scope="module")
def allowed(api: FakeApi, tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str]]:
    """What our templates and MkDocs produce for benign text, plus the MathML allowlist."""
    benign = [
        {
            "title": f"Benign title {i}",
            "summary": "Plain words.\n\nA second paragraph.",
            "authors": ["Ada Lovelace"],
            "organization": {"name": "org", "fullname": "Org"} if i % 2 else None,
        }
        for i in range(PAPERS)
    ]
    pairs = markup(fetch_and_build(tmp_path_factory.mktemp("benign"), api, benign))
    empty = make_project(tmp_path_factory.mktemp("empty"), content_from=None)  # all rejected
    build_project(empty)
    pairs |= markup(empty)
    math_tags = textfmt.ALLOWED_TAGS | {"semantics", "annotation"}
    math_attrs = textfmt.ALLOWED_ATTRS | {"encoding", "data-pagefind-ignore", ""}
    return pairs | {(t, a) for t in math_tags for a in math_attrs}


# ---------------------------------------------------------------- properties


@settings(
    max_examples=FETCH_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(papers=st.lists(paper_text, min_size=PAPERS, max_size=PAPERS))
def test_any_text_is_shown_as_text_and_injects_nothing(
    papers: list[dict],
    api: FakeApi,
    allowed: set[tuple[str, str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    root = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp())) / "p"
    paths = fetch_and_build(root, api, papers)

    kept = 0
    for i, paper in enumerate(papers):
        page_file = paths.site / "papers" / f"2610.{90000 + i}" / "index.html"
        title = line(paper["title"], 1000)
        assert page_file.exists() == bool(title)  # an empty title is rejected, nothing else
        if not title:
            continue
        kept += 1
        page = page_file.read_text(encoding="utf-8")
        heading = inner(page, '<h1 class="dp-paper-title">', "</h1>")
        assert squash(shown(heading)) == squash(title)
        summary = clean_text(paper["summary"], 20_000)
        abstract = inner(page, '<p class="dp-abstract-full">', "</p>\n")
        assert squash(shown(abstract)) == squash(summary)
        authors = ", ".join(a for a in map(line, paper["authors"]) if a)
        assert shown(inner(page, '<span class="dp-authors-names">', "</span>")) == authors
        org = paper["organization"]
        org_line = inner(page, '<p class="dp-org">Organization: <a href="', "</a></p>")
        shown_org = org_line and inner(org_line, "<strong>", "</strong>")
        expected_org = None
        if org and line(org["name"]):
            expected_org = line(org["fullname"]) or line(org["name"])
        assert (shown_org and shown(shown_org)) == expected_org

    for page_file in paths.site.rglob("*.html"):
        if "pagefind" not in page_file.parts:
            page = page_file.read_text(encoding="utf-8")
            foreign = markup_of(page) - allowed
            where = page_file.relative_to(paths.site)
            assert not foreign, (where, foreign, context(page, foreign))
    for _page in paths.site.rglob("*.html"):
        for _tag, attrs in Page(_page.read_text(encoding="utf-8")).elements:
            for key in ("href", "src"):
                assert not attrs.get(key, "").strip().lower().startswith(("javascript:", "data:"))

    for name in ("feed.xml", "atom.xml"):
        feed = feedparser.parse((paths.site / name).read_bytes())
        assert feed.bozo == 0, (name, feed.get("bozo_exception"))
        ids = [e.id for e in feed.entries]
        assert len(ids) == len(set(ids)) == kept
    items = json.loads((paths.site / "feed.json").read_text(encoding="utf-8"))["items"]
    assert len({i["id"] for i in items}) == len(items) == kept


@settings(
    max_examples=ROUND_TRIP_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(papers=st.lists(paper_text, min_size=1, max_size=5))
def test_any_text_survives_the_store_round_trip(papers: list[dict]) -> None:
    day = Day(
        date=dt.date(2026, 10, 3),
        papers=[
            Paper(
                id=f"2610.{90000 + i}",
                title=p["title"] + "x",
                summary=p["summary"],
                authors=p["authors"],
                published=dt.date(2026, 10, 1),
                upvotes=0,
                comments=0,
                organization={"name": p["organization"]["name"] + "o"}
                if p["organization"]
                else None,
            )
            for i, p in enumerate(papers)
        ],
    )
    with tempfile.TemporaryDirectory() as folder:
        assert store.save_day(Path(folder), day)
        assert store.load_day(store.day_path(Path(folder), day.date)) == day
        assert not store.save_day(Path(folder), day)  # the same day again: not rewritten


@pytest.mark.parametrize(("name", "kept"), [("Org\ud800", "Org"), ("\x95", None), ("  ", None)])
def test_organization_name_is_cleaned_before_its_length_check(name: str, kept: str | None) -> None:
    """Found by the property test: a lone surrogate dropped the whole organization, and a
    name of control characters only gave an empty one."""
    from generator.fetch import _organization

    org = _organization({"name": name, "fullname": None})
    assert (org.name if org else None) == kept
