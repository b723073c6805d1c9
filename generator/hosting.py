"""Will the built site fit where it is published? Its size as hosts count it, against their limits.

Hosts count the sum of the files' sizes (not `du`'s allocated blocks), the number of files,
and some the entries (files and folders) of the whole site or of one folder. `build` ends
with one line naming the hosts the site fits and those it is too large for, and warns
(on stderr; the build still succeeds) once the site reaches WARN_AT of a limit it fits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: Reaching this share of a limit warns.
WARN_AT = 0.9
GB = 1000**3  # hosts' "1 GB": the decimal unit is the stricter reading


@dataclass(frozen=True)
class Limit:
    what: str  # "bytes" (sum of file sizes), "files", "entries" (files + folders) or "folder"
    value: int
    label: str  # how the limit reads in the summary line


#: Published limits (2026): GitHub Pages (site size), Cloudflare Pages (files per
#: deployment, free and paid plans), Netlify (entries in one folder), GitLab Pages
#: (site size and entries).
LIMITS: tuple[tuple[str, tuple[Limit, ...]], ...] = (
    ("GitHub Pages", (Limit("bytes", GB, "1 GB"),)),
    ("Cloudflare Pages paid", (Limit("files", 100_000, "100k files"),)),
    ("Cloudflare Pages free", (Limit("files", 20_000, "20k files"),)),
    ("Netlify", (Limit("folder", 54_000, "54k entries a folder"),)),
    (
        "GitLab Pages",
        (
            Limit("bytes", GB, "1 GB"),
            Limit("entries", 200_000, "200k entries"),
        ),
    ),
)


@dataclass(frozen=True)
class SiteSize:
    bytes: int  # the sum of the files' sizes
    files: int
    entries: int  # files and folders, the site's own folder not counted
    folder: int  # the most entries directly in one folder
    folder_path: str  # that folder, relative to the site ("" for the site's own)

    def amount(self, what: str) -> int:
        """The measure a Limit's `what` names (one of the fields above)."""
        value: int = getattr(self, what)
        return value


def measure(site: Path) -> SiteSize:
    """Walk `site` once: sizes (symbolic links not followed), files, entries, largest folder."""
    total = files = entries = 0
    folder, folder_path = 0, ""
    stack = [site]
    while stack:
        here = stack.pop()
        count = 0
        with os.scandir(here) as it:
            for entry in it:
                count += 1
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                else:
                    files += 1
                    total += entry.stat(follow_symlinks=False).st_size
        entries += count
        if count > folder:
            folder, folder_path = count, os.path.relpath(here, site).replace(os.sep, "/")
    return SiteSize(total, files, entries, folder, "" if folder_path == "." else folder_path)


def verdict(size: SiteSize) -> tuple[str, list[str]]:
    """(the summary line, the warnings): which hosts the site fits, which it is too large for."""
    fits: list[str] = []
    too_large: list[str] = []
    warnings: list[str] = []
    for host, limits in LIMITS:
        labels = ", ".join(limit.label for limit in limits)
        over = [limit for limit in limits if size.amount(limit.what) > limit.value]
        (too_large if over else fits).append(f"{host} ({labels})")
        for limit in limits if not over else ():
            share = size.amount(limit.what) / limit.value
            if share >= WARN_AT:
                warnings.append(
                    f"warning: the site is at {share:.0%} of {host}'s limit of {limit.label} "
                    f'({_amount(limit.what, size)}); see README, "Deployment"'
                )
    line = f"site: {size.bytes / 1000**2:,.0f} MB, {size.files:,} files"
    if fits:
        line += " — fits " + ", ".join(fits)
    if too_large:
        line += ("; " if fits else " — ") + "too large for " + ", ".join(too_large)
    return line, warnings


def _amount(what: str, size: SiteSize) -> str:
    if what == "bytes":
        return f"{size.bytes / 1000**2:,.0f} MB"
    if what == "folder":
        where = f"{size.folder_path}/" if size.folder_path else "the site's top folder"
        return f"{size.folder:,} entries in {where}"
    return f"{size.amount(what):,} {what}"
