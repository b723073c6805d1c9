"""forked.Forked: a build step in a forked child, with the parent as the fallback."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from generator.forked import NICE, Forked

PARENT = os.getpid()


def double(x: int) -> int:
    return 2 * x


def dies_in_the_child(x: int) -> int:
    if os.getpid() != PARENT:
        os._exit(3)  # killed, say: no answer
    return 2 * x


def fails(path: Path) -> None:
    raise FileNotFoundError(f"{path}: no such file")


def answers_then_goes_on(go_on: Path, done: Path, *, deliver) -> str:
    deliver("answer")
    deadline = time.monotonic() + 30
    while not go_on.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    done.write_text("caches written")
    return "answer"


def sleeps() -> None:
    time.sleep(60)


def test_the_child_answers() -> None:
    with Forked("double", double, 21) as job:
        assert job.result() == 42


def test_a_child_that_dies_without_answering_is_run_here() -> None:
    with Forked("double", dies_in_the_child, 21) as job:
        assert job.result() == 42


def test_a_failing_step_raises_its_own_error_here(tmp_path: Path) -> None:
    with Forked("fails", fails, tmp_path / "x") as job, pytest.raises(FileNotFoundError,
                                                                       match="no such file"):
        job.result()


def test_an_early_answer_arrives_before_the_child_ends_and_leaving_waits_for_it(
    tmp_path: Path,
) -> None:
    go_on, done = tmp_path / "go-on", tmp_path / "done"
    with Forked("early", answers_then_goes_on, go_on, done, early=True) as job:
        assert job.result() == "answer"
        assert not done.exists()  # the child still waits for go_on
        go_on.touch()
    assert done.read_text() == "caches written"


def test_leaving_without_the_result_ends_the_child() -> None:
    start = time.monotonic()
    with Forked("sleeps", sleeps) as job:
        child = job._child
    assert not child.is_alive()
    assert time.monotonic() - start < 10


def test_fork_false_runs_the_step_here_and_now(tmp_path: Path) -> None:
    go_on, done = tmp_path / "go-on", tmp_path / "done"
    go_on.touch()
    with Forked("early", answers_then_goes_on, go_on, done, fork=False, early=True) as job:
        assert done.exists()
        assert job.result() == "answer"


def test_a_step_dies_with_the_build_that_forked_it(tmp_path: Path) -> None:
    """A killed build's forked steps must not go on writing its caches beside the next one."""
    import subprocess
    import sys

    late = tmp_path / "written-after-the-build-died"
    script = f"""
import os, time
from pathlib import Path
from generator.forked import NICE, Forked

def slow(path):
    time.sleep(1.5)
    Path(path).write_text("too late")

job = Forked("slow", slow, {str(late)!r})
time.sleep(0.3)  # the child is running
os._exit(9)  # the build dies (as when killed): no __exit__, no clean-up
"""
    subprocess.run([sys.executable, "-c", script], check=False, timeout=30,
                   cwd=Path(__file__).resolve().parents[1])
    time.sleep(2.5)
    assert not late.exists()


def niceness() -> int:
    return os.nice(0)


def test_a_step_runs_at_its_niceness() -> None:
    here = os.nice(0)
    with Forked("background", niceness) as job:
        assert job.result() == min(here + NICE, 19)
    with Forked("soon-waited-on", niceness, nice=0) as job:
        assert job.result() == here
