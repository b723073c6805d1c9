"""Groupings of the archive's papers: trending, ISO weeks, months, topics, organizations.

Pure functions of the archive (no I/O, no clock): the same content always gives the same
groups, so an incremental build equals a full one. Every group's listing is ranked the
same way: upvotes, then the newest featured day, then arXiv id.
Topic and organization URLs use slugs made here; slugs are ASCII, so hostile names can
never reach a path, and collisions get a short hash of the full name after "--", which
no plain slug holds, so slugs are unique by construction whatever the names.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from generator.models import Paper

#: Longest slug kept before a collision hash is added.
SLUG_MAX = 60
#: Slugs that would collide with a section's own index page.
RESERVED = frozenset({"index"})


@dataclass
class Group:
    """Papers that share a period, topic or organization, ranked."""

    slug: str
    label: str
    ids: list[str] = field(default_factory=list)


@dataclass
class Groups:
    weeks: dict[str, Group]
    months: dict[str, Group]
    topics: dict[str, Group]
    orgs: dict[str, Group]
    #: paper id -> slugs of its topics that have pages, in the paper's keyword order
    paper_topics: dict[str, list[str]]
    #: paper id -> slug of its organization's page
    paper_org: dict[str, str]


def week_key(day: dt.date) -> str:
    """ISO week, as Hugging Face's /papers/week/2026-W22 URLs spell it."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def month_key(day: dt.date) -> str:
    return f"{day.year}-{day.month:02d}"


def week_label(key: str) -> str:
    year, week = key.split("-W")
    monday = dt.date.fromisocalendar(int(year), int(week), 1)
    sunday = monday + dt.timedelta(days=6)
    return f"Week {int(week)} of {year}: {monday:%b} {monday.day} – {sunday:%b} {sunday.day}"


def month_label(key: str) -> str:
    return f"{dt.date.fromisoformat(key + '-01'):%B %Y}"


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by '-' ('' when nothing ASCII is left)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:SLUG_MAX].strip("-")


@functools.lru_cache(maxsize=65536)  # keywords repeat: 100,000 uses, ~15,000 distinct
def normalize_keyword(keyword: str) -> str:
    """A keyword's identity: case-folded, single-spaced, last word singular."""
    words = re.sub(r"[\s_]+", " ", keyword.casefold()).strip(" -.,;:").split(" ")
    if not words or not words[0]:
        return ""
    words[-1] = _singular(words[-1])
    return " ".join(words)


#: Words that end like plurals but are not ("robotics" is a field, not many robotic).
NOT_PLURAL = frozenset(
    {
        "series",
        "species",
        "news",
        "lens",
        "bias",
        "gas",
        "chaos",
        "axis",
        "analysis",
        "basis",
        "thesis",
    }
)


def _singular(word: str) -> str:
    if len(word) <= 3 or not word.isalpha() or word in NOT_PLURAL or word.endswith("ics"):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "ys")):
        return word[:-1]
    return word


def _slugs(names: dict[str, str]) -> dict[str, str]:
    """A unique slug per key, made from its name; keys whose slugs collide (or are empty or
    reserved) get a hash of the key as suffix.

    Unique by construction: a plain slug (slugify) never holds "--", a suffixed one is
    `<slug>--<hex>` (empty slug: `x--<hex>`), so the two kinds cannot meet; suffixed slugs
    of one plain slug differ in their hash, lengthened until they do (a counter last)."""
    by_slug: dict[str, list[str]] = {}
    for key in sorted(names):
        by_slug.setdefault(slugify(names[key]), []).append(key)
    slugs = {}
    for slug, keys_here in by_slug.items():
        if slug and slug not in RESERVED and len(keys_here) == 1:
            slugs[keys_here[0]] = slug
            continue
        digests = [
            hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest() for key in keys_here
        ]
        width = 8
        while width < 40 and len({d[:width] for d in digests}) < len(digests):
            width += 4
        used: set[str] = set()
        for key, digest in zip(keys_here, digests, strict=True):
            suffix = digest[:width]
            if suffix in used:  # a full SHA-1 collision: keys are sorted, so still stable
                suffix = f"{suffix}{len(used)}"
            used.add(suffix)
            slugs[key] = f"{slug or 'x'}--{suffix}"
    return slugs


def rank(ids: Iterable[str], papers: dict[str, Paper], last_day: dict[str, dt.date]) -> list[str]:
    """Most upvoted first, then most recently featured, then arXiv id."""
    return sorted(set(ids), key=lambda pid: (-papers[pid].upvotes, -last_day[pid].toordinal(), pid))


def _ranker(papers: dict[str, Paper], last_day: dict[str, dt.date]):
    """`rank` for many groups of the same papers: every paper's place in one ranking of
    all of them is the sort key (a C-level lookup instead of a tuple per paper and group:
    ~2,000 groups of 20,000 papers took a second)."""
    place = {pid: i for i, pid in enumerate(rank(papers, papers, last_day))}.__getitem__
    return lambda ids: sorted(set(ids), key=place)


def trending(
    days_papers: dict[dt.date, list[str]],
    papers: dict[str, Paper],
    last_day: dict[str, dt.date],
    window: int,
) -> tuple[list[str], dt.date | None]:
    """Papers featured in the `window` days up to the newest day (dates, not listings)."""
    if not days_papers:
        return [], None
    newest = max(days_papers)
    start = newest - dt.timedelta(days=window - 1)
    ids = [pid for day, listed in days_papers.items() if day >= start for pid in listed]
    return rank(ids, papers, last_day), start


def group_archive(
    days_papers: dict[dt.date, list[str]],
    papers: dict[str, Paper],
    last_day: dict[str, dt.date],
    topic_min_papers: int,
) -> Groups:
    """Weeks, months, topics and organizations of the archive."""
    ranked_ids = _ranker(papers, last_day)
    weeks: dict[str, set[str]] = {}
    months: dict[str, set[str]] = {}
    for day, listed in days_papers.items():
        weeks.setdefault(week_key(day), set()).update(listed)
        months.setdefault(month_key(day), set()).update(listed)

    spellings: dict[str, Counter[str]] = {}
    topic_ids: dict[str, list[str]] = {}
    org_ids: dict[str, list[str]] = {}
    org_names: dict[str, str] = {}
    keys_of: dict[str, list[str]] = {}
    for pid, paper in papers.items():
        keys: list[str] = []
        for keyword in paper.keywords:
            key = normalize_keyword(keyword)
            if key and key not in keys:
                keys.append(key)
                spellings.setdefault(key, Counter())[" ".join(keyword.split())] += 1
                topic_ids.setdefault(key, []).append(pid)
        keys_of[pid] = keys
        if paper.organization:
            org_ids.setdefault(paper.organization.name, []).append(pid)
            org_names[paper.organization.name] = paper.organization.fullname or ""

    kept = {key for key, ids in topic_ids.items() if len(ids) >= topic_min_papers}
    # shown as its most common spelling (ties: the alphabetically first), slugged from that
    labels = {k: min(spellings[k].items(), key=lambda kv: (-kv[1], kv[0]))[0] for k in kept}
    topic_slug = _slugs(labels)
    topics = {}
    for key in sorted(kept, key=lambda k: topic_slug[k]):
        ids = ranked_ids(topic_ids[key])
        topics[topic_slug[key]] = Group(topic_slug[key], labels[key], ids)
    org_slug = _slugs({name: name for name in org_ids})
    orgs = {}
    for name in sorted(org_ids, key=lambda n: org_slug[n]):
        label = org_names[name] or name
        orgs[org_slug[name]] = Group(org_slug[name], label, ranked_ids(org_ids[name]))

    def ranked(periods: dict[str, set[str]], label) -> dict[str, Group]:
        return {k: Group(k, label(k), ranked_ids(v)) for k, v in sorted(periods.items())}

    return Groups(
        weeks=ranked(weeks, week_label),
        months=ranked(months, month_label),
        topics=topics,
        orgs=orgs,
        paper_topics={
            pid: [topic_slug[k] for k in keys if k in kept] for pid, keys in keys_of.items()
        },
        paper_org={
            pid: org_slug[p.organization.name] for pid, p in papers.items() if p.organization
        },
    )
