"""Issue 24: content and configuration are strict and complete, and no input gives a
traceback. Each test fails without its fix (see SECURITY.md, "Limits on content and
configuration")."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import make_project
from hypothesis import given, settings
from hypothesis import strategies as st

from generator import groups, store
from generator.cli import cli
from generator.config import Paths
from generator.models import MAX_COUNT, Day, Organization, Paper, clean_text

PAPER = """\
  - id: "{id}"
    title: "{title}"
    summary: "An abstract."
    authors: ["Ada Lovelace"]
    published: {published}
    upvotes: {upvotes}
    comments: 0
{extra}"""


def day_text(
    date: str = "2026-10-03",
    *,
    id: str = "2610.01092",
    title: str = "A title",
    published: str = "2026-10-01",
    upvotes: str = "3",
    extra: str = "",
) -> str:
    return f"date: {date}\npapers:\n" + PAPER.format(
        id=id, title=title, published=published, upvotes=upvotes, extra=extra
    )


@pytest.fixture
def project(tmp_path: Path) -> Paths:
    return make_project(tmp_path / "p", content_from=None)


def write(paths: Paths, rel: str, text: str | bytes) -> Path:
    path = paths.content / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def run(paths: Paths | Path, *args: str) -> Result:
    root = paths.root if isinstance(paths, Paths) else paths
    return CliRunner(env={"COLUMNS": "500"}).invoke(cli, [*args, "--root", str(root)])


def no_traceback(result: Result) -> None:
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )


def fails(result: Result, *words: str) -> None:
    no_traceback(result)
    assert result.exit_code == 1, result.output
    for word in words:
        assert word in result.output, (word, result.output)


def snapshot(root: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
        if p.name != store.LOCK_NAME
    }


# ---------------------------------------------------------------- ids, counts, URLs


@pytest.mark.parametrize("pid", ["２４０１.００００１", "٢٤٠١.٠٠٠٠١", "2401.0000١", "2401.00001\n"])
def test_ids_must_be_ascii_digits(project: Paths, pid: str) -> None:
    write(project, "2026/2026-10-03.yml", day_text(id=pid.replace("\n", "\\n")))
    fails(run(project, "check"), "2026-10-03.yml:3", "field 'id'")


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (str(MAX_COUNT), True),
        (str(MAX_COUNT + 1), False),
        ("-1", False),
        (".nan", False),
        (".inf", False),
        ("true", False),
        ("3.0", False),
        ("'3'", False),
    ],
)
def test_counts_are_integers_up_to_2_53_minus_1(project: Paths, value: str, ok: bool) -> None:
    write(project, "2026/2026-10-03.yml", day_text(upvotes=value))
    result = run(project, "check")
    no_traceback(result)
    assert result.exit_code == (0 if ok else 1), result.output
    if not ok:
        assert "field 'upvotes'" in result.output


@pytest.mark.parametrize("field", ["github_stars: 9007199254740992", "comments: 9007199254740992"])
def test_stars_and_comments_are_bounded_too(field: str) -> None:
    key, value = field.split(": ")
    base = dict(
        id="2401.00001",
        title="t",
        summary="s",
        authors=[],
        published=dt.date(2024, 1, 1),
        upvotes=1,
        comments=0,
    )
    with pytest.raises(ValueError, match="less than or equal"):
        Paper(**{**base, key: int(value)})


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/a/b\\n",
        "https://github.com/a\\tb",
        "https://github.com/a\\x01b",
        "https://github.com/a\\x85b",
        "https://github.com/a\\u2003b",
    ],
)
def test_urls_with_whitespace_or_controls_are_rejected(project: Paths, url: str) -> None:
    write(project, "2026/2026-10-03.yml", day_text(extra=f'    github: "{url}"\n'))
    fails(run(project, "check"), "field 'github'", "http(s) URL")


def test_a_title_of_only_control_characters_is_an_error(project: Paths) -> None:
    write(project, "2026/2026-10-03.yml", day_text(title="\\x01\\x02\\x7f"))
    fails(run(project, "check"), "field 'title'")


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize("date", ["9999-12-31", "0999-01-01", "1999-12-31", "2101-01-01"])
def test_featured_days_outside_2000_2100_are_errors(project: Paths, date: str) -> None:
    write(project, f"{date[:4]}/{date}.yml", day_text(date=date))
    fails(run(project, "check"), date, "outside 2000-2100")
    with pytest.raises(ValueError, match="outside"):
        Day(date=dt.date.fromisoformat(date), papers=[])


@pytest.mark.parametrize("date", ["9999-12-31", "0999-01-01"])
def test_build_of_a_day_at_a_year_edge_fails_cleanly(project: Paths, date: str) -> None:
    write(project, f"{date[:4]}/{date}.yml", day_text(date=date))
    before = snapshot(project.content)
    fails(run(project, "build"), "outside")
    assert snapshot(project.content) == before


def test_a_date_inside_the_file_outside_the_window_names_the_line(project: Paths) -> None:
    write(project, "2026/2026-10-03.yml", day_text(published="0999-01-01"))
    fails(run(project, "check"), "2026-10-03.yml:7", "field 'published'", "outside 1991-2100")


def test_a_date_as_a_string_or_a_timestamp_is_an_error(project: Paths) -> None:
    write(project, "2026/2026-10-03.yml", day_text(published="'2026-10-01'"))
    write(project, "2026/2026-10-04.yml", day_text(date="2026-10-04 12:00:00"))
    write(project, "2026/2026-10-05.yml", day_text(date="2026-10-05", published="0000-01-01"))
    fails(run(project, "check"), "field 'published'", "2026-10-04.yml", "2026-10-05.yml")


def test_digest_with_an_impossible_file_name_fails_cleanly(project: Paths) -> None:
    write(project, "2026/2026-10-03.yml", day_text())
    write(project, "2026/2026-13-45.yml", day_text())
    fails(run(project, "digest"), "2026-13-45.yml", "not a real date")
    fails(run(project, "check"), "2026-13-45.yml", "not a real date")


def test_digest_date_beyond_the_window_fails_cleanly(project: Paths) -> None:
    fails(run(project, "digest", "--date", "9999-12-31"), "--date 9999-12-31", "outside")


# ---------------------------------------------------------------- layout of content/


def test_the_same_day_in_two_year_folders_is_an_error(project: Paths) -> None:
    write(project, "2026/2026-10-03.yml", day_text())
    write(project, "2025/2026-10-03.yml", day_text(id="2610.00002"))
    result = run(project, "check")
    fails(result, "2025/2026-10-03.yml", "wrong year folder", "two files")
    fails(run(project, "check", "--fix"), "two files")  # --fix cannot choose: both stay
    assert (project.content / "2025/2026-10-03.yml").exists()
    write(project, "2026-10-03.yml", day_text())
    fails(run(project, "check", "--fix"), "content/2026-10-03.yml", "two files")
    assert (project.content / "2026-10-03.yml").exists()


@pytest.mark.parametrize(
    ("rel", "words"),
    [
        ("2026/2026-10-03.yaml", ["2026-10-03.yaml:", "use .yml"]),
        ("2026/2026-10-03.YML", ["2026-10-03.YML:", "not a day file name"]),
        ("2026/notes.txt", ["notes.txt:", "not a day file name"]),
        ("2026-10-03.yml", ["content/2026-10-03.yml:", "not in a year folder"]),
        ("README.md", ["README.md:", "not in a year folder"]),
        ("misc/2026-10-03.yml", ["content/misc:", "not a year folder"]),
        ("２０２６/2026-10-03.yml", ["content/２０２６:", "not a year folder"]),
        ("2026/sub/2026-10-03.yml", ["2026/sub:", "a folder inside a year folder"]),
        ("2026/2026-02-30.yml", ["2026-02-30.yml:", "not a real date"]),
        ("2026/2026-10-03.yml~", ["2026-10-03.yml~:", "not a day file name"]),
    ],
)
def test_misplaced_or_misnamed_files_are_errors(project: Paths, rel: str, words: list[str]) -> None:
    write(project, rel, day_text())
    fails(run(project, "check"), *words)
    fails(run(project, "build"), *words)


def test_hidden_temp_and_lock_files_stay_ignored(project: Paths) -> None:
    write(project, "2026/2026-10-03.yml", day_text())
    write(project, ".dailypapers-content.lock", "")
    write(project, "2026/.2026-10-03.yml.tmp-1234", "junk: [")
    write(project, "2026/.2026-10-03.yml.swp", b"\xff\xfe")
    write(project, ".git/config", "x")
    result = run(project, "check")
    assert result.exit_code == 0, result.output


def test_fix_moves_a_misplaced_day_where_it_belongs(project: Paths) -> None:
    write(project, "2025/2026-10-03.yml", day_text())
    write(project, "2026-10-04.yml", day_text(date="2026-10-04"))
    fails(run(project, "check"), "`check --fix` moves it")
    result = run(project, "check", "--fix")
    assert result.exit_code == 0, result.output
    assert "moved to" in result.output
    assert (project.content / "2026/2026-10-03.yml").exists()
    assert (project.content / "2026/2026-10-04.yml").exists()
    assert not (project.content / "2025/2026-10-03.yml").exists()


def test_a_symlink_under_content_is_an_error(project: Paths, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yml"
    outside.write_text(day_text())
    (project.content / "2026").mkdir()
    os.symlink(outside, project.content / "2026" / "2026-10-03.yml")
    os.symlink("/dev/zero", project.content / "2026" / "2026-10-04.yml")
    fails(run(project, "check"), "symbolic link")


def test_a_fifo_under_content_is_an_error_not_a_hang(project: Paths) -> None:
    (project.content / "2026").mkdir()
    os.mkfifo(project.content / "2026" / "2026-10-03.yml")
    fails(run(project, "check"), "not a regular file")


# ---------------------------------------------------------------- YAML


def test_duplicate_keys_are_errors_naming_the_line(project: Paths) -> None:
    write(project, "2026/2026-10-03.yml", day_text(extra="    upvotes: 99\n"))
    fails(run(project, "check"), "2026-10-03.yml:10", "duplicate key 'upvotes'", "first on line 8")


def test_merge_keys_are_not_duplicates() -> None:
    assert store.load_yaml(Path("x"), "a: &a {k: 1}\nb:\n  <<: *a\n  k: 2\n")["b"] == {"k": 2}


def test_an_alias_bomb_fails_fast_with_a_clear_message(project: Paths) -> None:
    big = "x" * 200_000
    text = day_text(title="t").replace('summary: "An abstract."', f"summary: &s {big}")
    text = text.replace('authors: ["Ada Lovelace"]', "authors: [" + ", ".join(["*s"] * 1000) + "]")
    write(project, "2026/2026-10-03.yml", text)
    fails(run(project, "check"), "more than 100 aliases")


def test_nested_aliases_past_the_expanded_size_fail(project: Paths) -> None:
    lines = ["a0: &a0 [" + ", ".join(["xxxxxxxxxx"] * 10) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    write(project, "2026/2026-10-03.yml", "\n".join(lines) + "\n")
    fails(run(project, "check"), "aliases expanded")


def test_a_recursive_alias_is_an_error() -> None:
    with pytest.raises(store.ContentError, match="recursive"):
        store.load_yaml(Path("x"), "a: &a [*a]\n")


def test_a_file_beyond_the_size_limit_is_an_error(project: Paths) -> None:
    text = day_text() + "# " + "x" * store.MAX_FILE_BYTES + "\n"
    write(project, "2026/2026-10-03.yml", text)
    fails(run(project, "check"), "larger than 8 MB")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (b"", ["must be a mapping"]),
        (b"date: 2026-10-03\npapers: null\n", ["field 'papers'"]),
        (b"date: 2026-10-03\npapers:\n\t- id: x\n", ["not valid YAML"]),
        (b"date: 2026-10-03\npapers: !!python/object:os.system x\n", ["not valid YAML"]),
        (b"date: 2026-10-03\npapers: []\nx: !!binary aGk=\n", ["unknown key"]),
        (b"date: 0000-01-01\npapers: []\n", ["not valid YAML", "year 0"]),
        (b"\xff\xfedate", ["not UTF-8"]),
        (b"date: 2026-10-03\npapers: [" + b"[" * 40 + b"]" * 40 + b"]\n", ["nested deeper"]),
    ],
)
def test_broken_files_are_errors_never_tracebacks(
    project: Paths, text: bytes, words: list[str]
) -> None:
    write(project, "2026/2026-10-03.yml", text)
    before = snapshot(project.content)
    fails(run(project, "check"), *words)
    fails(run(project, "check", "--fix"), *words)
    assert snapshot(project.content) == before


def test_a_bom_is_accepted(project: Paths) -> None:
    write(project, "2026/2026-10-03.yml", b"\xef\xbb\xbf" + day_text().encode())
    assert run(project, "check").exit_code == 0


# ---------------------------------------------------------------- site.yml


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (b"title: Caf\xe9\n", ["site.yml", "not UTF-8"]),
        (b'title: "Daily\\nBcc: x@evil.org"\n', ["title", "one line"]),
        (b'title: "a\\x00b"\n', ["title", "control"]),
        (b'digest:\n  from_address: "a@b.org\\r\\nBcc: c@d.org"\n', ["digest.from_address"]),
        (b"title: A\ntitle: B\n", ["duplicate key 'title'"]),
        (b"feeds: 5\n", ["feeds"]),
        (b"pages: {trending_days: .nan}\n", ["pages.trending_days"]),
        (b"title: [a]\n", ["title"]),
        (b"1: x\n", ["setting names must be text"]),
        (b"- a\n", ["must be a mapping"]),
        (b"a: &a [*a]\n", ["recursive"]),
        (b'site_url: "https://example.org/\\n"\n', ["site_url"]),
    ],
)
def test_bad_site_yml_is_an_error_never_a_traceback(
    project: Paths, text: bytes, words: list[str]
) -> None:
    project.config_file.write_bytes(text)
    for command in ("check", "build", "digest"):
        fails(run(project, command), "site.yml", *words)


def test_a_multi_line_description_is_fine(project: Paths) -> None:
    project.config_file.write_text("description: >\n  Two\n  lines\n")
    assert run(project, "check").exit_code == 0


# ---------------------------------------------------------------- no project


@pytest.mark.parametrize("command", ["build", "check", "serve", "digest"])
def test_commands_refuse_to_run_outside_a_project_creating_nothing(
    tmp_path: Path, command: str
) -> None:
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "notes.txt").write_text("mine")
    before = snapshot(tmp_path)
    fails(run(tmp_path, command), "not a Daily Papers project")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", ["build", "check", "serve", "digest"])
def test_a_missing_root_is_not_created(tmp_path: Path, command: str) -> None:
    fails(run(tmp_path / "nowhere", command), "no such folder")
    assert not (tmp_path / "nowhere").exists()


def test_build_function_refuses_a_folder_without_content(tmp_path: Path) -> None:
    from generator.build import build
    from generator.config import SiteConfig
    from generator.errors import BuildError

    with pytest.raises(BuildError, match="not a Daily Papers project"):
        build(Paths(tmp_path), SiteConfig())
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- slugs


def test_a_hash_suffix_never_equals_another_names_plain_slug() -> None:
    first = groups._slugs({"foo": "foo", "FOO": "FOO"})
    names = {"foo": "foo", "FOO": "FOO", **{s: s for s in first.values()}}
    slugs = groups._slugs(names)
    assert len(set(slugs.values())) == len(names) == 4


def _paper(pid: str, org: str, keywords: list[str]) -> Paper:
    return Paper(
        id=pid,
        title="t",
        summary="s",
        authors=[],
        published=dt.date(2026, 1, 1),
        upvotes=1,
        comments=0,
        organization=Organization(name=org),
        keywords=keywords,
    )


names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12).filter(
    lambda n: clean_text(n, 500, single_line=True) != ""
)


@settings(max_examples=200, deadline=None)
@given(st.lists(names, min_size=1, max_size=12, unique=True))
def test_any_names_get_distinct_slugs_and_links_that_list_the_paper(org_names: list[str]) -> None:
    by_plain = groups._slugs({n: n for n in org_names})
    assert len(set(by_plain.values())) == len(org_names)
    # also against each other's suffixed slugs used as names
    extra = list(dict.fromkeys(org_names + list(by_plain.values())))
    assert len(set(groups._slugs({n: n for n in extra}).values())) == len(extra)
    papers = {}
    for i, name in enumerate(org_names):
        paper = _paper(f"2601.{i:05d}", name, [name, "shared"])
        papers[paper.id] = paper
    last = {pid: dt.date(2026, 1, 1) for pid in papers}
    grouped = groups.group_archive({dt.date(2026, 1, 1): list(papers)}, papers, last, 1)
    for pid in papers:
        assert pid in grouped.orgs[grouped.paper_org[pid]].ids
        for slug in grouped.paper_topics[pid]:
            assert pid in grouped.topics[slug].ids
    assert len(grouped.orgs) == len({p.organization.name for p in papers.values()})


def test_a_day_cached_before_the_limits_is_validated_again(project: Paths, tmp_path: Path) -> None:
    import hashlib
    import pickle

    path = write(project, "2026/2026-10-03.yml", day_text(upvotes=str(2**60)))
    stale = Day.model_construct(date=dt.date(2026, 10, 3), papers=[])
    cache = tmp_path / "cache"
    cache.mkdir()
    key = "2026/2026-10-03.yml"  # as an older build cached it: keyed by the bytes alone
    (cache / "2026.pickle").write_bytes(
        pickle.dumps({key: (hashlib.sha256(path.read_bytes()).hexdigest(), stale)})
    )
    with pytest.raises(store.ContentError, match="upvotes"):
        store.load_all(project.content, cache=cache)
