"""The built site in headless Chromium: header search (Pagefind), mobile layout, MathML.

Uses Debian's chromium (never a downloaded browser) against the session's embedded site
(and a small two-year site served under a sub-path), served by generator.serve.make_server
on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import build_project, make_project
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

from generator import search, store
from generator.config import Paths
from generator.models import Day, Organization, Paper
from generator.serve import make_server

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
TIMEOUT_MS = 10_000
SCREENSHOT = Path("/tmp/search.png")
RESULT_LINK = "pagefind-modal .pf-result-link"
OPEN_MODAL = "pagefind-modal dialog[open]"
# The header's search button: until the first use a stand-in (partials/header.html), which
# loads Pagefind (assets/search.js) and opens the search; then Pagefind's own.
TRIGGER = "pagefind-modal-trigger button.pf-trigger-btn"


# ---------------------------------------------------------------- fixtures


@contextmanager
def serving(folder: Path) -> Iterator[str]:
    """`folder` over HTTP on a free port of 127.0.0.1; its base URL."""
    server = make_server(folder, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def base_url(embedded_site: Paths) -> Iterator[str]:
    """The embedded site over HTTP on a free port of 127.0.0.1."""
    with serving(embedded_site.site) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not on PATH: the browser tests need Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Monitor:
    """Everything a clean page load must not produce, gathered across a browser context."""

    base_url: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> None:
        context.on("console", self._console)
        context.on("weberror", lambda err: self.errors.append(f"uncaught: {err.error}"))
        context.on("request", lambda req: self.requests.append(req.url))
        context.on(
            "requestfailed",
            lambda req: (
                None
                if _cancelled_favicon(req.url, req.failure)
                else self.errors.append(f"failed: {req.url} {req.failure}")
            ),
        )
        context.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        # Pagefind reports a broken or hung web worker as a warning before falling back.
        if message.type == "error" or (
            message.type == "warning" and "pagefind" in message.text.lower()
        ):
            self.errors.append(f"console {message.type}: {message.text}")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.errors.append(f"HTTP {response.status}: {response.url}")

    def foreign_requests(self) -> list[str]:
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in ("data", "blob")
            and urlsplit(url).hostname != "127.0.0.1"
        ]

    def assert_clean(self) -> None:
        assert self.errors == []
        assert self.foreign_requests() == []
        assert any(url.startswith(self.base_url) for url in self.requests)


DESKTOP = {"width": 1280, "height": 800}


@contextmanager
def monitored(browser: Browser, base_url: str, **options: object) -> Iterator[tuple[Page, Monitor]]:
    """A page in a fresh monitored context (light colour scheme unless told), closed afterwards."""
    context = browser.new_context(**{"color_scheme": "light", **options})
    context.set_default_timeout(TIMEOUT_MS)
    monitor = Monitor(base_url)
    monitor.attach(context)
    try:
        yield context.new_page(), monitor
    finally:
        context.close()


@pytest.fixture
def open_context(browser: Browser, base_url: str) -> Iterator[Callable[..., tuple[Page, Monitor]]]:
    """Factory for monitored pages on the embedded site; their contexts close after the test."""
    with ExitStack() as stack:
        yield lambda **options: stack.enter_context(monitored(browser, base_url, **options))


# ---------------------------------------------------------------- what to search for


@dataclass(frozen=True)
class Target:
    paper_id: str
    title: str
    word: str


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


@pytest.fixture(scope="module")
def target(embedded_site: Paths) -> Target:
    """A paper from the built site and a word of its title that no other paper page contains."""
    pages = sorted((embedded_site.site / "papers").glob("*/index.html"))
    assert pages, "the built site has no paper pages"
    titles: dict[str, str] = {}
    words: dict[str, set[str]] = {}
    for page in pages:
        source = page.read_text(encoding="utf-8")
        h1 = re.search(r"<h1[^>]*>(.*?)</h1>", source, re.DOTALL)
        if h1:
            titles[page.parent.name] = " ".join(_text(h1.group(1)).split())
        words[page.parent.name] = set(re.findall(r"[a-z]+", _text(source).lower()))
    for paper_id, title in titles.items():
        candidates = sorted(set(re.findall(r"[A-Za-z]{8,}", title)), key=lambda w: (-len(w), w))
        for word in map(str.lower, candidates):
            # Pagefind stems words: no other page may have a word with the same beginning.
            stem = word[: max(6, len(word) - 4)]
            pages_with_stem = [
                other
                for other, page_words in words.items()
                if any(token.startswith(stem) for token in page_words)
            ]
            if pages_with_stem == [paper_id]:
                return Target(paper_id, title, word)
    pytest.fail("no paper title has a word whose stem is on no other paper page")


# ---------------------------------------------------------------- helpers


def _result_titles(page: Page) -> list[str]:
    page.wait_for_selector(RESULT_LINK)
    return [" ".join(text.split()) for text in page.locator(RESULT_LINK).all_inner_texts()]


def _cancelled_favicon(url: str, failure: str | None) -> bool:
    """Chromium cancels a page's favicon request when the page navigates away: not an error."""
    return url.endswith("/favicon.png") and failure == "net::ERR_ABORTED"


def _open_search(page: Page) -> None:
    """Click the header search once and wait for its dialog. Pagefind's UI loads on first
    use (assets/search.js), which on a loaded machine can take seconds."""
    page.locator(TRIGGER).click()
    page.locator(OPEN_MODAL).wait_for(timeout=30_000)


def _wait_for_titles(page: Page, expected: list[str]) -> None:
    """Wait until the listed results are exactly `expected`, in any order (Pagefind draws
    the cards first and fills in their titles as each result's data arrives)."""
    script = """([selector, want]) => JSON.stringify(
        [...document.querySelectorAll(selector)]
          .map((el) => el.innerText.split(/\\s+/).join(" ").trim()).sort()
      ) === JSON.stringify(want)"""
    with contextlib.suppress(PlaywrightError):  # the assertion below shows what was listed
        page.wait_for_function(script, arg=[RESULT_LINK, sorted(expected)])
    assert sorted(" ".join(t.split()) for t in page.locator(RESULT_LINK).all_inner_texts()) == (
        sorted(expected)
    )


def _search(page: Page, target: Target) -> None:
    """Type into the open modal and wait until the target paper is listed."""
    search_input = page.locator(f"{OPEN_MODAL} input.pf-input")
    search_input.wait_for()
    assert search_input.evaluate("el => el === document.activeElement")
    page.keyboard.type(target.word)
    page.locator(f"{RESULT_LINK}[href$='/papers/{target.paper_id}/']").wait_for()
    assert target.title in _result_titles(page)


def _close(page: Page) -> None:
    page.keyboard.press("Escape")
    page.locator(OPEN_MODAL).wait_for(state="detached")
    # The <dialog> loses [open] at once, but Pagefind marks the modal closed (and may reopen
    # it) only in the dialog's later `close` event, which also hands focus back to the trigger.
    page.wait_for_function("document.activeElement?.classList.contains('pf-trigger-btn')")


# ---------------------------------------------------------------- tests


def test_header_search_finds_and_opens_a_paper(open_context, base_url: str, target: Target):
    page, monitor = open_context(viewport=DESKTOP)
    page.goto(base_url)
    trigger = page.locator(TRIGGER)
    trigger.wait_for()
    assert page.locator(OPEN_MODAL).count() == 0

    trigger.click()
    page.locator(OPEN_MODAL).wait_for()
    _close(page)

    for key in ("/", "f"):
        page.locator("body").click(position={"x": 5, "y": 300})  # focus off the trigger
        page.keyboard.press(key)
        page.locator(OPEN_MODAL).wait_for()
        assert page.locator(f"{OPEN_MODAL} input.pf-input").input_value() == ""
        _close(page)

    page.keyboard.press("s")
    page.locator(OPEN_MODAL).wait_for()
    assert page.locator(f"{OPEN_MODAL} input.pf-input").input_value() == ""
    _search(page, target)
    # Pagefind answered from its web worker, not the main-thread fallback.
    assert any(w.url.endswith("/pagefind/pagefind-worker.js") for w in page.workers)
    page.locator(".pf-result").first.wait_for()
    page.screenshot(path=str(SCREENSHOT))

    page.locator(f"{RESULT_LINK}[href$='/papers/{target.paper_id}/']").click()
    page.wait_for_url(f"{base_url}papers/{target.paper_id}/")
    assert " ".join(page.locator("h1").inner_text().split()) == target.title
    monitor.assert_clean()


def test_mobile_search_and_no_horizontal_scroll(open_context, base_url: str, target: Target):
    page, monitor = open_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page.goto(base_url)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    trigger = page.locator(TRIGGER)
    box = trigger.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    # An icon button on phones, as in Material, leaving the header's links their room.
    assert page.locator("pagefind-modal-trigger .pf-trigger-text").is_hidden()
    # The section links are in the header's menu (tests/test_ux.py tests it).
    assert page.locator(".dp-nav-link").first.is_hidden()
    trigger.tap()
    _search(page, target)
    # The embedded papers have organizations: a year and an organization menu.
    assert page.locator(f"{OPEN_MODAL} pagefind-filter-dropdown").count() == 2
    assert page.locator("pagefind-filter-dropdown[filter=organization]").count() == 1
    # The year filter's menu opens on screen (Pagefind centres it under a centred button).
    page.locator(f"{OPEN_MODAL} pagefind-filter-dropdown[filter=year] button").first.tap()
    menu = page.locator(f"{OPEN_MODAL} pagefind-filter-dropdown[filter=year] .pf-dropdown-menu")
    menu.locator("[role=option]").first.wait_for()
    box = menu.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    monitor.assert_clean()


@pytest.fixture(scope="module")
def math_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A small site whose paper has $…$ math (the embedded real days have none that renders)."""
    from conftest import REPO, build_project, make_project

    paths = make_project(tmp_path_factory.mktemp("math"), content_from=None)
    target = paths.content / "2026" / "2026-10-03.yml"
    target.parent.mkdir(parents=True)
    shutil.copy(REPO / "tests" / "golden" / "day.yml", target)
    build_project(paths)
    with serving(paths.site) as url:
        yield url


def test_paper_page_renders_math_as_mathml(browser: Browser, math_site: str):
    paper_id = "2610.01092"  # its title in tests/golden/day.yml has $O(L^2)$
    with monitored(browser, math_site, viewport=DESKTOP) as (page, monitor):
        page.goto(f"{math_site}papers/{paper_id}/")
        formula = page.locator("article math").first
        formula.wait_for()
        assert formula.evaluate("el => el instanceof MathMLElement")
        box = formula.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0
        # The LaTeX source is kept as an annotation, which browsers do not display.
        assert page.locator("article math annotation").first.is_hidden()
        monitor.assert_clean()


# ---------------------------------------------------------------- older years, sub-path

#: A title word no other paper has: the 2025 paper is in a merged (non-primary) index.
OLD_WORD = "Quasicrystalline"


#: An organization's name as Hugging Face could send it: the menu shows it as text, with
#: the characters Pagefind's filters cannot match replaced (search.filter_value).
LAB = 'Acme <b>AI</b> "Lab" \\ 2'
LAB_SHOWN = "Acme <b>AI</b> 'Lab' / 2"


def _paper(pid: str, title: str, org: str | None = None) -> Paper:
    return Paper(
        id=pid,
        title=title,
        summary=f"An abstract for {pid}.",
        authors=["A. Author"],
        published=dt.date(2025, 1, 1),
        upvotes=3,
        comments=0,
        organization=Organization(name="acme", fullname=org) if org else None,
    )


@pytest.fixture(scope="module")
def two_year_site(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """A site with papers of 2025 and 2026, so search merges two yearly indexes; the first
    search covers 2026 only (one paper is enough to be "recent" here)."""
    paths = make_project(tmp_path_factory.mktemp("two-years"), content_from=None)
    old = [
        _paper("2511.00001", f"{OLD_WORD} Lattices for Sparse Attention"),
        _paper("2511.00002", "Scaling Laws for Tiny Models", org=LAB),
    ]
    store.save_day(paths.content, Day(date=dt.date(2025, 11, 3), papers=old))
    new = [_paper("2602.00001", "Retrieval Heads Revisited", org=LAB)]
    store.save_day(paths.content, Day(date=dt.date(2026, 2, 2), papers=new))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "RECENT_PAGES", 1)
        build_project(paths)
    return paths


@pytest.fixture(scope="module")
def subpath_url(two_year_site: Paths, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The two-year site at /daily-papers/, as under a site_url with a path."""
    root = tmp_path_factory.mktemp("server-root")
    (root / "daily-papers").symlink_to(two_year_site.site, target_is_directory=True)
    with serving(root) as url:
        yield url + "daily-papers/"


SCOPE = f"{OPEN_MODAL} .dp-search-scope"
YEAR_MENU = f"{OPEN_MODAL} pagefind-filter-dropdown[filter=year]"
ORG_MENU = f"{OPEN_MODAL} pagefind-filter-dropdown[filter=organization]"


def test_search_finds_a_paper_of_an_older_year_under_a_sub_path(
    browser: Browser, subpath_url: str, two_year_site: Paths
) -> None:
    assert (two_year_site.site / "pagefind" / "2025" / "pagefind-entry.json").is_file()
    with monitored(browser, subpath_url, viewport=DESKTOP) as (page, monitor):
        page.goto(subpath_url)
        _open_search(page)
        # No 2026 paper matches, so the older years are searched at once, without asking.
        _search(page, Target("2511.00001", f"{OLD_WORD} Lattices for Sparse Attention", OLD_WORD))
        assert any(url.startswith(f"{subpath_url}pagefind/2025/") for url in monitor.requests)
        assert page.locator(SCOPE).is_hidden()
        page.locator(f"{RESULT_LINK}[href$='/papers/2511.00001/']").click()
        page.wait_for_url(f"{subpath_url}papers/2511.00001/")
        assert OLD_WORD in page.locator("h1").inner_text()
        monitor.assert_clean()


def test_search_covers_recent_papers_first_and_all_years_on_request(
    browser: Browser, subpath_url: str
) -> None:
    older_bundle = f"{subpath_url}pagefind/2025/"
    with monitored(browser, subpath_url, viewport=DESKTOP) as (page, monitor):
        page.goto(subpath_url)
        _open_search(page)
        page.locator(f"{OPEN_MODAL} input.pf-input").fill("abstract")  # in every abstract
        _wait_for_titles(page, ["Retrieval Heads Revisited"])
        scope = page.locator(SCOPE)
        scope.wait_for()
        assert " ".join(scope.inner_text().split()) == (
            "Papers featured since 2 February 2026. Search all years (back to November 2025)"
        )
        assert not any(url.startswith(older_bundle) for url in monitor.requests)

        page.locator(f"{SCOPE} button").click()
        everything = [
            f"{OLD_WORD} Lattices for Sparse Attention",
            "Retrieval Heads Revisited",
            "Scaling Laws for Tiny Models",
        ]
        _wait_for_titles(page, everything)
        assert page.locator(SCOPE).is_hidden()
        assert page.locator(f"{OPEN_MODAL} input.pf-input").evaluate(
            "el => el === document.activeElement"
        )
        assert any(url.startswith(older_bundle) for url in monitor.requests)

        # The year filter lists the merged years now, and narrows the results to one.
        page.locator(f"{YEAR_MENU} button").first.click()
        years = page.locator(f"{YEAR_MENU} [role=option]")
        years.first.wait_for()
        assert [" ".join(t.split()) for t in years.all_inner_texts()] == ["2025 2", "2026 1"]
        years.first.click()
        _wait_for_titles(page, [everything[0], everything[2]])
        page.locator(f"{YEAR_MENU} button").first.click()  # closes the year menu

        # The organization filter lists the organizations among these results, as text.
        page.locator(f"{ORG_MENU} button").first.click()
        orgs = page.locator(f"{ORG_MENU} [role=option]")
        orgs.first.wait_for()
        assert [" ".join(t.split()) for t in orgs.all_inner_texts()] == [f"{LAB_SHOWN} 1"]
        assert page.locator(f"{ORG_MENU} b").count() == 0
        orgs.first.click()
        _wait_for_titles(page, [everything[2]])

        # The choice lasts for the tab: the next page searches all years from the start.
        page.goto(f"{subpath_url}papers/2602.00001/")
        _open_search(page)
        page.locator(f"{OPEN_MODAL} input.pf-input").fill("abstract")
        _wait_for_titles(page, everything)
        assert page.locator(SCOPE).is_hidden()
        monitor.assert_clean()


def test_search_on_an_archive_with_no_papers(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    paths = make_project(tmp_path_factory.mktemp("empty"), content_from=None)
    build_project(paths)
    with serving(paths.site) as url, monitored(browser, url, viewport=DESKTOP) as (page, monitor):
        page.goto(url)
        _open_search(page)
        page.locator(f"{OPEN_MODAL} input.pf-input").fill("papers")
        # Pagefind writes no index of zero pages: the index holds the home page's message.
        assert _result_titles(page) == ["No papers yet"]
        monitor.assert_clean()


def test_a_press_that_outlasts_the_search_loading_still_opens_it(
    open_context, base_url: str
) -> None:
    """The first press on the header search starts loading Pagefind, whose button replaces
    the stand-in; a release after that lands on another element than the press, and the
    browser sends the click to their common parent. It must still open the search, once."""
    page, monitor = open_context(viewport=DESKTOP)
    page.goto(base_url)
    stub = page.locator(".dp-search-stub")
    box = stub.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.wait_for_function("() => !document.querySelector('.dp-search-stub')")  # replaced
    page.wait_for_function(
        "() => !!document.querySelector('pagefind-modal-trigger button[aria-controls]')"
    )
    page.mouse.up()
    page.locator(OPEN_MODAL).wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(300)  # a second, toggling click would have closed it by now
    assert page.locator(OPEN_MODAL).count() == 1
    monitor.assert_clean()


def test_header_icons_are_css_masks_and_the_colour_toggle_works(
    open_context, base_url: str
) -> None:
    """The logo and the colour toggle's icons are drawn by dailypapers.css (no inline SVG in
    each page): each is a 24 px box painted through a mask, and the toggle still switches."""
    page, monitor = open_context(viewport=DESKTOP)
    page.goto(base_url)
    html_text = page.content()
    assert (
        'class="md-header__option"' in html_text
        and "<svg"
        not in html_text.split('data-md-component="palette"', 1)[1].split("</form>", 1)[0]
    )
    for selector in (".md-logo .dp-mask", "label.md-icon:visible .dp-mask"):
        icon = page.locator(selector)
        box = icon.bounding_box()
        assert box is not None and box["width"] >= 16 and box["height"] >= 16, selector
        mask = icon.evaluate(
            "e => getComputedStyle(e).maskImage || getComputedStyle(e).webkitMaskImage"
        )
        assert "data:image/svg+xml" in mask, (selector, mask)
    before = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
    page.locator("label.md-icon:visible").click()
    after = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
    assert {before, after} == {"default", "slate"}
    monitor.assert_clean()
