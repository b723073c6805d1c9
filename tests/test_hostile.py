"""Rows 1-12 of shared/reference/hostile-inputs.md, through the whole path:
a local API serves hostile items -> `fetch` -> content/ -> `build` -> assertions on site/ files."""

from __future__ import annotations

import copy
import json
import re

import feedparser
import pytest
import yaml
from apiserver import FakeApi, load_items
from click.testing import CliRunner
from conftest import build_project, make_project
from lxml import etree
from sitecheck import Page

from generator.cli import cli
from generator.config import Paths
from generator.models import TRUNCATION_MARKER

DAY = "2026-10-03"
BIG = ("Long abstract " + "`" * 2000 + " " + "*" * 2000 + " ") * 40  # > 160 KB

HOSTILE = {  # arXiv id -> (title, summary, extra paper fields)
    "2610.90001": ("<script>alert(1)</script>", "<img src=x onerror=alert(1)> plain", {}),
    "2610.90002": ('Clickable { onclick="alert(1)" }', "Sneaky {: onmouseover=alert(1) }", {}),
    "2610.90003": (
        "[x](javascript:alert(1)) <javascript:alert(2)>",
        "[y](javascript:alert(3))",
        {"githubRepo": "javascript:alert(4)", "projectPage": "data:text/html,x"},
    ),
    "2610.90004": ("Pipes | in | titles", "a | b\n|---|---|\n| c | d |", {}),
    "2610.90005": ("__init__ and *args #1", "1. foo\n===\n> quote\n# heading", {}),
    "2610.90006": ("Attention is $O(L^2)$ with $x_i^2$", r"We bound $\mathcal{O}(n)$ here.", {}),
    "2610.90007": ("It costs $5 and $10", "unbalanced $x and $ y", {}),
    "2610.90008": ("Huge abstract", BIG, {}),
    "2610.90009": ("模型 🚀 \u202eevil\u202c", "混合 emoji 🤗 \u202e RTL", {}),
    "2610.90010": ("Control\x00chars\x0bhere\ufffe", "Lone \ud800 surrogate \x00 gone", {}),
    "2610.90011": ("CDATA ]]> end", "Breaks ]]> CDATA <![CDATA[ x ]]>", {}),
}


def hostile_items() -> list[dict]:
    template = load_items(DAY)[0]
    items = []
    for pid, (title, summary, extra) in HOSTILE.items():
        item = copy.deepcopy(template)
        item["paper"].update({"id": pid, "title": title, "summary": summary, **extra})
        item["paper"]["authors"] = [
            {"name": "<b>Eve</b> & Mallory", "hidden": False},
            {"name": "Hidden Hugo", "hidden": True},
        ]
        item["organization"] = {"name": "<i>org</i>", "fullname": "<svg onload=alert(1)>"}
        item.pop("title", None)
        item.pop("summary", None)
        items.append(item)
    return items


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    paths = make_project(tmp_path_factory.mktemp("hostile"), content_from=None)
    with FakeApi({DAY: hostile_items()}) as api:
        # JSON cannot carry a lone surrogate as UTF-8; the server sends \ud800 escapes
        result = CliRunner().invoke(
            cli, ["fetch", "--root", str(paths.root), "--api", api.url, "--date", DAY]
        )
    assert result.exit_code == 0, result.output
    build_project(paths)
    return paths


def all_html(paths: Paths) -> dict[str, str]:
    return {
        str(p.relative_to(paths.site)): p.read_text(encoding="utf-8")
        for p in paths.site.rglob("*.html")
        if "pagefind" not in p.parts
    }


def paper_html(paths: Paths, pid: str) -> str:
    return (paths.site / "papers" / pid / "index.html").read_text(encoding="utf-8")


def test_every_item_was_stored(site: Paths) -> None:
    text = (site.content / "2026" / f"{DAY}.yml").read_text(encoding="utf-8")
    assert all(f"'{pid}'" in text for pid in HOSTILE)
    assert "\x00" not in text and "\ufffe" not in text


def test_row1_script_title_is_literal_text_everywhere(site: Paths) -> None:
    reference = Page(paper_html(site, "2610.90005")).find("script")
    page = Page(paper_html(site, "2610.90001"))
    assert len(page.find("script")) == len(reference)  # no script element from data
    assert "<script>alert(1)</script>" in page.text("h1")
    assert "<script>alert(1)</script>" in Page((site.site / "index.html").read_text()).text("h2")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in paper_html(site, "2610.90001")
    feed = feedparser.parse((site.site / "feed.xml").read_bytes())
    assert any(e.title == "<script>alert(1)</script>" for e in feed.entries)


def test_rows2_3_no_event_handler_attribute_anywhere(site: Paths) -> None:
    for name, html in all_html(site).items():
        for tag, attrs in Page(html).elements:
            assert not [a for a in attrs if a.startswith("on")], (name, tag, attrs)
    assert "{ onclick=&quot;alert(1)&quot; }" in paper_html(
        site, "2610.90002"
    ) or '{ onclick="alert(1)" }' in Page(paper_html(site, "2610.90002")).text("h1")


def test_row4_no_javascript_links(site: Paths) -> None:
    for name, html in all_html(site).items():
        for _, attrs in Page(html).elements:
            for key in ("href", "src", "action", "formaction"):
                assert (
                    not attrs.get(key, "").strip().lower().startswith(("javascript:", "data:"))
                ), name
    page = Page(paper_html(site, "2610.90003"))
    assert "[x](javascript:alert(1))" in page.text("h1")


def test_row5_pipes_visible_layout_intact(site: Paths) -> None:
    page = Page(paper_html(site, "2610.90004"))
    assert page.text("h1") == "Pipes | in | titles"
    assert not page.find("table")


def test_row6_markdown_syntax_verbatim(site: Paths) -> None:
    page = Page(paper_html(site, "2610.90005"))
    assert page.text("h1") == "__init__ and *args #1"
    assert "1. foo\n===\n> quote\n# heading" in page.text("p")
    assert not page.find("em") and not page.find("blockquote") and not page.find("ol")
    assert len(page.find("strong")) == 1  # the organization's name, our own markup


def test_row7_math_rendered_latex_unchanged(site: Paths) -> None:
    html = paper_html(site, "2610.90006")
    assert html.count("<math") >= 3
    annotations = re.findall(
        r'<annotation encoding="application/x-tex"[^>]*>(.*?)</annotation>', html
    )
    assert {"O(L^2)", "x_i^2", r"\mathcal{O}(n)"} <= set(annotations)


def test_row8_dollars_without_math(site: Paths) -> None:
    html = paper_html(site, "2610.90007")
    assert "<math" not in html.split("<article", 1)[1]
    assert "It costs $5 and $10" in Page(html).text("h1")


def test_row9_huge_abstract_capped_with_marker(site: Paths) -> None:
    page = Page(paper_html(site, "2610.90008"))
    abstract = page.text("p")
    assert TRUNCATION_MARKER.strip() in abstract
    assert (site.site / "papers" / "2610.90008" / "index.html").stat().st_size < 120_000


def test_row10_unicode_kept_urls_from_id(site: Paths) -> None:
    page = Page(paper_html(site, "2610.90009"))
    assert page.text("h1") == "模型 🚀 \u202eevil\u202c"
    assert (site.site / "papers" / "2610.90009" / "index.html").exists()


def test_row11_control_characters_stripped(site: Paths) -> None:
    page = Page(paper_html(site, "2610.90010"))
    assert page.text("h1") == "Controlcharshere"
    for name in ("feed.xml", "atom.xml"):
        etree.fromstring((site.site / name).read_bytes())  # well-formed XML


def test_row12_cdata_end_in_feeds(site: Paths) -> None:
    for name in ("feed.xml", "atom.xml"):
        feed = feedparser.parse((site.site / name).read_bytes())
        assert feed.bozo == 0
        matches = [e for e in feed.entries if e.id.endswith("2610.90011")]
        assert len(matches) == 1 and "]]>" in matches[0].title
    items = json.loads((site.site / "feed.json").read_text())["items"]
    assert len([i for i in items if i["id"].endswith("2610.90011")]) == 1


def test_hostile_names_and_organization_escaped(site: Paths) -> None:
    html = paper_html(site, "2610.90001")
    assert "&lt;b&gt;Eve&lt;/b&gt; &amp; Mallory" in html
    assert "Hidden Hugo" not in html
    assert "&lt;svg onload=alert(1)&gt;" in html


def test_dangerous_urls_dropped_not_linked(site: Paths) -> None:
    data = yaml.safe_load((site.content / "2026" / f"{DAY}.yml").read_text())
    paper = next(p for p in data["papers"] if p["id"] == "2610.90003")
    assert "github" not in paper and "project_page" not in paper


def test_head_title_and_description_escaped(site: Paths) -> None:
    html = paper_html(site, "2610.90001")
    head = html.split("</head>", 1)[0]
    assert "<script>alert(1)</script>" not in head
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in head
    assert "<img src=x" not in head
