"""The feeds page's picker in headless Chromium: the OPML it downloads holds exactly the
chosen feeds, and without JavaScript the page is a plain list of feed links.

The embedded site, served on 127.0.0.1 (test_browser's fixtures, Debian's chromium).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from playwright.sync_api import Browser
from test_browser import base_url, browser, monitored  # noqa: F401 (fixtures)

from generator.config import Paths

pytestmark = pytest.mark.browser

SITE = "https://example.org/daily-papers/"


def test_the_download_holds_exactly_the_chosen_feeds(
    browser: Browser, base_url: str, embedded_site: Paths
) -> None:  # noqa: F811
    with monitored(browser, base_url, accept_downloads=True) as (page, monitor):
        page.goto(base_url + "feeds/")
        boxes = page.locator("#dp-picker input[type=checkbox]")
        assert boxes.count() > 20
        button = page.get_by_role("button", name="Download OPML of the chosen feeds")
        button.click()  # nothing chosen: says so, downloads nothing
        assert "Tick at least one" in page.locator(".dp-picker-status").inner_text()
        topics = page.get_by_role("group", name="Topics").get_by_role("checkbox")
        orgs = page.get_by_role("group", name="Organizations").get_by_role("checkbox")
        chosen = [topics.nth(0), topics.nth(3), orgs.nth(1)]
        expected = {}
        for box in chosen:
            label = page.locator(f'label[for="{box.get_attribute("id")}"]')
            label.click()  # the label ticks its box
            href = box.locator("xpath=..").locator("a").get_attribute("href")
            expected[SITE + href.removeprefix("../")] = label.inner_text()
        topics.nth(3).check()  # ticked twice: still once
        assert all(box.is_checked() for box in chosen)
        with page.expect_download() as info:
            button.click()
        download = info.value
        assert download.suggested_filename == "daily-papers-feeds.opml"
        root = ET.parse(download.path()).getroot()
        assert "Downloaded 3 feeds" in page.locator(".dp-picker-status").inner_text()
        monitor.assert_clean()
    assert root.tag == "opml" and root.get("version") == "2.0"
    groups = {g.get("text"): g for g in root.find("body")}
    assert list(groups) == ["Topics", "Organizations"]
    got = {o.get("xmlUrl"): o.get("title") for g in groups.values() for o in g}
    assert got.keys() == expected.keys()
    for url, title in got.items():
        label = expected[url]
        assert title in (f"Daily Papers: topic {label}", f"Daily Papers: {label}")
        path = url.removeprefix(SITE)
        assert (embedded_site.site / path).is_file(), path
    assert [o.get("htmlUrl") for o in groups["Organizations"]] == [
        url.removesuffix("feed.xml") for url in got if "/orgs/" in url
    ]


def test_without_javascript_the_page_is_a_list_of_feed_links(
    browser: Browser, base_url: str
) -> None:  # noqa: F811
    with monitored(browser, base_url, java_script_enabled=False) as (page, _monitor):
        page.goto(base_url + "feeds/")
        assert page.locator("#dp-picker input[type=checkbox]").first.is_hidden()
        assert page.get_by_role("button", name="Download OPML of the chosen feeds").count() == 0
        links = page.locator("#dp-picker a")
        assert links.count() > 20
        assert links.first.get_attribute("href").endswith("/feed.xml")
        assert page.get_by_role("link", name="feeds.opml").count() == 1
