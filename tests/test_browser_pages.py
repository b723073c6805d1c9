"""Every page type in headless Chromium: a reader's walk through the site, and phone widths.

Runs on tests/richcontent.py's site (real days with upvotes, keywords and organizations),
with test_browser.py's Chromium, server and monitor (console errors, failed or foreign
requests).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_browser import DESKTOP, browser, monitored, serving  # noqa: F401 (fixture)

from generator import store
from generator.config import Paths

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
#: One page of every type (the empty Saturday included).
PAGE_TYPES = {
    "home": "",
    "day": "papers/date/2026-08-20/",
    "empty-day": "papers/date/2026-05-30/",
    "paper": "papers/2607.02770/",
    "trending": "papers/trending/",
    "week": "papers/week/2026-W33/",
    "month": "papers/month/2026-07/",
    "archive": "archive/",
    "topics": "topics/",
    "topic": "topics/large-language-models/",
    "orgs": "orgs/",
    "org": "orgs/google/",
    "feeds": "feeds/",
}


@pytest.fixture(scope="module")
def rich_url(rich_site: Paths) -> Iterator[str]:
    with serving(rich_site.site) as url:
        yield url


def test_walk_home_day_paper_topic_related(browser, rich_url: str, rich_site: Paths) -> None:  # noqa: F811
    day = store.load_day(store.day_path(rich_site.content, dt.date(2026, 8, 21)))
    with_topics = next(p for p in day.ranked() if len(p.keywords) >= 2)
    with monitored(browser, rich_url, viewport=DESKTOP) as (page, monitor):
        page.goto(rich_url)
        page.get_by_role("link", name="permalink").click()
        page.wait_for_url("**/papers/date/2026-08-21/")
        page.locator(f"li.dp-card[id='paper-{with_topics.id}'] h2 a").click()
        page.wait_for_url("**/papers/*/")
        assert page.locator("article[data-pagefind-body] h1").is_visible()
        page.locator(".dp-topics a.dp-chip").first.click()
        page.wait_for_url("**/topics/*/")
        assert page.locator("h1").inner_text()
        page.locator("a.dp-row-title").first.click()
        page.wait_for_url("**/papers/*/")
        first_paper = page.url
        related = page.locator(".dp-related a.dp-row-title")
        assert related.count() == 5
        related.first.click()
        page.wait_for_url("**/papers/*/")
        assert page.url != first_paper
        assert page.locator(".dp-related a.dp-row-title").count() == 5
        monitor.assert_clean()


@pytest.mark.parametrize("name", sorted(PAGE_TYPES))
def test_phone_width_has_no_horizontal_scroll(
    browser, rich_url: str, name: str, tmp_path: Path
) -> None:  # noqa: F811
    with monitored(browser, rich_url, **PHONE) as (page, monitor):
        response = page.goto(rich_url + PAGE_TYPES[name])
        assert response is not None
        page.wait_for_load_state("load")
        shot = tmp_path / f"{name}-390.png"
        page.screenshot(path=shot, full_page=True)
        assert shot.stat().st_size > 5_000  # something was drawn
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        wide = page.evaluate(
            """() => [...document.querySelectorAll('main *')]
                 .filter(el => el.getBoundingClientRect().right > 391)
                 .filter(el => !el.closest('.dp-header-title, table, pre'))
                 .map(el => el.tagName + '.' + el.className).slice(0, 5)"""
        )
        assert wide == []
        monitor.assert_clean()
