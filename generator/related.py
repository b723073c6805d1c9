"""Related papers: for each paper, the most similar other papers of the archive by text.

    papers = list(archive.papers.values())
    related = related_papers(papers, k=5, cache_path=paths.build / "related.json")
    related["2606.01234"]  # -> ("2606.04321", ...), best first

Similarity is the cosine of TF-IDF vectors (scikit-learn's TfidfVectorizer counts terms:
sublinear tf, English stop words, float32; rows l2-normalised). The IDF counts only the
papers published before the newest paper's year (all papers while the archive spans one
year), so adding a day moves no old paper's vector: only the lists a new paper enters change
(~140 of 20,000 a day, against ~490 with the textbook IDF, each a page to render again).
Once a year, on the first paper of a new year, every list is computed afresh. A paper's
vector joins two parts, each l2-normalised: its whole text (title + abstract) and its title
alone, so title words count more (TITLE_WEIGHT of the cosine comes from the titles). Terms
of a single paper are dropped after normalising (they add nothing to any score). Each paper
is compared to all others through its QUERY_TERMS heaviest terms, like Lucene's "more like
this": exact cosines would make the similarity matrix dense (400 million cells at 20,000
papers, ~30 s); this keeps it sparse. Scores are computed in blocks of CHUNK_ROWS papers
(block @ X.T), then a vectorised top-k per row; ties go to the lower id. Memory stays
bounded.

Cost (bench/related_bench.py, 1,000 days x 20 = 20,000 synthetic papers, one core): ~3.7 s
to compute, plus ~0.9 s to import scikit-learn on a process's first miss; peak RSS ~290 MB
above the archive's. The daily update is a full recompute (the same ~3.7 s + import); only
its result is stable.

Cache. The result depends only on the set of (id, title, abstract) triples, `k` and the
algorithm (and the papers' publication years); with `cache_path` it is stored as JSON (1.5
MB at 20,000 papers) under a sha256 of the sorted triples, the publication years, k, the
constants below and the scikit-learn version. A hit costs hashing the texts and reading the
file (~0.25 s at 20,000) and does not import scikit-learn. The file is written atomically
(fsutil.atomic_write); a missing, stale, unreadable or corrupt file is a miss and is
rewritten, and a cache that cannot be written is logged: neither fails the build.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from generator.errors import GeneratorError
from generator.fsutil import atomic_write

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

    from generator.models import Paper

log = logging.getLogger(__name__)

#: Bump when anything that changes the result changes (tokens, weights, ranking).
ALGORITHM_VERSION = 2
#: Share of the cosine that comes from the titles alone (the rest from title + abstract).
TITLE_WEIGHT = 0.3
#: A paper is compared to others through its QUERY_TERMS heaviest terms (as Lucene's
#: "more like this" does): exact scores would make the similarity matrix dense, 400 million
#: cells at 20,000 papers; this keeps it sparse and the cost near linear.
QUERY_TERMS = 20
#: Rows of the similarity matrix computed at once (bounds memory).
CHUNK_ROWS = 1000
#: Share of a row's best score below which a score is not sorted (unless too few remain).
_SET_ASIDE_BELOW = 0.6

Related = dict[str, tuple[str, ...]]


def related_papers(papers: Sequence[Paper], k: int = 5, cache_path: Path | None = None) -> Related:
    """Each paper's id -> the ids of up to `k` most similar other papers, best first.

    Every paper is a key. Only papers scoring above 0 are listed, so a paper sharing
    words with fewer than k others gets fewer ids, or none; never itself. Ties are
    broken by id (ascending). The result does not depend on the order of `papers`; if two
    entries share an id, the later one is used. With `cache_path` (e.g.
    build/related.json), see the module docstring for the cache and the cost.
    """
    if k < 0:
        raise ValueError("k must be >= 0")
    return _resolve(_Inputs(papers, k), cache_path)


class _Inputs:
    """What the result depends on, gathered (and hashed) once."""

    def __init__(self, papers: Sequence[Paper], k: int) -> None:
        self.k = k
        self.by_id = {p.id: (p.title, p.summary) for p in papers}
        self.ids = sorted(self.by_id)
        # The IDF counts the papers published before the newest paper's year (all papers
        # while the archive spans one year): a new day leaves every old paper's vector as
        # it was, and changes only the lists a new paper enters.
        published = {p.id: p.published for p in papers}
        newest_year = max((d.year for d in published.values()), default=0)
        self.frozen = [published[i].year < newest_year for i in self.ids]
        years = ",".join(str(int(f)) for f in self.frozen)
        self.key = hashlib.sha256(
            f"{_cache_key(self.ids, self.by_id, k)}|{years}".encode()).hexdigest()


def _resolve(inputs: _Inputs, cache_path: Path | None) -> Related:
    """The cached result for `inputs`, or computed (and cached)."""
    if cache_path is not None:
        cached = _read_cache(cache_path, inputs.key, inputs.ids)
        if cached is not None:
            log.debug("related papers: cache hit (%d papers)", len(cached))
            return cached
    ids, by_id = inputs.ids, inputs.by_id
    result = _compute(ids, [by_id[i][0] for i in ids], [by_id[i][1] for i in ids], inputs.k,
                      inputs.frozen)
    if cache_path is not None:
        _write_cache(cache_path, inputs.key, result)
    return result


def in_background(
    papers: Sequence[Paper], k: int, cache_path: Path
) -> Callable[[], Related]:
    """related_papers in a forked process, while the caller does other work (a miss costs
    ~4 s of CPU at 20,000 papers). Returns a function that waits and returns the result:
    read from the cache the child wrote, or computed there and then if the child failed.
    """
    inputs = _Inputs(papers, k)
    cached = _read_cache(cache_path, inputs.key, inputs.ids)
    if cached is not None:
        return lambda: cached
    child = multiprocessing.get_context("fork").Process(
        target=_resolve, args=(inputs, cache_path), name="related", daemon=True)
    child.start()

    def wait() -> Related:
        child.join()
        return _resolve(inputs, cache_path)

    return wait


# ---------------------------------------------------------------- computing


def _compute(
    ids: list[str], titles: list[str], summaries: list[str], k: int, frozen: list[bool] | None = None
) -> Related:
    """The related ids of `ids` (sorted), from their titles and summaries; the IDF counts
    the papers flagged in `frozen` (all papers when none is)."""
    result: Related = {pid: () for pid in ids}
    vectors = _vectors(titles, summaries, frozen)
    if vectors is None or k == 0 or len(ids) < 2:
        return result
    queries = _heaviest_terms(vectors, QUERY_TERMS)
    transposed = vectors.T.tocsr()
    n = len(ids)
    for start in range(0, n, CHUNK_ROWS):
        scores = queries[start : start + CHUNK_ROWS] @ transposed
        for offset, best in enumerate(_top_k(scores, start, k)):
            result[ids[start + offset]] = tuple(ids[j] for j in best)
    return result


def _vectors(
    titles: list[str], summaries: list[str], frozen: list[bool] | None = None
) -> csr_matrix | None:
    """Rows [sqrt(1-w) * tfidf(title + abstract), sqrt(w) * tfidf(title)], l2-normalised.

    Term frequencies are sublinear; the IDF (smoothed, as scikit-learn's) counts only the
    `frozen` papers when any is flagged. None when no document has a single scored word.
    """
    import numpy as np
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    counter = TfidfVectorizer(  # sublinear term counts; the IDF is computed below
        stop_words="english",
        sublinear_tf=True,
        use_idf=False,
        norm=None,
        dtype=np.float32,
        # The default pattern's tokens (runs of 2+ word characters) without its \b
        # assertions, which findall does not need: a third faster on 20,000 abstracts.
        token_pattern=r"\w\w+",
    )
    try:
        whole = counter.fit_transform([f"{t}\n{s}" for t, s in zip(titles, summaries)]).tocsr()
    except ValueError:  # "empty vocabulary": nothing but stop words, symbols or nothing
        return None
    basis = whole[np.flatnonzero(frozen)] if frozen is not None and any(frozen) else whole
    df = np.bincount(basis.indices, minlength=whole.shape[1]).astype(np.float64)
    idf = sp.diags((np.log((1 + basis.shape[0]) / (1 + df)) + 1).astype(np.float32))
    whole = normalize(whole @ idf, norm="l2", copy=False)
    title = normalize(counter.transform(titles) @ idf, norm="l2", copy=False)
    joined = sp.hstack(
        [whole * np.float32((1 - TITLE_WEIGHT) ** 0.5), title * np.float32(TITLE_WEIGHT**0.5)],
        format="csr",
    )
    joined = normalize(joined, norm="l2", copy=False)
    # A term of one document adds nothing to any score, but it would take a query term's
    # place: drop it after normalising (the cosines stay exact).
    shared = np.flatnonzero(np.bincount(joined.indices, minlength=joined.shape[1]) > 1)
    return joined[:, shared]


def _heaviest_terms(vectors: csr_matrix, m: int) -> csr_matrix:
    """`vectors` keeping only each row's `m` largest weights (ties: lower column first)."""
    import numpy as np
    import scipy.sparse as sp

    counts = np.diff(vectors.indptr)
    if counts.max(initial=0) <= m:
        return vectors
    rows = np.repeat(np.arange(vectors.shape[0]), counts)
    # One sort orders every row's entries by weight, heaviest first: weights are in (0, 1].
    order = np.argsort(rows - vectors.data.astype(np.float64) * 0.5, kind="stable")
    rank = np.arange(vectors.nnz) - vectors.indptr[rows[order]]
    keep = np.sort(order[rank < m])
    indptr = np.concatenate(([0], np.cumsum(np.minimum(counts, m))))
    return sp.csr_matrix((vectors.data[keep], vectors.indices[keep], indptr), shape=vectors.shape)


def _top_k(scores: csr_matrix, first_row: int, k: int) -> list[list[int]]:
    """Per row of `scores` (row r is paper first_row + r), the columns of its k highest
    positive scores, best first, ties by column; never the paper itself.

    Vectorised over the whole block: a row's scores below _SET_ASIDE_BELOW of its best are
    set aside unless fewer than k remain (exact either way: each one set aside ranks below
    k others), then one sort by (row, -score, column) orders what is left.
    """
    import numpy as np

    m = scores.shape[0]
    indptr, cols = scores.indptr, scores.indices
    counts = np.diff(indptr)
    rows = np.repeat(np.arange(m, dtype=cols.dtype), counts)
    vals = scores.data.copy()
    vals[cols == rows + first_row] = 0  # never itself
    best = np.zeros(m, dtype=vals.dtype)
    filled = counts > 0
    if filled.any():
        best[filled] = np.maximum.reduceat(vals, indptr[:-1][filled])
    high = vals >= np.repeat(best * np.float32(_SET_ASIDE_BELOW), counts)
    short = np.bincount(rows[high], minlength=m) < k
    keep = np.flatnonzero(high | np.repeat(short, counts))
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    positive = vals > 0
    rows, cols, vals = rows[positive], cols[positive], vals[positive]
    order = np.lexsort((cols, -vals, rows))
    rows, cols = rows[order], cols[order]
    bounds = np.searchsorted(rows, np.arange(m + 1))
    ranked = np.arange(len(rows)) - bounds[rows] < k
    cols = cols[ranked].tolist()
    bounds = np.searchsorted(rows[ranked], np.arange(m + 1)).tolist()
    return [cols[bounds[r] : bounds[r + 1]] for r in range(m)]


# ---------------------------------------------------------------- cache


def _cache_key(ids: list[str], texts: dict[str, tuple[str, str]], k: int) -> str:
    """sha256 of the sorted (id, title, summary) triples, k and the algorithm's versions."""
    digest = hashlib.sha256()
    head = (ALGORITHM_VERSION, k, TITLE_WEIGHT, QUERY_TERMS, _sklearn_version())
    digest.update(repr(head).encode())
    for pid in ids:
        title, summary = texts[pid]
        for part in (pid, title, summary):
            data = part.encode("utf-8", "surrogatepass")
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
    return digest.hexdigest()


def _sklearn_version() -> str:
    try:
        return metadata.version("scikit-learn")
    except metadata.PackageNotFoundError:
        return "none"


def _read_cache(path: Path, key: str, ids: list[str]) -> Related | None:
    """The cached result for `key`, or None for a missing, stale or damaged file."""
    try:
        data = json.loads(path.read_bytes())
        if data.get("key") != key:
            return None
        if sorted(data["related"]) != ids:
            raise ValueError("papers differ from the key's")
        related = data["related"]
        if not all(
            isinstance(others, list) and all(isinstance(o, str) for o in others)
            for others in related.values()
        ):
            raise ValueError("not a list of ids per paper")
        return {pid: tuple(others) for pid, others in related.items()}
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - any damage is a miss: recompute and rewrite
        log.warning("%s: ignoring the related-papers cache (%s); recomputing", path, exc)
        return None


def _write_cache(path: Path, key: str, result: Related) -> None:
    data = json.dumps({"key": key, "related": result}, separators=(",", ":"))
    try:
        atomic_write(path, data.encode("utf-8"))
    except (GeneratorError, OSError) as exc:  # a cache not written costs time, not the build
        log.warning("related papers: cache not written: %s", exc)
