"""Sending the digest: subscribers, SMTP (STARTTLS, SSL or plain), and the sent-state file.

Each recipient gets a message of their own (no one sees another address). The state file
records, per day, who has been sent the digest; it is rewritten atomically after every
successful recipient, so a re-run (or a run after a crash) sends nothing twice. A failure
for one recipient is recorded and the others are still tried.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from email.headerregistry import Address
from pathlib import Path

from generator.config import SMTP_PASSWORD_ENV, DigestSettings
from generator.digest import Digest, bare, sender
from generator.errors import ContentError, GeneratorError
from generator.fsutil import atomic_write, exclusive_lock

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
TIMEOUT = 30.0
STATE_FORMAT = 1


class SmtpError(GeneratorError):
    """The SMTP server could not be reached, refused TLS or refused the login."""


@dataclass
class SendReport:
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # sent this day's digest before
    failed: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------- subscribers


def read_subscribers(path: Path) -> list[str]:
    """Addresses from `path`, one a line (`#` comments, blank lines); every bad line reported."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ContentError(
            f"{path}: no subscribers file (one address a line), or pass --to ADDRESS"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError(f"{path}: cannot read: {exc}") from None
    found: list[str] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        recipient = parse_recipient(text)
        if recipient is None:
            problems.append(f"{path}:{number}: not an email address: {text!r}")
        found.append(recipient or text)
    if problems:
        raise ContentError("\n".join(problems))
    return unique(found)


def valid_address(address: str) -> bool:
    """A bare address: one @, something each side, no spaces, brackets or quotes."""
    local, at, domain = address.rpartition("@")
    return bool(at and local and "." in domain.strip(".")) and not any(
        c.isspace() or c in '<>"(),;:[]\\' for c in address
    )


#: "Display Name <address>" (the name optionally "quoted"), as a mail client writes it.
_NAMED = re.compile(r'^(?:"((?:[^"\\\r\n]|\\.)*)"|([^<>"@,;:\\\r\n]*?))\s*<([^<>]*)>$')


def parse_recipient(text: str) -> str | None:
    """`text` if it is a bare address or "Name <address>" with a valid address, else None.

    The named form is returned normalised ("Name <address>", the name quoted when it needs
    it); the bare address (`bare`) is the envelope recipient and the state file's key.
    """
    text = text.strip()
    if valid_address(text):
        return text
    match = _NAMED.match(text)
    if match is None or not valid_address(match.group(3)):
        return None
    name = match.group(1) if match.group(1) is not None else match.group(2)
    name = " ".join(re.sub(r"\\(.)", r"\1", name).split())
    if not name or not name.isprintable():
        return match.group(3) if not name else None
    try:
        return str(Address(display_name=name, addr_spec=match.group(3)))
    except (ValueError, IndexError):  # an addr_spec the email package cannot take apart
        return None


def unique(addresses: list[str]) -> list[str]:
    """Drop repeats, comparing bare addresses case-insensitively; keep the first, in order."""
    seen: set[str] = set()
    kept: list[str] = []
    for address in addresses:
        key = bare(address).lower()
        if key not in seen:
            seen.add(key)
            kept.append(address)
    return kept


# ---------------------------------------------------------------- state


class SentState:
    """{day: {address (lower case): when sent}} in a JSON file, written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sent: dict[str, dict[str, str]] = {}
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self.sent = {str(d): dict(who) for d, who in data["sent"].items()}
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                # Never guess: an unreadable state could mean sending everyone a duplicate.
                raise ContentError(
                    f"{path}: unreadable digest state ({exc}); fix or remove it"
                ) from None

    def has(self, day: dt.date, address: str) -> bool:
        return bare(address).lower() in self.sent.get(day.isoformat(), {})

    def record(self, day: dt.date, address: str) -> None:
        stamp = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        self.sent.setdefault(day.isoformat(), {})[bare(address).lower()] = stamp
        data = {"format": STATE_FORMAT, "sent": self.sent}
        atomic_write(self.path, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())


# ---------------------------------------------------------------- SMTP


def tls_context(settings: DigestSettings) -> ssl.SSLContext:
    """The system's trusted CAs (or SSL_CERT_FILE's), plus `smtp_ca_file` when set."""
    context = ssl.create_default_context()
    if settings.smtp_ca_file:
        try:
            context.load_verify_locations(cafile=settings.smtp_ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise SmtpError(f"{settings.smtp_ca_file}: cannot load CA file: {exc}") from None
    return context


def server_name(settings: DigestSettings) -> str:
    port = settings.smtp_port or DEFAULT_PORTS[settings.smtp_security]
    return f"smtp://{settings.smtp_host}:{port}"


def connect(settings: DigestSettings) -> smtplib.SMTP:
    """An SMTP session, TLS-protected as configured and logged in when a user is set."""
    password = os.environ.get(SMTP_PASSWORD_ENV, "")
    if settings.smtp_user and not password:
        raise SmtpError(f"digest.smtp_user is {settings.smtp_user!r}: set {SMTP_PASSWORD_ENV}")
    host, port = settings.smtp_host, settings.smtp_port or DEFAULT_PORTS[settings.smtp_security]
    where = server_name(settings)
    smtp: smtplib.SMTP | None = None
    try:
        if settings.smtp_security == "ssl":
            smtp = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=tls_context(settings))
        else:
            smtp = smtplib.SMTP(host, port, timeout=TIMEOUT)
            if settings.smtp_security == "starttls":
                smtp.starttls(context=tls_context(settings))
        if settings.smtp_user:
            smtp.login(settings.smtp_user, password)
        return smtp
    except smtplib.SMTPAuthenticationError as exc:
        cause = f"login as {settings.smtp_user!r} refused: {_reply(exc)}"
    except smtplib.SMTPNotSupportedError as exc:
        cause = f"{exc} (check digest.smtp_security)"
    except ssl.SSLCertVerificationError as exc:
        cause = f"TLS certificate not trusted: {exc.verify_message} (see digest.smtp_ca_file)"
    except smtplib.SMTPResponseException as exc:
        cause = _reply(exc)
    except (OSError, smtplib.SMTPException) as exc:
        cause = (
            f"cannot connect: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}"
        )
    if smtp is not None:
        _quit(smtp)
    raise SmtpError(f"{where}: {cause}")


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = (
        exc.smtp_error.decode("utf-8", "replace")
        if isinstance(exc.smtp_error, bytes)
        else str(exc.smtp_error)
    )
    return f"{exc.smtp_code} {' '.join(text.split())}"


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


class Session:
    """A connection opened on first use and reopened after the server dropped it."""

    def __init__(self, settings: DigestSettings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def get(self) -> smtplib.SMTP:
        if self.smtp is None:
            self.smtp = connect(self.settings)
        return self.smtp

    def drop(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None

    def close(self) -> None:
        if self.smtp is not None:
            _quit(self.smtp)
            self.smtp = None


# ---------------------------------------------------------------- sending


def send(digest: Digest, recipients: list[str], state_file: Path) -> SendReport:
    """Send the digest to each recipient not yet sent this day; record each success."""
    report = SendReport()
    lock = state_file.with_name(".dailypapers-digest.lock")
    with exclusive_lock(lock, "digest send", wait=60):
        state = SentState(state_file)
        todo = [r for r in unique(recipients) if not state.has(digest.day, r)]
        report.skipped = [r for r in unique(recipients) if state.has(digest.day, r)]
        if not todo:
            return report
        smtp = Session(digest.settings)
        try:
            for recipient in todo:
                error = _send_one(smtp, digest, recipient)
                if error is None:
                    state.record(digest.day, recipient)
                    report.sent.append(recipient)
                else:
                    log.error("%s: %s", recipient, error)
                    report.failed[recipient] = error
        finally:
            smtp.close()
    return report


def _send_one(smtp: Session, digest: Digest, recipient: str) -> str | None:
    """Send one message; None on success, else why it failed."""
    message = digest.message(recipient)
    try:
        refused = smtp.get().send_message(message, sender(digest.settings), [bare(recipient)])
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = exc.recipients.get(bare(recipient), (0, b"refused"))
        return _reply(smtplib.SMTPResponseException(code, text))
    except smtplib.SMTPResponseException as exc:  # sender or data refused
        return _reply(exc)
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        smtp.drop()  # the next recipient gets a fresh connection
        return f"{server_name(digest.settings)}: connection lost: {exc}"
    if refused:
        code, text = refused[bare(recipient)]
        return _reply(smtplib.SMTPResponseException(code, text))
    return None
