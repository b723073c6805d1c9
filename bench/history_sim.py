"""An upvote history for a benchmark archive: what the daily publish job would have recorded.

    python bench/history_sim.py --content DIR     # writes DIR/history/*.jsonl

The publish workflow fetches once a day (02:45 UTC): the last `fetch.days` (4) days and the
last `fetch.refresh_days` (14) featured days, and records each paper whose counts changed
(generator/history.py). A paper's counts here rise to its stored values as counts settle on
Hugging Face, most of the way in the first two days:

    count(t) = round(final * (1 - exp(-(t + 0.5) / 2)))     t: days since it was featured

and reach the stored values at its last refresh. Deterministic: no randomness.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generator import history, store  # noqa: E402
from generator.models import Day  # noqa: E402

RUN_TIME = dt.time(2, 45, tzinfo=dt.UTC)
FETCH_DAYS = 4
REFRESH_DAYS = 14


def settled(final: int, days_since: float) -> int:
    return round(final * (1 - math.exp(-(days_since + 0.5) / 2)))


def runs(days: list[Day], refresh_days: int = REFRESH_DAYS,
         fetch_days: int = FETCH_DAYS) -> list[tuple[dt.datetime, dict[str, tuple[int, int, int | None]]]]:
    """(run time, the counts it saw) for each daily run from the first day to the last."""
    featured = sorted(d.date for d in days if d.papers)
    by_date = {d.date: d for d in days}
    out = []
    date, last = featured[0], featured[-1]
    while date <= last:
        recent = {date - dt.timedelta(days=n) for n in range(fetch_days)}
        stored = featured[max(0, bisect.bisect_right(featured, date) - refresh_days):
                          bisect.bisect_right(featured, date)]
        final_run = {}  # a featured day's last refresh: its counts are the stored ones
        seen: dict[str, tuple[int, int, int | None]] = {}
        for day in sorted(recent | set(stored)):
            if day not in by_date:
                continue
            index = bisect.bisect_left(featured, day)
            final_run[day] = featured[min(index + refresh_days - 1, len(featured) - 1)]
            since = (date - day).days
            for paper in by_date[day].papers:
                if date >= final_run[day]:
                    seen[paper.id] = (paper.upvotes, paper.comments, paper.github_stars)
                else:
                    seen[paper.id] = (settled(paper.upvotes, since), settled(paper.comments, since),
                                      None if paper.github_stars is None
                                      else settled(paper.github_stars, since))
        out.append((dt.datetime.combine(date + dt.timedelta(days=1), RUN_TIME), seen))
        date += dt.timedelta(days=1)
    return out


def write(content: Path, days: list[Day]) -> int:
    """Write content/history/ for `days` (replacing any); the number of points."""
    folder = history.folder(content)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.jsonl"):
        old.unlink()
    last: dict[str, tuple[int, int, int | None]] = {}
    lines: dict[Path, list[str]] = {}
    points = 0
    for when, seen in runs(days):
        changed = {pid: v for pid, v in seen.items() if last.get(pid) != v}
        if not changed:
            continue
        last.update(changed)
        points += len(changed)
        lines.setdefault(history.file_for(content, when), []).append(
            history.format_line(when, changed))
    for path, text in lines.items():
        path.write_text("".join(text), encoding="utf-8")
    return points


def add_run(content: Path, day: Day) -> int:
    """The next daily run's line for a newly featured `day` (its papers' stored counts),
    where content/ has a history: what a fetch adds with the day. The number of points."""
    folder = history.folder(content)
    if not folder.is_dir() or not any(folder.glob("*.jsonl")) or not day.papers:
        return 0
    when = dt.datetime.combine(day.date + dt.timedelta(days=1), RUN_TIME)
    seen = history.values_of(day.papers)
    with history.file_for(content, when).open("a", encoding="utf-8") as out:
        out.write(history.format_line(when, seen))
    return len(seen)


def disk_bytes(content: Path) -> dict[str, int]:
    """content/history/'s size and its points."""
    paths = sorted(history.folder(content).glob("*.jsonl"))
    points = sum(line.count(b"],") + line.count(b"]}") for p in paths for line in p.read_bytes().splitlines())
    return {"history_bytes": sum(p.stat().st_size for p in paths), "history_points": points}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--content", type=Path, required=True)
    args = parser.parse_args()
    days = store.load_all(args.content)
    points = write(args.content, days)
    size = sum(p.stat().st_size for p in history.folder(args.content).glob("*.jsonl"))
    papers = sum(len(d.papers) for d in days)
    print(f"{points:,} points for {papers:,} papers: {size / 1e6:.1f} MB, "
          f"{size / max(papers, 1):.0f} B per paper, {points / max(papers, 1):.1f} points per paper")


if __name__ == "__main__":
    main()


def site_bytes(site: Path) -> dict[str, int]:
    """What the history adds to a built site: the sparklines' bytes in paper pages (each
    `<svg class="dp-spark" …</svg>` and the space before it) and the `history` field's in
    the JSON export (api/papers/, when exported), with the number of paper pages."""
    import json
    import re

    spark = re.compile(rb' <svg class="dp-spark".*?</svg>')
    pages = sorted((site / "papers").glob("[0-9]*/index.html"))
    sparks = sum(len(m) for page in pages for m in spark.findall(page.read_bytes()))
    exported = 0
    for path in (site / "api" / "papers").glob("*.json"):
        data = json.loads(path.read_bytes())
        if data.get("history"):
            exported += len(json.dumps(data["history"], separators=(",", ":"))) + len(',"history":')
    return {"paper_pages": len(pages), "sparkline_bytes": sparks, "export_bytes": exported}
