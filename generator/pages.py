"""Models -> Markdown pages for MkDocs (Jinja2 templates in site_config/templates).

Each page is Markdown with YAML front matter. Every piece of API text is placed inside
HTML blocks rendered with autoescaping, so Markdown never parses it (no emphasis, lists,
attr_list or links can come from data); structural links between our own pages are
Markdown links, which MkDocs validates in strict mode. Writes only files whose bytes change.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import hashlib
import html
import json
import logging
import multiprocessing
import os
import posixpath
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import yaml
from markupsafe import Markup

from generator import __version__
from generator.config import SiteConfig
from generator.errors import BuildError
from generator.fsutil import write_if_changed
from generator.models import Day, Paper
from generator.textfmt import rich

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

    @classmethod
    def of(cls, days: Iterable[Day]) -> Archive:
        archive = cls(days=sorted(days, key=lambda d: d.date))
        for day in archive.days:
            for paper in day.papers:
                archive.papers[paper.id] = paper  # a later day's copy has fresher counts
                archive.featured.setdefault(paper.id, []).append(day.date)
        return archive


# ---------------------------------------------------------------- URLs


def day_doc(day: dt.date) -> str:
    return f"papers/date/{day.isoformat()}.md"


def paper_doc(paper_id: str) -> str:
    return f"papers/{paper_id}.md"


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
    trailing = "/" if dst_url.endswith("/") or dst_url == "" else ""
    target = posixpath.relpath(dst_url.rstrip("/") or ".", src_url.rstrip("/") or ".")
    return "./" if target == "." else target + trailing


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
    env.filters["count"] = lambda n, word: f"{n:,} {word}{'' if n == 1 else 's'}"
    return env


def front_matter(title: str, description: str = "", **extra: object) -> Markup:
    """YAML front matter. Material prints meta.title unescaped, so it is HTML-escaped here."""
    meta: dict[str, object] = {"title": html.escape(title)}
    if description:
        meta["description"] = html.escape(" ".join(description.split())[:200])
    meta.update(extra)
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
        try:
            return self.env.get_template(template).render(
                config=self.config,
                doc=doc,
                url=url,
                to=lambda target: rel(url, target),
                to_doc=lambda target_doc: md_link(doc, target_doc),
                paper_url=lambda pid: rel(url, doc_url(paper_doc(pid))),
                day_url=lambda d: rel(url, doc_url(day_doc(d))),
                front_matter=front_matter,
                **context,
            )
        except jinja2.TemplateError as exc:
            raise BuildError(f"{self.templates / template}: {exc}") from None

    def plan(self, archive: Archive) -> dict[str, PageSpec]:
        """Every page of the site: its template, context and a key of what it shows."""
        specs: dict[str, PageSpec] = {}
        days = archive.days
        dumped = {day.date: day.model_dump_json() for day in days}
        for i, day in enumerate(days):
            prev_day = days[i - 1].date if i > 0 else None
            next_day = days[i + 1].date if i + 1 < len(days) else None
            specs[day_doc(day.date)] = self._day_spec(day, dumped[day.date], prev_day, next_day, False)
        if days:
            prev_day = days[-2].date if len(days) > 1 else None
            specs["index.md"] = self._day_spec(days[-1], dumped[days[-1].date], prev_day, None, True)
        else:
            specs["index.md"] = PageSpec("empty.md.j2", "", {})
        for pid, paper in archive.papers.items():
            featured = archive.featured[pid]
            key = paper.model_dump_json() + ",".join(d.isoformat() for d in featured)
            specs[paper_doc(pid)] = PageSpec("paper.md.j2", key, {"paper": paper, "featured": featured})
        counts = ",".join(f"{d.date}:{len(d.papers)}" for d in days)
        specs["archive.md"] = PageSpec("archive.md.j2", counts, {"days": days})
        return specs

    def _day_spec(
        self, day: Day, dumped: str, prev_day: dt.date | None, next_day: dt.date | None, home: bool
    ) -> PageSpec:
        context = {"day": day, "papers": day.ranked(), "prev_day": prev_day,
                   "next_day": next_day, "home": home}
        return PageSpec("day.md.j2", f"{dumped}|{prev_day}|{next_day}|{home}", context)

    def all_pages(self, archive: Archive) -> dict[str, str]:
        """Every page rendered: {docs-relative path: Markdown}."""
        return {doc: self.render(s.template, doc, **s.context) for doc, s in self.plan(archive).items()}

    def fingerprint(self) -> str:
        """Digest of what every page depends on besides its own data: templates and config."""
        digest = hashlib.sha256(f"{__version__}|{self.config.model_dump_json()}".encode())
        for file in sorted(self.templates.rglob("*")):
            if file.is_file():
                digest.update(file.name.encode() + file.read_bytes())
        return digest.hexdigest()


_JOB: tuple[PageRenderer, dict[str, PageSpec], list[str], Path] | None = None
#: Pages below which a second process costs more than it saves.
PARALLEL_MIN = 2000


def _render_all(
    renderer: PageRenderer, specs: dict[str, PageSpec], todo: list[str], docs: Path
) -> int:
    """Render and write `todo`, split over the CPU cores when there are many."""
    global _JOB
    jobs = min(os.cpu_count() or 1, len(todo) // PARALLEL_MIN)
    if jobs < 2:
        return _render_slice(renderer, specs, todo, docs)
    _JOB = (renderer, specs, todo, docs)  # forked workers read it without pickling
    try:
        ctx = multiprocessing.get_context("fork")
        with cf.ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
            return sum(pool.map(_render_share, [(i, jobs) for i in range(jobs)]))
    finally:
        _JOB = None


def _render_share(share: tuple[int, int]) -> int:
    assert _JOB is not None
    renderer, specs, todo, docs = _JOB
    return _render_slice(renderer, specs, todo[share[0] :: share[1]], docs)


def _render_slice(
    renderer: PageRenderer, specs: dict[str, PageSpec], todo: list[str], docs: Path
) -> int:
    written = 0
    for doc in todo:
        spec = specs[doc]
        text = renderer.render(spec.template, doc, **spec.context)
        written += write_if_changed(docs / doc, text.encode("utf-8"), durable=False)
    return written


def write_pages(
    renderer: PageRenderer, specs: dict[str, PageSpec], docs: Path, assets: Path, manifest: Path
) -> int:
    """Render and write pages whose inputs changed, copy assets, delete stale pages.

    `manifest` records each page's input key; a page with the same key and template
    fingerprint as last time is neither rendered nor read again.
    """
    fingerprint = renderer.fingerprint()
    try:
        previous = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        previous = {}
    known = previous.get("pages", {}) if previous.get("fingerprint") == fingerprint else {}
    keys = {doc: hashlib.sha256(spec.key.encode()).hexdigest() for doc, spec in specs.items()}
    todo = [doc for doc in specs if known.get(doc) != keys[doc] or not (docs / doc).exists()]
    written = _render_all(renderer, specs, todo, docs)
    write_if_changed(manifest, json.dumps({"fingerprint": fingerprint, "pages": keys}).encode(),
                     durable=False)
    keep = set(specs)
    if assets.is_dir():
        for src in sorted(assets.rglob("*")):
            if src.is_file():
                doc = "assets/" + src.relative_to(assets).as_posix()
                keep.add(doc)
                written += write_if_changed(docs / doc, src.read_bytes(), durable=False)
    for stale in sorted(docs.rglob("*")):
        if stale.is_file() and stale.relative_to(docs).as_posix() not in keep:
            stale.unlink()
            log.info("removed stale page %s", stale)
    for folder in sorted(docs.rglob("*"), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            shutil.rmtree(folder)
    return written
