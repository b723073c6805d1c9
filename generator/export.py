"""The archive as static JSON for scripts and other sites: site/api/.

- api/index.json: every day with papers (date, paper count, its file), newest first
- api/daily/<YYYY-MM-DD>.json: a day's papers, ranked, as stored in content/
- api/papers/<arXiv id>.json: one paper (its newest stored version) and its featured days

The files are written to a cache folder only when their bytes change, then hard-linked
into the new site, so a daily update rewrites a day's worth of files, not 20,000.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from generator.fsutil import link_tree, write_if_changed
from generator.pages import Archive

API_DIR = "api"
#: Bumped when the files' shape changes, so scripts can tell.
FORMAT_VERSION = 1


def _dumps(data: object) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=1, sort_keys=False) + "\n").encode()


def api_files(archive: Archive) -> dict[str, bytes]:
    """{path under api/: bytes} for the whole archive."""
    files: dict[str, bytes] = {}
    index = []
    for day in reversed(archive.days):
        if not day.papers:
            continue
        name = f"daily/{day.date.isoformat()}.json"
        papers = [paper.model_dump(mode="json") for paper in day.ranked()]
        files[name] = _dumps({"version": FORMAT_VERSION, "date": day.date.isoformat(),
                              "papers": papers})
        index.append({"date": day.date.isoformat(), "papers": len(papers), "url": name})
    for pid, paper in archive.papers.items():
        featured = [d.isoformat() for d in archive.featured[pid]]
        files[f"papers/{pid}.json"] = _dumps({"version": FORMAT_VERSION, "featured": featured,
                                              "paper": paper.model_dump(mode="json")})
    files["index.json"] = _dumps({"version": FORMAT_VERSION, "days": index})
    return files


def write_api(archive: Archive, cache: Path, site_dir: Path) -> int:
    """Sync `cache` to the archive's files, link them into site_dir/api; return files written."""
    files = api_files(archive)
    written = sum(write_if_changed(cache / name, data, durable=False) for name, data in files.items())
    for parent, _dirs, names in os.walk(cache):
        for name in names:
            rel = os.path.relpath(os.path.join(parent, name), cache).replace(os.sep, "/")
            if rel not in files:
                os.unlink(os.path.join(parent, name))
    link_tree(cache, site_dir / API_DIR)
    return written
