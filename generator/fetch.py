"""Fetch Daily Papers listings from the Hugging Face API. Network only: no files.

`parse_items` turns one decoded API page into validated `Paper`s plus one rejection message
per unusable item; `Fetcher.fetch_day` pages through one featured day with retries
(408/429/5xx, timeouts, dropped connections), `Retry-After`/`RateLimit` headers and a
client-side request limiter. Every failure is a `FetchError` naming the URL and the cause.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import itertools
import json
import logging
import random
import re
import socket
import time
from collections import deque
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Self

import httpcore
import httpx
from pydantic import ValidationError

from generator.config import FetchSettings
from generator.errors import FetchError
from generator.models import ARXIV_ID, Organization, Paper, is_http_url

log = logging.getLogger(__name__)

USER_AGENT = "dailypapers/0.1"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
BACKOFF_BASE = 0.5
#: Fields read from item["paper"] first, then from the item itself.
_EITHER_LEVEL = (
    "ai_summary",
    "ai_keywords",
    "githubRepo",
    "githubStars",
    "projectPage",
    "organization",
    "title",
    "summary",
    "id",
    "githubRepoAddedBy",
    "ai_summary_model",
)
_RETRY_EXCEPTIONS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def parse_items(items: object, source: str) -> tuple[list[Paper], list[str]]:
    """Validate one API page: (papers, "item <position>: <cause>" for each rejected item)."""
    return _parse_items(items, source, offset=0)


def _parse_items(items: object, source: str, offset: int) -> tuple[list[Paper], list[str]]:
    if not isinstance(items, list):
        raise FetchError(f"{source}: expected a JSON array, got {type(items).__name__}")
    papers: list[Paper] = []
    rejections: list[str] = []
    seen: set[str] = set()
    for i, item in enumerate(items, start=offset):
        try:
            paper = _to_paper(item)
        except (TypeError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
            rejections.append(f"item {i}: {_cause(exc)}")
            continue
        except (ArithmeticError, LookupError, AttributeError) as exc:  # one odd item, not the day
            rejections.append(f"item {i}: unusable ({type(exc).__name__}: {exc})"[:300])
            continue
        if paper.id in seen:
            log.info(
                "%s: item %d: paper %s is listed twice; keeping the first", source, i, paper.id
            )
            continue
        seen.add(paper.id)
        papers.append(paper)
    return papers, rejections


def _to_paper(item: object) -> Paper:
    """Map one API item to a Paper; a TypeError or ValueError names the cause."""
    if not isinstance(item, dict):
        raise TypeError(f"expected an object, got {type(item).__name__}")
    inner = item.get("paper", {})
    if not isinstance(inner, dict):
        raise TypeError(f"'paper' must be an object, got {type(inner).__name__}")
    get = {k: _first(inner.get(k), item.get(k)) for k in _EITHER_LEVEL}.get
    paper_id = get("id")
    if paper_id is None or get("title") is None:
        raise ValueError("no paper id" if paper_id is None else f"paper {paper_id}: no title")
    if not isinstance(paper_id, str) or not ARXIV_ID.match(paper_id):
        raise ValueError(f"id {paper_id!r} is not an arXiv id string")
    try:
        return Paper(
            id=paper_id,
            title=get("title"),  # type: ignore[arg-type]  # pydantic checks it
            summary=_first(get("summary"), ""),
            authors=_authors(inner.get("authors")),
            published=_date(_first(inner.get("publishedAt"), item.get("publishedAt"))),
            upvotes=_first(inner.get("upvotes"), 0),
            comments=_first(item.get("numComments"), 0),
            organization=_organization(get("organization")),
            submitted_by=_first(
                _submitter(item.get("submittedBy")),
                _submitter(inner.get("submittedOnDailyBy"), "user"),
            ),
            github=_url(get("githubRepo")),
            github_stars=_count(get("githubStars")),
            project_page=_url(get("projectPage")),
            ai_summary=_optional(get("ai_summary"), str),
            keywords=_strings(get("ai_keywords")),
            thumbnail=_url(_first(item.get("thumbnail"), item.get("mediaUrl"))),
            submitted_at=_timestamp(inner.get("submittedOnDailyAt")),
            listed_at=_timestamp(item.get("publishedAt")),
            submitter_organization=_organization(item.get("submitterOrganization")),
            media=_urls(_strings(inner.get("mediaUrls")) + _strings(item.get("mediaUrls"))),
            author_participating=_optional(item.get("isAuthorParticipating"), bool),
            github_added_by=_optional(get("githubRepoAddedBy"), str),
            ai_summary_model=_optional(get("ai_summary_model"), str),
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"paper {paper_id}: {_cause(exc)}") from None


def _cause(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}"
            for err in exc.errors()
        )
    return str(exc)


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _optional(value: Any, kind: type) -> Any:
    """The value if it has the wanted type (bool is not an int here), else None."""
    if isinstance(value, bool) and kind is not bool:
        return None
    return value if isinstance(value, kind) and value != "" else None


def _url(value: Any) -> str | None:
    if isinstance(value, str) and value and not is_http_url(value):
        log.info("dropped a non-http(s) URL: %r", value[:80])
        return None
    return _optional(value, str)


def _count(value: Any) -> int | None:
    number = _optional(value, int)
    return number if number is not None and number >= 0 else None


def _submitter(value: Any, key: str = "name") -> str | None:
    """The account name: submittedBy.name, or submittedOnDailyBy.user."""
    return _optional(value.get(key), str) if isinstance(value, dict) else None


def _urls(values: list[str]) -> list[str]:
    """The http(s) URLs among `values`, each once, in order (others logged and dropped)."""
    return list(dict.fromkeys(u for u in map(_url, values) if u))


def _timestamp(value: Any) -> str | None:
    """An ISO 8601 date-time string, else None (logged when present but unreadable)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        log.info("dropped an unreadable timestamp: %r", value[:40])
        return None
    return value if len(value) <= 40 else None


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _authors(value: Any) -> Any:
    """Names of the authors not marked hidden; a non-list is passed on to be rejected."""
    if value is None:
        return []
    if not isinstance(value, list):
        return value
    return [
        a["name"]
        for a in value
        if isinstance(a, dict) and isinstance(a.get("name"), str) and a.get("hidden") is not True
    ]


def _date(value: Any) -> dt.date:
    if not isinstance(value, str):
        raise TypeError(f"publishedAt {value!r} is not an ISO date string")
    try:
        return dt.datetime.fromisoformat(value).date()
    except ValueError:
        raise ValueError(f"publishedAt {value[:40]!r} is not an ISO date") from None


def _organization(value: Any) -> Organization | None:
    if not isinstance(value, dict):
        return None
    try:
        return Organization(
            name=value.get("name"),  # type: ignore[arg-type]  # checked there
            fullname=_optional(value.get("fullname"), str),
        )
    except ValidationError:
        log.info("dropped a malformed organization: %r", str(value)[:80])
        return None


class RateLimiter:
    """At most `limit` calls of `acquire` per `window` seconds (sliding window)."""

    def __init__(self, limit: int, window: float) -> None:
        self._limit = limit
        self._window = window
        self._stamps: deque[float] = deque()

    def acquire(self) -> None:
        """Record one request, first sleeping until the window has room for it."""
        while True:
            now = time.monotonic()
            while self._stamps and self._stamps[0] <= now - self._window:
                self._stamps.popleft()
            if len(self._stamps) < self._limit:
                self._stamps.append(now)
                return
            time.sleep(self._stamps[0] + self._window - now)


def _backoff(retry: int, cap: float) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**(retry-1))]."""
    return random.uniform(0, min(cap, BACKOFF_BASE * 2 ** (retry - 1)))


def _header_wait(headers: httpx.Headers) -> float | None:
    """Seconds asked for by `Retry-After` (seconds or HTTP date) or `RateLimit` (t=, r=0)."""
    waits: list[float] = []
    retry_after = headers.get("Retry-After", "").strip()
    if re.fullmatch(r"\d+(\.\d+)?", retry_after):
        waits.append(float(retry_after))
    elif retry_after:
        try:
            when = email.utils.parsedate_to_datetime(retry_after)
            waits.append((when - dt.datetime.now(dt.UTC)).total_seconds())
        except (TypeError, ValueError):
            log.info("ignored an unreadable Retry-After: %r", retry_after[:60])
    limit = headers.get("RateLimit", "")
    reset, remaining = re.search(r";\s*t=(\d+)", limit), re.search(r";\s*r=(\d+)", limit)
    if reset and (remaining is None or remaining.group(1) == "0"):
        waits.append(float(reset.group(1)))
    return max(0.0, *waits) if waits else None


def _status_error(url: str, response: httpx.Response, body: bytes, day: dt.date) -> FetchError:
    reason = {
        400: f"the API rejected date {day}",
        401: "the token was refused",
        403: "access denied",
        404: "not found",
    }.get(response.status_code)
    reason = reason or response.reason_phrase or "unexpected status"
    text = body[:200].decode("utf-8", "replace")
    detail = "".join(c for c in " ".join(text.split()) if c.isprintable())
    return FetchError(
        f"{url}: HTTP {response.status_code} ({reason})" + (f": {detail}" if detail else "")
    )


class FetchAborted(FetchError):
    """A failure that ends the whole run (the run deadline, a host that does not resolve):
    trying the remaining days would only fail the same way."""


class _Unusable:
    """What a JSON number too long to be a count, or NaN/Infinity, decodes to: no field
    validates it, so it rejects the item that holds it and nothing more."""

    def __init__(self, text: str) -> None:
        self.text = text[:20] + "…" * (len(text) > 20)

    def __repr__(self) -> str:
        return f"<unusable JSON number {self.text}>"


#: Longer integers than any count (2**63 has 19 digits) are not turned into ints at all:
#: Python refuses over 4,300 digits, which would fail the whole page as "not JSON".
_MAX_INT_DIGITS = 20


def _int(text: str) -> int | _Unusable:
    return int(text) if len(text.lstrip("-")) <= _MAX_INT_DIGITS else _Unusable(text)


def decode_json(body: bytes, source: str, max_depth: int) -> Any:
    """Decode one answer; FetchError names `source` when it is not JSON or nests too deep.

    Numbers no count can hold and NaN/Infinity become values that reject their item only.
    """
    try:
        data = json.loads(body, parse_int=_int, parse_constant=_Unusable)
    except RecursionError:
        raise FetchError(
            f"{source}: the answer nests deeper than fetch.max_json_depth ({max_depth})"
        ) from None
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        text = body[:40].decode("utf-8", "replace")
        what = f"starts with {text + '…' * (len(body) > 40)!r}" if body else "empty body"
        raise FetchError(f"{source}: the answer is not JSON ({what}; {exc})") from None
    if _depth(data, max_depth) > max_depth:
        raise FetchError(
            f"{source}: the answer nests deeper than fetch.max_json_depth ({max_depth})"
        )
    return data


def _depth(data: Any, limit: int) -> int:
    """Nesting depth of arrays and objects, without recursion; stops counting past `limit`."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


class _Deadline:
    """The moment the current request must be done by (monotonic), or None."""

    def __init__(self) -> None:
        self.at: float | None = None
        self.why = DEADLINE_PASSED

    def clip(self, timeout: float | None, what: str) -> float | None:
        if self.at is None:
            return timeout
        left = self.at - time.monotonic()
        if left <= 0:
            raise _DEADLINE_ERRORS[what](self.why)
        return left if timeout is None else min(timeout, left)

    @contextlib.contextmanager
    def named(self) -> Iterator[None]:
        """A time-out that the deadline cut short says so (not just "timed out")."""
        try:
            yield
        except httpcore.TimeoutException as exc:
            if self.at is not None and time.monotonic() >= self.at - 0.01:
                raise type(exc)(self.why) from exc
            raise


DEADLINE_PASSED = "the request's deadline passed (fetch.request_deadline)"
_DEADLINE_ERRORS = {
    "connect": httpcore.ConnectTimeout,
    "read": httpcore.ReadTimeout,
    "write": httpcore.WriteTimeout,
}


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write also stops at the request's deadline, so
    a server that drips a byte at a time (headers or body) cannot hold a request open."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with self._deadline.named():
            return self._stream.read(max_bytes, self._deadline.clip(timeout, "read"))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        with self._deadline.named():
            self._stream.write(buffer, self._deadline.clip(timeout, "write"))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        stream = self._stream.start_tls(
            ssl_context, server_hostname, self._deadline.clip(timeout, "connect")
        )
        return _DeadlineStream(stream, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, deadline: _Deadline) -> None:
        self._backend = httpcore.SyncBackend()
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(
            host, port, self._deadline.clip(timeout, "connect"), local_address, socket_options
        )
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_unix_socket(
            path, self._deadline.clip(timeout, "connect"), socket_options
        )
        return _DeadlineStream(stream, self._deadline)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _DeadlineTransport(httpx.HTTPTransport):
    """httpx's own transport over a connection pool whose connections keep the deadline."""

    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(), network_backend=_DeadlineBackend(deadline)
        )


def _unresolved(exc: BaseException) -> socket.gaierror | None:
    """The name-resolution failure behind a connection error, if that is what it is."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class Fetcher:
    """One HTTP client for the API; use as a context manager.

    Every answer is bounded (SECURITY.md, "Limits on network answers"): its decoded size
    (fetch.max_body_bytes), the time one request may take (fetch.request_deadline), the
    time the whole run may take (fetch.run_deadline), its JSON nesting (max_json_depth)
    and the items of one day (max_items_per_day).
    """

    def __init__(self, api: str, settings: FetchSettings, token: str | None = None) -> None:
        self._api = api if api.endswith("/") else api + "/"
        self._settings = settings
        self._limiter = RateLimiter(settings.rate_limit, settings.rate_window)
        self._run_ends = time.monotonic() + settings.run_deadline
        self._deadline = _Deadline()
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(
            headers=headers,
            timeout=settings.timeout,
            follow_redirects=True,
            max_redirects=5,
            transport=_DeadlineTransport(self._deadline),
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def fetch_day(self, day: dt.date) -> tuple[list[Paper], list[str]]:
        """All papers featured on `day` (every page, first of each id) and the rejections.

        Rejections read "item <n>: <cause>", n counting from 0 across all pages.
        """
        size, cap = self._settings.page_size, self._settings.max_items_per_day
        papers: list[Paper] = []
        rejections: list[str] = []
        seen: set[str] = set()
        count = 0
        for page in itertools.count():
            url = f"{self._api}api/daily_papers?date={day.isoformat()}&limit={size}&p={page}"
            items = self._get_json(url, day)
            if not isinstance(items, list):
                raise FetchError(f"{url}: expected a JSON array, got {type(items).__name__}")
            count += len(items)
            if count > cap:
                raise FetchError(
                    f"{url}: more than {cap:,} items for {day} (fetch.max_items_per_day)"
                )
            got, rejected = _parse_items(items, url, offset=count - len(items))
            rejections += rejected
            new = [p for p in got if p.id not in seen]
            papers += new
            seen.update(p.id for p in new)
            if len(items) < size:
                return papers, rejections
            if page and not new and not rejected:  # a full page of nothing new
                log.warning(
                    "%s: page %d repeats the items of earlier pages (is `p` "
                    "ignored?); keeping the %d papers before it",
                    url,
                    page,
                    len(papers),
                )
                return papers, rejections
        raise AssertionError("unreachable")  # pragma: no cover

    def _get_json(self, url: str, day: dt.date) -> Any:
        return decode_json(self._get(url, day), url, self._settings.max_json_depth)

    def _get(self, url: str, day: dt.date) -> bytes:
        """The body of a GET, with retries of 408/429/5xx, timeouts and connection errors."""
        attempts = self._settings.retries + 1
        for attempt in range(1, attempts + 1):
            self._limiter.acquire()
            self._check_run_deadline(url)
            asked: float | None = None
            try:
                status, body, response = self._attempt(url)
            except _RETRY_EXCEPTIONS as exc:
                if (gaierror := _unresolved(exc)) is not None:
                    host = httpx.URL(url).host
                    raise FetchAborted(
                        f"{url}: cannot resolve the host {host!r} "
                        f"({gaierror.strerror or gaierror}); no network, or a "
                        "wrong `api` in site_config/site.yml?"
                    ) from None
                last = f"{type(exc).__name__}: {exc}".rstrip(": ")
            except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
                raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None
            else:
                if status < 400:
                    return body
                if status not in RETRY_STATUSES:
                    raise _status_error(url, response, body, day)
                last, asked = f"HTTP {status}", _header_wait(response.headers)
            if attempt < attempts:
                self._pause(url, last, attempt, asked)
        raise FetchError(f"{url}: {last}; gave up after {attempts} attempt(s)")

    def _attempt(self, url: str) -> tuple[int, bytes, httpx.Response]:
        """One request, its body read within the size limit and the request's deadline."""
        limit = self._settings.max_body_bytes
        request_ends = time.monotonic() + self._settings.request_deadline
        self._deadline.at = min(request_ends, self._run_ends)
        self._deadline.why = (
            DEADLINE_PASSED
            if request_ends <= self._run_ends
            else f"the run's deadline passed (fetch.run_deadline, {self._settings.run_deadline:g} s)"
        )
        try:
            with self._client.stream("GET", url) as response:
                if response.status_code >= 400:  # only the start, for the error message
                    return response.status_code, _head(response), response
                declared = response.headers.get("Content-Length", "")
                if (
                    declared.isdigit()
                    and int(declared) > limit
                    and not response.headers.get("Content-Encoding")
                ):
                    raise _too_large(url, limit)
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():  # decoded: gzip cannot multiply it
                    size += len(chunk)
                    if size > limit:
                        raise _too_large(url, limit)
                    chunks.append(chunk)
                return response.status_code, b"".join(chunks), response
        finally:
            self._deadline.at = None

    def _check_run_deadline(self, url: str) -> None:
        if time.monotonic() >= self._run_ends:
            raise FetchAborted(
                f"{url}: not requested: the run's deadline passed "
                f"(fetch.run_deadline, {self._settings.run_deadline:g} s)"
            )

    def _pause(self, url: str, last: str, retry: int, asked: float | None) -> None:
        cap = self._settings.max_wait
        wait = min(max(_backoff(retry, cap), asked or 0.0), cap)
        if time.monotonic() + wait >= self._run_ends:
            raise FetchAborted(
                f"{url}: {last}; no retry: waiting {wait:.0f} s would pass the "
                f"run's deadline (fetch.run_deadline, "
                f"{self._settings.run_deadline:g} s)"
            )
        log.warning(
            "%s: %s; retry %d of %d in %.2f s", url, last, retry, self._settings.retries, wait
        )
        time.sleep(wait)


def _head(response: httpx.Response, limit: int = 2_000) -> bytes:
    """The first `limit` decoded bytes of a body (an error page's start); never all of it."""
    head = b""
    try:
        for chunk in response.iter_bytes():
            head += chunk
            if len(head) >= limit:
                break
    except httpx.HTTPError:
        pass  # an error page that cannot be read is described by its status alone
    return head[:limit]


def _too_large(url: str, limit: int) -> FetchError:
    return FetchError(
        f"{url}: the answer is larger than fetch.max_body_bytes ({limit:,} bytes, counted decoded)"
    )
