"""bench/history_sim.py: the simulated upvote history of a benchmark archive is valid
history (generator/history.py reads it with no problem) and settles on the stored counts."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tests_paths import REPO

from generator import history, store

sys.path.insert(0, str(REPO / "bench"))
import history_sim  # noqa: E402


def test_simulated_history_is_valid_and_ends_at_the_stored_counts(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(REPO / "content", content, ignore=shutil.ignore_patterns("history"))
    days = store.load_all(content)
    points = history_sim.write(content, days)
    assert history.check(content) == []
    stored = history.load(content)
    assert (
        sum(len(p) for p in stored.values())
        == points
        == history_sim.disk_bytes(content)["history_points"]
    )
    latest = {pid: p[-1] for pid, p in stored.items()}
    final = {p.id: p.upvotes for day in days for p in day.papers}  # a later listing wins
    settled = {p.id for day in days[:-14] for p in day.papers}  # past their refresh window
    assert settled and all(latest[pid].up == final[pid] for pid in settled)
    for points_of in stored.values():  # counts only rise as they settle
        ups = [p.up for p in points_of]
        assert ups == sorted(ups)


def test_a_new_day_adds_one_line_after_the_last(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(REPO / "content", content, ignore=shutil.ignore_patterns("history"))
    days = store.load_all(content)
    history_sim.write(content, days[:-1])
    before = history_sim.disk_bytes(content)["history_points"]
    assert history_sim.add_run(content, days[-1]) == len(days[-1].papers)
    assert history.check(content) == []
    assert history_sim.disk_bytes(content)["history_points"] == before + len(days[-1].papers)
