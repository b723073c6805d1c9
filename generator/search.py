"""Search: one Pagefind index per year of the archive, rebuilt only when its pages change.

Pagefind's memory grows with the index it builds (about 160 KB per page: 20,000 pages take
~3 GB), so the archive is indexed in slices: a paper belongs to the year of its latest
featured day, and a year with more than MAX_PAGES papers is cut into calendar halves,
quarters or months. Each slice is a folder of lean HTML pages (title, authors, abstract) in
the build cache, indexed by its own Pagefind run; a slice whose pages hash as before keeps
its cached bundle, so a daily update re-indexes only the newest slice. Pagefind's output,
once generator/pagefind_bundle.py has put its filters in order, is byte-identical for
identical input, so an incremental build equals a full one.

The browser merges the bundles: the newest slice is the primary bundle at site/pagefind/
(with Pagefind's scripts), every other one a data-only bundle at site/pagefind/<slice>/,
listed in the generated site/pagefind/dailypapers-indexes.js that assets/search.js reads.
A search first covers the recent slices (the newest ones holding RECENT_PAGES papers): each
merged slice costs a first search its page table and one index chunk per word (~55 KB at
2,600 papers), so searching all of a 20,000-paper archive up front would load ~480 KB. The
older slices are merged when the reader asks, or at once when the recent ones match nothing.

Cache layout (`cache_dir`, e.g. build/search/); <slice> is 2026, or 2026-h2, 2026-q3, 2026-07:
    src/<slice>/papers/<id>/index.html  lean pages; Pagefind's URL for one is /papers/<id>/
    index/<slice>/                      Pagefind's bundle of that slice
    manifest.json                       {slice: hash of its pages} of the cached bundles
    dailypapers-indexes.js              the merge script, published as pagefind/<that name>
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import html
import importlib.metadata
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from generator.errors import BuildError
from generator.forked import NICE
from generator.fsutil import atomic_write, write_if_changed
from generator.models import Paper
from generator.pagefind_bundle import canonicalize
from generator.pages import Archive
from generator.tree import SiteTree

log = logging.getLogger(__name__)

#: Bump when the lean page layout, the Pagefind command or what pagefind_bundle.py does to its
#: output changes: every slice is re-indexed.
FORMAT = "3"
#: A first search covers the newest slices that hold at least this many papers together
#: (about five months at 20 papers a day; the whole archive if it is smaller).
RECENT_PAGES = 3000
#: For the reader's labels, whatever the machine's locale.
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
#: The most pages one Pagefind run indexes (unless one month has more): 4,000 lean pages
#: peak at ~640 MB in Pagefind (5,240: 830 MB), leaving room for the build process itself.
MAX_PAGES = 4000
#: Ways to cut a year of more than MAX_PAGES papers: (parts, slice name), coarsest first.
CUTS = ((1, "{year}"), (2, "{year}-h{part}"), (4, "{year}-q{part}"), (12, "{year}-{month:02d}"))
#: The stand-in slice of an archive with no papers (Pagefind cannot write an empty index).
EMPTY = "empty"
#: The site folder of the primary bundle; the other slices' bundles are sub-folders of it.
BUNDLE_DIR = "pagefind"
#: Generated into the primary bundle: the other slices' bundles, for search.js to merge.
MERGE_SCRIPT = "dailypapers-indexes.js"
#: All a merged bundle needs besides the entry file and *.pf_meta: Pagefind's scripts and
#: WebAssembly come from the primary bundle.
DATA_DIRS = ("index", "fragment", "filter")

Sources = dict[str, dict[str, bytes]]  # {slice: {path under src/<slice>/: page bytes}}


def build_index(archive: Archive, site_dir: Path, cache_dir: Path) -> None:
    """Index `archive` for search into the empty folder `site_dir` (as pagefind/), reusing
    unchanged slices' bundles."""
    tree = SiteTree()
    SearchIndex(archive, cache_dir).start().add_to(tree)
    tree.sync(site_dir)


class SearchIndex:
    """The archive's search index, built in a background thread while the site renders.

    The constructor writes the lean pages of the slices to re-index (Python work, on the
    calling thread); `start` runs Pagefind on them: one slice (a daily update) in a thread
    that only waits on the Pagefind process, several (a full build) right away, one after
    another, to bound memory; `add_to` waits for them and adds the bundles
    to the new site's tree. `wait` (for a build that failed elsewhere) just lets Pagefind finish,
    so no run outlives the build lock.
    """

    def __init__(self, archive: Archive, cache_dir: Path) -> None:
        self.cache_dir = cache_dir.resolve()
        by_slice = members(archive)
        self.sources = lean_sources(archive, by_slice)
        self.first_day = {name: min(day for _pid, day in items) for name, items in by_slice.items()}
        self.filters = filter_names(archive)
        self.manifest_file = self.cache_dir / "manifest.json"
        self.manifest = _read_manifest(self.manifest_file)
        _drop_stale_slices(self.cache_dir, self.manifest, keep=set(self.sources))
        self.todo: list[tuple[str, str]] = []
        self.written = 0
        for name in sorted(self.sources):
            digest = _digest(self.sources[name])
            bundle = self.cache_dir / "index" / name
            if self.manifest.get(name) == digest and (bundle / "pagefind-entry.json").is_file():
                continue  # its sources were synced when this bundle was made from them
            self.written += _sync_sources(self.cache_dir / "src" / name, self.sources[name])
            self.todo.append((name, digest))
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def start(self) -> SearchIndex:
        if len(self.todo) > 1:
            # Several slices (a full build): index them now, one at a time. Beside MkDocs'
            # render processes, Pagefind's ~600 MB a slice took a full build's peak memory
            # (summed over its processes) from ~1.1 to 3.4 GB at 20,000 papers.
            self._index()
            return self
        self._thread = threading.Thread(
            target=self._index, args=(True,), name="pagefind", daemon=True
        )
        self._thread.start()
        return self

    def _index(self, background: bool = False) -> None:
        try:
            for name, digest in self.todo:
                _run_pagefind(
                    self.cache_dir / "src" / name, self.cache_dir / "index" / name, background
                )
                self.manifest[name] = digest
                # after each run: a killed build keeps the slices already indexed
                atomic_write(self.manifest_file, _dumps(self.manifest))
        except Exception as exc:  # noqa: BLE001 (re-raised by add_to() on the build's thread)
            self._error = exc

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def add_to(self, tree: SiteTree) -> None:
        """Wait for Pagefind; add the bundles to the new site's tree."""
        self.wait()
        if self._error is not None:
            raise self._error
        write_if_changed(self.manifest_file, _dumps(self.manifest))
        log.info(
            "search: %d page(s) in %d slice(s); re-indexed %s (%d page(s) written)",
            sum(len(pages) for pages in self.sources.values()),
            len(self.sources),
            ", ".join(name for name, _ in self.todo) or "nothing",
            self.written,
        )
        newest_first = sorted(self.sources, reverse=True)
        _add_bundles(self.cache_dir / "index", newest_first, tree)
        sizes = {name: len(pages) for name, pages in self.sources.items()}
        script = merge_script(newest_first, sizes, self.first_day, self.filters)
        merge_file = self.cache_dir / MERGE_SCRIPT
        write_if_changed(merge_file, script, durable=False)
        tree.add(f"{BUNDLE_DIR}/{MERGE_SCRIPT}", merge_file)


# ---------------------------------------------------------------- lean pages


Members = dict[str, list[tuple[str, dt.date]]]  # {slice: [(paper id, its latest day)]}


def members(archive: Archive) -> Members:
    """The papers of each slice: the year (or part of it) of a paper's latest featured day."""
    by_year: dict[int, list[tuple[str, dt.date]]] = {}
    for pid, featured in archive.featured.items():
        by_year.setdefault(featured[-1].year, []).append((pid, featured[-1]))
    result: Members = {}
    for year, items in by_year.items():
        slice_of = slices(year, Counter(day.month for _pid, day in items))
        for pid, day in items:
            result.setdefault(slice_of[day.month], []).append((pid, day))
    return result


def lean_sources(archive: Archive, by_slice: Members | None = None) -> Sources:
    """Every paper's lean page, by slice (`by_slice`: `members(archive)`, if known)."""
    if by_slice is None:
        by_slice = members(archive)
    sources: Sources = {
        name: {
            f"papers/{pid}/index.html": lean_page(archive.papers[pid], day) for pid, day in items
        }
        for name, items in by_slice.items()
    }
    if not sources:
        sources[EMPTY] = {"index.html": EMPTY_PAGE}
    return sources


def slices(year: int, per_month: Counter[int]) -> dict[int, str]:
    """Month -> slice name: the whole year, or the coarsest cut whose parts fit MAX_PAGES."""
    for parts, name in CUTS:
        part_of = {month: (month - 1) * parts // 12 + 1 for month in range(1, 13)}
        sizes: Counter[int] = Counter()
        for month, count in per_month.items():
            sizes[part_of[month]] += count
        if max(sizes.values(), default=0) <= MAX_PAGES or parts == CUTS[-1][0]:
            return {
                month: name.format(year=year, part=part, month=month)
                for month, part in part_of.items()
            }
    raise AssertionError("search.CUTS is empty")


def lean_page(paper: Paper, day: dt.date) -> bytes:
    """The text Pagefind indexes for one paper; every data string is HTML-escaped."""
    e = html.escape
    date = day.isoformat()
    lines = [
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"></head>\n<body>',
        (
            f'<main data-pagefind-body data-pagefind-meta="date:{date}" '
            f'data-pagefind-filter="year:{day.year}">'
        ),
        # The result's title: searched as the page's title, not indexed as text, so the
        # excerpt under it does not repeat it; the excerpt starts with the abstract.
        f'<h1 data-pagefind-meta="title" data-pagefind-ignore="index">{e(paper.title)}</h1>',
        f"<p>{e(paper.summary)}</p>",
        f"<p>{e(', '.join(paper.authors))}</p>",
    ]
    if paper.organization:
        org = paper.organization.fullname or paper.organization.name
        lines.append(f"<p>{e(org)}</p>")
        value = e(filter_value(org))  # not indexed as text again: data-pagefind-ignore
        lines.append(
            f'<div data-pagefind-ignore><span data-pagefind-filter="organization">'
            f"{value}</span></div>"
        )
    if paper.keywords:
        lines.append(f"<p>{e(', '.join(paper.keywords))}</p>")
    lines.append("</main>\n</body>\n</html>\n")
    return "\n".join(lines).encode("utf-8")


def filter_value(text: str) -> str:
    """A filter value Pagefind can match. Its browser code hands the selected values to its
    WASM as JSON, which reads a value holding `"` or a backslash differently from the value
    it indexed, so that filter would match nothing (Pagefind 1.5.2, tested in the browser)."""
    return text.replace('"', "'").replace("\\", "/")


#: Pagefind refuses to write an index of no pages, and its browser code rejects one without
#: a language, so an empty archive's index holds one record: the home page, which says this.
EMPTY_PAGE = (
    b'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"></head>\n<body>\n'
    b"<main data-pagefind-body><h1>No papers yet</h1></main>\n</body>\n</html>\n"
)


def _sync_sources(folder: Path, pages: dict[str, bytes]) -> int:
    """Write a slice's pages whose bytes changed, delete the others; the number written."""
    written = 0
    for rel, data in pages.items():
        # A cache: a torn write differs from `data` and is rewritten on the next build.
        written += write_if_changed(folder / rel, data, durable=False)
    for parent, dirs, files in os.walk(folder, topdown=False):
        for file in files:
            path = os.path.join(parent, file)
            if os.path.relpath(path, folder).replace(os.sep, "/") not in pages:
                os.unlink(path)
        for sub in dirs:
            with contextlib.suppress(OSError):  # removes empty folders only
                os.rmdir(os.path.join(parent, sub))
    return written


def _digest(pages: dict[str, bytes]) -> str:
    """A hash of one slice's pages, the page layout version and the Pagefind version."""
    h = hashlib.sha256(f"{FORMAT}\0{_pagefind_version()}\0".encode())
    for rel in sorted(pages):
        h.update(f"{rel}\0{len(pages[rel])}\0".encode())
        h.update(pages[rel])
    return h.hexdigest()


def _pagefind_version() -> str:
    for dist in ("pagefind", "pagefind_bin_extended", "pagefind_bin"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            return importlib.metadata.version(dist)
    return "unknown"


# ---------------------------------------------------------------- Pagefind runs


def _read_manifest(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _dumps(manifest: dict[str, str]) -> bytes:
    return (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()


def _drop_stale_slices(cache_dir: Path, manifest: dict[str, str], keep: set[str]) -> None:
    """Forget slices no longer in the archive: their sources, bundles and killed runs' leftovers."""
    for name in set(manifest) - keep:
        del manifest[name]
    for folder in (cache_dir / "src", cache_dir / "index"):
        if folder.is_dir():
            for entry in folder.iterdir():
                if entry.name not in keep:
                    shutil.rmtree(entry, ignore_errors=True)


def _spawn(cmd: list[str], background: bool) -> tuple[int, str]:
    """Run `cmd`: (exit code, its stdout and stderr).

    posix_spawn, with the output in a temporary file: no pipe. A daily update runs Pagefind
    from a thread while the build forks its steps; a child forked while subprocess held a
    pipe's write end open (its exec-error pipe, or the output pipes) kept that end, so the
    read waited for EOF until the child exited, and a child waiting to hand its result to
    the build thread, which was waiting on Pagefind, never did (a test hung on it).
    `background`: at a lower priority, so that the build's own critical path goes first."""
    with tempfile.TemporaryFile() as out:
        pid = os.posix_spawn(
            cmd[0],
            cmd,
            os.environ,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, out.fileno(), 1),
                (os.POSIX_SPAWN_DUP2, out.fileno(), 2),
            ],
        )
        if background:
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, pid, NICE)  # as the forked steps
        _pid, status = os.waitpid(pid, 0)
        out.seek(0)
        return os.waitstatus_to_exitcode(status), out.read().decode("utf-8", "replace")


def _pagefind_command() -> list[str]:
    """Pagefind's own binary, from the pagefind[extended] install: `python -m pagefind`
    only finds the same binary and execs it, after ~0.1 s of imports (asyncio) a run."""
    try:
        from pagefind_bin_extended import get_executable  # type: ignore[import-untyped]

        return [str(get_executable())]
    except (ImportError, FileNotFoundError):
        return [sys.executable, "-m", "pagefind"]


def _run_pagefind(src: Path, bundle: Path, background: bool = False) -> None:
    """Index the pages under `src` into a fresh folder, then swap it in as `bundle`.

    Never over the old bundle in place: published sites hard-link its files.
    """
    tmp = bundle.with_name(f".{bundle.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = [*_pagefind_command(), "--site", str(src), "--output-path", str(tmp)]
    start = time.perf_counter()
    try:
        returncode, output = _spawn(cmd, background)
    except OSError as exc:
        raise BuildError(f"{src}: cannot run Pagefind: {exc}") from None
    if returncode != 0 or not (tmp / "pagefind-entry.json").is_file():
        shutil.rmtree(tmp, ignore_errors=True)
        tail = " ".join(output.strip().splitlines()[-5:])
        raise BuildError(f"{src}: Pagefind failed (exit {returncode}): {tail}")
    canonicalize(tmp)  # Pagefind writes filters in a random order: see pagefind_bundle.py
    old = bundle.with_name(f".{bundle.name}.old-{os.getpid()}")
    if bundle.exists():
        os.rename(bundle, old)
    os.rename(tmp, bundle)
    shutil.rmtree(old, ignore_errors=True)
    counts = [line.strip() for line in output.splitlines() if "Indexed" in line]
    log.info(
        "pagefind %s: %.1f s (%s)", src.name, time.perf_counter() - start, "; ".join(counts[:2])
    )


# ---------------------------------------------------------------- into the site


def _add_bundles(index_root: Path, names: list[str], tree: SiteTree) -> None:
    """The newest slice's bundle as pagefind/, the others' data as pagefind/<slice>/."""
    primary, *others = names
    tree.add_folder(f"{BUNDLE_DIR}/", index_root / primary)
    for name in others:
        tree.add_folder(f"{BUNDLE_DIR}/{name}/", index_root / name, _is_data)


def filter_names(archive: Archive) -> list[str]:
    """The filters the lean pages set: the modal shows a menu for these only (a menu of no
    values would say 'No filter found')."""
    if not archive.papers:
        return []
    if any(paper.organization for paper in archive.papers.values()):
        return ["year", "organization"]
    return ["year"]


def merge_script(
    newest_first: list[str],
    sizes: dict[str, int],
    first_day: dict[str, dt.date],
    filters: list[str],
) -> bytes:
    """The script that tells assets/search.js which bundles to merge, and when.

    `recent`: merged for every search, with the primary (newest) one, until they hold
    RECENT_PAGES papers; `older`: merged when the reader asks (or the recent ones match
    nothing). `since` and `oldest` label the two for the reader; `filters` names the
    filters the index has. Paths are relative to pagefind/; every value is made here from
    slice names, dates and fixed names, none from paper data.
    """
    recent: list[str] = []
    total = 0
    for name in newest_first:
        if total >= RECENT_PAGES:
            break
        recent.append(name)
        total += sizes[name]
    older = newest_first[len(recent) :]
    data: dict[str, object] = {
        "recent": [f"{name}/" for name in recent[1:]],
        "older": [f"{name}/" for name in older],
        "filters": filters,
    }
    if older:
        since = min(first_day[name] for name in recent)
        oldest = min(first_day[name] for name in older)
        data["since"] = f"{since.day} {MONTHS[since.month - 1]} {since.year}"
        data["oldest"] = f"{MONTHS[oldest.month - 1]} {oldest.year}"
    return (
        "// Generated by generator/search.py: the Pagefind bundles (one per year, or part of\n"
        "// one) that assets/search.js merges into this one, relative to this folder.\n"
        f"window.dailyPapersSearchIndexes = {json.dumps(data, sort_keys=True)};\n"
    ).encode()


def _is_data(rel: str) -> bool:
    """Whether a merged bundle needs the file at `rel` (a POSIX path in the bundle)."""
    top, _, rest = rel.partition("/")
    if rest:
        return top in DATA_DIRS
    return rel == "pagefind-entry.json" or rel.endswith(".pf_meta")
