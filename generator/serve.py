"""Local preview: serve site/ over HTTP and rebuild when content or configuration change."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from generator.config import Paths
from generator.errors import GeneratorError

log = logging.getLogger(__name__)


class SiteHandler(SimpleHTTPRequestHandler):
    """Static files with the MIME types Pagefind needs, and quiet logs."""

    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".pagefind": "application/octet-stream",
        ".pf_meta": "application/octet-stream",
        ".pf_index": "application/octet-stream",
        ".pf_fragment": "application/octet-stream",
        ".js": "text/javascript",
        ".json": "application/json",
        ".xml": "application/xml",
    }

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)


def make_server(site: Path, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """An HTTP server for `site` (port 0: any free port)."""
    handler = functools.partial(SiteHandler, directory=str(site))
    return ThreadingHTTPServer((host, port), handler)


def _snapshot(folders: list[Path]) -> dict[str, float]:
    return {
        str(p): p.stat().st_mtime
        for folder in folders
        if folder.exists()
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }


def _watch(paths: Paths, rebuild: Callable[[], object]) -> None:
    folders = [paths.content, paths.root / "site_config"]
    seen = _snapshot(folders) | {str(paths.mkdocs_yml): paths.mkdocs_yml.stat().st_mtime}
    while True:
        time.sleep(1.0)
        now = _snapshot(folders) | {str(paths.mkdocs_yml): paths.mkdocs_yml.stat().st_mtime}
        if now != seen:
            seen = now
            try:
                rebuild()
                log.warning("rebuilt site/ after a change")
            except GeneratorError as exc:
                log.error("rebuild failed, still serving the previous site: %s", exc.message)


def serve(paths: Paths, host: str, port: int, rebuild: Callable[[], object] | None) -> None:
    """Serve site/ until interrupted."""
    try:
        server = make_server(paths.site, host, port)
    except OSError as exc:
        raise GeneratorError(f"http://{host}:{port}/: cannot listen: {exc.strerror}") from None
    if rebuild:
        threading.Thread(target=_watch, args=(paths, rebuild), daemon=True).start()
    print(f"Serving {paths.site} on http://{host}:{server.server_address[1]}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
