"""`python -m generator check [--fix]`: every problem in content/ at once, linter-style;
--fix quotes ids from their raw YAML text and rewrites valid files canonically, atomically."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import make_project

from generator import fsutil, store
from generator.cli import cli
from generator.config import Paths

# Hand-edited: unquoted ids (2610.10000 reads as the float 2610.1), keys out of order,
# stray whitespace, a comment.
MESSY = """\
# edited by hand
papers:
  - upvotes: 3
    id: 2610.10000
    title: "  Spaced    title  "
    summary: An abstract.
    authors: [Ada]
    published: 2026-10-01
    comments: 0
  - id: 2610.01092
    title: Second
    summary: Another.
    authors: []
    published: 2026-10-01
    upvotes: 7
    comments: 1
date: 2026-10-03
"""


@pytest.fixture
def project(tmp_path: Path) -> Paths:
    return make_project(tmp_path / "p", content_from=None)


def write(paths: Paths, name: str, text: str) -> Path:
    path = paths.content / name[:4] / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(paths: Paths, *args: str) -> Result:
    return CliRunner(env={"COLUMNS": "500"}).invoke(cli, [*args, "--root", str(paths.root)])


def test_check_reports_every_problem_in_every_file_linter_style(project: Paths) -> None:
    messy_text = MESSY.replace("comments: 1", "comments: -1\n    colour: red")
    messy = write(project, "2026-10-03.yml", messy_text)
    broken_text = "date: 2026-10-04\npapers:\n  - id: '2610.1'\n  title: x: y\n"
    broken = write(project, "2026-10-04.yml", broken_text)
    valid = write(project, "2026-10-05.yml", "date: 2026-10-05\npapers: []\n")
    result = run(project, "check")
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = result.output.splitlines()
    assert lines[0] == "Error: 5 problem(s) in content:"
    quote = (
        "must be a quoted string (an unquoted arXiv id reads as a number; `check --fix` quotes it)"
    )
    assert lines[1:5] == [
        f"{messy}:4: paper 1: field 'id': {quote}",
        f"{messy}:10: paper 2: field 'id': {quote}",
        f"{messy}:16: paper 2: field 'comments': Input should be greater than or equal to 0",
        f"{messy}:17: paper 2: field 'colour': unknown key",
    ]
    assert lines[5].startswith(f"{broken}:4: not valid YAML: ")
    assert str(valid) not in result.output


def test_fix_quotes_ids_from_the_raw_text_and_rewrites_canonically(project: Paths) -> None:
    path = write(project, "2026-10-03.yml", MESSY)
    result = run(project, "check", "--fix")
    assert result.exit_code == 0, result.output
    assert f"fixed {path}:4: quoted the id 2610.10000" in result.output
    assert f"fixed {path}:10: quoted the id 2610.01092" in result.output
    assert "canonical form" in result.output
    day = store.load_day(path)
    assert [p.id for p in day.papers] == ["2610.10000", "2610.01092"]  # not 2610.1
    assert day.papers[0].title == "Spaced title"
    assert path.read_text(encoding="utf-8") == store.dump_day(day)
    assert not [p for p in path.parent.iterdir() if fsutil.TMP_MARK in p.name]
    os.utime(path, (1_000_000, 1_000_000))
    again = run(project, "check", "--fix")
    assert again.exit_code == 0 and "fixed" not in again.output and "1 day file(s)" in again.output
    assert path.stat().st_mtime == 1_000_000  # nothing left to fix: not rewritten


def test_fix_quotes_ids_even_when_other_problems_remain(project: Paths) -> None:
    text = MESSY.replace("upvotes: 7", "upvotes: seven")
    path = write(project, "2026-10-03.yml", text)
    result = run(project, "check", "--fix")
    assert result.exit_code == 1
    assert "quoted the id 2610.10000" in result.output and "canonical" not in result.output
    assert "1 problem(s)" in result.output
    assert f"{path}:15: paper 2 (id '2610.01092'): field 'upvotes'" in result.output
    # only the two ids changed; the comment and the rest of the hand-edited text are kept
    assert path.read_text(encoding="utf-8") == text.replace("2610.10000", "'2610.10000'").replace(
        "id: 2610.01092", "id: '2610.01092'"
    )


def test_fix_writes_atomically_a_failed_write_changes_nothing(
    project: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(project, "2026-10-03.yml", MESSY)

    def no_space(src: object, dst: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(fsutil.os, "replace", no_space)
    result = run(project, "check", "--fix")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{path}: cannot write: No space left on device" in result.output
    assert path.read_text(encoding="utf-8") == MESSY
    assert not [p for p in path.parent.iterdir() if fsutil.TMP_MARK in p.name]


def test_build_validates_first_with_the_same_report_and_writes_nothing(project: Paths) -> None:
    write(project, "2026-10-03.yml", MESSY)
    checked, built = run(project, "check"), run(project, "build")
    assert checked.exit_code == built.exit_code == 1
    assert "2 problem(s) in content" in built.output
    assert checked.output.splitlines()[1:] == built.output.splitlines()[-2:]
    assert not project.site.exists() and not project.docs.exists()
    assert not list(project.root.glob(".site-*"))
