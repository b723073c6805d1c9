"""Fuzzing the commands with hostile content and settings (issue 24).

Hypothesis writes day files (YAML features: anchors and aliases, tags, flow and block
style, duplicate keys, odd scalars; dates; file names and folders) and site.yml files,
then runs the real commands in-process (click's CliRunner on generator.cli.cli). Every
example must end with exit 0 or 1, never a traceback, within its deadline, and a failed
command must leave the stored files as they were.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from conftest import make_project
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from generator.cli import cli
from generator.config import Paths
from generator.store import LOCK_NAME

FUZZ = settings(
    deadline=10_000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# ---------------------------------------------------------------- strategies

text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
scalars = st.one_of(
    text,
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.dates(),
    st.datetimes(),
    st.sampled_from(
        [
            "2610.01092",
            "２６１０.０１０９２",
            "https://x.org/\n",
            "\x00",
            "\ufeff",
            "9999-12-31",
            "0999-01-01",
            "2026-13-45",
            "",
            " ",
            "\t",
            "\u2028",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(text, kids, max_size=3),
    max_leaves=8,
)
FIELDS = [
    "id",
    "title",
    "summary",
    "authors",
    "published",
    "upvotes",
    "comments",
    "organization",
    "submitted_by",
    "github",
    "github_stars",
    "project_page",
    "ai_summary",
    "keywords",
    "thumbnail",
    "extra",
]


def good_paper(i: int) -> dict:
    return {
        "id": f"2610.{i:05d}",
        "title": f"Paper {i}",
        "summary": "An abstract.",
        "authors": ["Ada"],
        "published": dt.date(2026, 10, 1),
        "upvotes": i,
        "comments": 0,
    }


@st.composite
def day_documents(draw: st.DrawFn) -> tuple[str, str]:
    """(relative path under content/, file text); about half are valid."""
    if draw(st.booleans()):
        day = draw(st.dates(dt.date(2000, 1, 1), dt.date(2100, 12, 31)))
        papers = [good_paper(i) for i in range(draw(st.integers(0, 3)))]
        return f"{day:%Y}/{day}.yml", yaml.safe_dump(
            {"date": day, "papers": papers}, allow_unicode=True
        )
    sane = st.dates(dt.date(2000, 1, 1), dt.date(2100, 12, 31))
    date = draw(
        st.one_of(
            sane,
            sane,
            sane,
            st.dates(),
            st.sampled_from(
                ["2026-10-03", "9999-12-31", "0999-01-01", "2026-13-45", "2026-02-30", "٢٠٢٦-١٠-٠٣"]
            ),
        )
    )
    papers = [good_paper(i) for i in range(draw(st.integers(0, 3)))]
    for paper in papers:
        for key in (
            draw(st.lists(st.sampled_from(FIELDS), max_size=3)) if draw(st.booleans()) else []
        ):
            paper[key] = draw(values)
    doc = {"date": date, "papers": papers}
    date = str(date)
    if draw(st.integers(0, 3)) == 0:
        doc[draw(text)] = draw(values)
    body = yaml.safe_dump(
        doc,
        allow_unicode=draw(st.booleans()),
        default_flow_style=draw(st.sampled_from([None, True, False])),
    )
    feature = draw(
        st.sampled_from(
            [""] * 8
            + ["alias", "bomb", "dup", "tag", "tab", "bom", "crlf", "cut", "null", "recursive"]
        )
    )
    if feature == "alias":
        body = "x: &a [1, 2]\n" + body + "y: *a\n"
    elif feature == "bomb":
        body = "s: &s " + "z" * 5000 + "\nl: [" + ", ".join(["*s"] * 200) + "]\n" + body
    elif feature == "dup":
        body = body + "date: 2026-10-04\n"
    elif feature == "tag":
        body = body + draw(
            st.sampled_from(
                [
                    "t: !!python/object:os.system x\n",
                    "t: !!binary aGk=\n",
                    "t: !!set {a}\n",
                    "t: !custom x\n",
                    "t: !!timestamp 0000-01-01\n",
                ]
            )
        )
    elif feature == "tab":
        body = body.replace("  ", "\t", 1)
    elif feature == "bom":
        body = "\ufeff" + body
    elif feature == "crlf":
        body = body.replace("\n", "\r\n")
    elif feature == "cut":
        body = body[: draw(st.integers(0, len(body)))]
    elif feature == "null":
        body = "papers: null\ndate: 2026-10-03\n"
    elif feature == "recursive":
        body = body + "r: &r [*r]\n"
    name = draw(st.sampled_from([f"{date}.yml"] * 6 + [f"{date}.yaml", "notes.txt", f"{date}.YML"]))
    folder = draw(st.sampled_from([date[:4]] * 6 + ["2025", "", "misc"]))
    return (f"{folder}/{name}" if folder else name), body


SETTING_KEYS = [
    "title",
    "description",
    "site_url",
    "api",
    "language",
    "fetch",
    "feeds",
    "pages",
    "digest",
    "feeds.items",
    "pages.trending_days",
    "digest.top",
    "digest.subject",
    "digest.from_address",
    "digest.smtp_port",
    "unknown",
]


@st.composite
def site_documents(draw: st.DrawFn) -> bytes:
    data: dict = {}
    for key in draw(st.lists(st.sampled_from(SETTING_KEYS), max_size=4)):
        section, _, field = key.partition(".")
        value = draw(values)
        if field:
            if not isinstance(data.get(section), dict):
                data[section] = {}
            data[section][field] = value
        else:
            data[section] = value
    raw = yaml.safe_dump(data, allow_unicode=True).encode()
    mutation = draw(st.sampled_from(["", "latin1", "dup", "cut", "bom", "binary"]))
    if mutation == "latin1":
        raw = "title: Café\n".encode("latin-1") + raw
    elif mutation == "dup":
        raw = raw + b"title: again\ntitle: twice\n"
    elif mutation == "cut":
        raw = raw[: draw(st.integers(0, len(raw)))]
    elif mutation == "bom":
        raw = b"\xef\xbb\xbf" + raw
    elif mutation == "binary":
        raw = draw(st.binary(max_size=40))
    return raw


# ---------------------------------------------------------------- helpers


def run(paths: Paths, *args: str) -> Result:
    return CliRunner(env={"COLUMNS": "500"}).invoke(cli, [*args, "--root", str(paths.root)])


def assert_clean_exit(result: Result) -> None:
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception),
        result.output,
    )
    assert "Traceback" not in result.output


def stored(paths: Paths) -> dict[str, bytes]:
    return {
        str(p.relative_to(paths.root)): p.read_bytes()
        for base in (paths.content, paths.config_file.parent)
        for p in sorted(base.rglob("*"))
        if p.is_file() and p.name != LOCK_NAME
    }


def reset(paths: Paths, files: dict[str, str]) -> None:
    shutil.rmtree(paths.content)
    paths.content.mkdir()
    for rel, body in files.items():
        path = paths.content / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8", newline="")


@pytest.fixture(scope="module")
def fuzz_project(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    return make_project(tmp_path_factory.mktemp("fuzz") / "p", content_from=None)


# ---------------------------------------------------------------- the fuzz tests


@settings(FUZZ, max_examples=300)
@given(st.lists(day_documents(), min_size=1, max_size=2))
def test_check_never_crashes_on_any_content(
    fuzz_project: Paths, docs: list[tuple[str, str]]
) -> None:
    reset(fuzz_project, dict(docs))
    before = stored(fuzz_project)
    result = run(fuzz_project, "check")
    assert_clean_exit(result)
    event(f"check exit {result.exit_code}")
    assert stored(fuzz_project) == before
    if result.exit_code == 0:  # complete: every file written is a day read, none ignored
        assert result.output.startswith(f"{len(dict(docs))} day file(s)"), result.output
    for args in (["digest"], ["digest", "--date", "2026-10-03"]):
        assert_clean_exit(run(fuzz_project, *args))
        assert stored(fuzz_project) == before
    fixed = run(fuzz_project, "check", "--fix")
    assert_clean_exit(fixed)


@settings(FUZZ, max_examples=200)
@given(site_documents())
def test_every_command_reads_any_site_yml_cleanly(fuzz_project: Paths, raw: bytes) -> None:
    reset(
        fuzz_project,
        {
            "2026/2026-10-03.yml": yaml.safe_dump(
                {"date": dt.date(2026, 10, 3), "papers": [good_paper(1)]}
            )
        },
    )
    fuzz_project.config_file.write_bytes(raw)
    before = stored(fuzz_project)
    for command in ("check", "digest"):
        result = run(fuzz_project, command)
        assert_clean_exit(result)
        event(f"{command} exit {result.exit_code}")
        assert stored(fuzz_project) == before


@settings(FUZZ, max_examples=6, deadline=120_000)
@given(st.lists(day_documents(), min_size=1, max_size=2))
def test_build_never_crashes_on_any_content(tmp_path: Path, docs: list[tuple[str, str]]) -> None:
    paths = Paths(tmp_path / "b")
    if not paths.root.exists():
        make_project(paths.root, content_from=None)
    reset(paths, dict(docs))
    before = stored(paths)
    result = run(paths, "build")
    assert_clean_exit(result)
    event(f"build exit {result.exit_code}")
    if result.exit_code:
        assert stored(paths) == before
