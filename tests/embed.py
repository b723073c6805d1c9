"""Rebuild the embedded content/ from real API captures (`make embed`), through our own fetch.

    python tests/embed.py --data ../shared/data/hf-api-captures --from 2025-11-26 --to 2026-08-21

Serves the captures from the local stand-in API (apiserver.FakeApi), then runs
`python -m generator fetch --date DAY` once per captured day, in the order they were saved,
with DAILYPAPERS_NOW set to the hour the capture was saved (the `saved` column of the
captures' README). So content/history/ holds what a cron job running at those hours would
have recorded: a paper that two captures list gets two points (a sparkline). The day files
and history files are removed first: two runs give byte-identical content/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

from apiserver import FakeApi, load_days

REPO = Path(__file__).resolve().parents[1]
#: A row of the captures' README table: | day | papers | repository | path | commit | saved |
_ROW = re.compile(r"^\| (\d{4}-\d{2}-\d{2}) \|.*\| (\d{4}-\d{2}-\d{2}T[0-9:]+[+-]\d{2}:\d{2}) \|$")


def saved_times(readme: Path) -> dict[str, dt.datetime]:
    """Day -> when its capture was saved (UTC), from the captures' README table."""
    times = {}
    for line in readme.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line.strip())
        if match:
            times[match[1]] = dt.datetime.fromisoformat(match[2]).astimezone(dt.UTC)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the captures folder")
    parser.add_argument("--from", dest="start", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--to", dest="end", type=dt.date.fromisoformat, required=True)
    parser.add_argument(
        "--root", type=Path, default=REPO, help="project folder (default: this repo)"
    )
    args = parser.parse_args(argv)
    readme = args.data / "README.md"
    if not readme.is_file():
        parser.error(f"{readme}: not found (the captures and their README with the saved times)")
    times = saved_times(readme)
    days = load_days(args.data)
    chosen = sorted(
        (times[d], d) for d in days if args.start <= dt.date.fromisoformat(d) <= args.end
    )
    missing = [
        d for d in days if d not in times and args.start <= dt.date.fromisoformat(d) <= args.end
    ]
    if missing:
        parser.error(f"{readme}: no saved time for {', '.join(missing)}")
    content = args.root / "content"
    for old in [*content.glob("[0-9][0-9][0-9][0-9]/*.yml"), *content.glob("history/*.jsonl")]:
        old.unlink()
    with FakeApi(days) as api:
        for when, day in chosen:
            env = {**os.environ, "DAILYPAPERS_NOW": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
            command = [
                sys.executable,
                "-m",
                "generator",
                "fetch",
                "--root",
                str(args.root),
                "--api",
                api.url,
                "--date",
                day,
            ]
            status = subprocess.call(command, env=env, cwd=args.root)
            if status:
                return status
    return 0


if __name__ == "__main__":
    sys.exit(main())
