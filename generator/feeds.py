"""Feeds of the newest featured papers: RSS 2.0 and Atom with feedgen, JSON Feed 1.1 with json.

Entry ids are urn:daily-papers:<feed file>:<arXiv id> (entry_id): unique per feed, so a
reader subscribed to several of our feeds keeps every entry of each (it would merge equal
ids across feeds and drop entries), and independent of site_url and of upvotes, so they
survive a move of the site and re-fetches. Every date is a featured day at 00:00 UTC, or
for the threshold feeds the upvote snapshot where a paper first reached the threshold
(crossing_items), and a feed's own date is its newest entry's, never the clock: the same
input gives byte-identical files. An item shows the paper's counts at build time ("▲ 60
upvotes · 3 comments") and its thumbnail (media:thumbnail and an enclosure in RSS,
media:thumbnail in Atom, `image` in JSON Feed) when that is an http(s) URL.
All text is untrusted plain text: it is filtered to what XML can carry and escaped for the
format that reads it (HTML-escaped for RSS descriptions, type="text" in Atom).
`feeds.opml` lists every feed written (generator/opml.py).
"""

from __future__ import annotations

import datetime as dt
import heapq
import html
import json
import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator

from generator import opml, trends
from generator.config import SiteConfig
from generator.models import Day, Paper, is_http_url
from generator.outputs import OutputCache
from generator.pages import absolute_url, paper_doc
from generator.textfmt import count
from generator.textfmt import xml_safe as _xml_safe

if TYPE_CHECKING:
    from generator.groups import Groups
    from generator.pages import Archive

GENERATOR = "Daily Papers"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
RSS_FILE, ATOM_FILE, JSON_FILE = "feed.xml", "atom.xml", "feed.json"
ALL_FORMATS = {"rss": RSS_FILE, "atom": ATOM_FILE, "json": JSON_FILE}
DAILY_FILE = "feeds/daily.xml"
RISING_FILE = "rising.xml"  # in feeds/
#: Authors named in an entry's byline before "et al.".
MAX_AUTHORS = 10
#: Keywords given as categories per entry; keeps feeds small (a paper may list hundreds).
MAX_CATEGORIES = 20
#: The date of a feed without entries: fixed, so an empty feed is deterministic too.
EMPTY_FEED_DATE = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: A paper whose first upvote snapshot came this long after its featured day was already
#: stored before the history began: its first snapshot is no crossing (crossing_items).
LATE_HISTORY = dt.timedelta(days=2)
#: RSS needs an enclosure's length in bytes; we do not download thumbnails to learn it,
#: and RSS Best Practices say 0 for an unknown length.
UNKNOWN_LENGTH = 0


@dataclass(frozen=True)
class FeedItem:
    """A paper in a feed, dated by the day it was (first) featured, or `at` when given."""

    paper: Paper
    featured: dt.date
    at: dt.datetime | None = None


def latest_items(days: list[Day], limit: int) -> list[FeedItem]:
    """Return the newest `limit` papers, each once, dated by its first featured day.

    Order: newest featured day first, then (-upvotes, id). A paper featured on several
    days keeps its first day but the record from its latest day (the freshest fetch).
    """
    first_day: dict[str, dt.date] = {}
    latest: dict[str, Paper] = {}
    for day in sorted(days, key=lambda d: d.date):
        for paper in day.papers:
            first_day.setdefault(paper.id, day.date)
            latest[paper.id] = paper
    items = [FeedItem(latest[pid], first_day[pid]) for pid in first_day]
    items.sort(key=lambda i: (-i.featured.toordinal(), -i.paper.upvotes, i.paper.id))
    return items[: max(limit, 0)]


def write_all(archive: Archive, groups: Groups, config: SiteConfig, cache: Path) -> OutputCache:
    """Every feed of the site: the main feeds, top-N, daily, and per topic and organization.

    Feeds are made in `cache` only when their entries or the configuration change (a daily
    update remakes the few that gained papers); link() the result into the new site.
    """
    settings = config.feeds
    out = OutputCache(cache, config.model_dump_json())
    titles: dict[str, str] = {}  # each feed's title, for the OPML

    def emit(items: list[FeedItem], path: str, title: str | None, files: dict[str, str]) -> None:
        key = f"{path}|{title}|{files}|" + "|".join(
            f"{i.featured}{i.at}{archive.paper_key(i.paper.id)}" for i in items
        )
        stale = [name for name in files.values() if not out.fresh(path + name, key)]
        for kind, name in files.items():
            titles[path + name] = opml.format_title(title or config.title, kind)
        if stale:
            for name, data in render_feeds(
                items, config, path=path, title=title, files=files
            ).items():
                out.write(name, data)

    emit(latest_items(archive.days, settings.items), "", None, ALL_FORMATS)
    for threshold in settings.top:
        emit(
            crossing_items(archive, threshold, settings.top_items),
            "feeds/",
            f"{config.title}: {threshold}+ upvotes",
            {"rss": f"top-{threshold}.xml"},
        )
    emit(rising_items(archive, config), "feeds/", f"{config.title}: rising", {"rss": RISING_FILE})
    days = [day for day in archive.days if day.papers][-settings.daily_items :][::-1]
    titles[DAILY_FILE] = f"{config.title}: one item a day"
    if not out.fresh(DAILY_FILE, "|".join(day.model_dump_json() for day in days)):
        out.write(DAILY_FILE, daily_feed(days, config))
    for folder, what, kind in (("topics", "topic", groups.topics), ("orgs", "", groups.orgs)):
        for slug, group in kind.items():
            label = f"{what} {group.label}".strip()
            emit(
                newest_items(group.ids, archive, settings.topic_items),
                f"{folder}/{slug}/",
                f"{config.title}: {label}",
                {"rss": RSS_FILE, "atom": ATOM_FILE},
            )
    # Last: from the feeds asked for above, so a feed added to this function is listed too.
    written = [name for name in out.keys if name.endswith(opml.FEED_SUFFIXES)]
    listing = opml.document(config, {name: titles.get(name, name) for name in written})
    if not out.fresh(opml.FILE, listing.decode("utf-8")):
        out.write(opml.FILE, listing)
    return out.finish()


def crossing_items(archive: Archive, threshold: int, limit: int) -> list[FeedItem]:
    """The last `limit` papers to reach `threshold` upvotes, newest crossing first.

    A paper is dated at its first upvote snapshot (archive.history) with at least
    `threshold` upvotes, so it enters the feed once and keeps its date when its count
    moves again, even below the threshold. A paper without such a snapshot whose stored
    count reaches the threshold (content from before the history, or a history that began
    more than LATE_HISTORY after the paper was featured, so its first snapshot is no
    crossing) is dated at its first featured day, 00:00 UTC.
    """
    papers, featured, stored_history = archive.papers, archive.featured, archive.history
    found: list[tuple[dt.datetime, str]] = []
    for pid, paper in papers.items():
        day = dt.datetime.combine(featured[pid][0], dt.time(), tzinfo=dt.UTC)
        points = stored_history.get(pid) or []
        at = next((p.t for p in points if p.up >= threshold), None)
        if at is not None and at == points[0].t and at - day > LATE_HISTORY:
            at = day
        if at is None and paper.upvotes >= threshold:
            at = day
        if at is not None:
            found.append((at, pid))
    best = heapq.nsmallest(
        max(limit, 0), found, key=lambda f: (-f[0].timestamp(), -papers[f[1]].upvotes, f[1])
    )
    return [FeedItem(papers[pid], featured[pid][0], at) for at, pid in best]


def rising_items(archive: Archive, config: SiteConfig) -> list[FeedItem]:
    """feeds/rising.xml: the Rising page's papers (trends.rising), most gained first, the
    first `feeds.top_items`; each dated by its first featured day, like every entry, so a
    paper's entry keeps its id and date while its gain moves it up and down."""
    _days, ranked = trends.rising_window(archive.listed, archive.history, config.pages.rising_days)
    return [
        FeedItem(archive.papers[pid], archive.featured[pid][0])
        for pid, _gain in ranked[: config.feeds.top_items]
    ]


def newest_items(ids: Iterable[str], archive: Archive, limit: int) -> list[FeedItem]:
    """The papers among `ids` featured most recently (by first featured day), newest first."""
    papers, featured = archive.papers, archive.featured
    best = heapq.nsmallest(
        max(limit, 0),
        ids,
        key=lambda pid: (-featured[pid][0].toordinal(), -papers[pid].upvotes, pid),
    )
    return [FeedItem(papers[pid], featured[pid][0]) for pid in best]


def render_feeds(
    items: list[FeedItem],
    config: SiteConfig,
    *,
    path: str = "",
    title: str | None = None,
    files: dict[str, str] | None = None,
) -> dict[str, bytes]:
    """{path/name: bytes} of the feeds of `items`: by default feed.xml, atom.xml, feed.json.

    `files` picks formats and names, e.g. {"rss": "top-10.xml"}; the channel's link is
    site_url + path either way.
    """
    path = _sub_path(path)
    base = config.site_url + quote(path, safe="/")
    feed_title = _xml_safe(title if title is not None else config.title) or GENERATOR
    makers = {"rss": _rss, "atom": _atom, "json": _json_feed}
    return {
        path + name: makers[kind](items, config, base, feed_title, name, path + name)
        for kind, name in (files or ALL_FORMATS).items()
    }


def entry_id(feed: str, paper_id: str) -> str:
    """The id of a paper's entry in the feed file `feed` (site-relative, e.g. feeds/top-10.xml)."""
    return f"urn:daily-papers:{quote(feed, safe='/')}:{paper_id}"


def write_feeds(
    items: list[FeedItem],
    config: SiteConfig,
    out_dir: Path,
    *,
    path: str = "",
    title: str | None = None,
    files: dict[str, str] | None = None,
) -> list[Path]:
    """Write render_feeds' files under out_dir and return their paths."""
    written = []
    for name, data in render_feeds(items, config, path=path, title=title, files=files).items():
        target = out_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(target)
    return written


def daily_feed(days: list[Day], config: SiteConfig) -> bytes:
    """feeds/daily.xml: one RSS item per day of `days` (newest first) listing its top papers.

    Item ids are urn:daily-papers:day:<date>: stable across site_url changes and re-fetches
    (a re-fetched day updates its item rather than adding one).
    """
    settings = config.feeds
    base = config.site_url
    title = _xml_safe(f"{config.title}: one item a day") or GENERATOR
    fg = _generator(config, base, title, base + DAILY_FILE, "application/rss+xml")
    for day in days:
        ranked = day.ranked()
        fe = fg.add_entry(order="append")
        fe.id(f"urn:daily-papers:day:{day.date.isoformat()}")
        fe.guid(f"urn:daily-papers:day:{day.date.isoformat()}", permalink=False)
        how_many = f"{len(ranked)} paper{'' if len(ranked) == 1 else 's'}"
        fe.title(f"{config.title} — {day.date:%b} {day.date.day}, {day.date:%Y}: {how_many}")
        fe.link(href=f"{base}papers/date/{day.date.isoformat()}/", rel="alternate")
        when = dt.datetime.combine(day.date, dt.time(), tzinfo=dt.UTC)
        fe.published(when)
        fe.updated(when)
        rows = "".join(
            f'<li><a href="{html.escape(_page_url(config, p))}">{html.escape(_title(p))}</a>'
            f" (▲ {p.upvotes})</li>"
            for p in ranked[: settings.daily_top]
        )
        fe.description(f"<ol>{rows}</ol>")
    newest = days[0].date if days else None
    fg.updated(dt.datetime.combine(newest, dt.time(), tzinfo=dt.UTC) if newest else EMPTY_FEED_DATE)
    return fg.rss_str(pretty=True)


def _sub_path(path: str) -> str:
    """Normalise a feed sub-folder to "" or "a/b/"; refuse absolute paths and ".."."""
    pure = PurePosixPath(path.strip("/"))
    if path.startswith("/") or ".." in pure.parts or "\\" in path:
        raise ValueError(f"feed path must be a relative folder without '..': {path!r}")
    return "" if str(pure) == "." else f"{pure}/"


def _entry_date(item: FeedItem) -> dt.datetime:
    if item.at is not None:
        return item.at.astimezone(dt.UTC)
    return dt.datetime.combine(item.featured, dt.time(), tzinfo=dt.UTC)


def _counts(paper: Paper) -> str:
    """The counts at build time, e.g. "▲ 60 upvotes · 3 comments"."""
    return f"▲ {count(paper.upvotes, 'upvote')} · {count(paper.comments, 'comment')}"


def _text(paper: Paper) -> str:
    """An item's plain text: the counts, then the abstract."""
    summary = _xml_safe(paper.summary)
    return f"{_counts(paper)}\n\n{summary}" if summary else _counts(paper)


def _thumbnail(paper: Paper) -> tuple[str, str | None] | None:
    """The paper's thumbnail URL and its image MIME type (None when its name gives none),
    or None unless it is an http(s) URL (models check it; the feeds do not rely on that)."""
    url = paper.thumbnail
    if not isinstance(url, str) or not is_http_url(url):
        return None
    mime = mimetypes.guess_type(urlsplit(url).path, strict=False)[0]
    return url, (mime if mime and mime.startswith("image/") else None)


def _feed_date(items: list[FeedItem]) -> dt.datetime:
    return max((_entry_date(i) for i in items), default=EMPTY_FEED_DATE)


def _title(paper: Paper) -> str:
    return _xml_safe(paper.title).strip() or paper.id


def _byline(paper: Paper) -> str:
    """Return "A, B, … et al. (Organization)", or "" when nobody is named."""
    names = ", ".join(paper.authors[:MAX_AUTHORS])
    if len(paper.authors) > MAX_AUTHORS:
        names += " et al."
    org = paper.organization
    org_name = (org.fullname or org.name) if org else ""
    if names and org_name:
        return _xml_safe(f"{names} ({org_name})")
    return _xml_safe(names or org_name)


def _keywords(paper: Paper) -> list[str]:
    unique = dict.fromkeys(k for k in map(_xml_safe, paper.keywords) if k.strip())
    return list(unique)[:MAX_CATEGORIES]


def _page_url(config: SiteConfig, paper: Paper) -> str:
    return absolute_url(config.site_url, paper_doc(paper.id))


def _generator(
    config: SiteConfig, base: str, title: str, self_url: str, mime: str
) -> FeedGenerator:
    """Return a FeedGenerator with the channel-level fields both XML formats share."""
    fg = FeedGenerator()
    fg.id(base)
    fg.title(title)
    fg.description(_xml_safe(config.description) or title)
    fg.language(_xml_safe(config.language))
    fg.generator(GENERATOR)
    fg.author({"name": title})
    # feedgen uses the last link as the RSS <link>, the first rel=self as atom:link.
    fg.link(href=self_url, rel="self", type=mime)
    fg.link(href=base, rel="alternate", type="text/html")
    return fg


def _add_common(fg: FeedGenerator, item: FeedItem, config: SiteConfig, feed: str) -> FeedEntry:
    """Add an entry with id, title, link, dates and categories; return it."""
    paper = item.paper
    fe = fg.add_entry(order="append")
    fe.id(entry_id(feed, paper.id))  # also the RSS guid, isPermaLink="false"
    fe.title(_title(paper))
    fe.link(href=_page_url(config, paper), rel="alternate", type="text/html")
    fe.published(_entry_date(item))
    fe.updated(_entry_date(item))  # feedgen would otherwise stamp now()
    for keyword in _keywords(paper):
        fe.category(term=keyword)
    return fe


def _add_thumbnail(fe: FeedEntry, paper: Paper, *, enclosure: bool) -> None:
    """media:thumbnail, and in RSS an <enclosure> when the image type is known. Not in
    Atom: feedgen 1.0 writes an entry's links without their rel, so an enclosure link
    would be a second rel="alternate"."""
    if thumbnail := _thumbnail(paper):
        fe.media.thumbnail({"url": thumbnail[0]})
        if enclosure and thumbnail[1]:
            fe.enclosure(thumbnail[0], str(UNKNOWN_LENGTH), thumbnail[1])


def _rss(
    items: list[FeedItem], config: SiteConfig, base: str, title: str, name: str, feed: str
) -> bytes:
    """Return the RSS 2.0 document; descriptions are HTML-escaped plain text."""
    fg = _generator(config, base, title, base + name, "application/rss+xml")
    fg.load_extension("dc", atom=False, rss=True)  # dc:creator: RSS <author> needs an email
    fg.load_extension("media", atom=False, rss=True)
    for item in items:
        fe = _add_common(fg, item, config, feed)
        fe.description(
            f"<p>{html.escape(_counts(item.paper))}</p>"
            f"<p>{html.escape(_xml_safe(item.paper.summary))}</p>"
        )
        if byline := _byline(item.paper):
            fe.dc.dc_creator(byline)
        _add_thumbnail(fe, item.paper, enclosure=True)
    fg.updated(_feed_date(items))  # lastBuildDate; feedgen's default is now()
    return fg.rss_str(pretty=True)


def _atom(
    items: list[FeedItem], config: SiteConfig, base: str, title: str, name: str, feed: str
) -> bytes:
    """Return the Atom document; summaries are type="text"."""
    fg = _generator(config, base, title, base + name, "application/atom+xml")
    fg.load_extension("media", atom=True, rss=False)
    for item in items:
        fe = _add_common(fg, item, config, feed)
        fe.summary(_text(item.paper), type="text")
        _add_thumbnail(fe, item.paper, enclosure=False)
        if byline := _byline(item.paper):
            fe.author({"name": byline})
    fg.updated(_feed_date(items))  # feedgen's default is now()
    return fg.atom_str(pretty=True)


def _json_item(item: FeedItem, config: SiteConfig, feed: str) -> dict:
    paper = item.paper
    entry: dict[str, object] = {
        "id": entry_id(feed, paper.id),
        "url": _page_url(config, paper),
        "external_url": paper.arxiv_url,
        "title": _title(paper),
        "content_text": _text(paper),
        "date_published": _entry_date(item).isoformat(),
    }
    if thumbnail := _thumbnail(paper):
        entry["image"] = thumbnail[0]
    if byline := _byline(paper):
        entry["authors"] = [{"name": byline}]
    if keywords := _keywords(paper):
        entry["tags"] = keywords
    return entry


def _json_feed(
    items: list[FeedItem], config: SiteConfig, base: str, title: str, name: str, feed: str
) -> bytes:
    """Return the JSON Feed 1.1 document (UTF-8, stable key order, trailing newline)."""
    document = {
        "version": JSON_FEED_VERSION,
        "title": title,
        "home_page_url": base,
        "feed_url": base + name,
        "description": _xml_safe(config.description),
        "language": _xml_safe(config.language),
        "authors": [{"name": title}],
        "items": [_json_item(item, config, feed) for item in items],
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
