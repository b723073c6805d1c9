"""content/history/: the upvote history. Read, validate and append; nothing else.

Hugging Face's API gives only a paper's current counts, so every `fetch` records what it
saw; history not recorded on the day is lost for good. One file per month of capture,
content/history/<YYYY-MM>.jsonl, one line per capture (one fetch run), holding only the
papers whose counts changed since their latest recorded point:

    {"t":"2026-12-07T02:45:00Z","papers":{"2612.01234":[40,3],"2612.01235":[12,0,5]}}

`t` is the run's one clock reading (UTC, seconds); each paper maps to [upvotes, comments]
or [upvotes, comments, github stars]. A line per paper ({"t":…,"id":…,"up":…,"c":…}) was
measured at three times the bytes (README, "Upvote history"). Files only grow: a line is
never changed, lines are appended through a temp file and a rename (fsutil.atomic_write)
under the content lock, and each paper's times strictly increase.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

from generator.errors import ContentError
from generator.fsutil import atomic_write
from generator.models import ARXIV_ID, MAX_COUNT, Paper

FOLDER = "history"
FILE_NAME = re.compile(r"^([0-9]{4})-([0-9]{2})\.jsonl$")
TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")
KEYS = frozenset({"t", "papers"})

#: Limits (SECURITY.md, "Limits on content and configuration"). A daily run over the
#: refresh window writes a line of about 20 KB and a month about 0.2 MB.
MAX_LINE_BYTES = 512 * 1024
MAX_FILE_BYTES = 32 * 1024 * 1024
#: Papers on one line: a long backfill is split over several lines of the same time.
MAX_PAPERS_PER_LINE = 10_000


class Point(NamedTuple):
    """One recorded state of a paper: when, upvotes, comments, GitHub stars (or None)."""

    t: dt.datetime
    up: int
    c: int
    stars: int | None = None

    @property
    def values(self) -> tuple[int, int, int | None]:
        return self.up, self.c, self.stars


#: Each paper's points, oldest first.
History = dict[str, list[Point]]


def folder(content: Path) -> Path:
    return content / FOLDER


def file_for(content: Path, when: dt.datetime) -> Path:
    """content/history/<YYYY-MM>.jsonl of the month (UTC) of `when`."""
    return folder(content) / f"{when.astimezone(dt.UTC):%Y-%m}.jsonl"


def format_time(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> dt.datetime:
    """A `t` value (YYYY-MM-DDTHH:MM:SSZ) as an aware UTC datetime; ValueError if not one."""
    if not isinstance(text, str) or not TIME.match(text):
        raise ValueError("must be a UTC time written YYYY-MM-DDTHH:MM:SSZ")
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def format_line(when: dt.datetime, values: Mapping[str, tuple[int, int, int | None]]) -> str:
    """One capture's line (ids sorted, no spaces, trailing newline)."""
    papers = {
        pid: [up, c] if stars is None else [up, c, stars]
        for pid, (up, c, stars) in sorted(values.items())
    }
    return json.dumps({"t": format_time(when), "papers": papers}, separators=(",", ":")) + "\n"


# ---------------------------------------------------------------- reading and validating


def files(content: Path) -> tuple[list[Path], list[str]]:
    """The month files (oldest first) and a problem for anything else in history/."""
    base = folder(content)
    if not base.is_dir() or base.is_symlink():
        return [], []  # store.scan reports a history that is not a plain folder
    found: list[Path] = []
    problems: list[str] = []
    layout = "content/history/ holds only <YYYY-MM>.jsonl files"
    for entry in sorted(os.scandir(base), key=lambda e: e.name):
        path = Path(entry.path)
        if entry.name.startswith("."):
            continue  # our temp files, editors' swap files
        match = FILE_NAME.match(entry.name)
        if entry.is_symlink() or not entry.is_file(follow_symlinks=False):
            problems.append(f"{path}: not a regular file; {layout}")
        elif not match or not 1 <= int(match[2]) <= 12 or not 2000 <= int(match[1]) <= 2100:
            problems.append(f"{path}: not a month file name (YYYY-MM.jsonl); {layout}")
        else:
            found.append(path)
    return found, problems


def read(content: Path) -> tuple[History, list[str]]:
    """Every paper's points and every problem (`file:line: cause`); valid lines are kept."""
    paths, problems = files(content)
    history: History = {}
    where: dict[str, str] = {}  # each paper's latest point: file:line, for messages
    for path in paths:
        for number, line in _lines(path, problems):
            _read_line(path, number, line, history, where, problems)
    return history, problems


def load(content: Path) -> History:
    """Every paper's points; ContentError listing every problem if any line is invalid."""
    history, problems = read(content)
    if problems:
        raise ContentError.listing(problems, "content/history")
    return history


def check(content: Path) -> list[str]:
    """Every problem of the history files, one message each (empty when valid)."""
    return read(content)[1]


def _lines(path: Path, problems: list[str]) -> Iterator[tuple[int, bytes]]:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        problems.append(f"{path}: cannot read: {exc.strerror or exc}")
        return
    if len(data) > MAX_FILE_BYTES:
        problems.append(
            f"{path}: larger than {MAX_FILE_BYTES // 2**20} MB; a month of "
            "daily captures is well under 1 MB"
        )
        return
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()  # the newline that ends the last line
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, line
        else:
            problems.append(f"{path}:{number}: an empty line; every line is one capture")


def _read_line(
    path: Path,
    number: int,
    raw: bytes,
    history: History,
    where: dict[str, str],
    problems: list[str],
) -> None:
    here = f"{path}:{number}"
    if len(raw) > MAX_LINE_BYTES:
        problems.append(f"{here}: longer than {MAX_LINE_BYTES // 1024} KB")
        return
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        problems.append(f"{here}: not valid JSON: {exc}")
        return
    if not isinstance(data, dict):
        problems.append(f"{here}: must be an object with `t` and `papers`")
        return
    unknown = sorted(set(data) - KEYS)
    missing = sorted(KEYS - set(data))
    if unknown or missing:
        problems.append(
            f"{here}: "
            + "; ".join(
                [f"unknown key {k!r}" for k in unknown] + [f"missing key {k!r}" for k in missing]
            )
        )
        return
    try:
        when = parse_time(data["t"])
    except ValueError as exc:
        problems.append(f"{here}: field 't': {exc}")
        return
    if file_for(Path(), when).name != path.name:
        problems.append(f"{here}: field 't': {data['t']} belongs in {when:%Y-%m}.jsonl")
        return
    papers = data["papers"]
    if not isinstance(papers, dict) or not papers:
        problems.append(
            f"{here}: field 'papers': must be a non-empty object of id: [upvotes, "
            "comments(, stars)]"
        )
        return
    for pid, value in papers.items():
        cause = _value_problem(pid, value)
        points = history.setdefault(pid, []) if cause is None else None
        if points and points[-1].t >= when:
            cause = (
                f"time {data['t']} is not after its previous point "
                f"({format_time(points[-1].t)}, {where[pid]})"
            )
        if cause is not None:
            problems.append(f"{here}: paper {pid!r}: {cause}")
            continue
        assert points is not None
        points.append(Point(when, value[0], value[1], value[2] if len(value) == 3 else None))
        where[pid] = f"{path.name}:{number}"


def _value_problem(pid: object, value: object) -> str | None:
    if not isinstance(pid, str) or not ARXIV_ID.match(pid):
        return "not an arXiv id (NNNN.NNNNN)"
    if not isinstance(value, list) or len(value) not in (2, 3):
        return "must be [upvotes, comments] or [upvotes, comments, stars]"
    for name, count in zip(("upvotes", "comments", "stars"), value, strict=False):
        if not isinstance(count, int) or isinstance(count, bool):
            return f"{name} must be a whole number"
        if not 0 <= count <= MAX_COUNT:
            return f"{name} {count} is negative or over 2^53-1"
    return None


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number")


# ---------------------------------------------------------------- appending


def latest(history: History) -> dict[str, Point]:
    return {pid: points[-1] for pid, points in history.items() if points}


def changes(
    history: History, when: dt.datetime, seen: Mapping[str, tuple[int, int, int | None]]
) -> dict[str, tuple[int, int, int | None]]:
    """The papers of `seen` whose values differ from their latest point before `when`
    (a paper recorded at or after `when` is left out: times only increase)."""
    last = latest(history)
    return {
        pid: values
        for pid, values in seen.items()
        if pid not in last or (last[pid].values != values and last[pid].t < when)
    }


def append(
    content: Path, when: dt.datetime, seen: Mapping[str, tuple[int, int, int | None]]
) -> int:
    """Record a capture: append the changed papers of `seen` to the month file of `when`.

    Call while holding store.locked(content). Returns the number of points written; writes
    nothing (no file is touched) when nothing changed. Unreadable lines are skipped here
    (`check` reports them); a paper is never given a time at or before its latest point.
    """
    history, _problems = read(content)
    fresh = changes(history, when, seen)
    if not fresh:
        return 0
    path = file_for(content, when)
    try:
        old = path.read_bytes() if path.exists() else b""
    except OSError as exc:
        raise ContentError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if old and not old.endswith(b"\n"):
        old += b"\n"
    ids = sorted(fresh)
    lines = "".join(
        format_line(when, {pid: fresh[pid] for pid in ids[i : i + MAX_PAPERS_PER_LINE]})
        for i in range(0, len(ids), MAX_PAPERS_PER_LINE)
    )
    data = old + lines.encode("utf-8")
    if len(data) > MAX_FILE_BYTES:
        raise ContentError(
            f"{path}: would be larger than {MAX_FILE_BYTES // 2**20} MB; nothing recorded"
        )
    atomic_write(path, data)
    return len(fresh)


def values_of(papers: Iterable[Paper]) -> dict[str, tuple[int, int, int | None]]:
    """{id: (upvotes, comments, stars)} of Papers; a later copy of an id wins."""
    return {p.id: (p.upvotes, p.comments, p.github_stars) for p in papers}
