"""The fetch orchestrator: API days -> merged, validated day files in content/."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from generator import history, store
from generator.config import FetchSettings, SiteConfig
from generator.errors import FetchError, GeneratorError
from generator.fetch import FetchAborted, Fetcher

log = logging.getLogger(__name__)


@dataclass
class FetchReport:
    written: list[dt.date] = field(default_factory=list)
    unchanged: list[dt.date] = field(default_factory=list)
    empty: list[dt.date] = field(default_factory=list)
    failed: dict[dt.date, str] = field(default_factory=dict)
    rejected: int = 0
    #: Upvote history points recorded by this run (papers whose counts changed).
    points: int = 0
    #: {id: (upvotes, comments, stars)} of every paper a successful day returned.
    seen: dict[str, tuple[int, int, int | None]] = field(default_factory=dict)


#: The environment variable that sets the capture time of a run (tests, replays):
#: an ISO time, e.g. 2026-12-07T02:45:00Z. Default: the clock.
NOW_ENV = "DAILYPAPERS_NOW"


def capture_time(now: dt.datetime | None = None) -> dt.datetime:
    """The one clock reading of a run, in UTC to the second: `now`, else $DAILYPAPERS_NOW,
    else the clock."""
    if now is None and os.environ.get(NOW_ENV):
        text = os.environ[NOW_ENV]
        try:
            now = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise GeneratorError(
                f"${NOW_ENV}: {text!r} is not an ISO time (e.g. 2026-12-07T02:45:00Z)"
            ) from None
        if now.tzinfo is None:
            now = now.replace(tzinfo=dt.UTC)
    when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return when.replace(microsecond=0)


def fetch_days(
    content: Path,
    config: SiteConfig,
    days: Iterable[dt.date],
    token: str | None = None,
    on_day: Callable[[dt.date], None] | None = None,
    now: dt.datetime | None = None,
) -> FetchReport:
    """Fetch each day and merge it into content/; a failed day leaves its file untouched.

    Then record the run's capture in the upvote history (history.py), at one time for the
    whole run (`capture_time(now)`): the papers of the days that were fetched, those whose
    counts changed. A run in which every day failed writes nothing.
    """
    report = FetchReport()
    aborted: str | None = None
    when = capture_time(now)
    with store.locked(content), Fetcher(config.api, config.fetch, token) as fetcher:
        for day in days:
            if aborted is not None:  # the run's deadline or an unresolvable host: not tried
                report.failed[day] = f"not fetched: {aborted}"
            else:
                try:
                    _fetch_one(fetcher, content, day, report)
                except FetchAborted as exc:
                    aborted = exc.message
                    report.failed[day] = exc.message
                    log.error("%s: %s; the remaining days are not fetched", day, exc.message)
                except GeneratorError as exc:
                    report.failed[day] = exc.message
                    log.error("%s: %s", day, exc.message)
            if on_day:
                on_day(day)
        if report.seen:
            report.points = history.append(content, when, report.seen)
    return report


def estimate(days: int, settings: FetchSettings) -> tuple[int, float]:
    """(requests at the least, seconds the rate limit alone implies) for fetching `days`."""
    windows = max(0, days - 1) // settings.rate_limit
    return days, windows * settings.rate_window


def _fetch_one(fetcher: Fetcher, content: Path, day: dt.date, report: FetchReport) -> None:
    papers, rejections = fetcher.fetch_day(day)
    for message in rejections:
        log.warning("%s: rejected %s", day, message)
    report.rejected += len(rejections)
    path = store.day_path(content, day)
    old = store.load_day(path) if path.exists() else None
    if not papers:
        report.empty.append(day)
        if old is not None:
            log.warning(
                "%s: the API returned no papers; keeping the %d stored", day, len(old.papers)
            )
        return
    try:
        merged = store.merge(old, day, papers)
    except ValueError as exc:  # pydantic's ValidationError: e.g. a day outside the window
        raise FetchError(f"{day}: cannot be stored: {' '.join(str(exc).split())}") from None
    if store.save_day(content, merged):
        report.written.append(day)
    else:
        report.unchanged.append(day)
    report.seen.update(history.values_of(papers))  # stored: its counts join the capture


def with_refresh(content: Path, days: list[dt.date], refresh_days: int) -> list[dt.date]:
    """`days` and the last `refresh_days` featured days stored in content/ (those with a
    day file) up to the last of `days`, oldest first, each once."""
    if not refresh_days or not days:
        return days
    stored = [
        d
        for d in (store.file_day(p) for p in store.day_files(content))
        if d is not None and d <= days[-1]
    ]
    return sorted(set(days) | set(stored[-refresh_days:]))


def raise_for_failures(report: FetchReport) -> None:
    """Exit non-zero naming each failed day and why (the other days are already stored)."""
    if report.failed:
        lines = [f"  {day}: {why}" for day, why in sorted(report.failed.items())]
        raise FetchError(f"{len(report.failed)} day(s) failed:\n" + "\n".join(lines))


def hf_today(now: dt.datetime | None = None) -> dt.date:
    """Hugging Face's current featured day: it rolls over at 21:30 America/New_York."""
    try:
        from zoneinfo import ZoneInfo

        zone: dt.tzinfo = ZoneInfo("America/New_York")
    except Exception:  # noqa: BLE001 - no tz database: UTC is close enough
        zone = dt.UTC
    local = (now or dt.datetime.now(dt.UTC)).astimezone(zone)
    return (local + dt.timedelta(hours=2, minutes=30)).date()


def date_range(start: dt.date, end: dt.date) -> list[dt.date]:
    if end < start:
        raise GeneratorError(f"--from {start} is after --to {end}")
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
