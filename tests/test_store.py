"""Content files: validation errors name file, line, paper and field; saving is atomic and idempotent."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from generator import store
from generator.errors import ContentError
from generator.models import TRUNCATION_MARKER, Day, Paper

D = dt.date(2026, 10, 3)


def paper(pid: str = "2610.01092", **kw: object) -> Paper:
    base = dict(
        id=pid,
        title="A title",
        summary="An abstract.",
        authors=["Ada", "Alan"],
        published=dt.date(2026, 10, 1),
        upvotes=3,
        comments=1,
    )
    base.update(kw)
    return Paper(**base)  # type: ignore[arg-type]


VALID = """\
date: 2026-10-03
papers:
  - id: "2610.01092"
    title: "Ego2Act"
    summary: "Video generation."
    authors: ["Patrick", "Ada"]
    published: 2026-10-01
    upvotes: 12
    comments: 3
"""


def write(tmp_path: Path, text: str, name: str = "2026-10-03.yml") -> Path:
    path = tmp_path / "content" / "2026" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file_loads(tmp_path: Path) -> None:
    day = store.load_day(write(tmp_path, VALID))
    assert day.date == D and day.papers[0].id == "2610.01092" and day.papers[0].upvotes == 12


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('id: "2610.01092"', "id: 2610.01092"),
            ["2026-10-03.yml:3:", "paper 1", "field 'id'", "quoted string"],
        ),
        (
            ("upvotes: 12", "upvotes: many"),
            ["2026-10-03.yml:8:", "paper 1 (id '2610.01092')", "field 'upvotes'", "integer"],
        ),
        (
            ("comments: 3", "comments: 3\n    color: red"),
            ["2026-10-03.yml:10:", "field 'color'", "unknown key"],
        ),
        (('    title: "Ego2Act"\n', ""), ["paper 1", "field 'title'", "Field required"]),
        (("published: 2026-10-01", "published: yesterday"), ["field 'published'", "date"]),
        (("github: x", "github: x"), None),
    ],
)
def test_invalid_files_name_file_line_paper_field(
    tmp_path: Path, change: tuple[str, str], expected: list[str] | None
) -> None:
    text = VALID.replace(*change)
    if expected is None:  # the no-op row proves the replacements above are what fails
        assert store.load_day(write(tmp_path, text))
        return
    with pytest.raises(ContentError) as err:
        store.load_day(write(tmp_path, text))
    for part in expected:
        assert part in err.value.message


def test_non_http_url_is_rejected(tmp_path: Path) -> None:
    text = VALID + '    github: "javascript:alert(1)"\n'
    with pytest.raises(ContentError, match="field 'github'.*http"):
        store.load_day(write(tmp_path, text))


def test_date_must_match_file_name(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="does not match the file name"):
        store.load_day(write(tmp_path, VALID, name="2026-10-04.yml"))


def test_load_all_reports_every_problem_at_once(tmp_path: Path) -> None:
    write(tmp_path, VALID.replace("upvotes: 12", "upvotes: x"))
    write(tmp_path, "date: 2026-10-04\npapers: 3\n", name="2026-10-04.yml")
    write(tmp_path, "date: [unclosed\n", name="2026-10-05.yml")
    with pytest.raises(ContentError) as err:
        store.load_all(tmp_path / "content")
    message = err.value.message
    assert "3 problem(s)" in message
    assert (
        "2026-10-03.yml" in message and "2026-10-04.yml" in message and "not valid YAML" in message
    )


def test_dump_quotes_ids_and_round_trips(tmp_path: Path) -> None:
    day = Day(
        date=D,
        papers=[
            paper(
                organization={"name": "ReactiveAI", "fullname": "Reactive AI"},
                keywords=["video"],
                title="no: yes # 1. __init__",
            )
        ],
    )
    text = store.dump_day(day)
    assert "id: '2610.01092'" in text
    assert "github" not in text  # optional fields left out when empty
    store.save_day(tmp_path, day)
    assert store.load_day(store.day_path(tmp_path, D)) == day


def test_save_is_skipped_when_unchanged(tmp_path: Path) -> None:
    day = Day(date=D, papers=[paper()])
    assert store.save_day(tmp_path, day) is True
    path = store.day_path(tmp_path, D)
    os.utime(path, (1_000_000, 1_000_000))
    assert store.save_day(tmp_path, day) is False
    assert path.stat().st_mtime == 1_000_000
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]


def test_merge_updates_counts_and_keeps_papers_not_returned() -> None:
    old = Day(date=D, papers=[paper("2610.00001", upvotes=1), paper("2610.00002", upvotes=5)])
    merged = store.merge(old, D, [paper("2610.00001", upvotes=9)])
    assert [(p.id, p.upvotes) for p in merged.papers] == [("2610.00001", 9), ("2610.00002", 5)]


def test_control_characters_are_removed_and_long_text_capped() -> None:
    p = paper(title="Bad\x00ti\x0btle\ufffe", summary="x" * 300_000)
    assert p.title == "Badtitle"
    assert len(p.summary) <= 20_000 and p.summary.endswith(TRUNCATION_MARKER)


def test_locked_cleans_leftover_temp_files(tmp_path: Path) -> None:
    leftover = tmp_path / "2026" / ".2026-10-03.yml.tmp-999"
    leftover.parent.mkdir(parents=True)
    leftover.write_text("partial")
    with store.locked(tmp_path):
        pass
    assert not leftover.exists()


def test_load_all_cache_reuses_parsed_days_and_sees_edits(tmp_path: Path) -> None:
    content, cache = tmp_path / "content", tmp_path / "cache"
    write(tmp_path, VALID)
    first = store.load_all(content, cache=cache)
    assert (cache / "2026.pickle").exists()
    assert store.load_all(content, cache=cache) == first
    write(tmp_path, VALID.replace("upvotes: 12", "upvotes: 13"))
    assert store.load_all(content, cache=cache)[0].papers[0].upvotes == 13
    write(tmp_path, VALID.replace("upvotes: 12", "upvotes: x"))
    with pytest.raises(ContentError, match="upvotes"):
        store.load_all(content, cache=cache)
    (cache / "2026.pickle").write_bytes(b"garbage")
    write(tmp_path, VALID)
    assert store.load_all(content, cache=cache) == first


def test_load_all_cache_rewrites_only_the_year_that_changed(tmp_path: Path) -> None:
    """One cache file per year folder: a new day rewrites its year's file alone, and a
    year whose folder is gone loses its file."""
    content, cache = tmp_path / "content", tmp_path / "cache"
    write(tmp_path, VALID)
    older = content / "2025" / "2025-10-03.yml"
    older.parent.mkdir(parents=True)
    older.write_text(VALID.replace("2026-10-03", "2025-10-03"))
    first = store.load_all(content, cache=cache)
    before = {p.name: p.stat().st_ino for p in cache.iterdir()}
    assert sorted(before) == ["2025.pickle", "2026.pickle"]
    newer = content / "2026" / "2026-10-04.yml"
    newer.write_text(VALID.replace("2026-10-03", "2026-10-04"))
    second = store.load_all(content, cache=cache)
    assert [d.date.isoformat() for d in second] == ["2025-10-03", "2026-10-03", "2026-10-04"]
    after = {p.name: p.stat().st_ino for p in cache.iterdir()}
    assert after["2025.pickle"] == before["2025.pickle"]  # not rewritten
    assert after["2026.pickle"] != before["2026.pickle"]
    newer.unlink()
    assert store.load_all(content, cache=cache) == first
    older.unlink()
    older.parent.rmdir()
    store.load_all(content, cache=cache)
    assert sorted(p.name for p in cache.iterdir()) == ["2026.pickle"]


@pytest.mark.parametrize("change", ["code", "pydantic"])
def test_load_all_cache_misses_when_the_code_that_parsed_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """A cached Day is an object of the code that made it: after an upgrade of the package
    or of pydantic (its model or validation may differ), every file is parsed again."""
    content, cache = tmp_path / "content", tmp_path / "cache"
    write(tmp_path, VALID)
    store.load_all(content, cache=cache)
    parsed: list[Path] = []
    real_parse = store._parse
    monkeypatch.setattr(store, "_parse", lambda path: parsed.append(path) or real_parse(path))
    store.load_all(content, cache=cache)
    assert parsed == []  # same code: a hit
    if change == "code":
        monkeypatch.setattr(store, "code_digest", lambda: "another version of the package")
    else:
        monkeypatch.setattr(store, "PYDANTIC_VERSION", "99.0")
    store.load_all(content, cache=cache)
    assert [p.name for p in parsed] == ["2026-10-03.yml"]
