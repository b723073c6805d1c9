"""Untrusted text to HTML: escaped everywhere, math rendered as sanitised MathML only."""

from __future__ import annotations

import re
import time
from html import unescape
from html.parser import HTMLParser

import pytest

from generator.textfmt import rich


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


MATHML = {
    "math",
    "semantics",
    "annotation",
    "mrow",
    "mi",
    "mn",
    "mo",
    "msup",
    "msub",
    "msubsup",
    "mfrac",
    "msqrt",
    "mtext",
    "mover",
    "munder",
    "mspace",
    "mstyle",
}


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        'Title { onclick="x" }',
        "[x](javascript:alert(1)) <javascript:alert(1)>",
        "a | b | c",
        "__init__ *args #1 1. foo === > quote",
    ],
)
def test_markup_in_text_is_escaped(text: str) -> None:
    html = rich(text)
    assert tags(html) == []
    assert unescape(str(html)) == text


@pytest.mark.parametrize(
    ("latex", "pieces"),
    [
        ("O(L^2)", ["<mi>O</mi>", "<msup><mi>L</mi><mn>2</mn></msup>"]),
        ("x_i^2", ["<msubsup><mi>x</mi><mi>i</mi><mn>2</mn></msubsup>"]),
        (r"\mathcal{O}(n)", ["<mi>𝒪</mi>", "<mi>n</mi>"]),
    ],
)
def test_math_becomes_mathml_with_latex_kept(latex: str, pieces: list[str]) -> None:
    html = str(rich(f"cost ${latex}$ here"))
    assert html.startswith('cost <math display="inline">') and html.endswith("</math> here")
    for piece in pieces:
        assert piece in html
    annotation = re.search(
        r'<annotation encoding="application/x-tex"[^>]*>(.*?)</annotation>', html
    )
    assert annotation and annotation.group(1) == latex
    assert {t for t, _ in tags(html)} <= MATHML


@pytest.mark.parametrize(
    "text", ["costs $5 and $10", "unbalanced $x", "a $ b $ c", r"escaped \$x\$"]
)
def test_dollars_that_are_not_math_stay_text(text: str) -> None:
    assert "<math" not in rich(text)
    assert str(rich(text)) == text


@pytest.mark.parametrize(
    "latex",
    [
        r"\href{javascript:alert(1)}{x}",
        r"\url{javascript:x}",
        r"\text{<script>alert(1)</script>}",
        r"a<b&c",
        "{",
    ],
)
def test_dangerous_or_broken_math_is_inert(latex: str) -> None:
    html = str(rich(f"${latex}$"))
    for tag, attrs in tags(html):
        assert tag in MATHML
        assert not any(name.startswith("on") or name == "href" for name in attrs)
    assert "javascript:" not in html or "<math" not in html
    assert "<script" not in html


def test_pathological_input_is_fast() -> None:
    normal = "A normal abstract with $x^2$ and some words. " * 30
    start = time.perf_counter()
    rich(normal)
    base = time.perf_counter() - start
    for bad in ("`" * 2000, "*" * 2000, "$" * 2000, "$a" * 20000, "x" * 200_000):
        start = time.perf_counter()
        rich(bad)
        assert time.perf_counter() - start < max(0.5, base * 200)
