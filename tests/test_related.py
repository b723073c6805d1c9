"""generator.related: TF-IDF related papers, their ranking rules and their cache."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from generator import related
from generator.models import Paper


def paper(pid: str, title: str, summary: str = "") -> Paper:
    return Paper(
        id=pid,
        title=title,
        summary=summary,
        authors=[],
        published=dt.date(2026, 6, 1),
        upvotes=0,
        comments=0,
    )


DIFFUSION = [
    paper(
        "2606.00001",
        "Temporal Diffusion for Long Video Generation",
        "We train a latent diffusion model that generates long videos with consistent motion "
        "across frames, denoising video latents with temporal attention.",
    ),
    paper(
        "2606.00002",
        "Video Diffusion Transformers at Scale",
        "A diffusion transformer for text-to-video generation; denoising in a compressed video "
        "latent space gives coherent frames and motion.",
    ),
    paper(
        "2606.00003",
        "Fast Sampling for Video Diffusion Models",
        "Distilling a video diffusion model into few denoising steps speeds up video generation "
        "while keeping frames sharp and motion smooth.",
    ),
]
REWARD = [
    paper(
        "2606.00004",
        "Reward Models for Reinforcement Learning from Human Feedback",
        "Reward models trained on human preference pairs guide reinforcement learning of "
        "language model policies; we study reward hacking.",
    ),
    paper(
        "2606.00005",
        "Process Reward Models Improve Policy Optimization",
        "Step-level reward models give denser signals to reinforcement learning, improving "
        "policy optimization on reasoning tasks.",
    ),
    paper(
        "2606.00006",
        "Robust Reward Modeling against Reward Hacking",
        "Reinforcement learning exploits flaws of a learned reward model; ensembles of reward "
        "models reduce hacking of the policy.",
    ),
]
TOPICAL = DIFFUSION + REWARD


def synthetic(n: int, seed: int = 3) -> list[Paper]:
    """n papers of random words from a small vocabulary: many overlaps and ties."""
    rng = random.Random(seed)
    words = ["video", "diffusion", "reward", "policy", "agent", "graph", "token", "robot"]
    return [
        paper(
            f"2607.{i:05d}",
            " ".join(rng.choices(words, k=4)),
            " ".join(rng.choices(words, k=rng.randint(0, 30))),
        )
        for i in range(n)
    ]


def test_topical_neighbours_come_first() -> None:
    result = related.related_papers(TOPICAL, k=2)
    diffusion = {p.id for p in DIFFUSION}
    reward = {p.id for p in REWARD}
    for p in DIFFUSION:
        assert set(result[p.id]) == diffusion - {p.id}
    for p in REWARD:
        assert set(result[p.id]) == reward - {p.id}


def test_never_itself_at_most_k_and_valid_ids() -> None:
    papers = synthetic(300)
    ids = {p.id for p in papers}
    for k in (0, 1, 5, 400):
        result = related.related_papers(papers, k=k)
        assert set(result) == ids
        for pid, others in result.items():
            assert pid not in others
            assert len(others) <= k
            assert len(set(others)) == len(others)
            assert set(others) <= ids


def test_deterministic_across_runs_and_input_order() -> None:
    papers = synthetic(400)
    first = related.related_papers(papers)
    shuffled = papers[:]
    random.Random(1).shuffle(shuffled)
    assert related.related_papers(shuffled) == first
    assert related.related_papers(list(reversed(papers))) == first


def test_ties_are_broken_by_id() -> None:
    twins = [paper(f"2606.{i:05d}", "quantum annealing schedules", "") for i in (9, 3, 7, 5)]
    result = related.related_papers(twins, k=2)
    assert result["2606.00009"] == ("2606.00003", "2606.00005")
    assert result["2606.00003"] == ("2606.00005", "2606.00007")


def test_ranking_matches_exact_cosine_on_small_archive() -> None:
    """With few terms per paper nothing is pruned: the order is the exact cosine's."""
    papers = synthetic(120)
    result = related.related_papers(papers, k=5)
    ids = sorted(p.id for p in papers)
    by_id = {p.id: p for p in papers}
    vectors = related._vectors([by_id[i].title for i in ids], [by_id[i].summary for i in ids])
    cosine = (vectors @ vectors.T).toarray()
    for row, pid in enumerate(ids):
        expected = sorted(
            (j for j in range(len(ids)) if j != row and cosine[row, j] > 0),
            key=lambda j: (-cosine[row, j], j),
        )[:5]
        assert result[pid] == tuple(ids[j] for j in expected)


@pytest.mark.parametrize("k", [1, 3, 5, 50])
def test_top_k_is_exact_with_ties_self_and_empty_rows(k: int) -> None:
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(k)
    dense = rng.integers(0, 6, size=(40, 60)).astype(np.float32) / 5  # many ties and zeros
    dense[rng.random(dense.shape) < 0.5] = 0
    dense[7] = 0  # a row with no score
    dense[8] = 0
    dense[8, 18] = 1.0  # a row whose only score is itself (paper 10 + 8)
    dense[3, :] = 0.2  # a row of one tie
    dense[3, 13] = 1.0  # ... and a best score that is itself
    got = related._top_k(sp.csr_matrix(dense), 10, k)
    for r, row in enumerate(dense):
        expected = sorted(
            (c for c in range(dense.shape[1]) if row[c] > 0 and c != 10 + r),
            key=lambda c: (-row[c], c),
        )[:k]
        assert got[r] == expected


def test_title_weighs_more_than_abstract() -> None:
    base = paper("2606.00010", "Graph Neural Networks", "We study message passing on molecules.")
    by_title = paper("2606.00011", "Graph Neural Networks Revisited", "Benchmarks of citations.")
    by_abstract = paper("2606.00012", "Chemistry Benchmarks", "Graph neural networks on molecules.")
    result = related.related_papers([base, by_title, by_abstract], k=2)
    assert result[base.id][0] == by_title.id


def test_a_repeated_id_counts_once_with_its_last_text() -> None:
    stale = paper(DIFFUSION[0].id, "Reward Models Revisited", "reward models reinforcement")
    result = related.related_papers([stale, *TOPICAL])
    assert result == related.related_papers(TOPICAL)


def test_paper_with_nothing_in_common_gets_none() -> None:
    loner = paper("2606.00099", "Zymurgy", "Brewing yeast fermentation kinetics.")
    result = related.related_papers([*TOPICAL, loner])
    assert result[loner.id] == ()
    assert loner.id not in {o for others in result.values() for o in others}


@pytest.mark.parametrize(
    "papers",
    [
        [],
        [paper("2606.00001", "Only One Paper", "Alone.")],
        [paper("2606.00001", "the and of", ""), paper("2606.00002", "a an", "")],  # stop words
        [paper("2606.00001", "!!", ""), paper("2606.00002", "??", "...")],  # no tokens at all
    ],
)
def test_degenerate_archives(papers: list[Paper]) -> None:
    assert related.related_papers(papers) == {p.id: () for p in papers}


def test_hostile_text_does_not_crash() -> None:
    hostile = [
        paper("2606.00021", "<script>alert('x')</script> Video Diffusion", "<b>video</b> &amp;"),
        paper("2606.00022", "Video\u200b Diffusion\u202e Models", "tab\tnew\nline"),
        paper("2606.00023", "扩散模型视频生成", "视频 生成 扩散"),
        paper("2606.00024", "视频 生成", ""),
        paper("2606.00025", "Empty Abstract Video", ""),
        paper("2606.00026", "Ünïcödé Diffusion naïve café", "😀 emoji 🚀 " * 50),
        paper("2606.00027", "Long", "word " * 5000),
    ]
    # Unvalidated text too: control characters and a lone surrogate reach the vectorizer.
    raw = Paper.model_construct(
        id="2606.00028",
        title="Video\x00\x1b[31m\ud800",
        summary="\x7f",
        published=dt.date(2026, 6, 1),
    )
    result = related.related_papers([*hostile, raw, *DIFFUSION])
    assert set(result) == {p.id for p in [*hostile, raw, *DIFFUSION]}
    assert "2606.00024" in result["2606.00023"]  # CJK tokens are words too
    assert result["2606.00021"]


# ---------------------------------------------------------------- cache


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the computations (cache misses)."""
    calls: list[int] = []
    compute = related._compute

    def spy(*args, **kwargs):
        calls.append(1)
        return compute(*args, **kwargs)

    monkeypatch.setattr(related, "_compute", spy)
    return calls


def test_cache_hit_skips_the_computation(tmp_path, counted) -> None:
    cache = tmp_path / "build" / "related.json"
    first = related.related_papers(TOPICAL, cache_path=cache)
    assert len(counted) == 1 and cache.exists()
    stamp = cache.stat().st_mtime_ns
    again = related.related_papers(list(reversed(TOPICAL)), cache_path=cache)
    assert again == first
    assert len(counted) == 1
    assert cache.stat().st_mtime_ns == stamp
    assert not list(cache.parent.glob(".*tmp*"))  # atomic write left no temp file


@pytest.mark.parametrize(
    "change",
    [
        lambda papers: papers[:-1],  # a paper removed
        lambda papers: [*papers, paper("2606.00050", "Video Diffusion Again", "video")],
        lambda papers: [paper(papers[0].id, papers[0].title, "edited"), *papers[1:]],
        lambda papers: [paper(papers[0].id, "Edited Title", papers[0].summary), *papers[1:]],
    ],
)
def test_cache_misses_when_the_texts_change(tmp_path, counted, change) -> None:
    cache = tmp_path / "related.json"
    related.related_papers(TOPICAL, cache_path=cache)
    changed = change(TOPICAL)
    result = related.related_papers(changed, cache_path=cache)
    assert len(counted) == 2
    assert related.related_papers(changed, cache_path=cache) == result
    assert len(counted) == 2  # the rewritten cache now hits
    assert result == related.related_papers(changed)


def test_cache_keyed_by_k(tmp_path, counted) -> None:
    cache = tmp_path / "related.json"
    two = related.related_papers(TOPICAL, k=2, cache_path=cache)
    one = related.related_papers(TOPICAL, k=1, cache_path=cache)
    assert len(counted) == 2
    assert all(len(v) <= 1 for v in one.values()) and two != one


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"\x00\xff garbage",
        b'{"key": "',
        b"[]",
        b'{"key": null}',
        "KEY_RELATED_NOT_A_DICT",
        "KEY_IDS_AS_STRING",
        "KEY_WRONG_PAPERS",
    ],
)
def test_corrupt_cache_is_rebuilt(tmp_path, counted, damage) -> None:
    cache = tmp_path / "related.json"
    good = related.related_papers(TOPICAL, cache_path=cache)
    key = json.loads(cache.read_bytes())["key"]
    if damage == "KEY_RELATED_NOT_A_DICT":
        damage = json.dumps({"key": key, "related": ["x"]}).encode()
    elif damage == "KEY_IDS_AS_STRING":
        damage = json.dumps({"key": key, "related": {p.id: "2606" for p in TOPICAL}}).encode()
    elif damage == "KEY_WRONG_PAPERS":
        damage = json.dumps({"key": key, "related": {"2606.99999": []}}).encode()
    cache.write_bytes(damage)
    assert related.related_papers(TOPICAL, cache_path=cache) == good
    assert len(counted) == 2
    assert json.loads(cache.read_bytes())["key"] == key  # rewritten whole


def test_unwritable_cache_does_not_fail(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = related.related_papers(TOPICAL, cache_path=blocker / "related.json")
    assert result == related.related_papers(TOPICAL)


def test_a_new_paper_changes_only_the_lists_it_enters() -> None:
    """Old papers' vectors do not move when a paper is added (the IDF counts the papers of
    earlier years), so only lists the new paper enters change: fewer pages to re-render."""
    rng = random.Random(5)
    words = [f"w{i}" for i in range(300)]

    def made(pid: str, year: int) -> Paper:
        text = " ".join(rng.choices(words, k=60))
        return Paper.model_validate(
            {**paper(pid, text[:40], text).model_dump(), "published": dt.date(year, 3, 1)}
        )

    old = [made(f"2501.{i:05d}", 2025) for i in range(150)]
    old += [made(f"2601.{i:05d}", 2026) for i in range(150)]
    before = related.related_papers(old)
    new = made("2602.00001", 2026)
    after = related.related_papers([*old, new])
    changed = {pid for pid in before if before[pid] != after[pid]}
    assert changed and all(new.id in after[pid] for pid in changed)


def test_adding_papers_updates_the_saved_model_and_equals_computing_afresh(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A day of new papers extends the model the last build saved (only the new papers'
    lists and those of papers whose one-paper words they share are ranked again); the
    result is exactly a computation from scratch. New words, words that become shared,
    ids that sort between old ones and papers with no text are all in the new days."""
    rng = random.Random(11)
    words = [f"w{i}" for i in range(400)]

    def made(pid: str, year: int, extra: str = "") -> Paper:
        text = " ".join(rng.choices(words, k=rng.randint(0, 50))) + extra
        return Paper.model_validate(
            {
                **paper(pid, text[:30] or "Untitled", text).model_dump(),
                "published": dt.date(year, 3, 1),
            }
        )

    papers = [made(f"2501.{i:05d}", 2025, f" only{i}") for i in range(200)]
    papers += [made(f"2601.{i:05d}", 2026) for i in range(0, 200, 2)]
    fits: list[int] = []
    fit = related._Model.fit.__func__
    monkeypatch.setattr(
        related._Model, "fit", classmethod(lambda cls, *a: fits.append(1) or fit(cls, *a))
    )
    cache = tmp_path / "related.json"
    related.related_papers(papers, k=4, cache_path=cache)
    assert len(fits) == 1 and (tmp_path / "related-state.npz").is_file()
    for day in range(4):
        papers += [
            made(f"2601.{i:05d}", 2026, f" only{rng.randrange(200)} fresh{day} fresh{i}")
            for i in range(1 + 2 * day, 200, 38)
        ]  # between old ids; old one-paper words
        papers.append(made(f"2602.{day:05d}", 2026, ""))
        got = related.related_papers(papers, k=4, cache_path=cache)
        assert got == related.related_papers(papers, k=4), day
    assert len(fits) == 1 + 4  # the four from-scratch runs are the comparisons, no cache
    # Not an extension: an edited paper, or a new paper of an earlier year (the IDF moves).
    papers[0] = made(papers[0].id, 2025)
    assert related.related_papers(papers, k=4, cache_path=cache) == related.related_papers(
        papers, k=4
    )
    papers.append(made("2412.00001", 2024))
    assert related.related_papers(papers, k=4, cache_path=cache) == related.related_papers(
        papers, k=4
    )
    assert len(fits) == 5 + 4


def test_a_damaged_model_file_means_starting_over(tmp_path) -> None:
    cache = tmp_path / "related.json"
    old = [
        Paper.model_validate({**p.model_dump(), "published": dt.date(2025, 1, 1)}) for p in TOPICAL
    ]
    related.related_papers(old, cache_path=cache)
    state = tmp_path / "related-state.npz"
    state.write_bytes(state.read_bytes()[:300])
    more = [*old, paper("2606.00050", "Video Diffusion Again", "video latent motion")]
    assert related.related_papers(more, cache_path=cache) == related.related_papers(more)


def test_forked_related_papers_answer_before_writing_their_caches(tmp_path) -> None:
    from generator.forked import Forked

    expected = related.related_papers(TOPICAL, k=2)
    cache = tmp_path / "related.json"
    with Forked("related", related.related_papers, TOPICAL, 2, cache, early=True) as job:
        assert job.result() == expected
    assert cache.is_file()  # written after the answer was sent; leaving the block waited
    assert related.related_papers(TOPICAL, k=2, cache_path=cache) == expected
