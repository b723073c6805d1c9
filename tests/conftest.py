"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml
from apiserver import FakeApi


@pytest.fixture
def api_server() -> Iterator[FakeApi]:
    """A running local stand-in for the Daily Papers API with no days; fill `.days`."""
    with FakeApi() as api:
        yield api


# ---------------------------------------------------------------- projects and built sites

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

from generator.config import Paths, load_config  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def make_project(
    root: Path, content_from: Path | None = REPO / "content", settings: dict | None = None
) -> Paths:
    """A throwaway project: the repo's mkdocs.yml and site_config/, and a copy of content;
    `settings` (if any) replace site_config/site.yml."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(REPO / "site_config", root / "site_config")
    if content_from is not None:
        shutil.copytree(content_from, root / "content", ignore=shutil.ignore_patterns(".*"))
    else:
        (root / "content").mkdir()
    paths = Paths(root)
    if settings is not None:
        paths.config_file.write_text(yaml.safe_dump(settings))
    return paths


def build_project(paths: Paths):  # noqa: ANN201
    from generator.build import build

    return build(paths, load_config(paths))


@pytest.fixture(scope="session")
def embedded_site(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """The embedded content/ built once per test session (per xdist worker)."""
    paths = make_project(tmp_path_factory.mktemp("embedded"))
    build_project(paths)
    return paths


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/*.golden")


@pytest.fixture(scope="session")
def rich_site(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """The embedded days with upvotes, keywords and organizations (tests/richcontent.py),
    an upvote history of the newest days' papers and an empty stored day (a Saturday),
    built once per test session (per xdist worker)."""
    import datetime as dt

    from richcontent import add_history, enrich

    from generator import store
    from generator.models import Day

    paths = make_project(
        tmp_path_factory.mktemp("rich"), content_from=None, settings={"export": {"papers": True}}
    )
    enrich(REPO / "content", paths.content)
    add_history(paths.content)
    store.save_day(paths.content, Day(date=dt.date(2026, 5, 30), papers=[]))
    build_project(paths)
    return paths
