"""Real API answers (2024, 2025 and 2026 shapes) through our fetch: golden content files,
golden pages, and no field lost silently.

tests/data/hf-api-captures/ holds verbatim items of five captured days (README there); the
whole capture set in ../shared/data/hf-api-captures/ is checked too when it is present.
Regenerate the goldens with `pytest tests/test_captures.py --update-golden`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from apiserver import FakeApi
from click.testing import CliRunner
from conftest import make_project
from tests_paths import GOLDEN, REPO

from generator import fetch, pages, store
from generator.cli import cli
from generator.config import SiteConfig
from generator.models import Paper

LOCAL = REPO / "tests" / "data" / "hf-api-captures"
SHARED = REPO.parent / "shared" / "data" / "hf-api-captures"
GOLDEN_CAPTURES = GOLDEN / "captures"
DAYS = sorted(p.stem for p in LOCAL.glob("*.json"))

#: Capture field (leaf path, `[]` for list elements) -> the Paper field it reaches.
KEPT: dict[str, str] = {
    "paper.id": "id",
    "title": "title",
    "paper.title": "title",
    "summary": "summary",
    "paper.summary": "summary",
    "paper.authors[].name": "authors",
    "paper.publishedAt": "published",
    "paper.upvotes": "upvotes",
    "numComments": "comments",
    "organization.name": "organization",
    "organization.fullname": "organization",
    "paper.organization.name": "organization",
    "paper.organization.fullname": "organization",
    "submittedBy.name": "submitted_by",
    "paper.submittedOnDailyBy.user": "submitted_by",
    "paper.githubRepo": "github",
    "paper.githubStars": "github_stars",
    "paper.projectPage": "project_page",
    "paper.ai_summary": "ai_summary",
    "paper.ai_summary_model": "ai_summary_model",
    "paper.ai_keywords[]": "keywords",
    "thumbnail": "thumbnail",
    "mediaUrl": "thumbnail",
    "mediaUrls[]": "media",
    "paper.mediaUrls[]": "media",
    "paper.submittedOnDailyAt": "submitted_at",
    "publishedAt": "listed_at",
    "submitterOrganization.name": "submitter_organization",
    "submitterOrganization.fullname": "submitter_organization",
    "isAuthorParticipating": "author_participating",
    "paper.githubRepoAddedBy": "github_added_by",
}

#: Fields whose value must arrive unchanged.
EXACT = {
    "paper.id": "id",
    "paper.upvotes": "upvotes",
    "numComments": "comments",
    "paper.githubStars": "github_stars",
    "paper.githubRepo": "github",
    "paper.projectPage": "project_page",
    "thumbnail": "thumbnail",
    "isAuthorParticipating": "author_participating",
}


def leaves(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every (leaf path, value) of one item; an empty list or object is a leaf."""
    if isinstance(value, dict) and value:
        return [
            leaf for key, v in value.items() for leaf in leaves(v, f"{path}.{key}" if path else key)
        ]
    if isinstance(value, list) and value:
        return [leaf for v in value for leaf in leaves(v, path + "[]")]
    return [(path + "[]" if isinstance(value, list) else path, value)]


def readme_not_kept() -> set[str]:
    """The API fields README's "Which API fields are kept" lists as not kept."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("### Which API fields are kept", 1)[1].split("\n#", 1)[0]
    table = section.split("Not kept, and why:", 1)[1]
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([^`]+)`", row)}


def capture_files() -> list[Path]:
    shared = sorted(SHARED.glob("*.json")) if SHARED.is_dir() else []
    return sorted(LOCAL.glob("*.json")) + shared


def present(value: Any) -> bool:
    return value not in (None, "", [], {})


def test_the_local_captures_have_every_shape() -> None:
    years = {day[:4] for day in DAYS}
    assert years == {"2024", "2025", "2026"}
    fields_2024 = {
        p
        for d in DAYS
        if d.startswith("2024")
        for item in load(LOCAL / f"{d}.json")
        for p, _ in leaves(item)
    }
    assert not any(
        p.startswith(("paper.ai_", "organization")) for p in fields_2024
    )  # the old shape


def load(path: Path) -> list[Any]:
    items = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(items, list)
    return items


@pytest.mark.parametrize(
    "path", capture_files(), ids=lambda p: ("local/" if p.parent == LOCAL else "shared/") + p.stem
)
def test_every_capture_field_is_kept_or_listed_as_not_kept(path: Path) -> None:
    not_kept = readme_not_kept()
    items = load(path)
    parsed, rejected = fetch.parse_items(items, str(path))
    assert not rejected, rejected
    by_id = {p.id: p for p in parsed}
    unknown: set[str] = set()
    lost: list[str] = []
    for n, item in enumerate(items):
        paper: Paper = by_id[item["paper"]["id"]]
        for field, value in leaves(item):
            if field in not_kept:
                continue
            if field not in KEPT:
                unknown.add(field)
                continue
            kept = getattr(paper, KEPT[field])
            if present(value) and kept in (None, "", []):
                lost.append(f"item {n} ({paper.id}): {field}={value!r} did not reach {KEPT[field]}")
            if field in EXACT and value is not None and kept != value:
                lost.append(f"item {n} ({paper.id}): {field}={value!r} became {kept!r}")
    assert not unknown, (
        f"{path.name}: fields neither kept nor in README's not-kept table: {sorted(unknown)}"
    )
    assert not lost, "\n".join(lost)


def test_readme_tables_agree_with_the_code() -> None:
    not_kept = readme_not_kept()
    assert not not_kept & set(KEPT), not_kept & set(KEPT)
    seen = {
        field
        for path in sorted(LOCAL.glob("*.json"))
        for item in load(path)
        for field, _ in leaves(item)
    }
    assert not_kept <= seen, f"README lists fields no capture has: {sorted(not_kept - seen)}"
    assert set(KEPT) <= seen, f"KEPT lists fields no capture has: {sorted(set(KEPT) - seen)}"
    section = (
        (REPO / "README.md")
        .read_text(encoding="utf-8")
        .split("### Which API fields are kept", 1)[1]
    )
    for key in set(KEPT.values()):
        assert f"`{key}`" in section, f"README's kept table does not name the content key {key}"


@pytest.fixture(scope="module")
def fetched(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The five local capture days fetched by `fetch` from the local stand-in API."""
    paths = make_project(tmp_path_factory.mktemp("captures"), content_from=None)
    with FakeApi({day: load(LOCAL / f"{day}.json") for day in DAYS}) as api:
        for day in DAYS:
            result = CliRunner().invoke(
                cli, ["fetch", "--root", str(paths.root), "--api", api.url, "--date", day]
            )
            assert result.exit_code == 0, result.output
    return paths.content


@pytest.mark.parametrize("day", DAYS)
def test_fetched_capture_matches_golden_content(
    day: str, fetched: Path, request: pytest.FixtureRequest
) -> None:
    text = store.day_path(fetched, dt.date.fromisoformat(day)).read_text(encoding="utf-8")
    golden = GOLDEN_CAPTURES / f"{day}.yml"
    if request.config.getoption("--update-golden"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), (
        f"{day} differs from {golden} (--update-golden)"
    )


def render(content: Path) -> dict[str, str]:
    archive = pages.Archive.of(store.load_all(content))
    return pages.PageRenderer(SiteConfig(), REPO / "site_config" / "templates").all_pages(archive)


#: A 2024 day (no AI summary, keywords or organization) and a 2026 paper with every part.
PAGES = ["papers/date/2024-04-02.md", "papers/2608.17253.md"]


@pytest.mark.parametrize("doc", PAGES)
def test_capture_pages_match_golden(
    doc: str, fetched: Path, request: pytest.FixtureRequest
) -> None:
    text = render(fetched)[doc]
    golden = GOLDEN_CAPTURES / (doc.replace("/", "__") + ".golden")
    if request.config.getoption("--update-golden"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), (
        f"{doc} differs from {golden} (--update-golden)"
    )


def test_old_shape_pages_leave_out_what_the_api_did_not_send(fetched: Path) -> None:
    docs = render(fetched)
    old = docs["papers/date/2024-04-02.md"]
    assert "▲" in old or "upvote" in old.lower()
    day = store.load_day(store.day_path(fetched, dt.date(2024, 4, 2)))
    assert all(
        p.ai_summary is None and p.organization is None and not p.keywords for p in day.papers
    )
    for (
        paper
    ) in day.papers:  # a 2024 paper page renders with its abstract and without empty sections
        text = docs[f"papers/{paper.id}.md"]
        assert "None" not in text and "AI-generated summary" not in text
