"""The daily publish in CI is incremental: publish.yml restores build/ from the last run's
Actions cache (without a second copy of the site), and a build from a fresh clone with that
cache plus one new day gives exactly the site a full build of the same content gives."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from conftest import REPO, build_project, make_project
from test_workflows import load

from generator import store
from generator.config import Paths


def _build_job_steps() -> list[dict]:
    return load("publish.yml")["jobs"]["build"]["steps"]


def _cache_step(action: str) -> dict:
    (step,) = [s for s in _build_job_steps() if s.get("uses", "").startswith(f"{action}@")]
    return step


def cache_paths() -> tuple[list[str], list[str]]:
    """(included, excluded) paths of the build cache, as publish.yml lists them."""
    lines = [ln.strip() for ln in _cache_step("actions/cache/restore")["with"]["path"].splitlines()]
    lines = [ln for ln in lines if ln]
    return [ln for ln in lines if not ln.startswith("!")], [ln[1:] for ln in lines if ln[0] == "!"]


def test_publish_restores_the_build_cache_before_the_build_and_saves_it_after() -> None:
    steps = _build_job_steps()
    restore, save = _cache_step("actions/cache/restore"), _cache_step("actions/cache/save")
    build = next(s for s in steps if s.get("run", "").strip() == "make site")
    assert steps.index(restore) < steps.index(build) < steps.index(save)
    assert restore["with"]["path"] == save["with"]["path"]
    assert restore["with"]["key"] == save["with"]["key"]
    key, prefix = restore["with"]["key"], restore["with"]["restore-keys"]
    assert key.startswith(prefix) and "github.run_id" in key  # a new key each run
    included, excluded = cache_paths()
    assert included == ["build"]
    # No second copy of the site: the site before (build/site-previous/) and its record stay
    # out, and site/ is never in it.
    assert set(excluded) == {"build/site-previous", "build/site-records.pickle"}
    assert "site" not in included


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.org",
            "-c",
            "init.defaultBranch=main",
            *args,
        ],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def _clone(origin: Path, to: Path) -> Paths:
    subprocess.run(["git", "clone", "-q", str(origin), str(to)], check=True, capture_output=True)
    return Paths(to)


def _save_cache(project: Paths, cache: Path) -> int:
    """What actions/cache/save keeps of `project`: publish.yml's paths; its bytes."""
    included, excluded = cache_paths()
    for rel in included:
        shutil.copytree(project.root / rel, cache / rel, symlinks=True)
    for rel in excluded:
        target = cache / rel
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    return sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())


def _files(site: Path) -> list[str]:
    return sorted(str(p.relative_to(site)) for p in site.rglob("*") if p.is_file())


@pytest.mark.slow
def test_fresh_clone_with_the_restored_cache_and_a_new_day_equals_a_full_build(
    tmp_path: Path,
) -> None:
    days = store.day_files(REPO / "content")
    new_day = days[-1]
    origin = make_project(tmp_path / "origin")
    (origin.content / new_day.relative_to(REPO / "content")).unlink()
    _git("init", "-q", cwd=origin.root)
    _git("add", "-A", cwd=origin.root)
    _git("commit", "-q", "-m", "the days before", cwd=origin.root)

    # Yesterday's run: a fresh clone, a full build, its cache saved.
    yesterday = _clone(origin.root, tmp_path / "run1")
    build_project(yesterday)
    cache = tmp_path / "cache"
    cache_bytes = _save_cache(yesterday, cache)
    assert not (cache / "build" / "site-previous").exists()

    # Today: a fetch committed one new day; a fresh clone with the restored cache builds.
    shutil.copy(new_day, origin.content / new_day.relative_to(REPO / "content"))
    _git("add", "-A", cwd=origin.root)
    _git("commit", "-q", "-m", "content: one new day", cwd=origin.root)
    today = _clone(origin.root, tmp_path / "run2")
    shutil.copytree(cache / "build", today.build, symlinks=True)
    start = time.perf_counter()
    report = build_project(today)
    seconds = time.perf_counter() - start
    assert report.days == len(days)
    # Incremental: the new day's papers, its day, week and month pages, the topic, organization
    # and index pages it enters (119 here), not the 1,390 pages of the site.
    assert 0 < report.pages_rendered < 200 and report.pages_cached > 1000

    # The same content built from scratch.
    full = _clone(origin.root, tmp_path / "run3")
    assert build_project(full).pages_cached == 0
    files = _files(today.site)
    assert files == _files(full.site)
    differing = [f for f in files if not filecmp.cmp(today.site / f, full.site / f, shallow=False)]
    assert differing == []
    print(
        f"\nbuild cache: {cache_bytes / 2**20:.1f} MB in "
        f"{sum(1 for p in cache.rglob('*') if p.is_file()):,} files; "
        f"fresh clone + cache + 1 day: {seconds:.1f} s; {os.cpu_count()} CPUs"
    )
