"""Pagefind search on a built site, in headless Chromium (Debian's, never a downloaded one).

For each query word, in a fresh browser context (empty cache):
1. open the home page and wait until the network is idle;
2. from here on, count every response: click the header's search trigger, wait for the
   modal's input, type the word;
3. stop counting when the first result link (`pagefind-modal .pf-result-link`) appears.

Bytes are the response body sizes Chromium reports (`request.sizes()`; our local server
does not compress, Pagefind's index files are gzipped at rest). Time is measured inside the
page: from the input event of the typed word to the first result link being added to the
DOM (a MutationObserver), so Playwright's round trips are not counted; it includes the
component UI's debounce, as a reader would see it. A second word is then typed in the same
modal: the "warm" query, with Pagefind's runtime and WASM already loaded. On an archive
whose first search covers recent papers only, the reader's next step is measured too: the
"Search all years" button, from its click to the first result of the whole archive.
"""

from __future__ import annotations

import random
import re
import shutil
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
TRIGGER = "pagefind-modal-trigger button.pf-trigger-btn[aria-controls]"
INPUT = "pagefind-modal dialog[open] input.pf-input"
RESULT = "pagefind-modal .pf-result-link"
ALL_YEARS = "pagefind-modal .dp-search-scope:not([hidden]) button"
TIMEOUT_MS = 60_000

# Arms a watch: window.__searchStart gets performance.now() at the input's next `input` event;
# window.__firstResult resolves with performance.now() when a result link that was not in
# the page when armed is in the DOM (Pagefind adds loading placeholders first, then the
# result cards with their links; a new query replaces the old cards).
WATCH = """
([inputSelector, resultSelector]) => {
  for (const old of document.querySelectorAll(resultSelector)) old.__pfOld = true;
  window.__searchStart = null;
  const input = document.querySelector(inputSelector);
  input.addEventListener("input", () => {
    if (window.__searchStart === null) window.__searchStart = performance.now();
  }, {capture: true, once: true});
  const fresh = () => [...document.querySelectorAll(resultSelector)].some((el) => !el.__pfOld);
  window.__firstResult = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (fresh()) { observer.disconnect(); resolve(performance.now()); }
    });
    observer.observe(document.querySelector("pagefind-modal"), {childList: true, subtree: true});
  });
}
"""


@dataclass
class Query:
    word: str
    cold_ms: float  # typed -> first result link, fresh browser context
    cold_bytes: int  # response bodies from opening the search to the first result
    cold_requests: int
    busy_percent: float  # the machine's CPU use just before (other work: slower searches)
    settled_bytes: int  # ... plus what loaded in the second after it (the other result cards)
    warm_word: str
    warm_ms: float  # a second word in the same modal
    warm_bytes: int
    by_kind: dict[str, int] = field(default_factory=dict)
    # "Search all years" after the warm word (0 when the site's first search covers them all)
    all_ms: float = 0.0
    all_bytes: int = 0


@dataclass
class SearchResult:
    site: str
    pages: int
    home_bytes: int
    queries: list[Query]
    home_by_file: dict[str, int] = field(default_factory=dict)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(q, attr) for q in self.queries)

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(data: dict) -> SearchResult:
        return SearchResult(
            site=data["site"],
            pages=data["pages"],
            home_bytes=data["home_bytes"],
            queries=[Query(**q) for q in data["queries"]],
            home_by_file=data.get("home_by_file", {}),
        )


def query_words(content: Path, count: int, seed: int = 11) -> list[str]:
    """`count` distinct words of 6+ letters from random paper titles of the archive."""
    rng = random.Random(seed)
    files = sorted(content.glob("*/*.yml"))
    words: list[str] = []
    title = re.compile(r"^\s*title:\s*(.+)$", re.MULTILINE)
    while len(words) < count and files:
        text = rng.choice(files).read_text(encoding="utf-8")
        titles = title.findall(text)
        if not titles:
            continue
        candidates = [
            w.lower()
            for w in re.findall(r"\b[A-Za-z]{6,}\b", rng.choice(titles))
            if w.lower() not in words
        ]
        if candidates:
            words.append(rng.choice(candidates))
    return words


def _kind(url: str) -> str:
    """What a Pagefind (or page) response is, for the bytes breakdown."""
    name = url.split("?")[0].rsplit("/", 1)[-1]
    if name.startswith("wasm."):
        return "wasm"
    for ext in ("pf_index", "pf_fragment", "pf_meta", "pf_filter", "json", "js", "css"):
        if name.endswith("." + ext):
            return ext
    return "other"


@contextmanager
def serve(site: Path) -> Iterator[str]:
    from generator.serve import make_server

    server = make_server(site, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _body_size(request) -> int:
    from playwright.sync_api import Error

    try:
        return max(int(request.sizes()["responseBodySize"]), 0)
    except Error:  # a cancelled request has no sizes
        return 0


def _finished_at(request) -> float:
    """When the response body was complete, in ms since the epoch."""
    timing = request.timing
    return timing["startTime"] + max(timing["responseEnd"], 0)


class _Search:
    """One fresh browser context on the home page, recording finished requests."""

    def __init__(self, browser, base: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 800})
        self.context.set_default_timeout(TIMEOUT_MS)
        self.finished: list = []
        self.context.on("requestfinished", lambda r: self.finished.append(r))  # workers too
        self.page = self.context.new_page()
        self.page.goto(base, wait_until="networkidle")
        # Pagefind's UI loads on first use (assets/search.js): focusing the search button
        # loads it, so the page's bytes include it as before and a search's are its index's.
        self.page.locator("pagefind-modal-trigger button").focus()
        self.page.locator(TRIGGER).wait_for()
        self.home_by_file: dict[str, int] = {}
        for r in self.finished:
            name = r.url[len(base) :].split("?")[0] or "/"
            self.home_by_file[name] = self.home_by_file.get(name, 0) + _body_size(r)
        self.home_bytes = sum(self.home_by_file.values())

    def open(self) -> None:
        self.finished.clear()
        self.page.locator(TRIGGER).click()
        self.page.locator(INPUT).wait_for()

    def query(self, word: str) -> tuple[float, list, float]:
        """Type `word` (one input event); (ms to the first result, requests, result epoch ms)."""
        self.page.evaluate(WATCH, [INPUT, RESULT])
        self.page.locator(INPUT).fill(word)
        end = self.page.evaluate("window.__firstResult")
        start = self.page.evaluate("window.__searchStart")
        shown_at = self.page.evaluate("performance.timeOrigin") + end
        return end - start, self.finished, shown_at

    def all_years(self) -> tuple[float, list, float] | None:
        """Press "Search all years", if shown; (ms from the click to the first result of
        the widened search, requests, result epoch ms)."""
        button = self.page.locator(ALL_YEARS)
        if button.count() == 0:
            return None
        self.page.evaluate(WATCH, [INPUT, RESULT])
        button.evaluate(
            "el => el.addEventListener('click', () => { window.__searchStart = performance.now() },"
            " {capture: true, once: true})"
        )
        self.finished.clear()
        button.click()
        end = self.page.evaluate("window.__firstResult")
        start = self.page.evaluate("window.__searchStart")
        shown_at = self.page.evaluate("performance.timeOrigin") + end
        return end - start, self.finished, shown_at

    def settle(self, seconds: float = 1.0) -> list:
        time.sleep(seconds)  # late fragments, and request events still on their way
        done, self.finished[:] = list(self.finished), []
        return done

    def close(self) -> None:
        self.context.close()


def measure(site: Path, words: list[str], progress=print, quiet=None) -> SearchResult:
    """Search each of `words` on `site` (served on 127.0.0.1) in a fresh context.

    `quiet`, if given, is called before each query (to wait for other work to stop) and
    returns the machine's CPU use in percent."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        raise SystemExit("chromium is not on PATH (Debian's chromium package)")
    pages = sum(1 for _ in site.rglob("index.html"))
    queries: list[Query] = []
    home_bytes = 0
    home_by_file: dict[str, int] = {}
    with serve(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            for i, word in enumerate(words):
                warm_word = words[(i + 1) % len(words)] if len(words) > 1 else word[:-1]
                busy = quiet() if quiet else 0.0
                search = _Search(browser, base)
                if search.home_bytes > home_bytes:
                    home_bytes, home_by_file = search.home_bytes, search.home_by_file
                search.open()
                cold_ms, _, shown_at = search.query(word)
                done = search.settle()
                before = [r for r in done if _finished_at(r) <= shown_at + 1]
                by_kind: dict[str, int] = {}
                for r in before:
                    by_kind[_kind(r.url)] = by_kind.get(_kind(r.url), 0) + _body_size(r)
                warm_ms, _, warm_at = search.query(warm_word)
                warm = [r for r in search.settle(0.5) if _finished_at(r) <= warm_at + 1]
                all_ms, all_bytes = 0.0, 0
                widened = search.all_years()
                if widened is not None:
                    all_ms, _, all_at = widened
                    all_bytes = sum(
                        _body_size(r) for r in search.settle(0.5) if _finished_at(r) <= all_at + 1
                    )
                query = Query(
                    word=word,
                    cold_ms=cold_ms,
                    cold_bytes=sum(by_kind.values()),
                    cold_requests=len(before),
                    busy_percent=busy,
                    settled_bytes=sum(_body_size(r) for r in done),
                    warm_word=warm_word,
                    warm_ms=warm_ms,
                    warm_bytes=sum(_body_size(r) for r in warm),
                    by_kind=by_kind,
                    all_ms=all_ms,
                    all_bytes=all_bytes,
                )
                search.close()
                queries.append(query)
                progress(
                    f"  search {i + 1}/{len(words)} {word!r}: first result {cold_ms:.0f} ms after"
                    f" typing, {query.cold_bytes / 1024:.0f} KB in {len(before)} responses"
                    f" since opening; warm {warm_word!r} {warm_ms:.0f} ms"
                    + (
                        f"; all years {all_ms:.0f} ms, {all_bytes / 1024:.0f} KB more"
                        if widened is not None
                        else ""
                    )
                )
        finally:
            browser.close()
    return SearchResult(
        site=str(site),
        pages=pages,
        home_bytes=home_bytes,
        queries=queries,
        home_by_file=home_by_file,
    )
