"""Related papers at archive scale: cold compute, cache hit, daily update, peak memory.

    python bench/related_bench.py               # 1,000 days x 20 papers = 20,000 papers
    python bench/related_bench.py --days 100    # smaller

The archive is bench/synth.py's (text drawn from real abstracts), made in memory. Times
are wall-clock with CPU time beside them (the machine may be shared); "cold" includes
importing scipy, as the first call of a build does.
"""

from __future__ import annotations

import argparse
import itertools
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import synth

from generator import related
from generator.models import Paper


def archive(days: int, per_day: int, seed: int) -> tuple[list[Paper], list[Paper]]:
    """(the papers of `days` synthetic days, the papers of the next day)."""
    text = synth.Text(synth.real_papers(), random.Random(seed))
    dates = list(itertools.islice(synth.weekdays(), days + 1))
    made = [synth.synth_day(day, per_day, text, i).papers for i, day in enumerate(dates)]
    return [p for papers in made[:-1] for p in papers], made[-1]


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def rss_mb() -> float:
    """Current resident memory of this process, MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=1000)
    parser.add_argument("--per-day", type=int, default=20)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    papers, next_day = archive(args.days, args.per_day, args.seed)
    before = rss_mb()
    rows: list[tuple[str, float, float, str]] = []
    with tempfile.TemporaryDirectory(prefix="related-bench-") as tmp:
        cache = Path(tmp) / "related.json"
        result, wall, cpu = timed(lambda: related.related_papers(papers, args.k, cache))
        rows.append(("cold (no cache, incl. import)", wall, cpu, f"{len(result)} papers"))
        again, wall, cpu = timed(lambda: related.related_papers(papers, args.k, cache))
        assert again == result
        size = cache.stat().st_size / 2**20
        rows.append(("cache hit", wall, cpu, f"cache file {size:.1f} MB"))
        grown = papers + next_day
        _, wall, cpu = timed(lambda: related.related_papers(grown, args.k, cache))
        rows.append(("daily update (+1 day: recompute)", wall, cpu, f"{len(grown)} papers"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    empty = sum(1 for others in result.values() if not others)

    print(f"related papers, {len(papers)} papers ({args.days} days x {args.per_day}), k={args.k}")
    print(f"{'step':34} {'wall s':>7} {'cpu s':>7}  note")
    for name, wall, cpu, note in rows:
        print(f"{name:34} {wall:7.2f} {cpu:7.2f}  {note}")
    print(f"peak RSS {peak:.0f} MB (archive in memory before: {before:.0f} MB)")
    print(f"papers with no related paper: {empty}")


if __name__ == "__main__":
    main()
