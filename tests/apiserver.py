"""A real local HTTP server standing in for the Hugging Face Daily Papers API.

Serves `GET /api/daily_papers?date=YYYY-MM-DD&limit=N&p=K` from a dict date -> list of items,
with the API's pagination (items[p*limit:(p+1)*limit], `[]` past the end). Each date has a
queue of scripted faults, one consumed per request to that date:

    ("status", 429, {"Retry-After": "1"})   status with a JSON error body and extra headers
    ("body", 200, "<!DOCTYPE html>…")        that status with that (HTML) body
    ("truncated",)                           the real page's JSON cut in half, status 200
    ("sleep", 1.0)                           wait, then answer normally (client read timeout)
    ("disconnect",)                          close the connection without an answer
    ("json", 200, "text")                    that status with that exact text as JSON
    ("raw", 200, {"Header": "v"}, b"body")   exactly these headers and bytes, then close
    ("endless",)                             200 with a body that never ends (until the
                                             client goes, the server stops, or 60 s pass)
    ("drip", 0.5)                            the real page, one byte every 0.5 s
    ("repeat",)                              the first page's items, whatever `p` asks

Every request is recorded (path, query, headers, time) for assertions.

As a script it serves every DIR/<date>.json:  python tests/apiserver.py --data DIR --port N
With `--then CMD…` it runs CMD once it listens ("{url}" in CMD is its base URL), then stops
and exits with CMD's status (how `make embed` fetches through it, on a free port).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

#: The real listings, next to the repository (the repo is cloned beside `shared/`).
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "hf-api"
#: Copies of the first 12 items of two of those days, so tests do not need ../shared.
LOCAL_DATA = Path(__file__).resolve().parent / "data" / "hf-api"

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def load_items(date: str, folder: Path = LOCAL_DATA) -> list[Any]:
    """The API items of one featured day, from `folder`/<date>.json."""
    items = json.loads((folder / f"{date}.json").read_text(encoding="utf-8"))
    assert isinstance(items, list), f"{folder / date}.json is not a JSON array"
    return items


def load_days(folder: Path = LOCAL_DATA) -> dict[str, list[Any]]:
    """Every <date>.json in `folder`, keyed by date."""
    return {
        p.stem: load_items(p.stem, folder)
        for p in sorted(folder.glob("*.json"))
        if _DATE.match(p.stem)
    }


def make_item(
    paper_id: str,
    title: str,
    summary: str = "An abstract.",
    *,
    upvotes: int = 0,
    authors: tuple[str, ...] = ("Ada Lovelace", "Alan Turing"),
    organization: dict[str, str] | None = None,
    **paper: Any,
) -> dict[str, Any]:
    """One API item shaped like the real ones (text inside `paper`), for tests that script a day."""
    item: dict[str, Any] = {
        "paper": {
            "id": paper_id,
            "title": title,
            "summary": summary,
            "upvotes": upvotes,
            "authors": [{"name": name, "hidden": False} for name in authors],
            "publishedAt": "2026-09-30T00:00:00.000Z",
            **paper,
        },
        "publishedAt": "2026-10-03T00:00:00.000Z",
        "numComments": 1,
        "submittedBy": {"name": "akhaliq"},
    }
    if organization is not None:
        item["organization"] = organization
    return item


@dataclass(frozen=True)
class Request:
    """One request as the server saw it; header names are lower-case."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    time: float


class FakeApi:
    """The server; `with FakeApi(days) as api:` runs it on 127.0.0.1 in a background thread."""

    def __init__(self, days: dict[str, list[Any]] | None = None, port: int = 0) -> None:
        self.days: dict[str, list[Any]] = dict(days or {})
        self.faults: dict[str, deque[tuple[Any, ...]]] = defaultdict(deque)
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.httpd.api = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL ending in "/", like SiteConfig.api."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def add_faults(self, date: str, *faults: tuple[Any, ...]) -> None:
        with self.lock:
            self.faults[date].extend(faults)

    def take_fault(self, date: str) -> tuple[Any, ...] | None:
        with self.lock:
            queue = self.faults.get(date)
            return queue.popleft() if queue else None

    def record(self, request: Request) -> None:
        with self.lock:
            self.requests.append(request)

    def start(self) -> FakeApi:
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # wakes handlers sleeping in a "sleep" fault
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeHF/1.0"
    disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed ACK

    @property
    def api(self) -> FakeApi:
        return self.server.api  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        if getattr(self.server, "verbose", False):
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.api.record(Request(parts.path, query, headers, time.monotonic()))
        try:
            if parts.path != "/api/daily_papers":
                self._send_json(404, {"error": "Not Found"})
                return
            fault = self.api.take_fault(query.get("date", ""))
            if fault is None or not self._fault(fault, query):
                self._listing(query)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timed out) first

    def _fault(self, fault: tuple[Any, ...], query: dict[str, str]) -> bool:
        """Apply one fault; False when the normal answer should follow."""
        kind = fault[0]
        if kind == "status":
            extra = fault[2] if len(fault) > 2 else {}
            self._send_json(fault[1], {"error": f"scripted HTTP {fault[1]}"}, extra)
        elif kind == "body":
            self._send(fault[1], fault[2].encode("utf-8"), "text/html; charset=utf-8")
        elif kind == "truncated":
            body = self._page_body(query)
            self._send(200, body[: max(1, len(body) // 2)], "application/json")
        elif kind == "sleep":
            self.api.stopping.wait(fault[1])
            return False
        elif kind == "disconnect":
            self.close_connection = True
        elif kind == "json":
            self._send(fault[1], fault[2].encode("utf-8"), "application/json")
        elif kind == "raw":
            self._send_raw(fault[1], fault[2], [fault[3]])
        elif kind == "endless":
            self._send_raw(200, {"Content-Type": "application/json"}, _endless(self.api))
        elif kind == "drip":
            body = self._page_body(query)
            self._send_raw(
                200,
                {"Content-Type": "application/json", "Content-Length": str(len(body))},
                _drip(body, fault[1], self.api),
            )
        elif kind == "repeat":
            self._send(200, self._page_body({**query, "p": "0"}), "application/json")
        else:
            raise ValueError(f"unknown fault {fault!r}")
        return True

    def _listing(self, query: dict[str, str]) -> None:
        error = _invalid(query)
        if error:
            self._send_json(400, {"error": error})
            return
        body = self._page_body(query)
        limit, page = int(query.get("limit", "50")), int(query.get("p", "0"))
        extra = {}
        if len(self.api.days.get(query["date"], [])) > (page + 1) * limit:
            extra["Link"] = (
                f"<{self.api.url}api/daily_papers?date={query['date']}"
                f'&p={page + 1}&limit={limit}>; rel="next"'
            )
        self._send(200, body, "application/json; charset=utf-8", extra)

    def _page_body(self, query: dict[str, str]) -> bytes:
        limit, page = int(query.get("limit", "50") or 50), int(query.get("p", "0") or 0)
        items = self.api.days.get(query.get("date", ""), [])[page * limit : (page + 1) * limit]
        return json.dumps(items).encode(
            "utf-8"
        )  # \u escapes: lone surrogates survive, as from a real API

    def _send_json(self, status: int, data: Any, extra: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode("utf-8"), "application/json", extra)

    def _send(
        self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_raw(self, status: int, headers: dict[str, str], chunks: Iterable[bytes]) -> None:
        """These headers alone (no Content-Length unless given), the chunks, then close."""
        self.close_connection = True
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(chunk)
            self.wfile.flush()


def _endless(api: FakeApi) -> Iterator[bytes]:
    """`[` and then spaces for ever: bounded here by 60 s and the server's stop."""
    yield b"["
    ends = time.monotonic() + 60
    while time.monotonic() < ends and not api.stopping.is_set():
        yield b" " * 65536


def _drip(body: bytes, interval: float, api: FakeApi) -> Iterator[bytes]:
    for i in range(len(body)):
        if api.stopping.wait(interval):
            return
        yield body[i : i + 1]


def _invalid(query: dict[str, str]) -> str | None:
    """The API's 400 reasons: a bad date, limit outside 1-100, a negative or non-integer p."""
    date = query.get("date", "")
    try:
        if not _DATE.match(date):
            raise ValueError
        dt.date.fromisoformat(date)
    except ValueError:
        return f"Invalid date: {date!r}"
    if not query.get("limit", "50").isdigit() or not 1 <= int(query.get("limit", "50")) <= 100:
        return "limit must be an integer between 1 and 100"
    if not query.get("p", "0").isdigit():
        return "p must be a non-negative integer"
    return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=SHARED_DATA,
        help="folder of <YYYY-MM-DD>.json listings (default: %(default)s)",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.add_argument(
        "--then",
        nargs=argparse.REMAINDER,
        metavar="CMD",
        help="run CMD ({url}: the server's base URL), then stop with its status",
    )
    args = parser.parse_args(argv)
    api = FakeApi(load_days(args.data), port=args.port)
    api.httpd.verbose = args.verbose  # type: ignore[attr-defined]
    sys.stderr.write(f"serving {len(api.days)} day(s) from {args.data} at {api.url}\n")
    if args.then:
        import subprocess

        with api:
            status = subprocess.call([a.replace("{url}", api.url) for a in args.then])
        sys.exit(status)
    try:
        api.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        api.httpd.server_close()


if __name__ == "__main__":
    main()
