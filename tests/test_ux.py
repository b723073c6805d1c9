"""What a new user notices first, in headless Chromium: titles, the day's heading, where
previous/next sit, the phone menu, search loaded on first use, and axe-core's accessibility
rules (zero violations, light and dark).

Content-agnostic: the pages are found from the built site itself (the home page's links to
the newest day and a paper, a paper's topic chip), not from ids or dates. Uses
test_browser.py's Chromium, server and monitor (console errors, failed or foreign requests).
axe-core comes from npm (tests/package.json, installed by `make test`), injected from disk.
"""

from __future__ import annotations

import html
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from test_browser import (  # noqa: F401 (fixtures)
    DESKTOP,
    OPEN_MODAL,
    RESULT_LINK,
    TRIGGER,
    Target,
    base_url,
    browser,
    monitored,
    serving,
    target,
)

from generator.config import Paths

pytestmark = pytest.mark.browser

SITE_NAME = "Daily Papers"
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
WIDTHS = {"desktop": {"viewport": DESKTOP}, "phone": PHONE}


@pytest.fixture(scope="module")
def axe_script() -> Path:
    if not AXE.is_file():
        pytest.fail(
            f"{AXE} is missing: install axe-core with `make test` (its set-up runs "
            "`npm ci --prefix tests`) or `cd tests && npm ci`"
        )
    return AXE


@pytest.fixture(scope="module")
def rich_url(rich_site: Paths) -> Iterator[str]:
    """The site with topics and organizations (tests/richcontent.py)."""
    with serving(rich_site.site) as url:
        yield url


@dataclass(frozen=True)
class Pages:
    """Absolute URLs of one page of each kind, found by following the site's own links."""

    home: str
    day: str  # the newest day
    older_day: str  # the day before it, which has a next day
    paper: str
    topic: str | None


def _discover(chromium: Browser, url: str) -> Pages:
    with monitored(chromium, url, viewport=DESKTOP) as (page, _):
        page.goto(url)
        day = _href(page, ".dp-dateline a:text-is('permalink')")
        paper = _href(page, "li.dp-card .dp-title a")
        page.goto(day)
        older = _href(page, ".dp-pn a.dp-prev")
        topic = None
        for link in page.locator("li.dp-card .dp-title a").all()[:20]:
            with monitored(chromium, url, viewport=DESKTOP) as (other, _):
                other.goto(link.evaluate("a => a.href"))
                chips = other.locator(".dp-topics a.dp-chip")
                if chips.count():
                    topic = chips.first.evaluate("a => a.href")
                    break
    return Pages(url, day, older, paper, topic)


def _href(page: Page, selector: str) -> str:
    link = page.locator(selector).first
    link.wait_for()
    return link.evaluate("a => a.href")


@pytest.fixture(scope="module")
def pages(browser: Browser, base_url: str) -> Pages:  # noqa: F811
    return _discover(browser, base_url)


@pytest.fixture(scope="module")
def rich_pages(browser: Browser, rich_url: str) -> Pages:  # noqa: F811
    found = _discover(browser, rich_url)
    assert found.topic, "no paper of the rich site's newest day has a topic"
    return found


# ---------------------------------------------------------------- titles and headings


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read().decode("utf-8")


def _tag_text(html_text: str, tag: str) -> str:
    found = re.search(rf"<{tag}\b[^>]*>(.*?)</{tag}>", html_text, re.DOTALL)
    assert found, f"no <{tag}>"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())


def test_titles_name_the_page_and_the_site_once(base_url: str, pages: Pages):  # noqa: F811
    home = _get(pages.home)
    assert _tag_text(home, "title") == SITE_NAME
    assert _tag_text(home, "h1") == SITE_NAME
    titles = {}
    for url in (
        pages.day,
        pages.older_day,
        pages.paper,
        *(
            base_url + path
            for path in ("archive/", "feeds/", "topics/", "orgs/", "papers/trending/")
        ),
    ):
        title = _tag_text(_get(url), "title")
        assert title.endswith(f" - {SITE_NAME}"), title
        assert title.count(SITE_NAME) == 1, title
        titles[url] = title
    assert len(set(titles.values())) == len(titles)  # each names its own page

    # A day page's heading names its day (the day its dateline shows), unlike the home page's.
    headings = set()
    for url in (pages.day, pages.older_day):
        page = _get(url)
        h1 = _tag_text(page, "h1")
        dateline = re.search(r'<p class="dp-dateline"><time[^>]*>([^<]+)</time>', page)
        assert dateline, url
        assert dateline.group(1) in h1 and dateline.group(1) in _tag_text(page, "title")
        headings.add(h1)
    assert len(headings) == 2 and SITE_NAME not in headings


def test_trending_names_a_single_day_once(rich_site: Paths, tmp_path_factory):
    """One featured day in the trending window: "featured Oct 3, 2026", not "Oct 3 – Oct 3"."""
    from conftest import build_project, make_project

    from generator import store

    stored = (
        store.load_day(path) for path in sorted(rich_site.content.rglob("*.yml"), reverse=True)
    )
    newest = next(day for day in stored if day.papers)
    paths = make_project(tmp_path_factory.mktemp("one-day"), content_from=None)
    store.save_day(paths.content, newest)
    build_project(paths)
    html = (paths.site / "papers" / "trending" / "index.html").read_text()
    line = re.search(r'<p class="dp-dateline">(.*?)</p>', html, re.DOTALL)
    assert line, "the trending page has no dateline"
    text = re.sub(r"<[^>]+>", "", line.group(1))
    label = f"{newest.date:%b} {newest.date.day}, {newest.date:%Y}"
    assert f"featured {label}, ranked" in text
    assert "–" not in text


def test_feeds_page_says_the_default_site_url_is_a_placeholder(embedded_site: Paths):
    html = (embedded_site.site / "feeds" / "index.html").read_text()
    assert "example.org" in html  # the default site_url
    note = re.search(r'<p class="dp-note" id="site-url-note">(.*?)</p>', html, re.DOTALL)
    assert note and "site_config/site.yml" in note.group(1)


# ---------------------------------------------------------------- layout


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_previous_left_next_right(browser: Browser, base_url: str, pages: Pages, width: str):  # noqa: F811
    with monitored(browser, base_url, **WIDTHS[width]) as (page, monitor):
        for url, expect in (
            (pages.home, {"prev"}),
            (pages.day, {"prev"}),
            (pages.older_day, {"next"} | ({"prev"} if _has_prev(page, pages.older_day) else set())),
        ):
            page.goto(url)
            row = page.locator(".dp-pn")
            box = row.bounding_box()
            assert box is not None
            found = set()
            for kind in ("prev", "next"):
                link = row.locator(f"a.dp-{kind}")
                if not link.count():
                    continue
                found.add(kind)
                own = link.bounding_box()
                assert own is not None
                if kind == "prev":  # starts the row
                    assert abs(own["x"] - box["x"]) <= 1, (url, own, box)
                else:  # ends it
                    right, row_right = own["x"] + own["width"], box["x"] + box["width"]
                    assert abs(right - row_right) <= 1, (url, own, box)
            assert found == expect, url
            # Nothing else in the row takes a place in it (no empty flex item).
            assert row.evaluate("el => el.children.length") == len(found)
        monitor.assert_clean()


def _has_prev(page: Page, url: str) -> bool:
    page.goto(url)
    return page.locator(".dp-pn a.dp-prev").count() > 0


def test_phone_menu_reaches_every_header_link(browser: Browser, base_url: str):  # noqa: F811
    with monitored(browser, base_url, viewport=DESKTOP) as (page, _):
        page.goto(base_url)
        wanted = {
            " ".join(a.inner_text().split()): a.evaluate("a => a.href")
            for a in page.locator(".dp-header-title a.dp-nav-link").all()
        }
    assert {"Topics", "Organizations", "Feeds"} <= set(wanted)

    with monitored(browser, base_url, **PHONE) as (page, monitor):
        page.goto(base_url)
        # Nothing in the header is cut off or off screen.
        clipped = page.evaluate(
            """() => [...document.querySelectorAll('.md-header a, .md-header button, .md-header summary, .md-header label')]
                 .filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
                 .filter(el => { const r = el.getBoundingClientRect();
                                 return r.width > 0 && (r.left < 0 || r.right > 390 || el.scrollWidth > el.clientWidth + 1); })
                 .map(el => el.outerHTML.slice(0, 80))"""
        )
        assert clipped == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        menu_button = page.locator(".md-header summary.dp-menu__button")
        assert menu_button.is_visible()
        assert menu_button.get_attribute("aria-label")

        # Keyboard: Tab reaches the menu button, Enter opens it, Tab walks its links.
        page.locator("body").press("Tab")  # Material's skip link, then the logo…
        for _ in range(10):
            if page.evaluate("document.activeElement.matches('summary.dp-menu__button')"):
                break
            page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.matches('summary.dp-menu__button')")
        page.keyboard.press("Enter")
        panel = page.locator(".dp-menu__panel")
        panel.wait_for()
        shown = {}
        for _ in wanted:
            page.keyboard.press("Tab")
            name, href = page.evaluate(
                "[document.activeElement.innerText.trim(), document.activeElement.href]"
            )
            shown[name] = href
            box = page.locator(".dp-menu__panel a", has_text=name).first.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert shown == wanted

        # Escape closes it and gives the focus back to its button.
        page.keyboard.press("Escape")
        assert panel.is_hidden()
        assert page.evaluate("document.activeElement.matches('summary.dp-menu__button')")

        # Space opens it too, and a link goes where the desktop tab goes.
        page.keyboard.press(" ")
        page.locator(".dp-menu__panel a", has_text="Organizations").click()
        page.wait_for_url(wanted["Organizations"])
        monitor.assert_clean()


# ---------------------------------------------------------------- search on first use


def _pagefind_requests(monitor) -> list[str]:
    return [url for url in monitor.requests if "/pagefind/" in url]


def test_pagefind_loads_on_first_use(
    browser: Browser,
    base_url: str,
    pages: Pages,
    target: Target,  # noqa: F811
):
    for url in (pages.home, pages.day, pages.paper):
        with monitored(browser, base_url, viewport=DESKTOP) as (page, monitor):
            page.goto(url)
            page.wait_for_load_state("load")
            page.mouse.wheel(0, 600)  # reading the page is no search
            page.locator("body").click(position={"x": 5, "y": 300})
            assert _pagefind_requests(monitor) == []
            assert page.evaluate("typeof window.PagefindComponents") == "undefined"

    with monitored(browser, base_url, viewport=DESKTOP) as (page, monitor):
        page.goto(pages.day)
        page.wait_for_load_state("load")
        assert _pagefind_requests(monitor) == []
        page.locator("body").click(position={"x": 5, "y": 300})
        page.keyboard.press("/")  # the shortcut, before anything is loaded
        page.locator(f"{OPEN_MODAL} input.pf-input").wait_for()
        assert any(u.endswith("/pagefind/pagefind-component-ui.js") for u in monitor.requests)
        page.keyboard.type(target.word)
        page.locator(f"{RESULT_LINK}[href$='/papers/{target.paper_id}/']").wait_for()
        # The excerpt under a result does not repeat its title.
        result = page.locator(
            ".pf-result", has=page.locator(f"a[href$='/papers/{target.paper_id}/']")
        )
        excerpt = " ".join(result.locator(".pf-result-excerpt").inner_text().split())
        assert excerpt and target.title not in excerpt
        monitor.assert_clean()

    # A link to a search (?q=) opens it with its words.
    with monitored(browser, base_url, viewport=DESKTOP) as (page, monitor):
        page.goto(f"{pages.paper}?q={target.word}")
        page.locator(f"{RESULT_LINK}[href$='/papers/{target.paper_id}/']").wait_for()
        assert page.locator(f"{OPEN_MODAL} input.pf-input").input_value() == target.word
        monitor.assert_clean()

    # Focusing the button loads it; a click then opens it.
    with monitored(browser, base_url, **PHONE) as (page, monitor):
        page.goto(pages.home)
        page.wait_for_load_state("load")
        assert _pagefind_requests(monitor) == []
        page.locator(TRIGGER).tap()
        page.locator(f"{OPEN_MODAL} input.pf-input").wait_for()
        monitor.assert_clean()


# ---------------------------------------------------------------- accessibility (axe-core)


def _axe(page: Page, axe_script: Path) -> list[str]:
    page.add_script_tag(path=str(axe_script))
    result = page.evaluate(
        """async () => {
             const r = await axe.run(document, {resultTypes: ['violations']});
             return r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + ' — ' +
               v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' ' + (n.failureSummary || '').split('\\n').slice(1, 2).join('')).join(' | ') +
               (v.nodes.length > 3 ? ' … ' + v.nodes.length + ' nodes' : ''));
           }"""
    )
    return result


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(
    "kind", ["home", "day", "paper", "topic", "archive", "feeds", "rising", "search"]
)
def test_axe_finds_no_violations(
    browser: Browser,
    rich_url: str,
    rich_pages: Pages,
    axe_script: Path,
    kind: str,
    scheme: str,  # noqa: F811
):
    with monitored(browser, rich_url, viewport=DESKTOP, color_scheme=scheme) as (page, monitor):
        url = {
            "home": rich_pages.home,
            "day": rich_pages.older_day,
            "paper": rich_pages.paper,
            "topic": rich_pages.topic,
            "archive": rich_url + "archive/",
            "feeds": rich_url + "feeds/",
            "rising": rich_url + "papers/rising/",
            "search": rich_pages.home,
        }[kind]
        page.goto(url)
        page.wait_for_load_state("load")
        expected = "slate" if scheme == "dark" else "default"
        assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == expected
        if kind == "search":
            # The dialog open, with results and the year filter's menu button.
            title = " ".join(page.locator("li.dp-card .dp-title a").first.inner_text().split())
            word = max(re.findall(r"[A-Za-z]{5,}", title), key=len)
            page.locator(TRIGGER).click()
            page.locator(f"{OPEN_MODAL} input.pf-input").fill(word)
            page.locator(f"{OPEN_MODAL} .pf-result-excerpt").first.wait_for()
            page.locator(f"{OPEN_MODAL} pagefind-filter-dropdown button").first.wait_for()
        if kind in ("paper", "rising"):  # the upvote history's parts are checked too
            shown = "svg.dp-spark" if kind == "paper" else ".dp-gain"
            assert page.locator(shown).count() > 0
        violations = _axe(page, axe_script)
        assert violations == []
        monitor.assert_clean()


#: WCAG contrast of an element's text colour on the page's background (axe cannot read the
#: text of a ::after, which is where "Show more" is written).
CONTRAST = """(selector) => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const el = document.querySelector(selector);
  const fg = getComputedStyle(el).color, bg = getComputedStyle(document.body).backgroundColor;
  const [a, b] = [lum(rgb(fg)), lum(rgb(bg))].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_show_more_is_readable(browser: Browser, base_url: str, scheme: str):  # noqa: F811
    with monitored(browser, base_url, viewport=DESKTOP, color_scheme=scheme) as (page, monitor):
        page.goto(base_url)
        label = page.locator(".dp-more-label").first
        assert label.evaluate("el => getComputedStyle(el, '::after').content") == '"Show more"'
        assert label.evaluate("el => getComputedStyle(el).color.startsWith('rgba')") is False
        assert page.evaluate(CONTRAST, ".dp-more-label") >= 4.5
        monitor.assert_clean()
