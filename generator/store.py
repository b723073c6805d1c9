"""content/: load, validate, merge and save day files. The only module that touches them
(content/history/, the upvote history, is history.py's).

One YAML file per featured day, content/<YYYY>/<YYYY-MM-DD>.yml. Writes are atomic and
skipped when the bytes would not change, so re-running a fetch keeps files and mtimes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import pickle
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from pydantic import VERSION as PYDANTIC_VERSION
from pydantic import ValidationError

from generator import history
from generator.errors import ContentError
from generator.fsutil import (
    clean_temp_files,
    code_digest,
    exclusive_lock,
    replace_file,
    write_if_changed,
)
from generator.models import ARXIV_ID, FIRST_DAY, LAST_DAY, Day, Paper

log = logging.getLogger(__name__)

DAY_FILE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})\.yml$")
YEAR_DIR = re.compile(r"^[0-9]{4}$")
LOCK_NAME = ".dailypapers-content.lock"

#: Limits that make a broken or hostile day file fail fast, with a message (a real day
#: file is well under 1 MB; the ~50 papers of a busy day are about 150 KB).
MAX_FILE_BYTES = 8 * 1024 * 1024
#: YAML aliases (*name) in one file: our files have none; a few by hand are fine.
MAX_ALIASES = 100
#: Nodes plus scalar characters of a file with every alias expanded (an alias bomb's
#: cost): at most about twice the file's bytes without aliases.
MAX_EXPANDED = 2 * MAX_FILE_BYTES
#: Nesting of YAML collections (a day file needs 4).
MAX_DEPTH = 32


def day_path(content: Path, day: dt.date) -> Path:
    """content/<YYYY>/<YYYY-MM-DD>.yml"""
    return content / f"{day:%Y}" / f"{day.isoformat()}.yml"


def day_files(content: Path) -> list[Path]:
    """Every well-placed day file under content/, oldest first (see `scan`)."""
    return scan(content)[0]


def file_day(path: Path) -> dt.date | None:
    """The day a day file's name gives (None if it is not a day file name)."""
    return _file_date(path.name)


def _file_date(name: str) -> dt.date | None:
    match = DAY_FILE.match(name)
    if not match:
        return None
    try:
        return dt.date(*map(int, match.groups()))
    except ValueError:
        return None


def scan(content: Path) -> tuple[list[Path], list[str]]:
    """The day files under content/ (oldest first) and a problem for everything else there.

    content/ holds year folders of day files, content/<YYYY>/<YYYY-MM-DD>.yml, the
    history/ folder (history.py validates it) and nothing else: a file anywhere else,
    misnamed (.yaml, an impossible date), in the wrong year's
    folder, a symbolic link or a special file would be ignored, and a hand edit lost.
    Hidden names (dot-files: our lock and temp files, editors' swap files) are skipped.
    """
    files: list[Path] = []
    problems: list[str] = []
    try:
        top = sorted(os.scandir(content), key=lambda e: e.name)
    except FileNotFoundError:
        return [], []
    except OSError as exc:
        return [], [f"{content}: cannot list: {exc.strerror or exc}"]
    layout = "content/ holds only <YYYY>/<YYYY-MM-DD>.yml (and history/)"
    for entry in top:
        path = Path(entry.path)
        if entry.name.startswith("."):
            continue
        if entry.name == history.FOLDER and entry.is_dir(follow_symlinks=False):
            continue  # the upvote history: history.py reads and validates it
        if entry.is_symlink():
            problems.append(f"{path}: a symbolic link; {layout} (plain files and folders)")
        elif not entry.is_dir():
            day = _file_date(entry.name)
            target = day_path(content, day) if day and FIRST_DAY <= day <= LAST_DAY else None
            problems.append(
                f"{path}: not in a year folder; {layout}"
                + (
                    ""
                    if target is None
                    else f" (and {target} exists too: the same day in two files; keep one)"
                    if target.exists()
                    else " (`check --fix` moves it)"
                )
            )
        elif not YEAR_DIR.match(entry.name):
            problems.append(f"{path}: not a year folder (YYYY); {layout}")
        else:
            _scan_year(path, files, problems, layout)
    files.sort(key=lambda p: p.name)
    return files, problems


def _scan_year(folder: Path, files: list[Path], problems: list[str], layout: str) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        problems.append(f"{folder}: cannot list: {exc.strerror or exc}")
        return
    for entry in entries:
        path = Path(entry.path)
        if entry.name.startswith("."):
            continue
        day = _file_date(entry.name)
        if entry.is_symlink():
            problems.append(f"{path}: a symbolic link; {layout} (plain files)")
        elif entry.is_dir():
            problems.append(f"{path}: a folder inside a year folder; {layout}")
        elif not entry.is_file():
            problems.append(f"{path}: not a regular file; {layout}")
        elif DAY_FILE.match(entry.name) and day is None:
            problems.append(f"{path}: the file name is not a real date (YYYY-MM-DD.yml)")
        elif day is None:
            hint = " (use .yml)" if re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\.", entry.name) else ""
            problems.append(f"{path}: not a day file name (YYYY-MM-DD.yml){hint}; {layout}")
        elif not FIRST_DAY <= day <= LAST_DAY:
            problems.append(f"{path}: date {day} is outside {FIRST_DAY.year}-{LAST_DAY.year}")
        elif f"{day:%Y}" != folder.name:
            target = folder.parent / f"{day:%Y}" / entry.name
            problems.append(
                f"{path}: the day {day} is in the wrong year folder; it belongs in {target}"
                + (
                    " (and that file exists too: the same day in two files; keep one)"
                    if target.exists()
                    else " (`check --fix` moves it)"
                )
            )
        else:
            files.append(path)


def fix_layout(content: Path) -> list[str]:
    """Move day files that are in the wrong year folder, or at the top of content/, to
    where they belong, when nothing is there yet (never overwriting); the moves made."""
    moves: list[str] = []
    candidates = [e for e in content.iterdir() if e.is_file() and not e.is_symlink()]
    for folder in content.iterdir():
        if folder.is_dir() and not folder.is_symlink() and YEAR_DIR.match(folder.name):
            candidates += [e for e in folder.iterdir() if e.is_file() and not e.is_symlink()]
    for path in sorted(candidates):
        day = _file_date(path.name)
        if day is None or not FIRST_DAY <= day <= LAST_DAY:
            continue
        target = day_path(content, day)
        if path == target or target.exists() or target.is_symlink():
            continue
        try:
            target.parent.mkdir(exist_ok=True)
            os.rename(path, target)
        except OSError as exc:
            raise ContentError(f"{path}: cannot move to {target}: {exc.strerror or exc}") from None
        moves.append(f"{path}: moved to {target}")
    return moves


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
    same (keyed by their hash) and so is the code that parsed them (the package's source and
    the versions of pydantic and PyYAML: a cached Day is a pickled object of that code):
    validating 1,000 files of YAML is most of a small rebuild. The cache holds one file per
    year folder, so a new day rewrites its year's alone.
    """
    files, layout = scan(content)
    salt = _cache_salt()
    # Read in threads: on a cold disk, 1,000 small files one after another took seconds.
    with ThreadPoolExecutor(8) as pool:
        digests = list(pool.map(lambda path: _digest(path, salt), files))
    by_year: dict[str, list[tuple[str, Path, str]]] = {}
    for path, digest in zip(files, digests, strict=True):
        key = path.relative_to(content).as_posix()  # a moved project keeps its cache
        by_year.setdefault(key.partition("/")[0], []).append((key, path, digest))
    days: list[Day] = []
    problems: list[str] = list(layout)
    fresh_years: dict[str, dict[str, tuple[str, Day]]] = {}
    for year, entries in by_year.items():
        known = _read_cache(cache / f"{year}.pickle" if cache is not None else None)
        fresh: dict[str, tuple[str, Day]] = {}
        misses = 0
        for key, path, digest in entries:
            hit = known.get(key)
            day: Day | None
            errors: list[str]
            if hit is not None and digest and hit[0] == digest:
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
        raise ContentError.listing(problems)
    if cache is not None:
        _write_cache(cache, fresh_years, keep=set(by_year))
    return days


def _write_cache(
    cache: Path, changed: dict[str, dict[str, tuple[str, Day]]], keep: set[str]
) -> None:
    for year, fresh in changed.items():
        data = pickle.dumps(fresh, protocol=pickle.HIGHEST_PROTOCOL)
        replace_file(cache / f"{year}.pickle", data)  # known to differ: not read back
    if cache.is_dir():
        for old in cache.glob("*.pickle"):
            if old.stem not in keep:
                old.unlink()


def _cache_salt() -> bytes:
    """Part of every parse-cache key: the code that made the cached objects."""
    return f"{code_digest()}|pydantic {PYDANTIC_VERSION}|pyyaml {yaml.__version__}\0".encode()


def _digest(path: Path, salt: bytes) -> str:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return ""  # not read into memory: parsing reports it as too large
        return hashlib.sha256(salt + path.read_bytes()).hexdigest()
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


def _read_text(path: Path) -> str:
    """The file as text, or ContentError (too large, not UTF-8, unreadable)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ContentError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ContentError(
            f"{path}: larger than {MAX_FILE_BYTES // 2**20} MB; a day file is well under 1 MB"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError(f"{path}: not UTF-8 text: byte {exc.start}: {exc.reason}") from None


def _parse(path: Path) -> tuple[Day | None, list[str]]:
    try:
        text = _read_text(path)
    except ContentError as exc:
        return None, [exc.message]
    return _parse_text(path, text)


def load_yaml(path: Path, text: str) -> Any:
    """`text` as safe YAML with our limits: duplicate keys, too many aliases, an alias bomb's
    expanded size or deep nesting are errors; ContentError names file, line and cause."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ContentError(f"{where}: not valid YAML: {' '.join(str(exc).split())}") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        # e.g. a timestamp with year 0: PyYAML's constructors raise these as they are
        raise ContentError(f"{path}: not valid YAML: {exc}") from None


def _parse_text(path: Path, text: str) -> tuple[Day | None, list[str]]:
    try:
        data = load_yaml(path, text)
    except ContentError as exc:
        return None, [exc.message]
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
        cause = (
            "must be a quoted string (an unquoted arXiv id reads as a number; "
            "`check --fix` quotes it)"
        )
    return f"{where}: {': '.join(parts + [cause])}"


def _line_of(text: str, loc: list[Any]) -> int:
    """Line number (1-based) of the YAML node at `loc`, or of the nearest parent found."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except Exception:  # noqa: BLE001 - only a line number: the error itself is reported
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
        text = _read_text(path)
    except ContentError as exc:
        return [], [exc.message]
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
    except Exception:  # noqa: BLE001 - not quotable; loading it reports why
        return text, []
    papers = _child(root, "papers")
    nodes = [
        node
        for item in (papers.value if isinstance(papers, yaml.SequenceNode) else [])
        if isinstance(node := _child(item, "id"), yaml.ScalarNode)
        and node.style is None
        and node.tag != "tag:yaml.org,2002:str"
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
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe YAML that refuses duplicate keys and checks the document's limits first."""

    def construct_document(self, node: yaml.Node) -> Any:
        _check_limits(node)
        return super().construct_document(node)

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, yaml.Node] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node)
                except TypeError:  # unhashable: the base class says so
                    continue
                if first is not key_node:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"duplicate key {key!r} (first on line {first.start_mark.line + 1})",
                        key_node.start_mark,
                    )
        return super().construct_mapping(node, deep=deep)


def _check_limits(root: yaml.Node) -> None:
    """Aliases, expanded size and nesting of a composed document, without expanding it.

    Depth-first over the collections (scalars are counted where they are listed, which
    keeps 1,000,000 list items to a second); a node met again is an alias."""
    scalar, mapping = yaml.ScalarNode, yaml.MappingNode
    size: dict[int, int] = {}  # finished collections: their expanded size
    seen_scalars: set[int] = set()
    on_path: set[int] = set()
    aliases = 0

    def fail(node: yaml.Node, problem: str) -> None:
        raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)

    def kids_of(node: yaml.Node) -> list[yaml.Node]:
        return [n for pair in node.value for n in pair] if isinstance(node, mapping) else node.value

    def alias(node: yaml.Node) -> None:
        nonlocal aliases
        aliases += 1
        if aliases > MAX_ALIASES:
            fail(node, f"more than {MAX_ALIASES} aliases (*name); a day file needs none")

    if isinstance(root, scalar):
        return
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 0, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            total = 1
            for kid in kids_of(node):
                total += len(kid.value) + 1 if kid.__class__ is scalar else size[id(kid)]
            if total > MAX_EXPANDED:
                fail(
                    node,
                    f"larger than {MAX_EXPANDED:,} characters with its aliases "
                    "expanded (an alias bomb?)",
                )
            size[key] = total
            continue
        if key in on_path:
            fail(node, "an alias refers to a node that contains it (recursive)")
        if key in size:
            alias(node)
            continue
        if depth > MAX_DEPTH:
            fail(node, f"nested deeper than {MAX_DEPTH} levels")
        on_path.add(key)
        stack.append((node, depth, True))
        for kid in kids_of(node):
            if kid.__class__ is not scalar:
                stack.append((kid, depth + 1, False))
            elif id(kid) in seen_scalars:
                alias(kid)
            else:
                seen_scalars.add(id(kid))


class _Dumper(yaml.SafeDumper):
    """Safe YAML with every id-like string quoted, so hand editors see the pattern to follow."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "'" if re.fullmatch(r"[\d.eE+-]+", value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)
