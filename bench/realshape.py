"""The real-shaped archive: Hugging Face Daily Papers' history, made of real papers.

    python bench/realshape.py --out /tmp/archive/content      # 2023-05-04 .. 2026-12-07
    python bench/realshape.py --out DIR --until 2023-06-30 --captures tests/data/hf-api-captures

Every weekday from 2023-05-04 (Daily Papers' first day) to `until` holds about as many
papers as Hugging Face featured that year (`PER_YEAR`: ~12 a day in 2023, 25 in 2024, 45 in
2025, 50 in 2026; each day 70-130 % of its year's figure). The papers are the real ones of
the API captures (../shared/data/hf-api-captures/: titles, abstracts, authors, AI keywords
and summaries, organizations, upvotes, comments, GitHub links), parsed by our own fetch
code, each reused with a new unique arXiv id (YYMM of its day, a serial within the month)
and its dates moved to its day. Seeded: two runs write the same bytes. Files are written by
the store's own writer (generator.store.save_day): libyaml's faster emitter folds long
quoted abstracts differently, so synth's fast path would not give the store's bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import synth

from generator import store
from generator.fetch import parse_items
from generator.models import Day, Paper

CAPTURES = REPO.parent / "shared" / "data" / "hf-api-captures"
START = dt.date(2023, 5, 4)  # Hugging Face Daily Papers' first day
UNTIL = dt.date(2026, 12, 7)  # fixed, not today: the workload must not change by itself
PER_YEAR = {2023: 12, 2024: 25, 2025: 45, 2026: 50}
NEW_DAY_PAPERS = 50  # the daily update: one new day of 50
#: Ids of the new day start here within its month; the archive's serials stay far below
#: (at most ~66 papers x 23 weekdays a month).
NEW_DAY_SERIAL = 90_000


def missing(captures: Path) -> str:
    return (
        f"{captures}: not found (or holds no *.json). The real-shaped workload is made of the "
        "API captures in ../shared/data/hf-api-captures/; pass --captures DIR, or use "
        "--shape synthetic."
    )


def real_papers(captures: Path = CAPTURES) -> list[Paper]:
    """Every paper of the captures, parsed as `fetch` parses an API answer, in file order."""
    files = sorted(captures.glob("*.json")) if captures.is_dir() else []
    if not files:
        raise SystemExit(missing(captures))
    papers: list[Paper] = []
    seen: set[str] = set()
    for path in files:
        parsed, _rejected = parse_items(json.loads(path.read_text(encoding="utf-8")), str(path))
        for paper in parsed:
            if paper.id not in seen:
                seen.add(paper.id)
                papers.append(paper)
    return papers


def weekdays(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        if day.weekday() < 5:
            yield day
        day += dt.timedelta(days=1)


def per_day(day: dt.date) -> int:
    """The year's papers a day (the last known year's after it)."""
    return PER_YEAR.get(day.year, PER_YEAR[max(PER_YEAR)] if day.year > max(PER_YEAR) else 12)


def _moved(stamp: str | None, day: dt.date) -> str | None:
    """An ISO timestamp with its date replaced by `day` (its time of day kept)."""
    if not stamp or len(stamp) < 10:
        return stamp
    return day.isoformat() + stamp[10:]


def reuse(paper: Paper, new_id: str, day: dt.date, rng: random.Random) -> Paper:
    """`paper` as featured on `day` under `new_id`: published 0-6 days before, dates moved."""
    return paper.model_copy(
        update={
            "id": new_id,
            "published": day - dt.timedelta(days=rng.randint(0, 6)),
            "submitted_at": _moved(paper.submitted_at, day),
            "listed_at": _moved(paper.listed_at, day - dt.timedelta(days=1)),
        }
    )


def make_day(
    day: dt.date, count: int, pool: list[Paper], serial: int, rng: random.Random
) -> Day:
    """`count` papers drawn from `pool` (no repeats within the day), ids from `serial` on."""
    picks = rng.sample(pool, k=min(count, len(pool)))
    papers = [reuse(p, f"{day:%y%m}.{serial + i:05d}", day, rng) for i, p in enumerate(picks)]
    return store.merge(None, day, papers)  # ranked by upvotes, as a fetch stores a day


def generate(
    out: Path,
    until: dt.date = UNTIL,
    seed: int = 7,
    captures: Path = CAPTURES,
    fast: bool = False,
) -> list[dt.date]:
    """Write the archive START..`until` into `out` (a content/ folder); its days."""
    pool = real_papers(captures)
    rng = random.Random(seed)
    writer = synth.Writer(out, fast)
    serials: dict[tuple[int, int], int] = {}
    dates: list[dt.date] = []
    for day in weekdays(START, until):
        count = max(1, round(per_day(day) * rng.uniform(0.7, 1.3)))
        month = (day.year, day.month)
        writer.save(make_day(day, count, pool, serials.get(month, 1), rng))
        serials[month] = serials.get(month, 1) + count
        dates.append(day)
    return dates


def next_day(
    out: Path, dates: list[dt.date], seed: int = 7, captures: Path = CAPTURES, fast: bool = False
) -> Path:
    """Write the weekday after `dates` with NEW_DAY_PAPERS papers into `out`; its path."""
    day = next(weekdays(dates[-1] + dt.timedelta(days=1), dates[-1] + dt.timedelta(days=7)))
    rng = random.Random(seed + 1)
    synth.Writer(out, fast).save(
        make_day(day, NEW_DAY_PAPERS, real_papers(captures), NEW_DAY_SERIAL, rng)
    )
    return store.day_path(out, day)


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="a content/ folder to write")
    parser.add_argument("--until", type=_date, default=UNTIL, help="last day [%(default)s]")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--captures", type=Path, default=CAPTURES, help="[%(default)s]")
    args = parser.parse_args()
    days = generate(args.out, args.until, args.seed, args.captures)
    papers = sum(len(store.load_day(p).papers) for p in store.day_files(args.out))
    print(f"{len(days)} days, {papers} papers, {days[0]} .. {days[-1]} -> {args.out}")
