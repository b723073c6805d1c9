"""The content model: a featured Day and its Papers. Pure data and validation, no I/O.

Every string here may come from the Hugging Face API and is untrusted. Validation
normalises it in the few documented ways (control characters removed, lengths capped
with a visible marker); escaping for HTML, XML and feeds happens where text is output.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

log = logging.getLogger(__name__)

#: New-style arXiv ids, the only kind Hugging Face Papers lists (2023 onwards). ASCII
#: digits only: `\d` also matches full-width and Arabic-Indic digits (look-alike ids).
ARXIV_ID = re.compile(r"^[0-9]{4}\.[0-9]{4,5}$")

#: Largest count stored (upvotes, comments, stars): 2**53 - 1, the largest integer a
#: JavaScript reader of the JSON files holds exactly.
MAX_COUNT = 2**53 - 1
#: Featured days outside this window are errors (a typo, or date arithmetic at year edges).
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
#: Publication dates outside this window are errors (arXiv began in 1991).
FIRST_PUBLISHED, LAST_PUBLISHED = dt.date(1991, 1, 1), dt.date(2100, 12, 31)

#: Shown at the end of text cut to its length cap.
TRUNCATION_MARKER = " […truncated]"

#: Media URLs kept per paper (the API lists a few; a hostile one could list thousands).
MAX_MEDIA = 20

# Characters XML 1.0 cannot carry, plus C0/C1 controls other than tab and newline,
# noncharacters (U+FFFE, U+FFFF) and lone surrogates.
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def clean_text(value: str, limit: int, *, single_line: bool = False) -> str:
    """Remove control characters and cap the length, marking a cut with TRUNCATION_MARKER."""
    cleaned, removed = _BAD_CHARS.subn("", value)
    if removed:
        log.warning("removed %d control or non-XML character(s) from %r", removed, cleaned[:60])
    cleaned = unicodedata.normalize("NFC", cleaned).replace("\r\n", "\n").replace("\r", "\n")
    cleaned = " ".join(cleaned.split()) if single_line else cleaned.strip()
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - len(TRUNCATION_MARKER)].rstrip() + TRUNCATION_MARKER
    return cleaned


def is_http_url(value: str) -> bool:
    """True for an absolute http(s) URL with a host and no whitespace, controls or quotes."""
    # fullmatch, not `$`: `$` also matches before a trailing newline
    return bool(_HTTP_URL.fullmatch(value))


_HTTP_URL = re.compile(
    r"https?://[^\s\x00-\x1f\x7f-\x9f/?#\"'<>\\]+[^\s\x00-\x1f\x7f-\x9f\"'<>\\]*"
)


def _in_window(first: dt.date, last: dt.date) -> Any:
    def check(value: dt.date) -> dt.date:
        if not first <= value <= last:
            raise ValueError(f"date {value} is outside {first.year}-{last.year}")
        return value

    return AfterValidator(check)


def _line(limit: int) -> Any:
    return AfterValidator(lambda v: clean_text(v, limit, single_line=True))


def _url(value: str | None) -> str | None:
    if value is not None and not is_http_url(value):
        raise ValueError("must be an http(s) URL")
    return value


Line = Annotated[str, _line(500)]
Title = Annotated[str, _line(1000), Field(min_length=1)]
Text = Annotated[str, AfterValidator(lambda v: clean_text(v, 20_000))]
Url = Annotated[str | None, AfterValidator(_url)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]


def _timestamp(value: str) -> str:
    if len(value) > 40:
        raise ValueError("must be an ISO 8601 date and time (at most 40 characters)")
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            "must be an ISO 8601 date and time, e.g. 2026-10-03T00:00:00.000Z"
        ) from None
    return value


#: An ISO 8601 date and time as the API writes it (kept as text: YAML round-trips it as is).
Timestamp = Annotated[str, AfterValidator(_timestamp)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Organization(_Strict):
    """The organization a paper is submitted under (Hugging Face org account)."""

    # min_length after cleaning (a Field default would check first, and reject lone surrogates)
    name: Annotated[str, _line(500), Field(min_length=1)]
    fullname: Line | None = None


class Paper(_Strict):
    """One paper as featured on Daily Papers; `id` is its arXiv id."""

    id: str = Field(pattern=ARXIV_ID.pattern)  # pydantic's `$` is the end of the text
    title: Title
    summary: Text
    authors: list[Line]
    published: Annotated[dt.date, _in_window(FIRST_PUBLISHED, LAST_PUBLISHED)]
    upvotes: Count
    comments: Count
    organization: Organization | None = None
    submitted_by: Line | None = None
    github: Url = None
    github_stars: Count | None = None
    project_page: Url = None
    ai_summary: Annotated[str, AfterValidator(lambda v: clean_text(v, 5_000))] | None = None
    keywords: list[Line] = []
    thumbnail: Url = None
    # Optional fields kept from the API since the captures (README "Which API fields are kept").
    submitted_at: Timestamp | None = None  # paper.submittedOnDailyAt
    listed_at: Timestamp | None = None  # the item's publishedAt
    submitter_organization: Organization | None = None
    media: list[Annotated[str, AfterValidator(_url)]] = []  # mediaUrls: videos, images
    author_participating: bool | None = None  # isAuthorParticipating
    github_added_by: Annotated[str, _line(50)] | None = None  # githubRepoAddedBy
    ai_summary_model: Line | None = None

    @field_validator("authors", "keywords")
    @classmethod
    def _cap_list(cls, value: list[str]) -> list[str]:
        return [v for v in value if v][:1000]

    @field_validator("media")
    @classmethod
    def _cap_media(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))[:MAX_MEDIA]

    @property
    def hf_url(self) -> str:
        return f"https://huggingface.co/papers/{self.id}"

    @property
    def arxiv_url(self) -> str:
        return f"https://arxiv.org/abs/{self.id}"

    @property
    def pdf_url(self) -> str:
        return f"https://arxiv.org/pdf/{self.id}"


class Day(_Strict):
    """The papers featured on one day, in stored order."""

    date: Annotated[dt.date, _in_window(FIRST_DAY, LAST_DAY)]
    papers: list[Paper]

    @field_validator("date", mode="before")
    @classmethod
    def _not_datetime(cls, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            raise ValueError("must be a date (YYYY-MM-DD), not a date and time")
        return value

    @field_validator("papers")
    @classmethod
    def _unique_ids(cls, papers: list[Paper]) -> list[Paper]:
        seen: set[str] = set()
        for paper in papers:
            if paper.id in seen:
                raise ValueError(f"paper {paper.id} is listed twice")
            seen.add(paper.id)
        return papers

    def ranked(self) -> list[Paper]:
        """Papers by upvotes, most first; ties by arXiv id for deterministic output."""
        return sorted(self.papers, key=lambda p: (-p.upvotes, p.id))
