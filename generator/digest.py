"""The email digest: one day's top papers as a multipart email, composed per recipient.

The HTML part is rendered by Jinja2 with autoescaping (site_config/templates/digest/), so
no API string reaches it as markup; the plain-text part carries the same content. Links are
absolute, built from site_url the way the feeds build theirs. Sending lives in `mailer`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import textwrap
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

import jinja2

from generator import feeds, store
from generator.config import DigestSettings, Paths, SiteConfig
from generator.errors import BuildError, ContentError
from generator.models import FIRST_DAY, LAST_DAY, Day, Paper
from generator.pages import absolute_url, day_doc, paper_doc
from generator.update import hf_today

log = logging.getLogger(__name__)

#: Characters of the abstract shown when a paper has no AI summary.
SUMMARY_CHARS = 400
#: Authors named before "et al." when a paper has no organization.
BYLINE_AUTHORS = 3
ONE_CLICK = "List-Unsubscribe=One-Click"


@dataclass(frozen=True)
class Entry:
    """A paper as the digest shows it."""

    rank: int
    paper: Paper
    byline: str
    summary: str
    page_url: str


@dataclass(frozen=True)
class Digest:
    """One day's digest, ready to be addressed to any recipient."""

    config: SiteConfig
    day: dt.date
    entries: list[Entry]
    templates: Path

    @property
    def settings(self) -> DigestSettings:
        return self.config.digest

    @property
    def subject(self) -> str:
        return self.settings.subject.format(
            title=self.config.title, date=self.day.isoformat(), count=len(self.entries)
        )

    def unsubscribe_link(self, recipient: str | None) -> str:
        """The configured unsubscribe URL or mailto with {email} filled in (default: mailto From)."""
        link = self.settings.unsubscribe or f"mailto:{sender(self.settings)}?subject=unsubscribe"
        return link.replace("{email}", quote(bare(recipient or ""), safe="@"))

    def render(self, template: str, recipient: str | None = None) -> str:
        """Render digest/<template> (`email.txt.j2` or `email.html.j2`) for one recipient."""
        site = self.config.site_url
        context = {
            "config": self.config,
            "subject": self.subject,
            "day": self.day,
            "entries": self.entries,
            "day_url": absolute_url(site, day_doc(self.day)),
            "feeds": {
                "RSS": site + feeds.RSS_FILE,
                "Atom": site + feeds.ATOM_FILE,
                "JSON Feed": site + feeds.JSON_FILE,
            },
            "unsubscribe": self.unsubscribe_link(recipient),
        }
        try:
            return _env(self.templates).get_template(template).render(context)
        except jinja2.TemplateError as exc:
            raise BuildError(f"{self.templates / template}: {exc}") from None

    def message(self, recipient: str | None, now: dt.datetime | None = None) -> EmailMessage:
        """The multipart/alternative message (text + HTML, UTF-8) for one recipient."""
        settings = self.settings
        msg = EmailMessage()
        msg["Subject"] = self.subject
        msg["From"] = settings.from_address
        msg["To"] = recipient or settings.from_address  # no recipient: a preview to ourselves
        msg["Date"] = email.utils.format_datetime(now or dt.datetime.now(dt.UTC))
        domain = sender(settings).rpartition("@")[2]
        msg["Message-ID"] = email.utils.make_msgid(f"digest.{self.day.isoformat()}", domain)
        msg["List-Id"] = f"{self.config.title} <digest.{domain}>"
        unsubscribe = self.unsubscribe_link(recipient)
        msg["List-Unsubscribe"] = f"<{unsubscribe}>"
        if unsubscribe.startswith("https://"):  # RFC 8058: one-click needs an HTTPS URI
            msg["List-Unsubscribe-Post"] = ONE_CLICK
        msg.set_content(self.render("email.txt.j2", recipient), charset="utf-8")
        msg.add_alternative(
            self.render("email.html.j2", recipient), subtype="html", charset="utf-8"
        )
        return msg


def sender(settings: DigestSettings) -> str:
    """The bare address of `from_address` (the envelope sender)."""
    return email.utils.parseaddr(settings.from_address)[1]


def bare(recipient: str) -> str:
    """The address of a recipient written bare or as "Name <address>"."""
    return email.utils.parseaddr(recipient)[1] if "<" in recipient else recipient


def compose(paths: Paths, config: SiteConfig, day: dt.date | None = None) -> Digest:
    """The digest of `day` (default: the latest finished day stored); a missing day is empty."""
    if day is None:
        loaded = store.load_day(latest_finished_day(paths.content))
    elif not FIRST_DAY <= day <= LAST_DAY:
        raise ContentError(f"--date {day}: outside {FIRST_DAY.year}-{LAST_DAY.year}")
    else:
        path = store.day_path(paths.content, day)
        loaded = store.load_day(path) if path.exists() else Day(date=day, papers=[])
    site = config.site_url
    entries = [
        Entry(rank, paper, byline(paper), summary(paper), absolute_url(site, paper_doc(paper.id)))
        for rank, paper in enumerate(loaded.ranked()[: config.digest.top], start=1)
    ]
    return Digest(config, loaded.date, entries, paths.templates / "digest")


def latest_finished_day(content: Path, today: dt.date | None = None) -> Path:
    """The newest day file before Hugging Face's current day (whose list is still filling)."""
    today = today or hf_today()
    files, problems = store.scan(content)  # only well-named files: their names are dates
    if problems:
        raise ContentError.listing(problems)
    finished = [p for p in files if dt.date.fromisoformat(p.stem) < today]
    if not finished:
        raise ContentError(f"{content}: no finished day stored; run fetch, or pass --date")
    return finished[-1]


def byline(paper: Paper) -> str:
    """The organization's name, else the first authors ("A, B, C et al.")."""
    if paper.organization:
        return paper.organization.fullname or paper.organization.name
    names = ", ".join(paper.authors[:BYLINE_AUTHORS])
    return names + (" et al." if len(paper.authors) > BYLINE_AUTHORS else "")


def summary(paper: Paper, limit: int = SUMMARY_CHARS) -> str:
    """One paragraph: the AI summary when there is one, else the abstract cut at a word."""
    text = " ".join((paper.ai_summary or paper.summary).split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(" ,;:.-") + "…"


def _env(templates: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["longdate"] = lambda d: f"{d:%b} {d.day}, {d:%Y}"
    env.filters["wrap"] = lambda text, indent="": textwrap.fill(
        text, 72, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False
    )
    return env
