"""Fetch Daily Papers listings from the Hugging Face API. Network only: no files.

`parse_items` turns one decoded API page into validated `Paper`s plus one rejection message
per unusable item; `Fetcher.fetch_day` pages through one featured day with retries
(408/429/5xx, timeouts, dropped connections), `Retry-After`/`RateLimit` headers and a
client-side request limiter. Every failure is a `FetchError` naming the URL and the cause.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import re
import time
from collections import deque
from types import TracebackType
from typing import Any, Self

import httpx
from pydantic import ValidationError

from generator.config import FetchSettings
from generator.errors import FetchError
from generator.models import ARXIV_ID, Organization, Paper, is_http_url

log = logging.getLogger(__name__)

USER_AGENT = "dailypapers/0.1"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
BACKOFF_BASE = 0.5
MAX_PAPERS = 10_000  # per day; stops a server that ignores `p` from looping forever
#: Fields read from item["paper"] first, then from the item itself.
_EITHER_LEVEL = ("ai_summary", "ai_keywords", "githubRepo", "githubStars", "projectPage",
                 "organization", "title", "summary", "id", "githubRepoAddedBy", "ai_summary_model")
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
        if paper.id in seen:
            log.info("%s: item %d: paper %s is listed twice; keeping the first", source, i, paper.id)
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
            id=paper_id, title=get("title"), summary=_first(get("summary"), ""),
            authors=_authors(inner.get("authors")),
            published=_date(_first(inner.get("publishedAt"), item.get("publishedAt"))),
            upvotes=_first(inner.get("upvotes"), 0),
            comments=_first(item.get("numComments"), 0),
            organization=_organization(get("organization")),
            submitted_by=_first(_submitter(item.get("submittedBy")),
                            _submitter(inner.get("submittedOnDailyBy"), "user")),
            github=_url(get("githubRepo")), github_stars=_count(get("githubStars")),
            project_page=_url(get("projectPage")), ai_summary=_optional(get("ai_summary"), str),
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
        a["name"] for a in value
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
        return Organization(name=value.get("name"), fullname=_optional(value.get("fullname"), str))
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


def _status_error(url: str, response: httpx.Response, day: dt.date) -> FetchError:
    reason = {400: f"the API rejected date {day}", 401: "the token was refused",
              403: "access denied", 404: "not found"}.get(response.status_code)
    reason = reason or response.reason_phrase or "unexpected status"
    detail = "".join(c for c in " ".join(response.text[:200].split()) if c.isprintable())
    return FetchError(f"{url}: HTTP {response.status_code} ({reason})"
                      + (f": {detail}" if detail else ""))


class Fetcher:
    """One HTTP client for the API; use as a context manager."""

    def __init__(self, api: str, settings: FetchSettings, token: str | None = None) -> None:
        self._api = api if api.endswith("/") else api + "/"
        self._settings = settings
        self._limiter = RateLimiter(settings.rate_limit, settings.rate_window)
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(headers=headers, timeout=settings.timeout,
                                    follow_redirects=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def fetch_day(self, day: dt.date) -> tuple[list[Paper], list[str]]:
        """All papers featured on `day` (every page, first of each id) and the rejections.

        Rejections read "item <n>: <cause>", n counting from 0 across all pages.
        """
        size = self._settings.page_size
        papers: list[Paper] = []
        rejections: list[str] = []
        seen: set[str] = set()
        for page in range(MAX_PAPERS // size + 1):
            url = f"{self._api}api/daily_papers?date={day.isoformat()}&limit={size}&p={page}"
            items = self._get_json(url, day)
            got, rejected = _parse_items(items, url, offset=page * size)
            rejections += rejected
            papers += [p for p in got if p.id not in seen]
            seen.update(p.id for p in got)
            if len(items) < size:
                return papers, rejections
        raise FetchError(f"{url}: more than {MAX_PAPERS} papers in one day; is `p` ignored?")

    def _get_json(self, url: str, day: dt.date) -> Any:
        response = self._get(url, day)
        try:
            return response.json()
        except ValueError as exc:
            text = response.text
            what = f"starts with {text[:40] + '…' * (len(text) > 40)!r}" if text else "empty body"
            raise FetchError(f"{url}: HTTP {response.status_code} but the answer is not JSON "
                             f"({what}; {exc})") from None

    def _get(self, url: str, day: dt.date) -> httpx.Response:
        """GET with retries of 408/429/5xx, timeouts and connection errors."""
        attempts = self._settings.retries + 1
        for attempt in range(1, attempts + 1):
            self._limiter.acquire()
            asked: float | None = None
            try:
                response = self._client.get(url)
            except _RETRY_EXCEPTIONS as exc:
                last = f"{type(exc).__name__}: {exc}".rstrip(": ")
            except httpx.HTTPError as exc:
                raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None
            else:
                if response.status_code < 400:
                    return response
                if response.status_code not in RETRY_STATUSES:
                    raise _status_error(url, response, day)
                last, asked = f"HTTP {response.status_code}", _header_wait(response.headers)
            if attempt < attempts:
                self._pause(url, last, attempt, asked)
        raise FetchError(f"{url}: {last}; gave up after {attempts} attempt(s)")

    def _pause(self, url: str, last: str, retry: int, asked: float | None) -> None:
        cap = self._settings.max_wait
        wait = min(max(_backoff(retry, cap), asked or 0.0), cap)
        log.warning("%s: %s; retry %d of %d in %.2f s", url, last, retry,
                    self._settings.retries, wait)
        time.sleep(wait)
