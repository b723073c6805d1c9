"""Lighthouse on the built site (`make audit`): performance and accessibility scores.

    python bench/audit.py                 # site/ as built by `make site`
    python bench/audit.py --site DIR --runs 3

Serves the site on 127.0.0.1 with gzip for text files, as GitHub Pages, Netlify, S3 behind
CloudFront or nginx's usual set-up do (generator.serve's server sends files as they are,
which Lighthouse scores as ~300 KB of uncompressed transfer), finds the newest day from the
home page's permalink, and runs Lighthouse 12.2.3 (pinned; 13.x needs Node 22) through npx
with Debian's chromium (CHROME_PATH) on: the day page with Lighthouse's default mobile
preset, the home page mobile, and the home page with the desktop preset. Prints each
page's performance and accessibility scores (the median of --runs runs) and any failed
accessibility audit. Not part of `make test`: scores depend on the machine's load.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from http.server import ThreadingHTTPServer  # noqa: E402

from generator.serve import SiteHandler  # noqa: E402

TEXT = (".html", ".css", ".js", ".json", ".xml", ".svg", ".txt")


class GzipHandler(SiteHandler):
    """The site's files, text ones gzip-compressed when the client accepts it."""

    def send_head(self):  # noqa: ANN201
        path = Path(self.translate_path(self.path))
        if path.is_dir() and self.path.split("?")[0].endswith("/"):
            path = path / "index.html"
        accepts = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (accepts and path.is_file() and path.suffix in TEXT):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), 6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

LIGHTHOUSE = "lighthouse@12.2.3"
CHROME_FLAGS = "--headless=new --no-sandbox --disable-background-networking"


def lighthouse(url: str, preset: str | None, out: Path, chrome: str) -> dict:
    cmd = [
        "npx", "--yes", LIGHTHOUSE, url,
        "--quiet", "--output=json", f"--output-path={out}",
        "--only-categories=performance,accessibility",
        f"--chrome-flags={CHROME_FLAGS}",
    ]  # fmt: skip
    if preset:
        cmd.append(f"--preset={preset}")
    env = {**os.environ, "CHROME_PATH": chrome}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not out.is_file():
        sys.exit(f"lighthouse failed on {url} (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=REPO / "site", help="built site folder")
    parser.add_argument("--runs", type=int, default=1, help="runs per page (median)")
    args = parser.parse_args()
    chrome = os.environ.get("CHROME_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not (args.site / "index.html").is_file():
        sys.exit(f"{args.site}/index.html: no built site (run `make site` first)")
    if shutil.which("npx") is None:
        sys.exit("npx not found: Lighthouse runs from npm (install nodejs and npm)")

    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(GzipHandler, directory=str(args.site))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        home = urllib.request.urlopen(base, timeout=10).read().decode()  # not gzipped: no Accept-Encoding
        day = re.search(r'<a href="([^"]+)">permalink</a>', home)
        targets = [("day page", base + day.group(1) if day else base, None),
                   ("home", base, None), ("home", base, "desktop")]
        print(f"Lighthouse {LIGHTHOUSE.split('@')[1]}, {chrome}, {args.runs} run(s) each")
        print(f"{'page':<10} {'preset':<8} {'performance':>11} {'accessibility':>13}  url")
        with tempfile.TemporaryDirectory() as tmp:
            for name, url, preset in targets:
                perf, a11y, failed = [], [], set()
                for run in range(args.runs):
                    report = lighthouse(url, preset, Path(tmp) / f"r{run}.json", chrome)
                    cats = report["categories"]
                    perf.append(round(cats["performance"]["score"] * 100))
                    a11y.append(round(cats["accessibility"]["score"] * 100))
                    for ref in cats["accessibility"]["auditRefs"]:
                        audit = report["audits"][ref["id"]]
                        if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
                            failed.add(f"{ref['id']}: {audit['title']}")
                print(f"{name:<10} {preset or 'mobile':<8} {statistics.median(perf):>11g} "
                      f"{statistics.median(a11y):>13g}  {url[len(base) - 1:]}")
                for line in sorted(failed):
                    print(f"    accessibility audit failed: {line}")
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
