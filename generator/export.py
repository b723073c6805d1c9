"""The archive as static JSON for scripts and other sites: site/api/.

- api/index.json: every day with papers (date, paper count, its file), newest first
- api/daily/<YYYY-MM-DD>.json: a day's papers, ranked, as stored in content/, each with
  `gain_24h` (upvotes gained in the 24 h up to the history's newest capture, trends.py;
  null for a paper without history)
- api/papers/<arXiv id>.json, with `export.papers: true` only (a second copy of what the
  day files hold, and a file per paper: ~5 KB and one file a paper, 163 MB and 33,000
  files at the real archive's size): one paper (its newest stored version), its featured days and
  its upvote `history`: [[time, upvotes, comments], …], oldest first, and `history_fields`
  naming the three (rows, not objects: half the bytes, as the history grows every day)

Files are remade in a cache folder only when what they hold changes, then hard-linked
into the new site, so a daily update writes a day's worth of files, not 20,000.
"""

from __future__ import annotations

import json
from pathlib import Path

from generator import trends
from generator.history import format_time
from generator.outputs import OutputCache
from generator.pages import Archive

API_DIR = "api"
#: Bumped when the files' shape changes, so scripts can tell.
FORMAT_VERSION = 1


#: The columns of each row of a paper's `history`.
HISTORY_FIELDS = ["t", "upvotes", "comments"]


def _dumps(data: object) -> bytes:
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def write_api(archive: Archive, cache: Path, per_paper: bool = False) -> OutputCache:
    """Remake changed files in `cache`; link() the result into the new site's api/ folder.
    `per_paper` (`export.papers`): also a file per paper (api/papers/)."""
    out = OutputCache(cache, str(FORMAT_VERSION))
    gained = trends.gains(archive.history)
    index = []
    for day in reversed(archive.days):
        if not day.papers:
            continue
        name = f"daily/{day.date.isoformat()}.json"
        index.append({"date": day.date.isoformat(), "papers": len(day.papers), "url": name})
        ranked = day.ranked()
        gains = [gained.get(paper.id) for paper in ranked]
        if not out.fresh(name, f"{day.model_dump_json()}|{gains}"):
            papers = [
                {**paper.model_dump(mode="json"), "gain_24h": gain}
                for paper, gain in zip(ranked, gains, strict=True)
            ]
            out.write(
                name,
                _dumps({"version": FORMAT_VERSION, "date": day.date.isoformat(), "papers": papers}),
            )
    for pid, paper in archive.papers.items() if per_paper else ():
        name = f"papers/{pid}.json"
        if not out.fresh(name, archive.paper_key(pid)):
            featured = [d.isoformat() for d in archive.featured[pid]]
            points = [[format_time(p.t), p.up, p.c] for p in archive.history.get(pid, ())]
            out.write(
                name,
                _dumps(
                    {
                        "version": FORMAT_VERSION,
                        "featured": featured,
                        "paper": paper.model_dump(mode="json"),
                        "history_fields": HISTORY_FIELDS,
                        "history": points,
                    }
                ),
            )
    index_data = _dumps({"version": FORMAT_VERSION, "days": index})
    if not out.fresh("index.json", index_data.decode()):
        out.write("index.json", index_data)
    return out.finish()
