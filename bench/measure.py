"""Run a command and measure its wall time and peak memory, children included.

Two memory figures:
- tree peak: the largest sum of RSS over the process and all its descendants, sampled
  every `interval` seconds with psutil (a short-lived peak between samples can be missed;
  pages shared between processes count once per process);
- tree peak PSS: the same sum of PSS (proportional set size: a page shared by n processes
  counts 1/n in each, so forked children are not counted twice), sampled every
  `pss_every` samples (reading smaps costs more than RSS);
- largest single process: `ru_maxrss` from wait4(), which the kernel keeps as the maximum
  over the process and every descendant it reaped (exact, but per process, not a sum).
CPU time (user + sys) also comes from wait4(): the process and the descendants it reaped,
which other work on the machine does not inflate the way it inflates wall time. The CPU
time the rest of the machine used meanwhile (all CPUs busy time minus ours) tells whether
the wall time was measured on a quiet machine.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass
class Measurement:
    cmd: list[str]
    returncode: int
    seconds: float
    cpu_seconds: float
    other_cpu_seconds: float
    tree_peak_mb: float
    tree_peak_pss_mb: float
    max_single_mb: float
    stdout: str
    stderr: str

    def check(self) -> Measurement:
        if self.returncode != 0:
            tail = "\n".join((self.stderr or self.stdout).strip().splitlines()[-20:])
            raise RuntimeError(f"{' '.join(self.cmd)} exited {self.returncode}:\n{tail}")
        return self


class _TreeSampler(threading.Thread):
    def __init__(self, pid: int, interval: float, pss_every: int = 10) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.pss_every = pid, interval, pss_every
        self.peak = self.peak_pss = 0
        self.done = threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        samples = 0
        while not self.done.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            total = total_pss = 0
            with_pss = samples % self.pss_every == 0
            samples += 1
            for proc in procs:
                try:
                    if with_pss:
                        full = proc.memory_full_info()
                        total += full.rss
                        total_pss += full.pss
                    else:
                        total += proc.memory_info().rss
                except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                    pass
            self.peak = max(self.peak, total)
            self.peak_pss = max(self.peak_pss, total_pss)
            self.done.wait(self.interval)


def run(
    cmd: list[str],
    log: Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    interval: float = 0.02,
) -> Measurement:
    """Run `cmd` with stdout/stderr to `log`.out/.err; measure time and memory."""
    log.parent.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log.with_suffix(".out"), log.with_suffix(".err")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        busy_before = _busy_seconds()
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
        sampler = _TreeSampler(proc.pid, interval)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        busy = _busy_seconds() - busy_before
        sampler.done.set()
        sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return Measurement(
        cmd=cmd,
        returncode=proc.returncode,
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,  # the child and the children it reaped
        other_cpu_seconds=max(0.0, busy - usage.ru_utime - usage.ru_stime),
        tree_peak_mb=sampler.peak / 2**20,
        tree_peak_pss_mb=sampler.peak_pss / 2**20,
        max_single_mb=usage.ru_maxrss / 1024,  # KiB on Linux
        stdout=out_path.read_text(errors="replace"),
        stderr=err_path.read_text(errors="replace"),
    )


def _busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all CPUs, everything but idle)."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def wait_until_quiet(
    busy_percent: float = 20.0, max_wait: float = 180.0, report=print
) -> tuple[float, float]:
    """Wait until the machine's CPUs are busy less than `busy_percent` (over 1 s samples),
    at most `max_wait` seconds; returns (seconds waited, last busy percent). Other work on
    the machine makes wall times meaningless; this waits it out when it is a passing burst."""
    start = time.perf_counter()
    told = False
    while (percent := psutil.cpu_percent(interval=1.0)) >= busy_percent:
        waited = time.perf_counter() - start
        if waited >= max_wait:
            report(f"  machine still {percent:.0f}% busy after {waited:.0f} s: measuring anyway")
            break
        if not told:
            report(
                f"  machine {percent:.0f}% busy with other work: waiting (up to {max_wait:.0f} s)"
            )
            told = True
    return time.perf_counter() - start, percent


def tree_size(folder: Path) -> tuple[int, int, int]:
    """(files, disk bytes as du counts them, apparent bytes) under `folder`."""
    whole = _sizes(folder, lambda _rel: "")[""]
    return whole["files"], whole["disk"], whole["apparent"]


#: The parts of a site, by the first matching prefix of a path relative to the site (a
#: folder's ends in /).
SITE_PARTS = (
    ("pagefind/", "Pagefind index"),
    ("api/", "JSON API (`api/`)"),
    ("papers/date/", "day pages"),
    ("papers/week/", "week, month and trending pages"),
    ("papers/month/", "week, month and trending pages"),
    ("papers/trending/", "week, month and trending pages"),
    ("papers/", "paper pages"),
    ("topics/", "topic pages"),
    ("orgs/", "organization pages"),
    ("assets/", "theme and site assets"),
    ("feeds/", "feeds"),
    ("feed.", "feeds"),
    ("atom.xml", "feeds"),
)
OTHER_PART = "home, archive, sitemaps, 404"


def site_parts(site: Path) -> dict[str, dict[str, int]]:
    """{part: {files, html, disk, apparent}} of a built site, by SITE_PARTS."""
    return _sizes(site, lambda rel: next(
        (label for prefix, label in SITE_PARTS if rel.startswith(prefix)), OTHER_PART))


def _sizes(folder: Path, part_of: Callable[[str], str]) -> dict[str, dict[str, int]]:
    """{part_of(path relative to `folder`): {files, html, disk, apparent}}.

    Files count every path; bytes count each inode once (hard links, as `du`), folders
    included (as `du`: a block each, so a page in a folder of its own costs 4 KB more)."""
    parts: dict[str, dict[str, int]] = {}
    seen: set[tuple[int, int]] = set()

    def count(path: str, rel: str, is_file: bool) -> None:
        entry = parts.setdefault(part_of(rel), {"files": 0, "html": 0, "disk": 0, "apparent": 0})
        entry["files"] += is_file
        entry["html"] += is_file and rel.endswith(".html")
        st = os.lstat(path)
        if (st.st_dev, st.st_ino) in seen:  # a hard link counts once, as du counts it
            return
        seen.add((st.st_dev, st.st_ino))
        entry["disk"] += st.st_blocks * 512
        entry["apparent"] += st.st_size if is_file else 0

    count(str(folder), "", False)
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in [*filenames, *dirnames]:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, folder).replace(os.sep, "/")
            is_file = name in filenames
            count(path, rel if is_file else rel + "/", is_file)
    return parts


def entries(site: Path) -> dict[str, int | str]:
    """What a host counts besides bytes: every file and folder under `site` (`site_entries`),
    and the folder holding the most entries directly (`largest_folder`, `largest_folder_entries`;
    Netlify, for one, limits a folder to 54,000)."""
    total, largest, where = 0, -1, ""
    for dirpath, dirnames, filenames in os.walk(site):
        here = len(dirnames) + len(filenames)
        total += here
        if here > largest:
            largest, where = here, os.path.relpath(dirpath, site).replace(os.sep, "/")
    return {"site_entries": total, "largest_folder": where + "/",
            "largest_folder_entries": max(largest, 0)}


def paper_page_anatomy(site: Path, sample: int = 500) -> dict[str, float]:
    """Median bytes of a paper page and of its article (what the page shows of the paper;
    the rest is the theme's chrome: header, search box, footer, scripts), over up to
    `sample` paper pages."""
    totals: list[int] = []
    articles: list[int] = []
    papers = site / "papers"
    for entry in sorted(os.scandir(papers), key=lambda e: e.name) if papers.is_dir() else []:
        if len(totals) >= sample:
            break
        page = Path(entry.path) / "index.html"
        if entry.name[:1].isdigit() and page.is_file():
            data = page.read_bytes()
            start = data.find(b'<article class="dp-paper"')
            end = data.find(b"</article>", start)
            if start >= 0 and end >= 0:
                totals.append(len(data))
                articles.append(end + len(b"</article>") - start)
    if not totals:
        return {}
    return {"pages": len(totals), "page": float(statistics.median(totals)),
            "article": float(statistics.median(articles))}
