"""Models -> Markdown pages for MkDocs (Jinja2 templates in site_config/templates).

Each page is Markdown with YAML front matter. Every piece of API text is placed inside
HTML blocks rendered with autoescaping, so Markdown never parses it (no emphasis, lists,
attr_list or links can come from data); structural links between our own pages are
Markdown links, which MkDocs validates in strict mode. Writes only files whose bytes change.
"""

from __future__ import annotations

import bisect
import calendar as pycalendar
import contextlib
import datetime as dt
import functools
import hashlib
import html
import json
import logging
import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import yaml
from markupsafe import Markup

from generator import __version__, trends
from generator.config import PageSettings, SiteConfig
from generator.errors import BuildError
from generator.forked import Forked
from generator.fsutil import code_digest, replace_file, write_if_changed
from generator.groups import (
    Group,
    Groups,
    group_archive,
    month_key,
    month_label,
    trending,
    week_key,
)
from generator.history import Point
from generator.models import Day, Paper
from generator.textfmt import count, rich
from generator.tree import files_under

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageSpec:
    """One page to render: template, context, and a string of everything it shows."""

    template: str
    key: str
    context: dict


@dataclass
class Archive:
    """All days, oldest first, and each paper's latest version and featured days."""

    days: list[Day]
    papers: dict[str, Paper] = field(default_factory=dict)
    featured: dict[str, list[dt.date]] = field(default_factory=dict)
    #: Each paper's upvote history (history.py), oldest point first; papers of the
    #: archive only.
    history: dict[str, list[Point]] = field(default_factory=dict)
    _keys: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, days: Iterable[Day], history: dict[str, list[Point]] | None = None) -> Archive:
        archive = cls(days=sorted(days, key=lambda d: d.date))
        for day in archive.days:
            for paper in day.papers:
                archive.papers[paper.id] = paper  # a later day's copy has fresher counts
                archive.featured.setdefault(paper.id, []).append(day.date)
        archive.history = {
            pid: points
            for pid, points in (history or {}).items()
            if pid in archive.papers and points
        }
        return archive

    def paper_key(self, pid: str) -> str:
        """A digest of everything shown of a paper anywhere (its data, featured days and
        upvote history), memoised: short, so the keys of pages listing 50 papers are cheap
        to join and hash."""
        key = self._keys.get(pid)
        if key is None:
            featured = ",".join(d.isoformat() for d in self.featured[pid])
            points = ",".join(
                f"{p.t:%Y%m%d%H%M%S}:{p.up}:{p.c}:{p.stars}" for p in self.history.get(pid, ())
            )
            data = f"{self.papers[pid].model_dump_json()}{featured}|{points}".encode()
            key = self._keys[pid] = hashlib.blake2b(data, digest_size=16).hexdigest()
        return key

    @property
    def listed(self) -> dict[dt.date, list[str]]:
        """The ids of each day with papers (days without papers are no day to link to)."""
        return {day.date: [p.id for p in day.papers] for day in self.days if day.papers}

    @property
    def last_day(self) -> dict[str, dt.date]:
        return {pid: days[-1] for pid, days in self.featured.items()}

    def groups(self, settings: PageSettings) -> Groups:
        return group_archive(self.listed, self.papers, self.last_day, settings.topic_min_papers)


# ---------------------------------------------------------------- URLs


def day_doc(day: dt.date) -> str:
    return f"papers/date/{day.isoformat()}.md"


def paper_doc(paper_id: str) -> str:
    return f"papers/{paper_id}.md"


def week_doc(key: str) -> str:
    return f"papers/week/{key}.md"


def month_doc(key: str) -> str:
    return f"papers/month/{key}.md"


def topic_doc(slug: str) -> str:
    return f"topics/{slug}.md"


def org_doc(slug: str) -> str:
    return f"orgs/{slug}.md"


TRENDING_DOC, ARCHIVE_DOC, FEEDS_DOC = "papers/trending.md", "archive.md", "feeds/index.md"
RISING_DOC = "papers/rising.md"
TOPICS_DOC, ORGS_DOC = "topics/index.md", "orgs/index.md"


def doc_url(doc: str) -> str:
    """The directory URL MkDocs gives a Markdown file (use_directory_urls)."""
    stem = doc.removesuffix(".md")
    if stem == "index":
        return ""
    return stem.removesuffix("/index") + "/"


def absolute_url(site_url: str, doc: str) -> str:
    """The public address of a Markdown page: its directory URL under `site_url`."""
    return site_url + doc_url(doc)


def rel(src_url: str, dst_url: str) -> str:
    """Relative link from the page at `src_url` to `dst_url` (both site-relative)."""
    # By segments rather than posixpath.relpath: a third of page rendering time went there.
    trailing = "/" if dst_url.endswith("/") or dst_url == "" else ""
    src = [part for part in src_url.split("/") if part]
    dst = [part for part in dst_url.split("/") if part]
    common = 0
    while common < len(src) and common < len(dst) and src[common] == dst[common]:
        common += 1
    parts = [".."] * (len(src) - common) + dst[common:]
    return "/".join(parts) + trailing if parts else "./"


def md_link(src_doc: str, dst_doc: str) -> str:
    """Relative path between two Markdown files, for a Markdown link MkDocs validates."""
    return posixpath.relpath(dst_doc, posixpath.dirname(src_doc) or ".")


# ---------------------------------------------------------------- rendering


def _env(templates: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["rich"] = rich
    env.filters["longdate"] = lambda d: f"{d:%b} {d.day}, {d:%Y}"
    env.filters["shortdate"] = lambda d: f"{d:%b} {d.day}"
    env.filters["count"] = count
    return env


#: Pages rendered with Material's base.html through site_config/overrides/lean.html (front
#: matter `template:`), which leaves out what these pages never show: paper and day pages,
#: ~35,000 of the real archive's pages.
LEAN_TEMPLATES = frozenset({"paper.md.j2", "day.md.j2"})
LEAN_PAGE = "lean.html"


def front_matter(title: str, description: str = "", **extra: object) -> Markup:
    """YAML front matter. Material prints meta.title unescaped, so it is HTML-escaped here."""
    meta: dict[str, object] = {"title": html.escape(title)}
    if description:
        meta["description"] = html.escape(" ".join(description.split())[:200])
    meta.update(extra)
    if "image" in meta:
        if meta["image"]:
            meta["image"] = html.escape(str(meta["image"]))
        else:
            del meta["image"]
    dumped = yaml.dump(meta, Dumper=_FastDumper, allow_unicode=True, sort_keys=False, width=1000)
    return Markup(f"---\n{dumped}---\n\n")


# libyaml's emitter when available: the pure-Python one dominated page generation.
_FastDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class PageRenderer:
    """Renders every page of the site as {docs-relative path: Markdown text}."""

    def __init__(self, config: SiteConfig, templates: Path) -> None:
        self.config = config
        self.templates = templates
        self.env = _env(templates)

    def render(self, template: str, doc: str, **context: object) -> str:
        url = doc_url(doc)

        def link(target_doc: str) -> str:
            return rel(url, doc_url(target_doc))

        try:
            return self.env.get_template(template).render(
                config=self.config,
                doc=doc,
                url=url,
                to=lambda target: rel(url, target),
                to_doc=lambda target_doc: md_link(doc, target_doc),
                doc_link=link,  # in pages of HTML (dp_html), which MkDocs does not rewrite
                paper_url=lambda pid: link(paper_doc(pid)),
                day_url=lambda d: link(day_doc(d)),
                week_url=lambda key: link(week_doc(key)),
                month_url=lambda key: link(month_doc(key)),
                topic_url=lambda slug: link(topic_doc(slug)),
                org_url=lambda slug: link(org_doc(slug)),
                front_matter=(
                    functools.partial(front_matter, template=LEAN_PAGE)
                    if template in LEAN_TEMPLATES
                    else front_matter
                ),
                **context,
            )
        except jinja2.TemplateError as exc:
            raise BuildError(f"{self.templates / template}: {exc}") from None

    def plan(
        self,
        archive: Archive,
        groups: Groups | None = None,
        related: dict[str, tuple[str, ...]] | None = None,
    ) -> dict[str, PageSpec]:
        """Every page of the site: its template, context and a key of what it shows."""
        return _Planner(
            self.config, archive, groups or archive.groups(self.config.pages), related or {}
        ).plan()

    def all_pages(self, archive: Archive, **plan: object) -> dict[str, str]:
        """Every page rendered: {docs-relative path: Markdown}."""
        specs = self.plan(archive, **plan)  # type: ignore[arg-type]
        return {doc: self.render(s.template, doc, **s.context) for doc, s in specs.items()}

    def fingerprint(self) -> str:
        """Digest of what every page depends on besides its own data: templates, config and
        the generator's code."""
        digest = hashlib.sha256(
            f"{__version__}|{code_digest()}|{self.config.model_dump_json()}".encode()
        )
        for file in sorted(self.templates.rglob("*")):
            if file.is_file():
                digest.update(file.name.encode() + file.read_bytes())
        return digest.hexdigest()


@dataclass(frozen=True)
class CalendarMonth:
    """One month of the archive as weeks of (date or None outside the month, paper count)."""

    key: str
    label: str
    weeks: list[tuple[str | None, list[tuple[dt.date | None, int]]]]


class _Planner:
    """Every page's spec. A key is a string of everything its page shows, so a page is
    rendered again exactly when something it shows has changed."""

    def __init__(
        self,
        config: SiteConfig,
        archive: Archive,
        groups: Groups,
        related: dict[str, tuple[str, ...]],
    ) -> None:
        self.settings = config.pages
        self.archive, self.groups, self.related = archive, groups, related
        self.listed = archive.listed
        self.last_day = archive.last_day
        self.paper_key = archive.paper_key

    def keys(self, ids: Iterable[str]) -> str:
        return "|".join(map(self.paper_key, ids))

    def common(self) -> dict:
        return {"papers_by_id": self.archive.papers, "last_day": self.last_day}

    def plan(self) -> dict[str, PageSpec]:
        specs: dict[str, PageSpec] = {}
        self._days(specs)
        self._papers(specs)
        self._periods(specs)
        self._groups(specs)
        self._archive(specs)
        specs[FEEDS_DOC] = self._feeds()
        return specs

    def _feeds(self) -> PageSpec:
        """The feeds page lists every topic and organization, by name, for the picker."""

        def by_name(kind: dict[str, Group]) -> list[tuple[str, str]]:
            return sorted(
                ((slug, g.label) for slug, g in kind.items()),
                key=lambda entry: (entry[1].casefold(), entry[0]),
            )

        topics, orgs = by_name(self.groups.topics), by_name(self.groups.orgs)
        return PageSpec("feeds.md.j2", json.dumps([topics, orgs]), {"topics": topics, "orgs": orgs})

    def _days(self, specs: dict[str, PageSpec]) -> None:
        with_papers = sorted(self.listed)
        for day in self.archive.days:
            before = bisect.bisect_left(with_papers, day.date)
            after = bisect.bisect_right(with_papers, day.date)
            prev_day = with_papers[before - 1] if before else None
            next_day = with_papers[after] if after < len(with_papers) else None
            specs[day_doc(day.date)] = self._day(day, prev_day, next_day, home=False)
        if with_papers:
            newest = next(d for d in reversed(self.archive.days) if d.papers)
            prev_day = with_papers[-2] if len(with_papers) > 1 else None
            specs["index.md"] = self._day(newest, prev_day, None, home=True)
        else:
            specs["index.md"] = PageSpec("empty.md.j2", "", {})

    def _day(
        self, day: Day, prev_day: dt.date | None, next_day: dt.date | None, home: bool
    ) -> PageSpec:
        context = {
            "day": day,
            "papers": day.ranked(),
            "prev_day": prev_day,
            "next_day": next_day,
            "home": home,
            "week": week_key(day.date),
            "month": month_key(day.date),
        }
        return PageSpec(
            "day.md.j2", f"{day.model_dump_json()}|{prev_day}|{next_day}|{home}", context
        )

    def _papers(self, specs: dict[str, PageSpec]) -> None:
        groups, papers = self.groups, self.archive.papers
        for pid, paper in papers.items():
            topics = [
                (slug, groups.topics[slug].label) for slug in groups.paper_topics.get(pid, ())
            ]
            org_slug = groups.paper_org.get(pid)
            org = (org_slug, groups.orgs[org_slug].label) if org_slug else None
            related = [r for r in self.related.get(pid, ()) if r in papers and r != pid]
            related = related[: self.settings.related]
            featured = self.archive.featured[pid]
            key = f"{self.paper_key(pid)}|{topics}|{org}|{self.keys(related)}"
            context = {
                "paper": paper,
                "featured": featured,
                "topics": topics,
                "org": org,
                "related": related,
                "weeks": list(dict.fromkeys(map(week_key, featured))),
                "spark": trends.sparkline(self.archive.history.get(pid, ())),
                **self.common(),
            }
            specs[paper_doc(pid)] = PageSpec("paper.md.j2", key, context)

    def _periods(self, specs: dict[str, PageSpec]) -> None:
        days_in: dict[str, list[tuple[dt.date, int]]] = {}
        for day, ids in sorted(self.listed.items()):
            days_in.setdefault(week_key(day), []).append((day, len(ids)))
            days_in.setdefault(month_key(day), []).append((day, len(ids)))
        for kind, periods, doc_of in (
            ("week", self.groups.weeks, week_doc),
            ("month", self.groups.months, month_doc),
        ):
            order = list(periods)
            for i, period in enumerate(order):
                group = periods[period]
                prev_doc = doc_of(order[i - 1]) if i else None
                next_doc = doc_of(order[i + 1]) if i + 1 < len(order) else None
                neighbours = (
                    prev_doc and periods[order[i - 1]].label,
                    next_doc and periods[order[i + 1]].label,
                )
                specs[doc_of(period)] = self._ranked(
                    kind,
                    group.label,
                    group.ids,
                    days_in[period],
                    prev_doc,
                    next_doc,
                    neighbours,
                    period=period,
                )
        ids, start = trending(
            self.listed, self.archive.papers, self.last_day, self.settings.trending_days
        )
        days = [(d, len(i)) for d, i in sorted(self.listed.items()) if start and d >= start]
        specs[TRENDING_DOC] = self._ranked(
            "trending", "Trending papers", ids, days, None, None, (None, None), period=""
        )
        specs[RISING_DOC] = self._rising()

    def _rising(self) -> PageSpec:
        """papers/rising/: the papers of the last rising_days featured days that gained
        upvotes in the 24 h up to the history's newest capture, most gained first."""
        history = self.archive.history
        window, ranked = trends.rising_window(self.listed, history, self.settings.rising_days)
        shown = ranked[: self.settings.list_limit]
        top = self.settings.period_top
        now = trends.latest_time(history)
        context = {
            "top": shown[:top],
            "rest": shown[top:],
            "count": len(ranked),
            "now": now,
            "days": window,
            "tracked": bool(history),
            **self.common(),
        }
        key = f"rising|{now}|{window}|{shown}|{len(ranked)}|{bool(history)}|" + self.keys(
            pid for pid, _gain in shown
        )
        return PageSpec("rising.md.j2", key, context)

    def _ranked(
        self,
        kind: str,
        label: str,
        ids: list[str],
        days: list[tuple[dt.date, int]],
        prev_doc: str | None,
        next_doc: str | None,
        labels: tuple[str | None, str | None],
        period: str,
    ) -> PageSpec:
        top = self.settings.period_top
        context = {
            "kind": kind,
            "label": label,
            "period": period,
            "top": ids[:top],
            "rest": ids[top:],
            "count": len(ids),
            "days": days,
            "prev_doc": prev_doc,
            "next_doc": next_doc,
            "prev_label": labels[0],
            "next_label": labels[1],
            **self.common(),
        }
        key = f"{kind}|{label}|{days}|{prev_doc}|{next_doc}|{labels}|{self.keys(ids)}"
        return PageSpec("ranked.md.j2", key, context)

    def _groups(self, specs: dict[str, PageSpec]) -> None:
        limit = self.settings.list_limit
        for kind, groups, doc_of, index_doc in (
            ("topic", self.groups.topics, topic_doc, TOPICS_DOC),
            ("org", self.groups.orgs, org_doc, ORGS_DOC),
        ):
            for slug, group in groups.items():
                shown = group.ids[:limit]
                context = {
                    "kind": kind,
                    "group": group,
                    "shown": shown,
                    "folder": doc_url(doc_of(slug)),
                    **self.common(),
                }
                key = f"{kind}|{group.label}|{len(group.ids)}|{self.keys(shown)}"
                specs[doc_of(slug)] = PageSpec("group.md.j2", key, context)
            entries = sorted(
                ((g.slug, g.label, len(g.ids)) for g in groups.values()),
                key=lambda e: (-e[2], e[1].casefold(), e[0]),
            )
            specs[index_doc] = PageSpec(
                "groups.md.j2", f"{kind}|{entries}", {"kind": kind, "entries": entries}
            )

    def _archive(self, specs: dict[str, PageSpec]) -> None:
        counts = {day.date: len(day.papers) for day in self.archive.days}
        months = sorted({(d.year, d.month) for d in counts}, reverse=True)
        calendar = [self._month(year, month, counts) for year, month in months]
        key = ",".join(f"{d}:{n}" for d, n in sorted(counts.items()))
        total = sum(len(ids) for ids in self.listed.values())
        specs[ARCHIVE_DOC] = PageSpec(
            "archive.md.j2",
            key,
            {
                "calendar": calendar,
                "days_with_papers": len(self.listed),
                "total": total,
                "weeks_with_pages": set(self.groups.weeks),
            },
        )

    @staticmethod
    def _month(year: int, month: int, counts: dict[dt.date, int]) -> CalendarMonth:
        weeks: list[tuple[str | None, list[tuple[dt.date | None, int]]]] = []
        for week in pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            cells: list[tuple[dt.date | None, int]] = [
                (d, counts.get(d, 0)) if d.month == month else (None, 0) for d in week
            ]
            weeks.append((week_key(week[0]), cells))
        key = f"{year}-{month:02d}"
        return CalendarMonth(key, month_label(key), weeks)


#: Pages below which a second process costs more than it saves.
PARALLEL_MIN = 2000


def _render_all(
    renderer: PageRenderer,
    specs: dict[str, PageSpec],
    todo: list[str],
    docs: Path,
    on_disk: dict[str, str],
) -> tuple[int, dict[str, str]]:
    """Render `todo` and write the pages whose Markdown differs from `on_disk` (the digest
    of each page there), split over the CPU cores when there are many: (pages written,
    each rendered page's Markdown digest). Each share runs in a forked child (forked.Forked:
    it inherits the renderer and specs, nothing is pickled on the way in)."""
    jobs = min(os.cpu_count() or 1, len(todo) // PARALLEL_MIN)
    if jobs < 2:
        return _render_slice(renderer, specs, todo, docs, on_disk)
    written, digests = 0, {}
    with contextlib.ExitStack() as stack:
        shares = [
            stack.enter_context(
                Forked(
                    "pages", _render_slice, renderer, specs, todo[i::jobs], docs, on_disk, nice=0
                )
            )
            for i in range(jobs)
        ]
        for share in shares:
            count, part = share.result()
            written += count
            digests.update(part)
    return written, digests


def _render_slice(
    renderer: PageRenderer,
    specs: dict[str, PageSpec],
    todo: list[str],
    docs: Path,
    on_disk: dict[str, str],
) -> tuple[int, dict[str, str]]:
    written, digests = 0, {}
    for doc in todo:
        spec = specs[doc]
        data = renderer.render(spec.template, doc, **spec.context).encode("utf-8")
        digests[doc] = digest = markdown_digest(data)
        if on_disk.get(doc) != digest:  # compared by digest: reading the old page was
            replace_file(docs / doc, data)  # most of an update's page time on a cold disk
            written += 1
    return written, digests


def markdown_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class WrittenPages:
    """What write_pages did: files written (pages whose bytes changed, and assets), and
    every page's Markdown digest (so MkDocs' cache keys need not read 23,000 files again)."""

    written: int
    digests: dict[str, str]


def write_pages(
    renderer: PageRenderer, specs: dict[str, PageSpec], docs: Path, assets: Path, manifest: Path
) -> WrittenPages:
    """Render and write pages whose inputs changed, copy assets, delete stale pages.

    `manifest` records each page's input key and Markdown digest; a page with the same key
    and template fingerprint as last time is neither rendered nor read again.
    """
    fingerprint = renderer.fingerprint()
    try:
        previous = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        previous = {}
    known = previous.get("pages", {}) if previous.get("fingerprint") == fingerprint else {}
    # The pages there (folder listings, not a stat per page) and the digests they were
    # written with (whatever the fingerprint): a page is read neither to know it exists
    # nor to compare it.
    present = {rel for rel, _path in files_under(docs)}
    on_disk = {
        doc: digest for doc, digest in previous.get("markdown", {}).items() if doc in present
    }
    keys = {doc: hashlib.sha256(spec.key.encode()).hexdigest() for doc, spec in specs.items()}
    todo = [doc for doc in specs if known.get(doc) != keys[doc] or doc not in on_disk]
    if todo:  # pages are replaced below: a build killed on the way leaves no manifest
        manifest.unlink(missing_ok=True)  # whose digests they no longer match
    written, fresh = _render_all(renderer, specs, todo, docs, on_disk)
    digests = {doc: fresh.get(doc) or on_disk[doc] for doc in specs}
    write_if_changed(
        manifest,
        json.dumps({"fingerprint": fingerprint, "pages": keys, "markdown": digests}).encode(),
        durable=False,
    )
    keep = set(specs)
    if assets.is_dir():
        for src in sorted(assets.rglob("*")):
            if src.is_file():
                doc = "assets/" + src.relative_to(assets).as_posix()
                keep.add(doc)
                written += write_if_changed(docs / doc, src.read_bytes(), durable=False)
    stale = present - keep
    for doc in sorted(stale):
        os.unlink(docs / doc)
        log.info("removed stale page %s", docs / doc)
    if stale:  # bottom-up: folders left empty go too
        for parent, dirs, _files in os.walk(docs, topdown=False):
            for name in dirs:
                with contextlib.suppress(OSError):  # removes empty folders only
                    os.rmdir(os.path.join(parent, name))
    return WrittenPages(written, digests)
