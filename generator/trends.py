"""What the upvote history shows: a paper's sparkline and its gain over the last 24 hours.

Pure functions of the points history.py reads (numbers and UTC times, no API text), so
nothing here needs escaping. "Now" is never the clock: it is the newest capture in the
history (latest_time), so the same content builds the same site whenever it is built.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from generator.history import Point

#: The sparkline's drawing box (SVG user units = CSS pixels) and its inner margin, which
#: keeps the stroke of the highest and lowest points inside the box.
WIDTH, HEIGHT, MARGIN = 60, 16, 1
#: Points drawn at most: a year of daily captures is drawn as 24 (first and latest kept),
#: so a sparkline costs about 0.3 KB whatever the history's length.
MAX_POINTS = 24
#: The Rising window.
DAY = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Sparkline:
    """An inline SVG polyline: `points` ("x,y x,y …", whole numbers) and its text label."""

    points: str
    label: str
    width: int = WIDTH
    height: int = HEIGHT


def downsample(points: Sequence[Point], limit: int = MAX_POINTS) -> list[Point]:
    """At most `limit` (>= 2) of `points`, evenly spread by index, first and latest kept,
    in their order."""
    count = len(points)
    if count <= limit:
        return list(points)
    # Indices i * (count - 1) / (limit - 1), rounded half up in whole numbers: from 0 to
    # count - 1, strictly increasing since each step is more than 1.
    steps = limit - 1
    return [points[(i * (count - 1) + steps // 2) // steps] for i in range(limit)]


def label(points: Sequence[Point]) -> str:
    """'Upvotes: 40 on 2026-12-01, 60 on 2026-12-07': the first and latest counts."""
    first, last = points[0], points[-1]
    return f"Upvotes: {first.up} on {first.t:%Y-%m-%d}, {last.up} on {last.t:%Y-%m-%d}"


def sparkline(points: Sequence[Point]) -> Sparkline | None:
    """The sparkline of a paper's points (oldest first); None with fewer than two (the
    page shows the count alone). x is time, y upvotes scaled to the box (higher is up;
    a count that never moved is a flat line across the middle)."""
    if len(points) < 2:
        return None
    drawn = downsample(points)
    t0, t1 = drawn[0].t, drawn[-1].t
    span = (t1 - t0).total_seconds() or 1.0
    low, high = min(p.up for p in drawn), max(p.up for p in drawn)
    inner_w, inner_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN
    coords = []
    for point in drawn:
        x = MARGIN + round((point.t - t0).total_seconds() / span * inner_w)
        if high == low:
            y = HEIGHT // 2
        else:
            y = MARGIN + round((high - point.up) / (high - low) * inner_h)
        coords.append(f"{x},{y}")
    return Sparkline(" ".join(coords), label(points))


def latest_time(history: Mapping[str, Sequence[Point]]) -> dt.datetime | None:
    """The newest capture of the history: the "now" of the 24-hour gains."""
    return max((points[-1].t for points in history.values() if points), default=None)


def gain(points: Sequence[Point], now: dt.datetime) -> int:
    """Upvotes gained in the 24 h up to `now`: the latest count minus the latest point at
    least 24 h before `now` (a count holds until its next point), or minus the first point
    for a paper tracked for less than that."""
    cutoff = now - DAY
    before = bisect.bisect_right([p.t for p in points], cutoff)
    base = points[before - 1] if before else points[0]
    return points[-1].up - base.up


def gains(history: Mapping[str, Sequence[Point]]) -> dict[str, int]:
    """Every tracked paper's 24-hour gain, up to the history's newest capture."""
    now = latest_time(history)
    if now is None:
        return {}
    return {pid: gain(points, now) for pid, points in history.items() if points}


def rising(
    ids: Iterable[str], history: Mapping[str, Sequence[Point]], gained: Mapping[str, int]
) -> list[tuple[str, int]]:
    """(id, gain) of the papers among `ids` that gained upvotes, most gained first; ties
    by latest upvotes (more first), then by id, so the order never depends on input order."""
    found = {pid: gained[pid] for pid in ids if gained.get(pid, 0) > 0}
    return sorted(found.items(), key=lambda item: (-item[1], -history[item[0]][-1].up, item[0]))


def recent_days(days: Iterable[dt.date], count: int) -> list[dt.date]:
    """The newest `count` of `days` (featured days with papers), oldest first."""
    return sorted(days)[-count:] if count > 0 else []


def rising_window(
    listed: Mapping[dt.date, Sequence[str]], history: Mapping[str, Sequence[Point]], count: int
) -> tuple[list[dt.date], list[tuple[str, int]]]:
    """The Rising page and feed: the newest `count` featured days of `listed` (day: ids)
    and their papers that gained upvotes, ranked (rising)."""
    window = recent_days(listed, count)
    ids = dict.fromkeys(pid for day in window for pid in listed[day])
    return window, rising(ids, history, gains(history))
