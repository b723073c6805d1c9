"""Fuzzing the network door: any answer the local API sends, `fetch` ends with exit 0 or 1.

Hypothesis makes the answers (JSON of any shape and nesting, real items with fields
replaced by hostile values, raw bytes in assorted encodings, gzip or deflate bodies, with
or without a truthful Content-Encoding) and the real command runs against the real local
server (click's CliRunner, in-process). Each example must end with exit 0 or 1 (never an
exception), within its deadline, and a failed fetch leaves the stored day byte-identical;
a successful one leaves a valid day file.
"""

from __future__ import annotations

import copy
import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apiserver import FakeApi, load_items
from click.testing import CliRunner
from conftest import make_project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import store
from generator.cli import cli
from generator.config import Paths

DAY = "2026-10-03"
LIMITS = {
    "timeout": 1.0,
    "retries": 0,
    "max_wait": 0.01,
    "rate_limit": 100_000,
    "rate_window": 1.0,
    "request_deadline": 2.0,
    "run_deadline": 4.0,
    "max_body_bytes": 200_000,
    "max_json_depth": 16,
    "max_items_per_day": 300,
}
EXAMPLES = 120
REAL = load_items(DAY)

# ---------------------------------------------------------------- answers

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "2610.01092",
            "٢٦١٠.٠١٠٩٢",
            "javascript:alert(1)",
            "http://x y",
            "https://ok.example/\n",
            "<script>x</script>",
            "\x00\ud800",
            "9" * 40,
        ]
    ),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)
FIELDS = [
    "id",
    "title",
    "summary",
    "upvotes",
    "authors",
    "publishedAt",
    "organization",
    "ai_keywords",
    "githubRepo",
    "githubStars",
    "projectPage",
    "ai_summary",
]


@st.composite
def mutated_items(draw: st.DrawFn) -> list[Any]:
    """Real items with some fields (inside `paper` or at the top) replaced or removed."""
    items = copy.deepcopy(REAL[: draw(st.integers(0, len(REAL)))])
    for item in items:
        for _ in range(draw(st.integers(0, 3))):
            where = item["paper"] if draw(st.booleans()) else item
            key = draw(st.sampled_from(FIELDS + ["numComments", "thumbnail", "submittedBy"]))
            if draw(st.booleans()):
                where.pop(key, None)
            else:
                where[key] = draw(json_values)
    return items


def _encode(text: str, draw: st.DrawFn) -> bytes:
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "utf-32"]))
    return text.encode(encoding, "surrogatepass" if encoding.startswith("utf") else "replace")


@st.composite
def answers(draw: st.DrawFn) -> tuple[int, dict[str, str], bytes]:
    kind = draw(st.sampled_from(["items", "json", "nested", "bytes", "numbers"]))
    if kind == "items":
        text = json.dumps(draw(mutated_items()))
    elif kind == "json":
        text = json.dumps(draw(json_values))
    elif kind == "nested":
        depth = draw(st.integers(1, 5_000))
        text = "[" * depth + draw(st.sampled_from(["", "1", "{}"])) + "]" * depth
    elif kind == "numbers":
        number = draw(st.sampled_from(["NaN", "Infinity", "-1", "1e999", "9" * 5000, "0.5"]))
        text = json.dumps(REAL[:3]).replace('"upvotes": ', f'"upvotes": {number}, "x": ', 1)
    else:
        return 200, {"Content-Type": "application/json"}, draw(st.binary(max_size=300))
    body = _encode(text, draw) if kind != "items" or draw(st.booleans()) else text.encode()
    headers = {"Content-Type": "application/json"}
    compression = draw(st.sampled_from([None, "gzip", "deflate", "gzip-lie", "truncate"]))
    if compression == "gzip":
        body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
    elif compression == "deflate":
        body, headers["Content-Encoding"] = zlib.compress(body), "deflate"
    elif compression == "gzip-lie":
        headers["Content-Encoding"] = "gzip"  # says gzip, is not
    elif compression == "truncate":
        body = body[: len(body) // 2]
    if draw(st.booleans()):
        headers["Content-Length"] = str(len(body) + draw(st.sampled_from([0, 0, -1, 5])))
    status = draw(st.sampled_from([200, 200, 200, 201, 204, 301, 404, 500, 503]))
    return status, headers, body


# ---------------------------------------------------------------- the door


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Paths, FakeApi, bytes]]:
    paths = make_project(
        tmp_path_factory.mktemp("fuzz-api") / "p", content_from=None, settings={"fetch": LIMITS}
    )
    with FakeApi({DAY: REAL}) as api:
        result = CliRunner().invoke(
            cli, ["fetch", "--root", str(paths.root), "--api", api.url, "--date", DAY]
        )
        assert result.exit_code == 0, result.output
        stored = store.day_path(paths.content, store.dt.date.fromisoformat(DAY))
        yield paths, api, stored.read_bytes()


@settings(
    max_examples=EXAMPLES,
    deadline=8_000,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(answer=answers())
def test_any_answer_ends_in_exit_0_or_1_and_a_failure_keeps_the_day(
    door: tuple[Paths, FakeApi, bytes], answer: tuple[int, dict[str, str], bytes]
) -> None:
    paths, api, original = door
    stored: Path = store.day_path(paths.content, store.dt.date.fromisoformat(DAY))
    stored.write_bytes(original)
    status, headers, body = answer
    api.faults.clear()
    api.add_faults(DAY, ("raw", status, headers, body))
    result = CliRunner().invoke(
        cli, ["fetch", "--root", str(paths.root), "--api", api.url, "--date", DAY]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}\n{result.output}"
    )
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:
        assert stored.read_bytes() == original
    else:
        store.load_day(stored)  # whatever was merged is a valid day file
