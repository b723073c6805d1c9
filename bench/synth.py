"""A synthetic archive with realistic text: vocabulary and lengths drawn from real abstracts.

    python bench/synth.py --days 1000 --per-day 20 --out /tmp/archive/content
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generator import store  # noqa: E402
from generator.models import Day, Paper  # noqa: E402

SOURCES = [REPO.parent / "shared" / "data" / "hf-api", REPO / "tests" / "data" / "hf-api"]
START = dt.date(2023, 5, 4)  # Hugging Face Daily Papers' first day


def real_papers() -> list[dict]:
    for folder in SOURCES:
        files = sorted(folder.glob("*.json"))
        if files:
            return [item["paper"] for f in files for item in json.loads(f.read_text())]
    raise SystemExit("no real listings found for the vocabulary")


class Text:
    """Draws words and lengths from real titles and abstracts."""

    def __init__(self, papers: list[dict], rng: random.Random) -> None:
        self.rng = rng
        self.words = [w for p in papers for w in p["summary"].split()]
        self.title_words = [w for p in papers for w in p["title"].split()]
        self.summary_lengths = [len(p["summary"].split()) for p in papers]
        self.title_lengths = [len(p["title"].split()) for p in papers]
        self.authors = [a["name"] for p in papers for a in p["authors"]]
        self.author_counts = [len(p["authors"]) for p in papers]

    def summary(self) -> str:
        return " ".join(self.rng.choices(self.words, k=self.rng.choice(self.summary_lengths)))

    def title(self) -> str:
        return " ".join(self.rng.choices(self.title_words, k=self.rng.choice(self.title_lengths)))

    def authors_list(self) -> list[str]:
        return self.rng.sample(self.authors, k=min(self.rng.choice(self.author_counts), 40))


def synth_day(day: dt.date, n: int, text: Text, serial: int) -> Day:
    rng = text.rng
    papers = []
    for i in range(n):
        pid = f"{day:%y%m}.{(serial * n + i) % 100000:05d}"
        papers.append(Paper(
            id=pid, title=text.title(), summary=text.summary(), authors=text.authors_list(),
            published=day - dt.timedelta(days=rng.randint(0, 6)), upvotes=rng.randint(0, 300),
            comments=rng.randint(0, 12),
            github=f"https://github.com/example/{pid}" if rng.random() < 0.5 else None,
            github_stars=rng.randint(0, 5000) if rng.random() < 0.4 else None,
        ))
    return Day(date=day, papers=papers)


def generate(out: Path, days: int, per_day: int, seed: int = 7) -> list[dt.date]:
    """Write `days` weekdays of `per_day` papers from START into `out` (a content/ folder)."""
    text = Text(real_papers(), random.Random(seed))
    dates: list[dt.date] = []
    day = START
    while len(dates) < days:
        if day.weekday() < 5:
            store.save_day(out, synth_day(day, per_day, text, len(dates)))
            dates.append(day)
        day += dt.timedelta(days=1)
    return dates


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=1000)
    parser.add_argument("--per-day", type=int, default=20)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    dates = generate(args.out, args.days, args.per_day)
    print(f"{len(dates)} days, {dates[0]} .. {dates[-1]} -> {args.out}")
