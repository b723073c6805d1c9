"""content/: load, validate, merge and save day files. The only module that touches content/.

One YAML file per featured day, content/<YYYY>/<YYYY-MM-DD>.yml. Writes are atomic and
skipped when the bytes would not change, so re-running a fetch keeps files and mtimes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import pickle
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from generator.errors import ContentError
from generator.fsutil import clean_temp_files, exclusive_lock, replace_file, write_if_changed
from generator.models import ARXIV_ID, Day, Paper

log = logging.getLogger(__name__)

DAY_FILE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})\.yml$")
LOCK_NAME = ".dailypapers-content.lock"


def day_path(content: Path, day: dt.date) -> Path:
    """content/<YYYY>/<YYYY-MM-DD>.yml"""
    return content / f"{day:%Y}" / f"{day.isoformat()}.yml"


def day_files(content: Path) -> list[Path]:
    """Every day file under content/, oldest first."""
    return sorted(p for p in content.glob("*/*.yml") if DAY_FILE.match(p.name))


@contextmanager
def locked(content: Path, wait: float = 30.0) -> Iterator[None]:
    """Hold the content lock (one writer at a time) and clean temp files a killed run left."""
    with exclusive_lock(content / LOCK_NAME, "fetch or fix of content/", wait=wait):
        clean_temp_files(content)
        yield


# ---------------------------------------------------------------- loading


def load_day(path: Path) -> Day:
    """Read and validate one day file; ContentError names the file, paper, field and cause."""
    day, problems = _parse(path)
    if day is None:
        raise ContentError("\n".join(problems))
    return day


def load_all(content: Path, cache: Path | None = None) -> list[Day]:
    """Load every day, reporting all problems in all files at once.

    With `cache` (a folder), days parsed before are reused when the file's bytes are the
    same (keyed by their hash): validating 1,000 files of YAML is most of a small rebuild.
    The cache holds one file per year folder, so a new day rewrites its year's alone.
    """
    files = day_files(content)
    # Read in threads: on a cold disk, 1,000 small files one after another took seconds.
    with ThreadPoolExecutor(8) as pool:
        digests = list(pool.map(_digest, files))
    by_year: dict[str, list[tuple[str, Path, str]]] = {}
    for path, digest in zip(files, digests):
        key = path.relative_to(content).as_posix()  # a moved project keeps its cache
        by_year.setdefault(key.partition("/")[0], []).append((key, path, digest))
    days: list[Day] = []
    problems: list[str] = []
    fresh_years: dict[str, dict[str, tuple[str, Day]]] = {}
    for year, entries in by_year.items():
        known = _read_cache(cache / f"{year}.pickle" if cache is not None else None)
        fresh: dict[str, tuple[str, Day]] = {}
        misses = 0
        for key, path, digest in entries:
            hit = known.get(key)
            if hit is not None and hit[0] == digest:
                day, errors = hit[1], []
            else:
                day, errors = _parse(path)
                misses += 1
            problems.extend(errors)
            if day is not None:
                days.append(day)
                fresh[key] = (digest, day)
        if misses or len(fresh) != len(known):
            fresh_years[year] = fresh
    if problems:
        raise ContentError(f"{len(problems)} problem(s) in content:\n" + "\n".join(problems))
    if cache is not None:
        _write_cache(cache, fresh_years, keep=set(by_year))
    return days


def _write_cache(cache: Path, changed: dict[str, dict[str, tuple[str, Day]]], keep: set[str]) -> None:
    for year, fresh in changed.items():
        data = pickle.dumps(fresh, protocol=pickle.HIGHEST_PROTOCOL)
        replace_file(cache / f"{year}.pickle", data)  # known to differ: not read back
    if cache.is_dir():
        for old in cache.glob("*.pickle"):
            if old.stem not in keep:
                old.unlink()


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _read_cache(cache: Path | None) -> dict[str, tuple[str, Day]]:
    """The parse cache (build/, ours alone); anything unreadable is simply a miss."""
    if cache is None:
        return {}
    try:
        data = pickle.loads(cache.read_bytes())
    except Exception:  # noqa: BLE001 - a stale or partial cache file is a cache miss
        return {}
    return data if isinstance(data, dict) else {}


def check_day_file(path: Path) -> list[str]:
    """All problems of one file, one message each (empty when valid)."""
    return _parse(path)[1]


def _parse(path: Path) -> tuple[Day | None, list[str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{path}: cannot read: {exc}"]
    return _parse_text(path, text)


def _parse_text(path: Path, text: str) -> tuple[Day | None, list[str]]:
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        return None, [f"{where}: not valid YAML: {' '.join(str(exc).split())}"]
    if not isinstance(data, dict):
        return None, [f"{path}: must be a mapping with `date` and `papers`"]
    try:
        day = Day.model_validate(data)
    except ValidationError as exc:
        return None, [_describe(path, text, data, err) for err in exc.errors()]
    expected = DAY_FILE.match(path.name)
    if expected and day.date.isoformat() != path.stem:
        return None, [f"{path}: date {day.date} does not match the file name {path.name}"]
    return day, []


def _describe(path: Path, text: str, data: dict, err: Any) -> str:
    """One validation error as `file:line: paper N (id X): field 'f': cause`."""
    loc = list(err["loc"])
    where = f"{path}:{_line_of(text, loc)}"
    parts: list[str] = []
    if len(loc) >= 2 and loc[0] == "papers" and isinstance(loc[1], int):
        paper = (data.get("papers") or [None] * (loc[1] + 1))[loc[1]]
        pid = paper.get("id") if isinstance(paper, dict) else None
        # an unquoted id loaded as a float (2610.10000 -> 2610.1) would be misquoted: omit it
        parts.append(f"paper {loc[1] + 1}" + (f" (id {pid!r})" if isinstance(pid, str) else ""))
        loc = loc[2:]
    field = ".".join(str(p) for p in loc)
    if field:
        parts.append(f"field '{field}'")
    cause = err["msg"]
    if err["type"] == "extra_forbidden":
        cause = "unknown key"
    elif err["type"] == "string_type" and isinstance(err.get("input"), float):
        cause = "must be a quoted string (an unquoted arXiv id reads as a number; " \
                "`check --fix` quotes it)"
    return f"{where}: {': '.join(parts + [cause])}"


def _line_of(text: str, loc: list[Any]) -> int:
    """Line number (1-based) of the YAML node at `loc`, or of the nearest parent found."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return 1
    line = node.start_mark.line if node else 0
    for key in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == str(key)), None)
            if child is None:  # an unknown key: point at the key itself
                child = next((k for k, _ in node.value if k.value == str(key)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            child = node.value[key]
        if child is None:
            break
        node, line = child, child.start_mark.line
    return line + 1


# ---------------------------------------------------------------- fixing


def fix_day_file(path: Path) -> tuple[list[str], list[str]]:
    """Rewrite what is mechanically fixable, atomically: (fixes made, problems left).

    Unquoted arXiv ids are quoted from their raw YAML text (2401.10000 reads as the number
    2401.1, so the loaded value cannot be used); a file that is then valid is rewritten in
    the canonical form (key order, quoting, whitespace; comments are not kept).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"{path}: cannot read: {exc}"]
    fixed, quoted = _quote_ids(text)
    fixes = [f"{path}:{line}: quoted the id {raw}" for line, raw in quoted]
    day, problems = _parse_text(path, fixed)
    if day is not None and dump_day(day) != fixed:
        fixed = dump_day(day)
        fixes.append(f"{path}: rewritten in the canonical form (key order, quoting, whitespace)")
    if fixed != text:
        write_if_changed(path, fixed.encode("utf-8"))
    return fixes, problems


def _quote_ids(text: str) -> tuple[str, list[tuple[int, str]]]:
    """`text` with every plain (unquoted) paper id that looks like an arXiv id quoted."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)  # the pure parser: marks have offsets
    except yaml.YAMLError:
        return text, []
    papers = _child(root, "papers")
    nodes = [
        node for item in (papers.value if isinstance(papers, yaml.SequenceNode) else [])
        if isinstance(node := _child(item, "id"), yaml.ScalarNode)
        and node.style is None and node.tag != "tag:yaml.org,2002:str"
        and ARXIV_ID.match(node.value)
    ]
    for node in reversed(nodes):
        text = f"{text[: node.start_mark.index]}'{node.value}'{text[node.end_mark.index :]}"
    return text, [(node.start_mark.line + 1, node.value) for node in nodes]


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in node.value if k.value == key), None)


# ---------------------------------------------------------------- saving


def merge(old: Day | None, day: dt.date, fresh: Iterable[Paper]) -> Day:
    """Fresh papers replace stored ones with the same id; stored papers not returned stay."""
    papers = {p.id: p for p in (old.papers if old else [])}
    papers.update((p.id, p) for p in fresh)
    ranked = sorted(papers.values(), key=lambda p: (-p.upvotes, p.id))
    return Day(date=day, papers=ranked)


def dump_day(day: Day) -> str:
    """The YAML text of a day: fixed key order, optional fields omitted, ids quoted."""
    data = day.model_dump(mode="python", exclude_none=True, exclude_defaults=False)
    for paper in data["papers"]:
        for key in ("keywords", "media"):
            if not paper.get(key):
                paper.pop(key, None)
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def save_day(content: Path, day: Day) -> bool:
    """Write a day's file atomically if its bytes change; True if written."""
    return write_if_changed(day_path(content, day.date), dump_day(day).encode("utf-8"))


# libyaml's C parser when available: 20,000 papers load in seconds instead of a minute.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Dumper(yaml.SafeDumper):
    """Safe YAML with every id-like string quoted, so hand editors see the pattern to follow."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "'" if re.fullmatch(r"[\d.eE+-]+", value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)
