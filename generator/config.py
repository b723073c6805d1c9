"""Site configuration (site_config/site.yml) and the project's paths. Reads one file."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from generator.errors import ContentError
from generator.models import is_http_url


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FetchSettings(_Section):
    days: int = Field(4, ge=1, le=60, description="default: today and the days before it")
    refresh_days: int = Field(
        14, ge=0, le=366, description="default: also re-poll the last N stored days"
    )
    timeout: float = Field(30.0, gt=0, description="seconds per request")
    retries: int = Field(5, ge=0, le=20, description="retries of 408/429/5xx and timeouts")
    max_wait: float = Field(120.0, ge=0, description="cap on one backoff or Retry-After wait")
    page_size: int = Field(100, ge=1, le=100)
    rate_limit: int = Field(450, ge=1, description="requests per rate window (HF: 500/5 min)")
    rate_window: float = Field(300.0, gt=0)
    # Limits on what one answer or one run may cost (SECURITY.md, "Limits on network answers").
    max_body_bytes: int = Field(20_000_000, ge=1_000, description="decoded bytes of one answer")
    request_deadline: float = Field(120.0, gt=0, description="seconds for one whole request")
    run_deadline: float = Field(3600.0, gt=0, description="seconds for one whole fetch run")
    max_json_depth: int = Field(32, ge=4, le=500, description="nesting of arrays and objects")
    max_items_per_day: int = Field(2_000, ge=1, description="items of one day, all pages")
    max_range_days: int = Field(400, ge=1, description="longer --from/--to ranges need --yes")


class FeedSettings(_Section):
    items: int = Field(50, ge=1, le=1000, description="papers in each feed")
    topic_items: int = Field(10, ge=1, le=1000, description="papers in each topic/org feed")
    top: list[int] = Field([10, 50], description="upvote thresholds: feeds/top-N.xml each")
    top_items: int = Field(50, ge=1, le=1000, description="papers in each top-N feed")
    daily_items: int = Field(30, ge=1, le=1000, description="days in feeds/daily.xml")
    daily_top: int = Field(10, ge=1, le=100, description="papers listed per day there")

    @field_validator("top")
    @classmethod
    def _thresholds(cls, value: list[int]) -> list[int]:
        if any(n < 0 for n in value):
            raise ValueError("thresholds must be >= 0")
        return sorted(set(value))


class PageSettings(_Section):
    trending_days: int = Field(7, ge=1, le=366, description="days the trending page covers")
    rising_days: int = Field(
        14, ge=1, le=366, description="featured days whose papers the Rising page ranks"
    )
    period_top: int = Field(20, ge=1, le=500, description="cards on week/month pages")
    topic_min_papers: int = Field(10, ge=1, description="papers a keyword needs for a page")
    list_limit: int = Field(50, ge=1, le=1000, description="papers on a topic/org page")
    related: int = Field(5, ge=0, le=20, description="related papers on a paper page")


class ExportSettings(_Section):
    papers: bool = Field(
        False, description="also api/papers/<id>.json: one file per paper, with its history"
    )


#: The environment variable holding the SMTP password (never in site.yml).
SMTP_PASSWORD_ENV = "DAILYPAPERS_SMTP_PASSWORD"


class DigestSettings(_Section):
    """The email digest (`python -m generator digest`); the SMTP password comes from the env."""

    top: int = Field(10, ge=1, le=100, description="papers in one digest")
    from_address: str = Field("Daily Papers <digest@example.org>", min_length=3)
    subject: str = Field(
        "{title}: top papers of {date}", description="fields {title} {date} {count}"
    )
    smtp_host: str = "localhost"
    smtp_port: int = Field(0, ge=0, le=65535, description="0: 587, 465 with ssl, 25 with none")
    smtp_security: str = Field("starttls", pattern="^(starttls|ssl|none)$")
    smtp_user: str = Field("", description="login when set; password: env " + SMTP_PASSWORD_ENV)
    smtp_ca_file: str = Field("", description="extra CA bundle (PEM) to trust for the server")
    subscribers: str = Field("subscribers.txt", description="one address a line; project-relative")
    state_file: str = Field("digest-state.json", description="who got which day; project-relative")
    unsubscribe: str = Field("", description="https URL or mailto:, {email} is the recipient")
    subscribe_url: str = Field("", description="form URL or mailto: for the site's Subscribe box")

    @field_validator("subject")
    @classmethod
    def _subject_fields(cls, value: str) -> str:
        try:
            value.format(title="", date="", count=0)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"fields are {{title}}, {{date}}, {{count}}: {exc}") from None
        return value

    @field_validator("unsubscribe", "subscribe_url")
    @classmethod
    def _link(cls, value: str) -> str:
        if value and not (is_http_url(value) or _is_mailto(value)):
            raise ValueError("must be an http(s) URL or a mailto: address")
        return value

    @field_validator("from_address")
    @classmethod
    def _address(cls, value: str) -> str:
        import email.utils

        if "@" not in email.utils.parseaddr(value)[1]:
            raise ValueError("must be an email address, e.g. Daily Papers <digest@example.org>")
        return value


def _is_mailto(value: str) -> bool:
    address = value.removeprefix("mailto:").split("?")[0]
    return value.startswith("mailto:") and "@" in address and is_http_url(f"http://{address}")


class SiteConfig(_Section):
    title: str = "Daily Papers"
    description: str = "Trending AI research papers, every day, ranked by upvotes."
    site_url: str = "https://example.org/daily-papers/"
    api: str = "https://huggingface.co"
    language: str = "en"
    fetch: FetchSettings = FetchSettings()
    feeds: FeedSettings = FeedSettings()
    pages: PageSettings = PageSettings()
    export: ExportSettings = ExportSettings()
    digest: DigestSettings = DigestSettings()

    @field_validator("title", "language")
    @classmethod
    def _one_line(cls, value: str) -> str:
        # the title goes into the email Subject and feed titles: no line breaks (control
        # characters in site.yml are refused by load_config; feeds strip them anyway)
        if "\n" in value or "\r" in value:
            raise ValueError("must be one line of text (no line breaks)")
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("site_url", "api")
    @classmethod
    def _http(cls, value: str) -> str:
        if not is_http_url(value):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/") + "/" if value else value


@dataclass(frozen=True)
class Paths:
    """Where everything lives, relative to the project root."""

    root: Path

    @property
    def content(self) -> Path:
        return self.root / "content"

    @property
    def config_file(self) -> Path:
        return self.root / "site_config" / "site.yml"

    @property
    def templates(self) -> Path:
        return self.root / "site_config" / "templates"

    @property
    def assets(self) -> Path:
        return self.root / "site_config" / "assets"

    @property
    def mkdocs_yml(self) -> Path:
        return self.root / "mkdocs.yml"

    @property
    def build(self) -> Path:
        return self.root / "build"

    @property
    def docs(self) -> Path:
        return self.build / "docs"

    @property
    def site(self) -> Path:
        return self.root / "site"


#: Control characters no setting may hold (tab and newline are checked per field).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
#: Settings that may span lines; every other string setting is one line (headers, URLs).
_MULTILINE = frozenset({"description"})


def _check_strings(data: object, where: tuple[str, ...] = ()) -> list[str]:
    """Settings holding control characters, or line breaks outside _MULTILINE."""
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _check_strings(v, (*where, str(k)))]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in _check_strings(v, (*where, str(i)))]
    if isinstance(data, str):
        multiline = bool(where) and where[-1] in _MULTILINE and len(where) == 1
        if _CONTROL.search(data) or (not multiline and ("\n" in data or "\r" in data)):
            return [f"{'.'.join(where)}: must be one line of text without control characters"]
    return []


def load_config(paths: Paths) -> SiteConfig:
    """Read site.yml (missing file: defaults); env DAILYPAPERS_API overrides `api`.

    Every problem is a ContentError naming site.yml, the setting and the cause: not UTF-8,
    not YAML, duplicate keys, a value of the wrong type or out of range.
    """
    from generator.store import MAX_FILE_BYTES, load_yaml  # the strict loader of content/

    data: dict = {}
    config_file = paths.config_file
    if config_file.exists() or config_file.is_symlink():
        if not config_file.is_file():
            raise ContentError(f"{config_file}: not a regular file")
        try:
            raw = config_file.read_bytes()
        except OSError as exc:
            raise ContentError(f"{config_file}: cannot read: {exc.strerror or exc}") from None
        if len(raw) > MAX_FILE_BYTES:
            raise ContentError(f"{config_file}: larger than {MAX_FILE_BYTES // 2**20} MB")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ContentError(
                f"{config_file}: not UTF-8 text: byte {exc.start}: {exc.reason}"
            ) from None
        data = load_yaml(config_file, text)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ContentError(f"{config_file}: must be a mapping of settings")
        if any(not isinstance(k, str) for k in data):
            raise ContentError(f"{config_file}: setting names must be text")
        problems = _check_strings(data)
        if problems:
            raise ContentError(f"{config_file}: " + "; ".join(problems))
    if os.environ.get("DAILYPAPERS_API"):
        data["api"] = os.environ["DAILYPAPERS_API"]
    try:
        return SiteConfig.model_validate(data)
    except ValidationError as exc:
        causes = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ContentError(f"{paths.config_file}: {causes}") from None
