"""generator/trends.py: the sparkline's geometry and label, and the 24-hour gain and the
Rising order, from points with times (pure functions: no site is built here)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from generator import trends
from generator.history import Point

T0 = dt.datetime(2026, 12, 1, 2, 45, tzinfo=dt.UTC)


def at(hours: float, up: int, c: int = 0) -> Point:
    return Point(T0 + dt.timedelta(hours=hours), up, c)


def coords(spark: trends.Sparkline) -> list[tuple[int, int]]:
    return [tuple(map(int, xy.split(","))) for xy in spark.points.split(" ")]  # type: ignore[misc]


# ---------------------------------------------------------------- sparkline


def test_label_names_the_first_and_latest_counts_with_their_dates() -> None:
    spark = trends.sparkline([at(0, 40), at(50, 48), at(144, 60)])
    assert spark is not None
    assert spark.label == "Upvotes: 40 on 2026-12-01, 60 on 2026-12-07"


def test_one_point_or_none_draws_nothing() -> None:
    assert trends.sparkline([at(0, 40)]) is None
    assert trends.sparkline([]) is None


def test_x_follows_time_and_y_is_scaled_with_higher_counts_up() -> None:
    spark = trends.sparkline([at(0, 10), at(24, 30), at(96, 20)])
    assert spark is not None
    (x0, y0), (x1, y1), (x2, y2) = coords(spark)
    assert (x0, x2) == (trends.MARGIN, trends.WIDTH - trends.MARGIN)
    assert x1 == trends.MARGIN + round(24 / 96 * (trends.WIDTH - 2 * trends.MARGIN))  # by time
    assert y1 == trends.MARGIN  # the highest count at the top
    assert y0 == trends.HEIGHT - trends.MARGIN  # the lowest at the bottom
    assert y2 == (y0 + y1) // 2  # halfway


def test_a_count_that_never_moved_is_a_flat_line() -> None:
    spark = trends.sparkline([at(0, 7), at(30, 7, c=2)])
    assert spark is not None
    assert {y for _x, y in coords(spark)} == {trends.HEIGHT // 2}


def test_long_history_is_drawn_with_at_most_24_points_first_and_latest_kept() -> None:
    points = [at(i * 12, 10 + i) for i in range(365)]
    drawn = trends.downsample(points)
    assert len(drawn) == trends.MAX_POINTS
    assert drawn[0] == points[0] and drawn[-1] == points[-1]
    spark = trends.sparkline(points)
    assert spark is not None and len(coords(spark)) == trends.MAX_POINTS
    assert spark.label == "Upvotes: 10 on 2026-12-01, 374 on 2027-06-01"
    markup = (
        f'<svg class="dp-spark" role="img" aria-label="{spark.label}" viewBox="0 0 '
        f'{spark.width} {spark.height}" width="{spark.width}" height="{spark.height}">'
        f'<polyline points="{spark.points}"/></svg>'
    )
    assert len(markup.encode()) <= 300  # the budget: ~0.3 KB per paper


@given(st.lists(st.tuples(st.integers(1, 10_000), st.integers(0, 10**6)), min_size=2, max_size=200))
def test_any_history_gives_whole_monotone_points_inside_the_box(steps) -> None:
    points, hours = [], 0
    for gap, up in steps:
        hours += gap
        points.append(at(hours, up))
    spark = trends.sparkline(points)
    assert spark is not None
    xy = coords(spark)
    assert 2 <= len(xy) <= trends.MAX_POINTS
    xs = [x for x, _y in xy]
    assert xs == sorted(xs)
    assert all(trends.MARGIN <= x <= trends.WIDTH - trends.MARGIN for x in xs)
    assert all(trends.MARGIN <= y <= trends.HEIGHT - trends.MARGIN for _x, y in xy)
    drawn = trends.downsample(points)
    assert [p.t for p in drawn] == sorted({p.t for p in drawn})  # no point twice, in order


# ---------------------------------------------------------------- 24-hour gain and Rising


def test_gain_is_latest_minus_the_latest_point_24_hours_before_now() -> None:
    now = T0 + dt.timedelta(hours=72)
    points = [at(0, 10), at(30, 20), at(47, 25), at(60, 31), at(72, 40)]
    # 24 h before now is hour 48: the count then was the hour-47 point's, 25
    assert trends.gain(points, now) == 40 - 25
    # a point exactly 24 h before now counts as "at least 24 h older"
    assert trends.gain([at(0, 3), at(48, 9), at(72, 10)], now) == 1


def test_gain_of_a_paper_tracked_less_than_24_hours_is_from_its_first_point() -> None:
    now = T0 + dt.timedelta(hours=72)
    assert trends.gain([at(60, 5), at(70, 12)], now) == 7
    assert trends.gain([at(71, 5)], now) == 0


def test_a_paper_whose_count_stopped_moving_gained_nothing() -> None:
    now = T0 + dt.timedelta(hours=100)
    assert trends.gain([at(0, 5), at(20, 30)], now) == 0  # no point in the last 24 h


def test_now_is_the_newest_capture_of_the_whole_history() -> None:
    history = {"2612.00001": [at(0, 1), at(30, 4)], "2612.00002": [at(10, 2), at(80, 3)]}
    assert trends.latest_time(history) == T0 + dt.timedelta(hours=80)
    assert trends.latest_time({}) is None and trends.gains({}) == {}
    # measured up to hour 80: the first paper's count has not moved since hour 30
    assert trends.gains(history) == {"2612.00001": 0, "2612.00002": 1}


def test_rising_ranks_by_gain_then_latest_upvotes_then_id() -> None:
    history = {
        "2612.00005": [at(0, 10), at(48, 30)],  # +20
        "2612.00004": [at(0, 50), at(48, 55)],  # +5, more upvotes than 00003
        "2612.00003": [at(0, 1), at(48, 6)],  # +5
        "2612.00002": [at(0, 1), at(48, 6)],  # +5, same upvotes as 00003: by id
        "2612.00001": [at(40, 2), at(47, 9)],  # +7, tracked less than 24 h
        "2612.00009": [at(0, 9), at(48, 9, c=3)],  # +0: not rising
        "2612.00008": [at(0, 9), at(48, 4)],  # lost votes: not rising
    }
    gained = trends.gains(history)
    expected = [
        ("2612.00005", 20),
        ("2612.00001", 7),
        ("2612.00004", 5),
        ("2612.00002", 5),
        ("2612.00003", 5),
    ]
    assert trends.rising(history, history, gained) == expected
    assert trends.rising(reversed(list(history)), history, gained) == expected
    # only the papers asked for, and papers without history are left out
    assert trends.rising(["2612.00003", "2612.09999"], history, gained) == [("2612.00003", 5)]


def test_rising_window_is_the_newest_featured_days() -> None:
    listed = {dt.date(2026, 12, d): [f"2612.0000{d}"] for d in (1, 2, 4, 7)}
    history = {f"2612.0000{d}": [at(0, 0), at(30, d)] for d in (1, 2, 4, 7)}
    days, ranked = trends.rising_window(listed, history, 2)
    assert days == [dt.date(2026, 12, 4), dt.date(2026, 12, 7)]
    assert ranked == [("2612.00007", 7), ("2612.00004", 4)]
