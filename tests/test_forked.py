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
    with (
        Forked("fails", fails, tmp_path / "x") as job,
        pytest.raises(FileNotFoundError, match="no such file"),
    ):
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
    """A killed build's forked steps must not go on writing its caches beside the next one.
    No timing: the step reports its pid and then waits for a file that the test writes only
    once that pid is gone; a step that outlived the build would then write `late`."""
    import subprocess
    import sys

    started, go_on, late = tmp_path / "started", tmp_path / "go-on", tmp_path / "late"
    script = f"""
import os, time
from pathlib import Path
from generator.forked import Forked

def slow(started, go_on, late):
    Path(started).write_text(str(os.getpid()))
    deadline = time.monotonic() + 60
    while not Path(go_on).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    Path(late).write_text("too late")

job = Forked("slow", slow, {str(started)!r}, {str(go_on)!r}, {str(late)!r})
while not Path({str(started)!r}).exists():
    time.sleep(0.01)
os._exit(9)  # the build dies (as when killed): no __exit__, no clean-up
"""
    subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        timeout=60,
        cwd=Path(__file__).resolve().parents[1],
    )
    child = int(started.read_text())
    assert until(lambda: not alive(child), seconds=30), f"step {child} outlived its build"
    go_on.touch()
    assert not late.exists()


def until(condition, seconds: float) -> bool:  # noqa: ANN001
    """Poll `condition` until it holds (True) or `seconds` pass (False)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (a dead child not yet reaped)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def niceness() -> int:
    return os.nice(0)


def test_a_step_runs_at_its_niceness() -> None:
    here = os.nice(0)
    with Forked("background", niceness) as job:
        assert job.result() == min(here + NICE, 19)
    with Forked("soon-waited-on", niceness, nice=0) as job:
        assert job.result() == here
