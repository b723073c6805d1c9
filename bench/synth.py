"""A synthetic archive with realistic text: vocabulary and lengths drawn from real abstracts.

    python bench/synth.py --days 1000 --per-day 20 --out /tmp/archive/content

`fast=True` (the default; `--safe` turns it off) writes with libyaml's emitter and without
fsync: ~10x faster than the store's atomic, pure-Python writer, same bytes (checked on the
first day; it falls back to the store's writer if they ever differ).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import random
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generator import store
from generator.models import Day, Organization, Paper

SOURCES = [REPO.parent / "shared" / "data" / "hf-api", REPO / "tests" / "data" / "hf-api"]
START = dt.date(2023, 5, 4)  # Hugging Face Daily Papers' first day
KEYWORDS = 3000  # distinct keyword phrases to draw from
ORGS = 300  # organizations; 40% of papers have one


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
        # Keywords: the real abstracts' most common word pairs, drawn with Zipf weights
        # (a few topics are everywhere, most are rare), like Hugging Face's AI keywords.
        pairs: Counter[str] = Counter()
        for p in papers:
            words = [w.strip(".,;:()").lower() for w in p["summary"].split()]
            pairs.update(f"{a} {b}" for a, b in itertools.pairwise(words)
                         if len(a) > 3 and len(b) > 3 and a.isalpha() and b.isalpha())
        self.keywords = [k for k, _ in pairs.most_common(KEYWORDS)]
        self.keyword_weights = list(itertools.accumulate(1 / (r + 1) for r in range(len(self.keywords))))
        self.orgs = [(f"lab-{i:03d}", f"Research Lab {i}") for i in range(ORGS)]
        self.org_weights = list(itertools.accumulate(1 / (r + 1) for r in range(ORGS)))

    def summary(self) -> str:
        return " ".join(self.rng.choices(self.words, k=self.rng.choice(self.summary_lengths)))

    def title(self) -> str:
        return " ".join(self.rng.choices(self.title_words, k=self.rng.choice(self.title_lengths)))

    def keywords_list(self) -> list[str]:
        return sorted(set(self.rng.choices(self.keywords, cum_weights=self.keyword_weights,
                                           k=self.rng.randint(3, 8))))

    def organization(self) -> Organization | None:
        if self.rng.random() >= 0.4:
            return None
        name, fullname = self.rng.choices(self.orgs, cum_weights=self.org_weights)[0]
        return Organization(name=name, fullname=fullname)

    def authors_list(self) -> list[str]:
        return self.rng.sample(self.authors, k=min(self.rng.choice(self.author_counts), 40))


def synth_day(day: dt.date, n: int, text: Text, serial: int) -> Day:
    rng = text.rng
    papers = []
    for i in range(n):
        pid = f"{day:%y%m}.{(serial * n + i) % 100000:05d}"
        papers.append(
            Paper(
                id=pid,
                title=text.title(),
                summary=text.summary(),
                authors=text.authors_list(),
                published=day - dt.timedelta(days=rng.randint(0, 6)),
                upvotes=rng.randint(0, 300),
                comments=rng.randint(0, 12),
                github=f"https://github.com/example/{pid}" if rng.random() < 0.5 else None,
                github_stars=rng.randint(0, 5000) if rng.random() < 0.4 else None,
                keywords=text.keywords_list(),
                organization=text.organization(),
            )
        )
    return Day(date=day, papers=papers)


class _FastDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """The store's YAML dialect (id-like strings quoted) on libyaml's C emitter."""


_FastDumper.add_representer(str, store._str)


def fast_dump(day: Day) -> str:
    """store.dump_day's text, emitted by libyaml."""
    data = day.model_dump(mode="python", exclude_none=True, exclude_defaults=False)
    for paper in data["papers"]:
        for key in ("keywords", "media"):
            if not paper.get(key):
                paper.pop(key, None)
    return yaml.dump(data, Dumper=_FastDumper, sort_keys=False, allow_unicode=True, width=100)


class Writer:
    """Writes day files: the store's atomic writer, or plain fast writes with libyaml."""

    def __init__(self, out: Path, fast: bool) -> None:
        self.out, self.fast, self.checked = out, fast, False

    def save(self, day: Day) -> None:
        if not self.fast:
            store.save_day(self.out, day)
            return
        text = fast_dump(day)
        if not self.checked:
            self.checked = True
            if text != store.dump_day(day):  # the store's format changed: stay faithful
                self.fast = False
                store.save_day(self.out, day)
                return
        path = store.day_path(self.out, day.date)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def weekdays(after: dt.date | None = None) -> Iterator[dt.date]:
    """Weekdays from START (or from the day after `after`)."""
    day = START if after is None else after + dt.timedelta(days=1)
    while True:
        if day.weekday() < 5:
            yield day
        day += dt.timedelta(days=1)


def generate(out: Path, days: int, per_day: int, seed: int = 7, fast: bool = True) -> list[dt.date]:
    """Write `days` weekdays of `per_day` papers from START into `out` (a content/ folder)."""
    text = Text(real_papers(), random.Random(seed))
    writer = Writer(out, fast)
    dates: list[dt.date] = []
    for day in itertools.islice(weekdays(), days):
        writer.save(synth_day(day, per_day, text, len(dates)))
        dates.append(day)
    return dates


def next_day(
    out: Path, dates: list[dt.date], per_day: int, seed: int = 7, fast: bool = True
) -> Path:
    """Write the weekday after `dates` (an archive `generate` made) into `out`; its path.

    Ids continue the archive's numbering, so they are new; text comes from another seed.
    """
    day = next(weekdays(after=dates[-1]))
    text = Text(real_papers(), random.Random(seed + 1))
    Writer(out, fast).save(synth_day(day, per_day, text, len(dates)))
    return store.day_path(out, day)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=1000)
    parser.add_argument("--per-day", type=int, default=20)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--safe", action="store_true", help="atomic fsync'd writes (slow)")
    args = parser.parse_args()
    dates = generate(args.out, args.days, args.per_day, fast=not args.safe)
    print(f"{len(dates)} days, {dates[0]} .. {dates[-1]} -> {args.out}")
