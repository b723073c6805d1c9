"""The build orchestrator: content -> Markdown -> MkDocs -> search index and feeds -> site/.

Reads like the list of steps it runs. Everything is gathered and validated before anything
is written; every file of the new site is listed in a SiteTree, synced into a folder that
is not published (the previous site) and swapped in only when complete, so a failed or
killed build leaves the published site/ as it was.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from generator import export, feeds, history, pages, related, search, site, store
from generator.config import Paths, SiteConfig
from generator.errors import BuildError
from generator.forked import Forked
from generator.fsutil import clean_temp_files, exclusive_lock
from generator.tree import FolderRecords, Prescan, SiteTree

log = logging.getLogger(__name__)

#: build/<RECORDS>: what the last syncs left in the two sites that take turns (tree.py).
RECORDS = "site-records.pickle"


@dataclass
class BuildReport:
    days: int = 0
    papers: int = 0
    pages_written: int = 0
    pages_rendered: int = 0
    pages_cached: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - start
        log.info("%-8s %.2f s", name, self.seconds[name])


def build(
    paths: Paths, config: SiteConfig, on_step: Callable[[str], None] | None = None
) -> BuildReport:
    """Build the whole site from content/ and publish it as site/."""
    report = BuildReport()
    notify = on_step or (lambda _name: None)
    missing = [p for p in (paths.content, paths.templates) if not p.is_dir()]
    if missing:  # checked before the lock: a wrong folder must not get our files
        raise BuildError(
            f"{paths.root}: not a Daily Papers project (no "
            + " or ".join(str(p.relative_to(paths.root)) + "/" for p in missing)
            + ")"
        )
    lock = exclusive_lock(paths.root / ".dailypapers-build.lock", "build", wait=600)
    with lock, _undo_on_failure(paths):
        site.clean_leftovers(paths)
        clean_temp_files(paths.build, recursive=False)  # a killed build's state files
        new_site = site.previous_site(paths)  # the folder the new site is synced into
        records = FolderRecords(paths.build / RECORDS)
        listing = Prescan(new_site, records)
        notify("load content")
        with report.step("load"):
            days = store.load_all(paths.content, cache=paths.build / "content-cache")
            (paths.build / "content-cache.pickle").unlink(missing_ok=True)  # its former file
            archive = pages.Archive.of(days, history.load(paths.content))
            report.days, report.papers = len(days), len(archive.papers)
            # The archive lives until the build ends: keep the garbage collector from
            # scanning its ~1 million objects again and again, and from writing to their
            # pages in the forked steps (each page written there is a copy).
            gc.freeze()
        # A daily update (there are pages from a build before) forks the related papers
        # first, so that they are ready when the pages need them; a first build indexes
        # the search slices first (Pagefind's memory and the related papers' from scratch
        # would add up) and forks the related papers after.
        incremental = (paths.build / "pages-manifest.json").exists()
        index: search.SearchIndex | None = None
        try:
            # Forked steps: each is waited for (or, when the build fails, ended) on leaving.
            with ExitStack() as jobs:
                job = (
                    _related(paths, config, archive, report, notify, jobs) if incremental else None
                )
                notify("start search indexing")
                with report.step("search"):  # Pagefind runs in the background from here on
                    index = search.SearchIndex(archive, paths.build / "search").start()
                if not incremental:
                    job = _related(paths, config, archive, report, notify, jobs)
                _from_groups_on(
                    paths,
                    config,
                    archive,
                    index,
                    report,
                    notify,
                    job,
                    jobs,
                    fork=incremental,
                    new_site=new_site,
                    listing=listing,
                    records=records,
                )
        finally:
            gc.unfreeze()  # the archive is the caller's to free again
            if index is not None:  # no Pagefind run outlives the build (and its lock)
                index.wait()
    return report


def _related(
    paths: Paths,
    config: SiteConfig,
    archive: pages.Archive,
    report: BuildReport,
    notify: Callable[[str], None],
    jobs: ExitStack,
) -> Forked[related.Related] | None:
    notify("find related papers")
    with report.step("related"):  # forked, while groups, feeds and JSON are made
        return (
            jobs.enter_context(
                Forked(
                    "related",
                    related.related_papers,
                    list(archive.papers.values()),
                    config.pages.related,
                    paths.build / "related.json",
                    early=True,
                    nice=0,  # the pages wait for it: not behind the other forked steps
                )
            )
            if config.pages.related
            else None
        )


def _from_groups_on(
    paths: Paths,
    config: SiteConfig,
    archive: pages.Archive,
    index: search.SearchIndex,
    report: BuildReport,
    notify: Callable[[str], None],
    job: Forked[related.Related] | None,
    jobs: ExitStack,
    fork: bool,
    new_site: Path,
    listing: Prescan,
    records: FolderRecords,
) -> None:
    # A daily update forks the JSON export and the feeds, so that they are made while the
    # pages and MkDocs run here on the other core. A first build makes them here: related
    # papers computed from scratch and MkDocs' two render processes already keep both
    # cores busy (forking then cost the full build ~20 s at 1,000 days, measured).
    notify("export JSON")
    with report.step("export"):
        api_job = jobs.enter_context(
            Forked(
                "export",
                export.write_api,
                archive,
                paths.build / "api",
                config.export.papers,
                fork=fork,
            )
        )
    notify("group papers")
    with report.step("groups"):
        groups = archive.groups(config.pages)
    notify("write feeds")
    with report.step("feeds"):
        feeds_job = jobs.enter_context(
            Forked(
                "feeds", feeds.write_all, archive, groups, config, paths.build / "feeds", fork=fork
            )
        )
    with report.step("related-wait"):
        similar = job.result() if job is not None else {}
    notify("write pages")
    with report.step("pages"):
        renderer = pages.PageRenderer(config, paths.templates)
        written = pages.write_pages(
            renderer,
            renderer.plan(archive, groups, similar),
            paths.docs,
            paths.assets,
            paths.build / "pages-manifest.json",
        )
        report.pages_written = written.written
    stage = paths.root / f".site-stage-{os.getpid()}"
    tree = SiteTree()
    notify("run MkDocs")
    with report.step("mkdocs"):
        rendered = site.run_mkdocs(paths, config, stage, tree, digests=written.digests)
        report.pages_rendered, report.pages_cached = rendered.built, rendered.cached
    with report.step("feeds-wait"):
        feed_files, api_files = feeds_job.result(), api_job.result()
    notify("add feeds, JSON and the search index")
    with report.step("link"):
        feed_files.add_to(tree)
        api_files.add_to(tree, f"{export.API_DIR}/")
        index.add_to(tree)
        tree.sync(new_site, listing.result(), records)
    notify("publish")
    with report.step("publish"):
        site.publish(new_site, paths.site, paths.build / site.SPARE)
        site.discard_stage(stage, rendered.built)


@contextmanager
def _undo_on_failure(paths: Paths) -> Iterator[None]:
    """A failed build removes its unfinished site folders; an OS error (a full disk, a
    read-only folder) becomes a clear BuildError instead of a traceback."""
    try:
        yield
    except BaseException as exc:
        with suppress(OSError):  # the next build's clean_leftovers retries
            site.clean_leftovers(paths)
        if isinstance(exc, OSError):
            where = exc.filename or paths.root
            raise BuildError(
                f"{where}: cannot write: {exc.strerror or exc}; "
                f"the published {paths.site} is untouched"
            ) from None
        raise
