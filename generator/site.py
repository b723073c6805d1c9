"""site/: run MkDocs into a scratch folder, and swap a complete folder in as the published site.

MkDocs has no correct incremental build (`--dirty` leaves nav and search stale), so this
module adds one that is correct by construction. Every page's HTML is a function of its
own Markdown, its path and a fingerprint of everything global (mkdocs.yml, site.yml, theme
overrides, package versions): the nav is a fixed handful of index pages and day/paper
pages link each other directly, so no page embeds another page's content. The HTML of
every page is kept in a cache keyed by that hash; MkDocs builds only pages whose key is
new (split over the CPU cores, each shard a full strict MkDocs build in which the other
pages are marked excluded, so links to them still resolve and validate), and every page
goes into the site's tree from the cache (tree.py). An incremental build therefore
produces exactly the bytes of a full one.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gzip
import hashlib
import html
import logging
import multiprocessing
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from generator import __version__
from generator.config import Paths, SiteConfig
from generator.errors import BuildError
from generator.fsutil import code_digest
from generator.pages import doc_url, markdown_digest
from generator.tree import SiteTree, files_under

log = logging.getLogger(__name__)

RENAME_EXCHANGE = 2
AT_FDCWD = -100
CACHE_FORMAT = "1"
#: build/<SPARE>: the site published before the current one, which the next build syncs.
SPARE = "site-previous"
#: Whether pages marked `dp_html: true` skip Python-Markdown (tests compare both ways).
RAW_HTML_PAGES = True
#: A line break and the blank lines and indentation after it: Material's templates leave
#: ~1 KB of them in every page. Outside <pre> and <textarea> (pages with either are left
#: alone) a single line break renders the same.
_BLANK_RUN = re.compile(r"\n[ \t]*(?:\n[ \t]*)*")


def squeeze(html_text: str) -> str:
    """`html_text` with each run of line breaks and indentation made one line break."""
    if "<pre" in html_text or "<textarea" in html_text:
        return html_text
    return _BLANK_RUN.sub("\n", html_text)


#: Pages per shard below which a second process costs more than it saves.
MIN_SHARD = 400
#: The most pages one MkDocs process renders: at 23,000 pages two shards of 11,500 took
#: ~460 MB each (PSS), beside the build's own ~220 MB.
MAX_SHARD = 4000


@dataclass
class MkDocsReport:
    built: int = 0
    cached: int = 0


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def run_mkdocs(
    paths: Paths,
    config: SiteConfig,
    stage: Path,
    tree: SiteTree,
    jobs: int | None = None,
    digests: dict[str, str] | None = None,
) -> MkDocsReport:
    """Build the generated Markdown with MkDocs (strict) into the scratch folder `stage`,
    reusing cached pages; add every page, theme file and the sitemap to `tree`.

    `digests`: the sha256 of pages' Markdown as pages.write_pages wrote it (pages not in it
    are read and hashed here)."""
    cache = paths.build / "html-cache"
    docs = _markdown_files(paths.docs)
    keys = _page_keys(paths, config, docs, digests or {})
    # One listing of the cache folder, not a stat per page (seconds on a cold disk).
    cached = {entry.name for entry in os.scandir(cache)} if cache.is_dir() else set()
    todo = [doc for doc in docs if keys[doc] not in cached]
    jobs = jobs or os.cpu_count() or 1
    shards = _shards(todo, jobs)
    shard_dirs = [stage] + [
        stage.with_name(f"{stage.name}-shard{i}") for i in range(1, len(shards))
    ]
    try:
        _build_shards(paths, config, shards, shard_dirs, jobs)
        _merge(stage, shard_dirs[1:], shards[1:])
    finally:
        for extra in shard_dirs[1:]:
            shutil.rmtree(extra, ignore_errors=True)
    inodes = _cache_new(cache, keys, todo, stage)
    _write_sitemap(config, docs, stage)
    pages = {dest_of(doc) for doc in docs}
    tree.add_folder("", stage, lambda rel: rel not in pages, movable=True)
    cache_dir, device = str(cache), os.stat(cache).st_dev
    for doc, key in keys.items():
        tree.add(dest_of(doc), f"{cache_dir}/{key}", inode=(device, inodes[key]))
    return MkDocsReport(built=len(todo), cached=len(docs) - len(todo))


def _markdown_files(docs_dir: Path) -> list[str]:
    """The Markdown pages under `docs_dir`, sorted POSIX paths (pathlib's rglob took a
    second at 23,000 pages)."""
    return sorted(rel for rel, _path in files_under(docs_dir) if rel.endswith(".md"))


def _page_keys(
    paths: Paths, config: SiteConfig, docs: list[str], digests: dict[str, str]
) -> dict[str, str]:
    """Cache key per page: its path and Markdown digest plus the global fingerprint."""
    glob = hashlib.sha256(CACHE_FORMAT.encode())
    for package in ("mkdocs", "mkdocs-material", "markdown", "pymdown-extensions", "jinja2"):
        glob.update(f"{package}={version(package)};".encode())
    glob.update(__version__.encode())
    glob.update(code_digest().encode())  # this module's MkDocs plugin shapes every page
    glob.update(config.model_dump_json().encode())
    glob.update(paths.mkdocs_yml.read_bytes())
    overrides = paths.root / "site_config" / "overrides"
    for file in sorted(overrides.rglob("*")):
        if file.is_file():
            glob.update(file.relative_to(overrides).as_posix().encode() + file.read_bytes())
    prefix, root = glob.digest(), str(paths.docs)
    keys = {}
    for doc in docs:
        digest = digests.get(doc)
        if digest is None:
            with open(f"{root}/{doc}", "rb") as fh:
                digest = markdown_digest(fh.read())
        keys[doc] = hashlib.sha256(prefix + doc.encode() + b"\0" + digest.encode()).hexdigest()
    return keys


def _shards(todo: list[str], jobs: int) -> list[list[str]]:
    """Split the pages to build into shards (always at least one): at least `jobs` when
    there are enough pages for it, and none of more than MAX_SHARD pages (MkDocs holds a
    shard's pages in memory until its build ends)."""
    count = max(1, min(jobs, len(todo) // MIN_SHARD), -(-len(todo) // MAX_SHARD))
    return [todo[i::count] for i in range(count)]


def _build_shards(
    paths: Paths, config: SiteConfig, shards: list[list[str]], dirs: list[Path], jobs: int
) -> None:
    """Run the shards' MkDocs builds, `jobs` at a time, each in a process of its own that
    ends with it (memory is returned between shards)."""
    if len(shards) == 1:
        _mkdocs(paths, config, dirs[0], set(shards[0]))
        return
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(min(jobs, len(shards)), maxtasksperchild=1) as pool:
        results = [
            pool.apply_async(_mkdocs, (paths, config, d, set(s)))
            for d, s in zip(dirs, shards, strict=True)
        ]
        for result in results:
            result.get()


def _mkdocs(paths: Paths, config: SiteConfig, out_dir: Path, only: set[str]) -> None:
    """One strict MkDocs build that renders only `only`; other pages stay link targets."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException
    from mkdocs.plugins import BasePlugin
    from mkdocs.structure.files import InclusionLevel

    class OnlyThese(BasePlugin):
        """Renders only `only`; a page whose front matter says `dp_html: true` (a paper page:
        generated HTML with no Markdown in it) skips Python-Markdown, whose raw-HTML parser
        was most of the time MkDocs spent on such a page. Markdown would pass raw HTML
        through unchanged (its links are neither rewritten nor validated), so the page is
        the same."""

        def __init__(self) -> None:
            self.raw: dict[str, str] = {}

        def on_files(self, files, config):
            for file in files.documentation_pages():
                if file.src_uri not in only:
                    file.inclusion = InclusionLevel.EXCLUDED
            return files

        def on_page_markdown(self, markdown, page, config, files):
            if not RAW_HTML_PAGES or page.meta.get("dp_html") is not True:
                return markdown
            self.raw[page.file.src_uri] = markdown.strip("\n")
            return ""

        def on_page_content(self, html, page, config, files):
            return self.raw.pop(page.file.src_uri, html)

        def on_post_page(self, output, page, config):
            return squeeze(output)

    collect = _Collect()
    mkdocs_log = logging.getLogger("mkdocs")
    mkdocs_log.addHandler(collect)
    try:
        cfg = load_config(
            str(paths.mkdocs_yml),
            docs_dir=str(paths.docs),
            site_dir=str(out_dir),
            site_name=config.title,
            site_url=config.site_url,
            site_description=config.description,
            strict=True,
        )
        cfg.plugins["dailypapers-cache"] = OnlyThese()
        build(cfg)
    except (MkDocsException, SystemExit, OSError) as exc:
        detail = "; ".join(collect.messages[:10]) or str(exc)
        raise BuildError(f"{paths.mkdocs_yml}: MkDocs build failed: {detail}") from None
    finally:
        mkdocs_log.removeHandler(collect)


def dest_of(doc: str) -> str:
    """The built file of a Markdown page (use_directory_urls)."""
    return doc_url(doc) + "index.html"


def _merge(out_dir: Path, extra_dirs: list[Path], shards: list[list[str]]) -> None:
    """Move each extra shard's pages into `out_dir` (theme files come from shard 0)."""
    for folder, docs in zip(extra_dirs, shards, strict=True):
        for doc in docs:
            target = out_dir / dest_of(doc)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(folder / dest_of(doc), target)


def _cache_new(cache: Path, keys: dict[str, str], built: list[str], stage: Path) -> dict[str, int]:
    """Keep the pages just built in the cache (by key) and drop entries no page uses:
    {key: inode} of the entries kept."""
    # Plain strings and os calls: pathlib's overhead is noticeable at 20,000 pages.
    cache.mkdir(parents=True, exist_ok=True)
    cache_dir, out = str(cache), str(stage)
    for doc in built:
        _link(f"{out}/{dest_of(doc)}", f"{cache_dir}/{keys[doc]}")
    wanted = set(keys.values())
    kept = {}
    with os.scandir(cache_dir) as entries:
        for entry in entries:
            if entry.name in wanted:
                kept[entry.name] = entry.inode()
            else:
                os.unlink(entry.path)
    return kept


def _link(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


SITEMAP_CHUNK = 10_000


def _write_sitemap(config: SiteConfig, docs: list[str], out_dir: Path) -> None:
    """sitemap.xml as a small index of sitemap-N.xml files listing every page.

    MkDocs' own lists only the pages it rendered. The index stays small because Material's
    script fetches sitemap.xml on every page view (for each `link rel=alternate`, such
    as our feed links): a 20,000-URL sitemap there would cost every reader 1.5 MB.
    """
    urls = [config.site_url + doc_url(doc) for doc in docs]
    chunks = [urls[i : i + SITEMAP_CHUNK] for i in range(0, len(urls), SITEMAP_CHUNK)] or [[]]
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    index = []
    for number, chunk in enumerate(chunks, start=1):
        name = f"sitemap-{number}.xml"
        body = "\n".join(f"<url><loc>{html.escape(u)}</loc></url>" for u in chunk)
        (out_dir / name).write_text(f"{head}<urlset {ns}>\n{body}\n</urlset>\n", encoding="utf-8")
        index.append(f"<sitemap><loc>{html.escape(config.site_url + name)}</loc></sitemap>")
    xml = f"{head}<sitemapindex {ns}>\n" + "\n".join(index) + "\n</sitemapindex>\n"
    (out_dir / "sitemap.xml").write_text(xml, encoding="utf-8")
    (out_dir / "sitemap.xml.gz").write_bytes(gzip.compress(xml.encode(), mtime=0))


def previous_site(paths: Paths) -> Path:
    """A folder to sync the new site into: the site published before the current one (kept
    by publish), renamed to `.site-new-<pid>`, or an empty folder."""
    new_site = paths.root / f".site-new-{os.getpid()}"
    spare = paths.build / SPARE
    if spare.is_dir():
        os.rename(spare, new_site)
    else:
        new_site.mkdir()
    return new_site


def publish(new_site: Path, site: Path, spare: Path) -> None:
    """Make `new_site` the published `site` in one step; keep the old site as `spare`, for
    the next build to sync into (see tree.py)."""
    if spare.exists():
        remove_in_background(spare)
    spare.parent.mkdir(parents=True, exist_ok=True)
    if site.exists() and _exchange(new_site, site):
        os.rename(new_site, spare)  # now holds the previous site
        return
    old = site.with_name(f".site-old-{os.getpid()}")
    if site.exists():
        os.rename(site, old)
    os.rename(new_site, site)
    if old.exists():
        os.rename(old, spare)
    else:  # the first site: give the next build (a daily update) one to sync into
        first = SiteTree()
        first.add_folder("", site)
        first.sync(spare)


def discard_stage(stage: Path, pages: int) -> None:
    """Remove MkDocs' scratch folder (its pages moved into the site: empty folders by now);
    in the background after a build that rendered thousands (2.5 s at 23,000 pages)."""
    if pages < MIN_SHARD:
        shutil.rmtree(stage, ignore_errors=True)
    else:
        remove_in_background(stage)


def remove_in_background(folder: Path) -> None:
    if not folder.exists():
        return
    trash = folder.with_name(f".site-trash-{os.getpid()}-{time.monotonic_ns()}")
    os.rename(folder, trash)
    try:
        subprocess.Popen(
            ["rm", "-rf", "--", str(trash)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        shutil.rmtree(trash, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux renameat2); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    res = fn(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    if res != 0:
        log.debug("renameat2 exchange unsupported: %s", os.strerror(ctypes.get_errno()))
    return res == 0


def clean_leftovers(paths: Paths) -> None:
    """Undo what a killed build left; call while holding the build lock."""
    root, site, spare = paths.root, paths.site, paths.build / SPARE
    olds = sorted(root.glob(".site-old-*"))
    if not site.exists() and olds:  # killed between the two renames of the fallback swap
        os.rename(olds[-1], site)
    for leftover in root.glob(".site-*"):
        if not leftover.is_dir() or leftover.name.startswith(".site-trash-"):
            continue
        if leftover.name.startswith((".site-new-", ".site-old-")) and not spare.exists():
            # a site, or one synced half-way: the next sync makes it right (see tree.py)
            spare.parent.mkdir(parents=True, exist_ok=True)
            os.rename(leftover, spare)
            continue
        with contextlib.suppress(OSError):
            shutil.rmtree(leftover)
            log.info("removed unfinished build %s", leftover)
    for trash in root.glob(".site-trash-*"):
        remove_in_background(trash)
