"""Pages stay the same size when the archive grows 10x: nothing lists the whole archive
except the index pages (archive calendar, topic and organization indexes)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import REPO, build_project, make_project

sys.path.insert(0, str(REPO / "bench"))
import synth  # noqa: E402

pytestmark = pytest.mark.slow


def built(tmp_path: Path, days: int) -> Path:
    paths = make_project(tmp_path / f"d{days}", content_from=None)
    synth.generate(paths.content, days, per_day=8)
    build_project(paths)
    return paths.site


def test_day_paper_and_week_pages_do_not_grow_with_the_archive(tmp_path: Path) -> None:
    small, large = built(tmp_path, 5), built(tmp_path, 50)
    first_day = "papers/date/2023-05-04/index.html"  # synth's first day, in both archives
    first_paper = "papers/2305.00000/index.html"
    first_week = "papers/week/2023-W18/index.html"
    for page in (first_day, first_paper, first_week):
        a, b = (small / page).stat().st_size, (large / page).stat().st_size
        assert b <= a * 1.1, (page, a, b)  # 10x the archive, the same page within 10%
    # the index pages do grow: the comparison above can fail
    archive = "archive/index.html"
    assert (large / archive).stat().st_size > 1.5 * (small / archive).stat().st_size
