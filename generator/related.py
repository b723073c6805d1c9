"""Related papers: for each paper, the most similar other papers of the archive by text.

    papers = list(archive.papers.values())
    related = related_papers(papers, k=5, cache_path=paths.build / "related.json")
    related["2606.01234"]  # -> ("2606.04321", ...), best first

Similarity is the cosine of TF-IDF vectors (terms: lower-cased runs of 2+ word characters
without STOP_WORDS; sublinear tf, smoothed IDF, float32; rows l2-normalised), computed with
numpy and scipy.sparse alone (importing scikit-learn for its vectoriser cost ~1.2 s a
build). The IDF counts only the papers published before the newest paper's year (all papers while the archive spans one
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

Cost (1,000 days x 20 = 20,000 synthetic papers, one core): ~3.5 s to compute from
scratch and ~260 MB above the archive. A build that only adds papers (a daily update)
extends the model the last computation saved instead (_Model.extend: ~0.5 s), with exactly
the same result.

Cache. Besides the model (build/related-state.npz, ~25 MB at 20,000 papers), the result
depends only on the set of (id, title, abstract) triples, `k` and the
algorithm (and the papers' publication years); with `cache_path` it is stored as JSON (1.5
MB at 20,000 papers) under a sha256 of the sorted triples, the publication years, k, the
constants below and the scipy version. A hit costs hashing the texts and reading the
file (~0.25 s at 20,000) and does not import scipy. The file is written atomically
(fsutil.atomic_write); a missing, stale, unreadable or corrupt file is a miss and is
rewritten, and a cache that cannot be written is logged: neither fails the build.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.errors import GeneratorError
from generator.fsutil import atomic_write

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

    from generator.models import Paper

log = logging.getLogger(__name__)

#: Bump when anything that changes the result changes (tokens, weights, ranking).
ALGORITHM_VERSION = 4
#: Share of the cosine that comes from the titles alone (the rest from title + abstract).
TITLE_WEIGHT = 0.3
#: A paper is compared to others through its QUERY_TERMS heaviest terms (as Lucene's
#: "more like this" does): exact scores would make the similarity matrix dense, 400 million
#: cells at 20,000 papers; this keeps it sparse and the cost near linear.
QUERY_TERMS = 20
#: Rows of the similarity matrix computed at once (bounds memory).
CHUNK_ROWS = 250
#: Share of a row's best score below which a score is not sorted (unless too few remain).
_SET_ASIDE_BELOW = 0.6

Related = dict[str, tuple[str, ...]]


def related_papers(
    papers: Sequence[Paper],
    k: int = 5,
    cache_path: Path | None = None,
    deliver: Callable[[Related], None] | None = None,
) -> Related:
    """Each paper's id -> the ids of up to `k` most similar other papers, best first.

    Every paper is a key. Only papers scoring above 0 are listed, so a paper sharing
    words with fewer than k others gets fewer ids, or none; never itself. Ties are
    broken by id (ascending). The result does not depend on the order of `papers`; if two
    entries share an id, the later one is used. With `cache_path` (e.g.
    build/related.json), see the module docstring for the cache and the cost. `deliver`
    gets the result as soon as it is known, before the caches are written (the build runs
    this in a forked.Forked child with early=True, so the pages need not wait for them).
    """
    if k < 0:
        raise ValueError("k must be >= 0")
    return _resolve(_Inputs(papers, k), cache_path, deliver)


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
            f"{_cache_key(self.ids, self.by_id, k)}|{years}".encode()
        ).hexdigest()


def _resolve(
    inputs: _Inputs, cache_path: Path | None, deliver: Callable[[Related], None] | None = None
) -> Related:
    """The cached result for `inputs`, or computed (and cached). `deliver` gets the result
    as soon as it is known, before the caches are written."""
    if cache_path is not None:
        cached = _read_cache(cache_path, inputs.key, inputs.ids)
        if cached is not None:
            log.debug("related papers: cache hit (%d papers)", len(cached))
            if deliver is not None:
                deliver(cached)
            return cached
    ids, by_id = inputs.ids, inputs.by_id
    state = cache_path.with_name(cache_path.stem + "-state.npz") if cache_path else None
    result = _compute(
        ids,
        [by_id[i][0] for i in ids],
        [by_id[i][1] for i in ids],
        inputs.k,
        inputs.frozen,
        state,
        deliver,
    )
    if cache_path is not None:
        _write_cache(cache_path, inputs.key, result)
    return result


# ---------------------------------------------------------------- computing


def _compute(
    ids: list[str],
    titles: list[str],
    summaries: list[str],
    k: int,
    frozen: list[bool] | None = None,
    state_path: Path | None = None,
    deliver: Callable[[Related], None] | None = None,
) -> Related:
    """The related ids of `ids` (sorted), from their titles and summaries; the IDF counts
    the papers flagged in `frozen` (all papers when none is).

    With `state_path`, the model of the last computation (vectors, vocabulary, lists and
    their scores) is kept there, and a computation that only adds papers to it, under the
    same IDF, updates it instead of starting over (see _Model.extend): the same result,
    ~0.5 s instead of ~3.5 s at 20,000 papers.
    """
    model = None
    if state_path is not None and frozen is not None and any(frozen):
        old = _Model.load(state_path)
        if old is not None:
            model = old.extend(ids, titles, summaries, k, frozen)
    if model is None:
        model = _Model.fit(ids, titles, summaries, k, frozen)
    result = model.related()
    if deliver is not None:
        deliver(result)
    if state_path is not None:
        model.save(state_path)
    return result


def _digests(titles: list[str], summaries: list[str]) -> list[bytes]:
    return [
        hashlib.blake2b(f"{t}\0{s}".encode("utf-8", "surrogatepass"), digest_size=12).digest()
        for t, s in zip(titles, summaries, strict=True)
    ]


#: Words too common in English prose to say what a paper is about (our own list; the IDF
#: lowers other frequent words by itself).
STOP_WORDS = frozenset(
    """
a about above after again against all almost along already also although always am among
an and another any anyone anything are around as at be became because been before being
below between both but by can cannot could did do does doing done down during each either
else enough etc even ever every few for from further had has have having he her here hers
herself him himself his how however i if in into is it its itself just least less many may
me might more most much must my myself neither no nor not now of off often on once one only
onto or other others otherwise our ours ourselves out over own per perhaps rather same she
should since so some such than that the their theirs them themselves then there thereby
therefore these they this those though through thus to too toward towards under until up
upon us very via was we well were what whatever when where whereas whether which while who
whom whose why will with within without would yet you your yours yourself yourselves
""".split()
)
_TOKEN = re.compile(r"\w\w+")  # runs of two or more word characters


def _analyze(text: str) -> list[str]:
    """A text's terms: lower-cased runs of 2+ word characters, stop words left out."""
    return [token for token in _TOKEN.findall(text.lower()) if token not in STOP_WORDS]


class _Model:
    """Everything a computation leaves that the next one can build on.

    ids (sorted) and their text digests; terms (the vocabulary, sorted: a column's place);
    idf per term; joined: each paper's row over [text terms | title terms], l2-normalised,
    before terms of a single paper are dropped; col_df: papers per column of joined; frozen:
    the papers the IDF counts; top/scores: each paper's k best (positions in ids, -1 when
    fewer) and their scores.
    """

    ids: list[str]
    digests: list[bytes]
    terms: list[str]
    idf: Any
    joined: Any
    col_df: Any
    frozen: Any
    k: int
    basis_size: int
    top: Any
    scores: Any

    def __init__(self, **parts: Any) -> None:
        self.__dict__.update(parts)

    # -------------------------------------------------- from scratch

    @classmethod
    def fit(
        cls,
        ids: list[str],
        titles: list[str],
        summaries: list[str],
        k: int,
        frozen: list[bool] | None,
    ) -> _Model:
        import numpy as np

        analyze, vocabulary = _analyze, dict[str, int]()
        whole = _term_ids(
            [f"{t}\n{s}" for t, s in zip(titles, summaries, strict=True)], analyze, vocabulary
        )
        terms, place = _sorted_terms(vocabulary)
        counts = _counts(whole, place)
        flags = np.array(
            frozen if frozen is not None and any(frozen) else [True] * len(ids), dtype=bool
        )
        basis = counts[np.flatnonzero(flags)]
        df = np.bincount(basis.indices, minlength=len(terms))
        idf = _idf(basis.shape[0], df)
        title_counts = _counts(_term_ids(titles, analyze, vocabulary), place)
        joined = _join(counts, title_counts, idf)
        col_df = np.bincount(joined.indices, minlength=joined.shape[1]).astype(np.int64)
        model = cls(
            ids=list(ids),
            digests=_digests(titles, summaries),
            terms=terms,
            idf=idf,
            joined=joined,
            col_df=col_df,
            frozen=flags,
            k=k,
            basis_size=basis.shape[0],
        )
        model.top, model.scores = model._rank(np.arange(len(ids)))
        return model

    # -------------------------------------------------- adding papers

    def extend(
        self, ids: list[str], titles: list[str], summaries: list[str], k: int, frozen: list[bool]
    ) -> _Model | None:
        """This model with the papers of `ids` that it lacks added, or None when that is not
        exact: a paper removed or edited, another k, or another set of papers for the IDF.

        Why it is exact: the IDF does not move; a new paper's row is its own; an old row
        changes only where a column of one paper becomes shared (papers A), so only the new
        papers' and A's lists are ranked again, against all. Every other old list keeps its
        k best among old papers (their scores unchanged: its query has no such column) and
        takes in any new paper that beats them; scores are sums in the same order, so the
        same floats. Ties go to the lower id either way.
        """
        import numpy as np
        import scipy.sparse as sp

        if k != self.k or len(ids) < len(self.ids):
            return None
        where = {pid: i for i, pid in enumerate(ids)}
        old_rows = np.array([where.get(pid, -1) for pid in self.ids], dtype=np.int64)
        if (old_rows < 0).any():
            return None
        digests = _digests(titles, summaries)
        if any(digests[r] != d for r, d in zip(old_rows.tolist(), self.digests, strict=True)):
            return None
        flags = np.array(frozen, dtype=bool)
        new_rows = np.setdiff1d(np.arange(len(ids)), old_rows)
        if not np.array_equal(flags[old_rows], self.frozen) or flags[new_rows].any():
            return None
        if len(new_rows) == 0:
            return self
        analyze = _analyze
        vocabulary = {term: i for i, term in enumerate(self.terms)}
        added = new_rows.tolist()
        new_whole = _term_ids([f"{titles[r]}\n{summaries[r]}" for r in added], analyze, vocabulary)
        terms, place = _sorted_terms(vocabulary)
        moved = place[: len(self.terms)]  # old column -> new column
        width = len(terms)
        idf = _idf(self.basis_size, np.zeros(width, dtype=np.int64))  # new terms: in no basis paper
        idf[moved] = self.idf
        new_joined = _join(
            _counts(new_whole, place),
            _counts(_term_ids([titles[r] for r in added], analyze, vocabulary), place),
            idf,
        )
        cols_of = np.concatenate([moved, width + moved])  # old joined column -> new
        old_joined = sp.csr_matrix(
            (self.joined.data, cols_of[self.joined.indices], self.joined.indptr),
            shape=(self.joined.shape[0], 2 * width),
        )
        col_df = np.zeros(2 * width, dtype=np.int64)
        col_df[cols_of] = self.col_df
        now_shared = np.zeros(2 * width, dtype=bool)
        now_shared[cols_of] = self.col_df == 1
        col_df += np.bincount(new_joined.indices, minlength=2 * width)
        now_shared &= col_df > 1
        touched = np.unique(
            np.repeat(np.arange(old_joined.shape[0]), np.diff(old_joined.indptr))[
                now_shared[old_joined.indices]
            ]
        )
        order = np.empty(len(ids), dtype=np.int64)  # row of the stacked matrix for each id
        order[old_rows] = np.arange(len(old_rows))
        order[new_rows] = len(old_rows) + np.arange(len(new_rows))
        joined = sp.vstack([old_joined, new_joined], format="csr")[order]
        model = _Model(
            ids=list(ids),
            digests=digests,
            terms=terms,
            idf=idf,
            joined=joined,
            col_df=col_df,
            frozen=flags,
            k=k,
            basis_size=self.basis_size,
        )
        again = np.union1d(new_rows, old_rows[touched])
        top = np.full((len(ids), k), -1, dtype=np.int64)
        scores = np.zeros((len(ids), k), dtype=np.float32)
        # every other row: its old k best (as new positions), and the new papers
        keep = np.setdiff1d(np.arange(len(ids)), again)
        old_top = np.where(self.top >= 0, old_rows[np.maximum(self.top, 0)], -1)
        old_top, old_scores = old_top[order[keep]], self.scores[order[keep]]
        vectors, queries = model._vectors_and_queries()
        versus_new = (queries[keep] @ vectors[new_rows].T).tocoo()
        rows = np.concatenate(
            [np.repeat(np.arange(len(keep)), k)[old_top.ravel() >= 0], versus_new.row]
        )
        cols = np.concatenate([old_top.ravel()[old_top.ravel() >= 0], new_rows[versus_new.col]])
        vals = np.concatenate([old_scores.ravel()[old_top.ravel() >= 0], versus_new.data])
        candidates = sp.csr_matrix((vals, (rows, cols)), shape=(len(keep), len(ids)))
        top[keep], scores[keep] = _top_k_arrays(candidates, keep, k)
        top[again], scores[again] = model._rank(again, vectors, queries)
        model.top, model.scores = top, scores
        return model

    # -------------------------------------------------- ranking

    def _vectors_and_queries(self) -> tuple[csr_matrix, csr_matrix]:
        import numpy as np

        # A column of one paper adds nothing to any score, but it would take a query term's
        # place: drop it after normalising (the cosines stay exact).
        vectors = self.joined[:, np.flatnonzero(self.col_df > 1)]
        return vectors, _heaviest_terms(vectors, QUERY_TERMS)

    def _rank(self, rows, vectors=None, queries=None):
        """(top, scores) of `rows` against every paper, CHUNK_ROWS at a time."""
        import numpy as np

        if vectors is None:
            vectors, queries = self._vectors_and_queries()
        top = np.full((len(rows), self.k), -1, dtype=np.int64)
        scores = np.zeros((len(rows), self.k), dtype=np.float32)
        if self.k == 0 or len(self.ids) < 2:
            return top, scores
        transposed = vectors.T.tocsr()
        for start in range(0, len(rows), CHUNK_ROWS):
            block = rows[start : start + CHUNK_ROWS]
            top[start : start + len(block)], scores[start : start + len(block)] = _top_k_arrays(
                queries[block] @ transposed, block, self.k
            )
        return top, scores

    def related(self) -> Related:
        ids = self.ids
        return {
            pid: tuple(ids[j] for j in row if j >= 0)
            for pid, row in zip(ids, self.top.tolist(), strict=True)
        }

    # -------------------------------------------------- state file

    def save(self, path: Path) -> None:
        import io

        import numpy as np

        buffer = io.BytesIO()
        np.savez(
            buffer,
            head=np.frombuffer(_state_head(self.k).encode(), dtype=np.uint8),
            ids=np.frombuffer("\n".join(self.ids).encode(), dtype=np.uint8),
            digests=np.frombuffer(b"".join(self.digests), dtype=np.uint8),
            terms=np.frombuffer(
                "\n".join(self.terms).encode("utf-8", "surrogatepass"), dtype=np.uint8
            ),
            idf=self.idf,
            data=self.joined.data,
            indices=self.joined.indices,
            indptr=self.joined.indptr,
            col_df=self.col_df,
            frozen=self.frozen,
            top=self.top,
            scores=self.scores,
            basis_size=np.array([self.basis_size]),
        )
        try:
            atomic_write(path, buffer.getvalue())
        except (GeneratorError, OSError) as exc:  # a state not written costs time next time
            log.warning("related papers: state not written: %s", exc)

    @classmethod
    def load(cls, path: Path) -> _Model | None:
        """The saved model, or None for a missing, stale or damaged file."""
        import numpy as np
        import scipy.sparse as sp

        try:
            with np.load(path, allow_pickle=False) as f:
                head = f["head"].tobytes().decode()
                k = int(head.rpartition("|k=")[2])
                if head != _state_head(k):
                    return None
                ids = f["ids"].tobytes().decode().split("\n") if f["ids"].size else []
                digests = f["digests"].tobytes()
                terms = f["terms"].tobytes().decode("utf-8", "surrogatepass").split("\n")
                idf, col_df = f["idf"], f["col_df"]
                joined = sp.csr_matrix(
                    (f["data"], f["indices"], f["indptr"]), shape=(len(ids), 2 * len(terms))
                )
                model = cls(
                    ids=ids,
                    digests=[digests[i : i + 12] for i in range(0, len(digests), 12)],
                    terms=terms,
                    idf=idf,
                    joined=joined,
                    col_df=col_df,
                    frozen=f["frozen"],
                    k=k,
                    basis_size=int(f["basis_size"][0]),
                    top=f["top"],
                    scores=f["scores"],
                )
            n = len(ids)
            if (
                len(model.digests) != n
                or len(idf) != len(terms)
                or len(col_df) != 2 * len(terms)
                or model.frozen.shape != (n,)
                or model.top.shape != (n, k)
                or model.scores.shape != (n, k)
                or ids != sorted(ids)
                or (model.top >= n).any()
            ):
                raise ValueError("parts of different sizes")
            return model
        except FileNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001 - any damage: start over (and rewrite it)
            log.warning("%s: ignoring the related-papers state (%s); starting over", path, exc)
            return None


def _state_head(k: int) -> str:
    return (
        f"{ALGORITHM_VERSION}|{TITLE_WEIGHT}|{QUERY_TERMS}|{_SET_ASIDE_BELOW}|"
        f"{_scipy_version()}|k={k}"
    )


def _term_ids(
    texts: list[str], analyze: Callable[[str], list[str]], vocabulary: dict[str, int]
) -> list:
    """Each text's tokens as term numbers in order of first sight (`vocabulary` grows):
    4 bytes a token; lists of 3 million token strings took ~400 MB at 20,000 papers."""
    import numpy as np

    return [
        np.array(
            [vocabulary.setdefault(token, len(vocabulary)) for token in analyze(text)],
            dtype=np.int32,
        )
        for text in texts
    ]


def _sorted_terms(vocabulary: dict[str, int]) -> tuple[list[str], Any]:
    """(terms in sorted order, the sorted place of each term number)."""
    import numpy as np

    terms = sorted(vocabulary)
    place = np.empty(len(terms), dtype=np.int64)
    place[[vocabulary[t] for t in terms]] = np.arange(len(terms))
    return terms, place


def _counts(docs: list, place) -> csr_matrix:
    """Sublinear term frequencies (1 + log count, float32) of docs as term numbers (see
    _term_ids), columns in sorted term order (`place`); CSR with sorted columns."""
    import numpy as np
    import scipy.sparse as sp

    cols = place[np.concatenate([np.zeros(0, dtype=np.int32), *docs])]
    rows = np.repeat(np.arange(len(docs)), [len(tokens) for tokens in docs])
    counts = sp.csr_matrix(
        (np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(len(docs), len(place))
    )
    counts.sum_duplicates()  # sorted columns, one entry per term
    counts.data = np.log(counts.data) + np.float32(1)
    return counts


def _idf(papers: int, df: Any) -> Any:
    """Smoothed IDF (ln((1 + n) / (1 + df)) + 1) of terms found in `df` of `papers` papers, float32."""
    import numpy as np

    return (np.log((1 + papers) / (1 + df.astype(np.float64))) + 1).astype(np.float32)


def _join(counts: csr_matrix, title_counts: csr_matrix, idf) -> csr_matrix:
    """Rows [sqrt(1-w) * tfidf(title + abstract), sqrt(w) * tfidf(title)], l2-normalised."""
    import numpy as np
    import scipy.sparse as sp

    if counts.shape[0] == 0 or counts.shape[1] == 0:  # no papers, or no word in any
        return sp.csr_matrix((counts.shape[0], 2 * counts.shape[1]), dtype=np.float32)
    weights = sp.diags(idf)
    whole = _l2_rows(counts @ weights)
    title = _l2_rows(title_counts @ weights)
    joined = sp.hstack(
        [whole * np.float32((1 - TITLE_WEIGHT) ** 0.5), title * np.float32(TITLE_WEIGHT**0.5)],
        format="csr",
    )
    joined = _l2_rows(joined)
    joined.sort_indices()
    return joined


def _l2_rows(matrix: csr_matrix) -> csr_matrix:
    """`matrix` (CSR, float32) with each non-empty row scaled to unit length, in place.
    Each row's norm is a float64 sum over that row alone, in its stored order: a row gets
    the same floats whichever other rows are normalised with it."""
    import numpy as np

    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    squares = np.bincount(
        rows, weights=matrix.data.astype(np.float64) ** 2, minlength=matrix.shape[0]
    )
    norms = np.sqrt(squares)
    norms[norms == 0] = 1.0
    matrix.data = (matrix.data / norms[rows]).astype(np.float32)
    return matrix


def _vectors(titles: list[str], summaries: list[str]) -> csr_matrix | None:
    """Every paper's vector as ranked (for tests: their products are the exact cosines)."""
    model = _Model.fit([f"{i:09d}" for i in range(len(titles))], titles, summaries, 0, None)
    return model._vectors_and_queries()[0]


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
    positive scores, best first, ties by column; never the paper itself."""
    import numpy as np

    top, _ = _top_k_arrays(scores, np.arange(first_row, first_row + scores.shape[0]), k)
    return [[c for c in row if c >= 0] for row in top.tolist()]


def _top_k_arrays(scores: csr_matrix, papers, k: int):
    """(columns, scores) of each row's k highest positive scores, best first, ties by
    column; row r is paper papers[r], never listed itself; -1 (and 0) fill short rows.

    Vectorised over the whole block: a row's scores below _SET_ASIDE_BELOW of its best are
    set aside unless fewer than k remain (exact either way: each one set aside ranks below
    k others), then one sort by (row, -score, column) orders what is left.
    """
    import numpy as np

    m = scores.shape[0]
    top = np.full((m, k), -1, dtype=np.int64)
    best_scores = np.zeros((m, k), dtype=np.float32)
    if k == 0 or m == 0:
        return top, best_scores
    scores = scores.tocsr()
    indptr, cols = scores.indptr, scores.indices.astype(np.int64)
    counts = np.diff(indptr)
    rows = np.repeat(np.arange(m, dtype=np.int64), counts)
    vals = scores.data.astype(np.float32)
    vals[cols == np.asarray(papers, dtype=np.int64)[rows]] = 0  # never itself
    best = np.zeros(m, dtype=vals.dtype)
    filled = counts > 0
    if filled.any():
        best[filled] = np.maximum.reduceat(vals, indptr[:-1][filled])
    high = vals >= np.repeat(best * np.float32(_SET_ASIDE_BELOW), counts)
    short = np.bincount(rows[high], minlength=m) < k
    keep = np.flatnonzero((high | np.repeat(short, counts)) & (vals > 0))
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    order = np.lexsort((cols, -vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    bounds = np.searchsorted(rows, np.arange(m + 1))
    rank = np.arange(len(rows)) - bounds[rows]
    ranked = rank < k
    top[rows[ranked], rank[ranked]] = cols[ranked]
    best_scores[rows[ranked], rank[ranked]] = vals[ranked]
    return top, best_scores


# ---------------------------------------------------------------- cache


def _cache_key(ids: list[str], texts: dict[str, tuple[str, str]], k: int) -> str:
    """sha256 of the sorted (id, title, summary) triples, k and the algorithm's versions."""
    digest = hashlib.sha256()
    head = (ALGORITHM_VERSION, k, TITLE_WEIGHT, QUERY_TERMS, _scipy_version())
    digest.update(repr(head).encode())
    for pid in ids:
        title, summary = texts[pid]
        for part in (pid, title, summary):
            data = part.encode("utf-8", "surrogatepass")
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
    return digest.hexdigest()


def _scipy_version() -> str:
    try:
        return metadata.version("scipy")
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
