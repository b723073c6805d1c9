"""Helpers that read a built site the way a browser or crawler would."""

from __future__ import annotations

import hashlib
import json
import posixpath
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import feedparser


class Page(HTMLParser):
    """Tags with attributes, and text per tag, of one HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.ids: set[str] = set()
        self._stack: list[str] = []
        self.text_by_tag: dict[str, list[str]] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.elements.append((tag, a))
        if "id" in a:
            self.ids.add(a["id"])
        self._stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._stack:
            while self._stack and self._stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        for tag in set(self._stack):
            self.text_by_tag.setdefault(tag, []).append(data)

    def text(self, tag: str) -> str:
        return "".join(self.text_by_tag.get(tag, []))

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]

    def links(self) -> list[str]:
        return [a[k] for _, a in self.elements for k in ("href", "src") if k in a]


def load(site: Path, url_path: str) -> Page:
    """The page at a site-relative URL path like 'papers/2610.01092/'."""
    target = site / url_path
    if url_path.endswith("/") or url_path == "":
        target = target / "index.html"
    return Page(target.read_text(encoding="utf-8"))


def broken_links(site: Path, base_path: str = "/") -> list[str]:
    """Every internal href/src (and #anchor) in every HTML page that does not resolve.

    `base_path` is the path of site_url: absolute links under it (404.html uses them) count.
    """
    broken: list[str] = []
    pages: dict[Path, Page] = {}
    for html in sorted(site.rglob("*.html")):
        if "pagefind" in html.parts:
            continue
        pages[html] = Page(html.read_text(encoding="utf-8"))
    for html, page in pages.items():
        for link in page.links():
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "data:")):
                continue
            rel_dir = html.parent.relative_to(site).as_posix()
            if parts.path.startswith("/"):
                if not parts.path.startswith(base_path):
                    broken.append(f"{html.relative_to(site)}: {link} (outside the site)")
                    continue
                rel_dir, parts = ".", parts._replace(path=parts.path[len(base_path) :] or ".")
            path = (
                posixpath.normpath(posixpath.join(rel_dir, unquote(parts.path)))
                if parts.path
                else html.relative_to(site).as_posix()
            )
            target = site / path
            if target.is_dir():
                target = target / "index.html"
            if path.startswith("..") or not target.exists():
                broken.append(f"{html.relative_to(site)}: {link}")
                continue
            if parts.fragment and target.suffix == ".html":
                other = pages.get(target) or Page(target.read_text(encoding="utf-8"))
                if parts.fragment not in other.ids and parts.fragment != "__drawer":
                    broken.append(f"{html.relative_to(site)}: {link} (no such anchor)")
    return broken


def manifest(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under `folder`: two equal manifests, equal trees."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


FEEDS = ("feed.xml", "atom.xml", "feed.json")


def feed_links(site: Path) -> dict[str, list[tuple[str, str]]]:
    """{feed file: [(entry id, entry link)]} of the three feeds, in document order."""
    out = {}
    for name in FEEDS[:2]:
        parsed = feedparser.parse((site / name).read_bytes())
        out[name] = [(e.id, e.link) for e in parsed.entries]
    items = json.loads((site / FEEDS[2]).read_text(encoding="utf-8"))["items"]
    out[FEEDS[2]] = [(i["id"], i["url"]) for i in items]
    return out


def broken_feed_links(site: Path, site_url: str) -> list[str]:
    """Every feed entry link that is not a built page under `site_url`."""
    broken = []
    for name, entries in feed_links(site).items():
        for _id, link in entries:
            path = link.removeprefix(site_url)
            target = site / path / "index.html"
            if path == link or not path.endswith("/") or ".." in path or not target.is_file():
                broken.append(f"{name}: {link}")
    return broken
