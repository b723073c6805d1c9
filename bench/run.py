"""The scale benchmark: our build vs Hugo, the daily update, site size and search, in one run.

    python bench/run.py                          # the real-shaped archive (~938 days, ~32k papers)
    python bench/run.py --shape synthetic        # 100, 250, 500, 1000 days x 20 papers, 3 runs
    python bench/run.py --shape synthetic --sizes 100,1000 --runs 1
    python bench/run.py --smoke                  # 5 and 10 days, 1 run: checks the bench itself
    python bench/run.py --render bench/out/results.json   # redo results.md and the PNG only

`--shape real` (the default): one archive shaped like Hugging Face's (bench/realshape.py:
every weekday 2023-05-04..2026-12-07, the year's papers a day, made of the real papers of
../shared/data/hf-api-captures/), one run. `--shape synthetic`: the synthetic archives of
bench/synth.py, one per size. Either is generated once and cached under bench/out/archive/. Each run then, in bench/out/work/d<days>/:
1. full build from scratch: a fresh project folder (mkdocs.yml, site_config/, content/),
   `python -m generator build --root DIR`; wall time and peak memory of the process tree;
2. Hugo over the same generated Markdown (build/docs/ of run 1), public/ removed first;
3. the daily update: one new day (the next weekday, from synth) added to content/ and the
   build run again in the same folder;
4. (first run only) a full build of the same content (old days + the new one) in a fresh
   folder, and its site/ compared byte for byte with the updated one.
On the largest size, the first run's site is also searched in headless Chromium
(bench/search_bench.py). Results: bench/results.md, bench/build-time.png and the raw
numbers in bench/out/results.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import filecmp
import gzip
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))
CODE = REPO  # the code snapshot the builds run (see snapshot_code)

import history_sim
import hugo_site
import measure
import realshape
import report
import synth

from generator import store

T0 = time.perf_counter()
BUILT = re.compile(
    r"Built site/ from (?P<days>\d+) day\(s\), (?P<papers>\d+) paper\(s\) in (?P<total>[\d.]+) s"
    r"(?: \((?P<phases>.*)\))?"
)


def log(message: str) -> None:
    elapsed = time.perf_counter() - T0
    print(f"[{int(elapsed // 60):02d}:{elapsed % 60:04.1f}] {message}", flush=True)


# ---------------------------------------------------------------- archive and projects


def archive(
    cache: Path, days: int, per_day: int, seed: int = 7, captures: Path | None = None
) -> tuple[Path, Path]:
    """(content/ of `days` days, the next day's file), generated once and cached.

    With `captures`, the real-shaped archive (bench/realshape.py; `days` is its day count)."""
    real = captures is not None
    folder = cache / (f"real-{realshape.UNTIL}-s{seed}" if real else f"d{days}x{per_day}-s{seed}")
    stamp = folder / "stamp.json"
    key = {
        "days": days,
        "per_day": "real" if real else per_day,
        "seed": seed,
        "synth": source_digest("synth.py", *(["realshape.py", "history_sim.py"] if real else [])),
        **({"captures": sorted(p.name for p in captures.glob("*.json"))} if real else {}),
    }
    content, extra = folder / "content", folder / "extra"
    if stamp.exists() and json.loads(stamp.read_text()) == key:
        log(f"{days} days: archive cached in {folder}")
    else:
        papers = "real-shaped" if real else f"{days * per_day} papers"
        log(f"{days} days: generating the archive ({papers}) …")
        start = time.perf_counter()
        shutil.rmtree(folder, ignore_errors=True)
        if real:
            dates = realshape.generate(content, seed=seed, captures=captures)
            realshape.next_day(extra, dates, seed=seed, captures=captures)
            # The upvote history a daily publish would have recorded (issue 23).
            points = history_sim.write(content, store.load_all(content))
            log(f"{days} days: {points:,} history points")
        else:
            dates = synth.generate(content, days, per_day, seed=seed)
            synth.next_day(extra, dates, per_day, seed=seed)
        stamp.write_text(json.dumps(key))
        log(f"{days} days: generated in {time.perf_counter() - start:.1f} s")
    (new_day,) = sorted(extra.glob("*/*.yml"))
    return content, new_day


def source_digest(*names: str) -> str:
    import hashlib

    digest = hashlib.sha256()
    for name in names:
        digest.update((BENCH / name).read_bytes())
    return digest.hexdigest()[:16]


def snapshot_code(out: Path) -> Path:
    """Copy generator/, site_config/ and mkdocs.yml to `out`: every build of this bench runs
    the same code and configuration, even if the work tree is edited while it runs."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "generator", out / "generator", ignore=ignore)
    shutil.copytree(REPO / "site_config", out / "site_config", ignore=ignore)
    shutil.copy(REPO / "mkdocs.yml", out / "mkdocs.yml")
    return out


def code_digest(code: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(p for p in code.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(code)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def build_env() -> dict[str, str]:
    """The environment of a build: the snapshot's `generator` before the editable install's."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CODE), env.get("PYTHONPATH")]))
    return env


def fresh_project(root: Path, content: Path, extra: Path | None = None) -> Path:
    """A new project folder: the snapshot's mkdocs.yml and site_config/, a copy of `content`."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    shutil.copy(CODE / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(CODE / "site_config", root / "site_config")
    shutil.copytree(content, root / "content")
    if extra is not None:
        add_day(root, extra)
    return root


def add_day(root: Path, day_file: Path) -> None:
    """Put a day file into root/content/ as a fetch would: a new file, modified now, and,
    where the archive has an upvote history, the run's line for the day's papers."""
    target = root / "content" / day_file.parent.name / day_file.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(day_file, target)
    history_sim.add_run(root / "content", store.load_day(target))


QUIET = {"busy_percent": 20.0, "max_wait": 120.0}


def quiet() -> float:
    """Before a timed step: wait (bounded) until other work on the machine has stopped."""
    if QUIET["max_wait"] <= 0:
        return 0.0
    return measure.wait_until_quiet(QUIET["busy_percent"], QUIET["max_wait"], report=log)[0]


def quiet_percent() -> float:
    """quiet(), then the machine's CPU use (percent) as the step starts."""
    if QUIET["max_wait"] <= 0:
        import psutil

        return psutil.cpu_percent(interval=0.5)
    return measure.wait_until_quiet(QUIET["busy_percent"], QUIET["max_wait"], report=log)[1]


def build(root: Path, logs: Path, name: str) -> dict:
    """Run our build CLI on `root`; its numbers."""
    cmd = [sys.executable, "-m", "generator", "build", "--root", str(root)]
    waited = quiet()
    load = os.getloadavg()[0]
    m = measure.run(cmd, logs / name, cwd=CODE, env=build_env()).check()
    line = next((ln for ln in m.stdout.splitlines() if BUILT.search(ln)), "")
    found = BUILT.search(line)
    phases = {}
    if found and found.group("phases"):
        phases = {
            k.strip(): float(v)
            for k, v in re.findall(r"([^,()]+?) ([\d.]+) s", found.group("phases"))
        }
    return {
        **_timings(m, waited, load),
        "reported_s": float(found.group("total")) if found else None,
        "papers": int(found.group("papers")) if found else None,
        "days": int(found.group("days")) if found else None,
        "phases": phases,
        "line": line.strip(),
    }


def _timings(m: measure.Measurement, waited: float, load: float) -> dict:
    """What every timed command reports: wall and CPU time, others' CPU, memory."""
    return {
        "seconds": m.seconds,
        "cpu_seconds": m.cpu_seconds,
        "other_cpu_seconds": m.other_cpu_seconds,
        "waited_s": waited,
        "load_before": load,
        "tree_peak_mb": m.tree_peak_mb,
        "tree_peak_pss_mb": m.tree_peak_pss_mb,
        "max_single_mb": m.max_single_mb,
    }


def hugo_build(project: Path, logs: Path, name: str) -> dict:
    hugo_site.clean(project)
    waited = quiet()
    load = os.getloadavg()[0]
    m = measure.run(hugo_site.command(project), logs / name, cwd=project).check()
    pages = re.search(r"Pages\s*[│|]\s*(\d+)", m.stdout)
    return {
        **_timings(m, waited, load),
        "pages": int(pages.group(1)) if pages else None,
    }


# ---------------------------------------------------------------- comparing two sites


def compare_trees(a: Path, b: Path, limit: int = 10) -> dict:
    """Byte-for-byte comparison of two folders: counts and the first differing files."""

    def files(root: Path) -> set[str]:
        return {str(Path(d, f).relative_to(root)) for d, _, names in os.walk(root) for f in names}

    fa, fb = files(a), files(b)
    only_a, only_b = sorted(fa - fb), sorted(fb - fa)
    differ = [p for p in sorted(fa & fb) if not filecmp.cmp(a / p, b / p, shallow=False)]
    first = [{"path": p, "why": _why(a / p, b / p)} for p in differ[:limit]]
    first += [{"path": p, "why": "only in the updated site"} for p in only_a[:limit]]
    first += [{"path": p, "why": "only in the fresh build"} for p in only_b[:limit]]
    return {
        "identical": not (differ or only_a or only_b),
        "files": len(fa | fb),
        "differ": len(differ),
        "only_updated": len(only_a),
        "only_fresh": len(only_b),
        "first": first[:limit],
    }


def _why(a: Path, b: Path) -> str:
    da, db = a.read_bytes(), b.read_bytes()
    if a.suffix == ".gz":
        try:
            if gzip.decompress(da) == gzip.decompress(db):
                return "gzip header only (timestamp); the uncompressed bytes are equal"
        except OSError:
            pass
    at = next((i for i, (x, y) in enumerate(zip(da, db)) if x != y), min(len(da), len(db)))
    snippet = da[max(0, at - 30) : at + 50].decode("utf-8", "replace")
    return f"{len(da)} vs {len(db)} bytes, first difference at byte {at}: …{' '.join(snippet.split())}…"


# ---------------------------------------------------------------- one size


def bench_size(days: int, args: argparse.Namespace, search_here: bool, results: dict) -> dict:
    captures = args.captures if args.shape == "real" else None
    content, new_day = archive(args.out / "archive", days, args.per_day, captures=captures)
    work = args.out / "work" / f"d{days}"
    logs = args.out / "logs" / f"d{days}"
    ours, fresh, hugo = work / "ours", work / "fresh", work / "hugo"
    size: dict = {"days": days, "papers": days * args.per_day, "runs": []}
    for run in range(args.runs):
        tag = f"{days} days, run {run + 1}/{args.runs}"
        # 1. Full build from scratch.
        fresh_project(ours, content)
        log(f"{tag}: full build …")
        full = build(ours, logs, f"run{run}-full")
        log(
            f"{tag}: full build {full['seconds']:.1f} s, peak {full['tree_peak_mb']:.0f} MB"
            f" ({full['line'] or 'no summary line'})"
        )
        if run == 0:
            size["papers"] = full["papers"] or size["papers"]
            parts = measure.site_parts(ours / "site")
            size.update(
                {f"site_{key}": sum(part[key] for part in parts.values())
                 for key in ("files", "html", "disk", "apparent")},
                parts=parts, paper_page=measure.paper_page_anatomy(ours / "site"),
                **measure.entries(ours / "site"),
            )
            size["history"] = {**history_sim.disk_bytes(content), **history_sim.site_bytes(ours / "site")}
            pf_files = parts["Pagefind index"]["files"]
            pf_disk = parts["Pagefind index"]["disk"]
            size.update(pagefind_files=pf_files, pagefind_disk=pf_disk)
            hugo_site.make_project(ours / "build" / "docs", hugo)
            if search_here:
                words = search_words(content, args.queries)
                log(f"{tag}: search in Chromium on {ours / 'site'} for {words}")
                import search_bench

                result = search_bench.measure(
                    ours / "site", words, progress=log, quiet=quiet_percent
                )
                results["search"] = {
                    "days": days,
                    "papers": size["papers"],
                    **result.to_dict(),
                    "pagefind_files": pf_files,
                    "pagefind_disk": pf_disk,
                }
        # 2. Hugo on the same Markdown.
        log(f"{tag}: Hugo …")
        hugo_run = hugo_build(hugo, logs, f"run{run}-hugo")
        log(
            f"{tag}: Hugo {hugo_run['seconds']:.1f} s, peak {hugo_run['tree_peak_mb']:.0f} MB,"
            f" {hugo_run['pages']} pages"
        )
        if run == 0:
            files, disk, _ = measure.tree_size(hugo / "public")
            size.update(hugo_files=files, hugo_disk=disk, hugo_pages=hugo_run["pages"])
        # 3. Daily update: one more day, build again in place.
        add_day(ours, new_day)
        log(f"{tag}: daily update (+{new_day.stem}) …")
        update = build(ours, logs, f"run{run}-update")
        log(f"{tag}: daily update {update['seconds']:.1f} s ({update['line']})")
        size["runs"].append({"full": full, "hugo": hugo_run, "update": update})
        # 4. Is the updated site what a full build of the same content gives?
        if run == 0:
            fresh_project(fresh, content, extra=new_day)
            log(f"{tag}: full build of the same {days + 1} days in a fresh folder, to compare …")
            reference = build(fresh, logs, "run0-fresh")
            size["fresh"] = reference
            diff = compare_trees(ours / "site", fresh / "site")
            size["compare"] = diff
            log(
                f"{tag}: updated site identical to the fresh build: "
                f"{'yes' if diff['identical'] else 'NO'} ({diff['files']} files, "
                f"{diff['differ']} differ, {diff['only_updated']}/{diff['only_fresh']} only in one)"
            )
            for item in diff["first"][:5]:
                log(f"    {item['path']}: {item['why']}")
    return size


def search_words(content: Path, count: int) -> list[str]:
    import search_bench

    return search_bench.query_words(content, count)


# ---------------------------------------------------------------- machine


def machine() -> dict:
    def version(pkg: str) -> str:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as v

        try:
            return v(pkg)
        except PackageNotFoundError:
            return "-"

    def out(cmd: list[str]) -> str:
        try:
            return subprocess.run(
                cmd, capture_output=True, text=True, timeout=30, check=False
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "-"

    cpu = "-"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    chromium = shutil.which("chromium")
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_start": [round(x, 2) for x in os.getloadavg()],
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory_gib": round(mem, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "mkdocs": version("mkdocs"),
        "mkdocs-material": version("mkdocs-material"),
        "pagefind": version("pagefind"),
        "hugo": hugo_site.version(),
        "playwright": version("playwright"),
        "chromium": out([chromium, "--version"]) if chromium else "-",
        "commit": out(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
        "code_digest": code_digest(CODE),
        "dirty": out(
            [
                "git",
                "-C",
                str(REPO),
                "status",
                "--porcelain",
                "--",
                "generator",
                "site_config",
                "mkdocs.yml",
            ]
        ).splitlines(),
    }


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]),
    )
    parser.add_argument(
        "--shape",
        choices=("real", "synthetic"),
        default="real",
        help="real: one archive shaped like Hugging Face's (bench/realshape.py); synthetic: "
        "--sizes days x --per-day papers (bench/synth.py) [%(default)s]",
    )
    parser.add_argument(
        "--captures",
        type=Path,
        default=realshape.CAPTURES,
        help="the API captures the real shape is made of [../shared/data/hf-api-captures]",
    )
    parser.add_argument(
        "--sizes",
        default="100,250,500,1000",
        help="synthetic: days per archive, comma-separated [%(default)s]",
    )
    parser.add_argument(
        "--per-day", type=int, default=20, help="synthetic: papers per day [%(default)s]"
    )
    parser.add_argument(
        "--runs",
        type=int,
        help="runs per size; the tables show medians [real: 1, synthetic: 3]",
    )
    parser.add_argument(
        "--queries", type=int, default=5, help="search queries on the largest site [%(default)s]"
    )
    parser.add_argument("--no-search", action="store_true", help="skip the Chromium search")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=120.0,
        metavar="S",
        help="before each timed build, wait up to S s for the CPUs to be < 20%% busy with "
        "other work (0: don't wait) [%(default)s]",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="5 and 10 days, 1 run, 2 queries; results under OUT/smoke/",
    )
    parser.add_argument(
        "--out", type=Path, default=BENCH / "out", help="cache and work folder [bench/out]"
    )
    parser.add_argument("--results", type=Path, help="Markdown table [bench/results.md]")
    parser.add_argument("--png", type=Path, help="chart [bench/build-time.png]")
    parser.add_argument(
        "--merge",
        type=Path,
        metavar="JSON",
        help="re-measure --sizes into an earlier results.json (same code snapshot, OUT/code), "
        "e.g. sizes whose timing other work on the machine disturbed",
    )
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="only write the table and chart from a results.json",
    )
    args = parser.parse_args(argv)
    if args.smoke:  # checks the bench itself: always the small synthetic archives
        args.shape, args.sizes, args.runs, args.queries = "synthetic", "5,10", 1, 2
        args.quiet_wait = min(args.quiet_wait, 5.0)
    if args.runs is None:
        args.runs = 1 if args.shape == "real" else 3
    default_dir = args.out / "smoke" if args.smoke else BENCH
    suffix = "-real" if args.shape == "real" else ""
    args.results = args.results or default_dir / f"results{suffix}.md"
    args.png = args.png or default_dir / f"build-time{suffix}.png"
    if args.shape == "real":
        if not (args.captures.is_dir() and any(args.captures.glob("*.json"))):
            parser.exit(2, f"{parser.prog}: error: {realshape.missing(args.captures)}\n")
        args.sizes = str(sum(1 for _ in realshape.weekdays(realshape.START, realshape.UNTIL)))
    args.sizes = sorted({int(s) for s in str(args.sizes).split(",") if s.strip()})
    if not args.sizes or min(args.sizes) < 2 or args.runs < 1:
        parser.error("--sizes needs days >= 2 and --runs >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out = args.out.resolve()
    raw = args.out / ("smoke-results.json" if args.smoke else "results.json")
    if args.render:
        results = json.loads(args.render.read_text())
    else:
        global CODE
        QUIET["max_wait"] = args.quiet_wait
        snapshot = args.out / ("code-smoke" if args.smoke else "code")
        previous = json.loads(args.merge.read_text()) if args.merge else None
        if previous:
            # Re-measure some sizes with the very code the merged results were measured with.
            CODE = snapshot
            digest = previous["machine"].get("code_digest")
            if not CODE.is_dir() or code_digest(CODE) != digest:
                raise SystemExit(f"{CODE}: not the code snapshot {digest} of {args.merge}")
        else:
            CODE = snapshot_code(snapshot)
        log(f"code snapshot {code_digest(CODE)}: {CODE} (generator/, site_config/, mkdocs.yml)")
        log(
            f"bench: {args.shape} shape, sizes {args.sizes} days"
            f"{'' if args.shape == 'real' else f' x {args.per_day} papers'}, {args.runs} run(s);"
            f" work in {args.out}"
        )
        results = previous or {
            "machine": machine(),
            "settings": {
                "shape": args.shape,
                "sizes": args.sizes,
                "per_day": "real" if args.shape == "real" else args.per_day,
                "runs": args.runs,
                "queries": 0 if args.no_search else args.queries,
                "smoke": args.smoke,
            },
            "sizes": [],
        }
        if previous:
            results["machine"].setdefault("remeasured", []).append(
                {
                    "sizes": args.sizes,
                    "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                    "load_start": [round(x, 2) for x in os.getloadavg()],
                }
            )
        largest = max([*args.sizes, *(s["days"] for s in results["sizes"])])
        for days in args.sizes:
            size = bench_size(days, args, days == largest and not args.no_search, results)
            kept = [s for s in results["sizes"] if s["days"] != days]
            results["sizes"] = sorted([*kept, size], key=lambda s: s["days"])
            raw.write_text(json.dumps(results, indent=1))
        if not previous:
            results["machine"]["load_end"] = [round(x, 2) for x in os.getloadavg()]
            results["machine"]["wall_minutes"] = round((time.perf_counter() - T0) / 60, 1)
        raw.write_text(json.dumps(results, indent=1))
        log(f"raw numbers: {raw}")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.png.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(report.markdown(results, args.png, args.results))
    report.chart(results, args.png)
    log(f"wrote {args.results} and {args.png}")
    print()
    print(report.summary_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
