"""The email digest against a real local SMTP server (aiosmtpd): MIME, headers, links,
escaping, STARTTLS with a test CA, AUTH, SSL, idempotent re-runs, a failing recipient."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import json
import logging
import os
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import lxml.html
import pytest
import trustme
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner
from conftest import REPO, make_project

from generator import digest, mailer, store
from generator.cli import cli
from generator.config import SMTP_PASSWORD_ENV, Paths, SiteConfig
from generator.models import Day, Paper
from generator.pages import PageRenderer

DAY = "2026-10-03"
SITE = "https://papers.example.net/sub/"
HOSTILE_TITLE = '<script>alert("t")</script> Robust <b>LLMs</b>'
HOSTILE_AUTHOR = "<img src=x onerror=alert(1)>"
HOSTILE_SUMMARY = 'Abstract "><svg onload=alert(2)> <a href="javascript:alert(3)">x</a> & more'
USER, PASSWORD = "digest", "s3cret"


def paper(pid: str, upvotes: int, **fields: object) -> Paper:
    values: dict = {
        "id": pid,
        "title": f"Paper {pid}",
        "summary": f"Abstract of {pid}.",
        "authors": ["Ada Lovelace", "Alan Turing"],
        "published": dt.date(2026, 10, 1),
        "upvotes": upvotes,
        "comments": 0,
    }
    return Paper(**(values | fields))


def day_papers() -> list[Paper]:
    return [
        paper(
            "2610.00001",
            90,
            ai_summary="A short AI summary.",
            organization={"name": "acme", "fullname": "ACME Labs"},
        ),
        paper(
            "2610.00002",
            80,
            title=HOSTILE_TITLE,
            summary=HOSTILE_SUMMARY,
            authors=[HOSTILE_AUTHOR, "Bob"],
        ),
        *(paper(f"2610.{n:05d}", 20 - n) for n in range(3, 13)),
    ]


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def project(tmp_path: Path) -> Paths:
    paths = make_project(tmp_path / "p", content_from=None)
    store.save_day(paths.content, Day(date=dt.date.fromisoformat(DAY), papers=day_papers()))
    configure(paths)
    return paths


def configure(paths: Paths, **digest_settings: object) -> None:
    settings = {
        "unsubscribe": "https://papers.example.net/unsubscribe?email={email}",
        "from_address": "Daily Papers <digest@papers.example.net>",
        "smtp_host": "127.0.0.1",
        "smtp_security": "none",
        **digest_settings,
    }
    paths.config_file.write_text(yaml.safe_dump({"site_url": SITE, "digest": settings}))


class Inbox:
    """aiosmtpd handler: keeps every message; refuses the addresses in `reject` with 550."""

    def __init__(self, reject: frozenset[str] = frozenset()) -> None:
        self.reject = reject
        self.received: list[tuple[list[str], EmailMessage, dict]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.reject:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        seen = {"tls": tls, "login": session.authenticated}
        self.received.append((list(envelope.rcpt_tos), message, seen))
        return "250 Message accepted"

    @property
    def messages(self) -> list[EmailMessage]:
        return [m for _, m, _ in self.received]


def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd replies 535


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    """A throwaway CA (trustme) and its certificate as a PEM file for digest.smtp_ca_file."""
    authority = trustme.CA()
    pem = tmp_path_factory.mktemp("ca") / "test-ca.pem"
    authority.cert_pem.write_to_path(str(pem))
    return authority, pem


def server_context(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator:
    """Start local SMTP servers: smtp_server(inbox, **aiosmtpd options) -> port."""
    running: list[Controller] = []

    def start(inbox: Inbox, **options: object) -> int:
        controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **options)
        controller.start()
        running.append(controller)
        return controller.port

    yield start
    for controller in running:
        controller.stop()


def run(paths: Paths, *args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(
        cli,
        ["digest", "--root", str(paths.root), *args],
        env={SMTP_PASSWORD_ENV: None, "DAILYPAPERS_SMTP_SECURITY": None, **(env or {})},
    )


def send(paths: Paths, port: int, *args: str, env: dict[str, str] | None = None):
    return run(paths, "--send", "--smtp-port", str(port), *args, env=env)


def html_part(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def text_part(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


# ---------------------------------------------------------------- messages as received


def test_one_message_per_recipient_mime_headers_and_links(project, smtp_server):
    inbox = Inbox()
    port = smtp_server(inbox)
    result = send(project, port, "--to", "ann@example.com", "--to", "bob@example.org")
    assert result.exit_code == 0, result.output
    assert "sent to 2, 0 already sent, 0 failed" in result.output
    assert [rcpts for rcpts, _, _ in inbox.received] == [["ann@example.com"], ["bob@example.org"]]
    ids = set()
    pairs = [("ann@example.com", "bob@example.org"), ("bob@example.org", "ann@example.com")]
    for (_, message, _), (address, other) in zip(inbox.received, pairs, strict=True):
        assert message["To"] == address and len(message.get_all("To")) == 1
        assert other not in message.as_string()  # no recipient sees another
        assert message.get_content_type() == "multipart/alternative"
        parts = [(p.get_content_type(), p.get_content_charset()) for p in message.iter_parts()]
        assert parts == [("text/plain", "utf-8"), ("text/html", "utf-8")]
        assert message["Subject"] == f"Daily Papers: top papers of {DAY}"
        assert email.utils.parseaddr(message["From"])[1] == "digest@papers.example.net"
        assert email.utils.parsedate_to_datetime(message["Date"]).tzinfo is not None
        ids.add(message["Message-ID"])
        assert message["Message-ID"].endswith("@papers.example.net>")
        assert message["List-Unsubscribe"].strip() == (  # strip: the long header is folded
            f"<https://papers.example.net/unsubscribe?email={address}>"
        )
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        for body in (text_part(message), html_part(message)):
            assert f"{SITE}papers/date/{DAY}/" in body
            for feed in ("feed.xml", "atom.xml", "feed.json"):
                assert SITE + feed in body
            for pid in ("2610.00001", "2610.00002"):
                assert f"{SITE}papers/{pid}/" in body
                assert f"https://huggingface.co/papers/{pid}" in body
                assert f"https://arxiv.org/abs/{pid}" in body
            assert f"unsubscribe?email={address}" in body
    assert len(ids) == 2


def test_top_n_ranked_with_summary_and_byline(project, smtp_server):
    inbox = Inbox()
    result = send(project, smtp_server(inbox), "--to", "ann@example.com", "--top", "3")
    assert result.exit_code == 0, result.output
    doc = lxml.html.document_fromstring(html_part(inbox.messages[0]).encode())
    titles = [a.text_content() for a in doc.xpath("//p[@class='dp-title']/a")]
    assert titles == ["Paper 2610.00001", HOSTILE_TITLE, "Paper 2610.00003"]
    text = text_part(inbox.messages[0])
    assert "A short AI summary." in text and "ACME Labs" in text  # AI summary, organization
    assert "Ada Lovelace, Alan Turing" in text and "Abstract of 2610.00003." in text
    assert "2610.00004" not in text


def test_hostile_text_is_escaped_in_the_html_part(project, smtp_server):
    inbox = Inbox()
    assert send(project, smtp_server(inbox), "--to", "ann@example.com").exit_code == 0
    html = html_part(inbox.messages[0])
    doc = lxml.html.document_fromstring(html.encode())
    assert doc.xpath("//script | //img | //svg | //b") == []
    handlers = [
        (el.tag, name)
        for el in doc.iter()
        if isinstance(el.tag, str)
        for name in el.attrib
        if name.lower().startswith("on")
    ]
    assert handlers == []
    assert all(not href.lower().startswith("javascript:") for href in doc.xpath("//a/@href"))
    body = doc.text_content()
    assert HOSTILE_TITLE in body and HOSTILE_AUTHOR in body and "<svg onload=alert(2)>" in body
    assert HOSTILE_TITLE in text_part(inbox.messages[0])  # plain text keeps it literally


# ---------------------------------------------------------------- TLS and login


def test_starttls_with_test_ca_and_login(project, smtp_server, ca):
    authority, pem = ca
    inbox = Inbox()
    port = smtp_server(
        inbox,
        tls_context=server_context(authority),
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    configure(project, smtp_security="starttls", smtp_user=USER, smtp_ca_file=str(pem))
    result = send(project, port, "--to", "ann@example.com", env={SMTP_PASSWORD_ENV: PASSWORD})
    assert result.exit_code == 0, result.output
    assert [seen for _, _, seen in inbox.received] == [{"tls": True, "login": True}]


def test_starttls_untrusted_certificate_fails_cleanly(project, smtp_server, ca, monkeypatch):
    # The test server (aiosmtpd, in this process) logs its side of the failed handshake
    # with a traceback, sometimes while the CLI's log handler is installed: not our output.
    monkeypatch.setattr(logging.getLogger("mail.log"), "disabled", True)
    port = smtp_server(Inbox(), tls_context=server_context(ca[0]), require_starttls=True)
    configure(project, smtp_security="starttls")  # no smtp_ca_file: the test CA is unknown
    result = send(project, port, "--to", "ann@example.com")
    assert result.exit_code == 1
    assert f"smtp://127.0.0.1:{port}" in result.output and "certificate" in result.output
    assert "Traceback" not in result.output
    assert not (project.root / "digest-state.json").exists()


def test_wrong_password_and_missing_password(project, smtp_server, ca):
    authority, pem = ca
    port = smtp_server(
        Inbox(),
        tls_context=server_context(authority),
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    configure(project, smtp_security="starttls", smtp_user=USER, smtp_ca_file=str(pem))
    wrong = send(project, port, "--to", "ann@example.com", env={SMTP_PASSWORD_ENV: "nope"})
    assert wrong.exit_code == 1 and "login as 'digest' refused: 535" in wrong.output
    missing = send(project, port, "--to", "ann@example.com")
    assert missing.exit_code == 1 and SMTP_PASSWORD_ENV in missing.output


def test_implicit_tls(project, smtp_server, ca):
    authority, pem = ca
    inbox = Inbox()
    port = smtp_server(inbox, ssl_context=server_context(authority))
    configure(project, smtp_security="ssl", smtp_ca_file=str(pem))
    result = send(project, port, "--to", "ann@example.com")
    assert result.exit_code == 0, result.output
    assert [seen["tls"] for _, _, seen in inbox.received] == [True]


# ---------------------------------------------------------------- idempotence and failures


def test_rerun_sends_nothing_twice(project, smtp_server):
    inbox = Inbox()
    port = smtp_server(inbox)
    subscribers = project.root / "subscribers.txt"
    subscribers.write_text(
        "# readers\nann@example.com\n\nbob@example.org  # bob\nANN@example.com\n"
    )
    first = send(project, port)
    assert first.exit_code == 0 and "sent to 2, 0 already sent" in first.output
    second = send(project, port)
    assert second.exit_code == 0 and "sent to 0, 2 already sent" in second.output
    assert len(inbox.received) == 2
    subscribers.write_text(subscribers.read_text() + "cy@example.net\n")
    third = send(project, port)
    assert "sent to 1, 2 already sent" in third.output
    assert inbox.received[-1][0] == ["cy@example.net"]
    state = json.loads((project.root / "digest-state.json").read_text())
    assert sorted(state["sent"][DAY]) == ["ann@example.com", "bob@example.org", "cy@example.net"]


def test_one_failing_recipient_others_delivered_exit_1(project, smtp_server):
    inbox = Inbox(reject=frozenset({"bad@example.com"}))
    port = smtp_server(inbox)
    addresses = ["ann@example.com", "bad@example.com", "bob@example.org"]
    result = send(project, port, *(arg for a in addresses for arg in ("--to", a)))
    assert result.exit_code == 1
    assert "bad@example.com: 550 5.1.1 no such mailbox" in result.output
    assert "Traceback" not in result.output
    assert [r for r, _, _ in inbox.received] == [["ann@example.com"], ["bob@example.org"]]
    inbox.reject = frozenset()
    retry = send(project, port, *(arg for a in addresses for arg in ("--to", a)))
    assert retry.exit_code == 0 and "sent to 1, 2 already sent" in retry.output
    assert inbox.received[-1][0] == ["bad@example.com"]


def test_empty_day_sends_only_with_send_empty(project, smtp_server):
    inbox = Inbox()
    port = smtp_server(inbox)
    quiet = send(project, port, "--date", "2026-10-04", "--to", "ann@example.com")
    assert quiet.exit_code == 0 and "no papers; nothing sent" in quiet.output
    assert inbox.received == []
    loud = send(project, port, "--date", "2026-10-04", "--to", "ann@example.com", "--send-empty")
    assert loud.exit_code == 0, loud.output
    assert "No papers were featured" in text_part(inbox.messages[0])


def test_bad_subscribers_file_and_bad_to(project):
    (project.root / "subscribers.txt").write_text("ann@example.com\nnot an address\n")
    result = send(project, 1)
    assert result.exit_code == 1 and "subscribers.txt:2: not an email address" in result.output
    for bad in ("nobody", "Ann <nobody>", "a@example.com, b@example.com"):
        result = run(project, "--to", bad)
        assert result.exit_code == 1, (bad, result.output)  # README: errors exit 1, not 2
        assert "--to: not an email address" in result.output and repr(bad) in result.output
        assert "Traceback" not in result.output


def test_to_with_a_display_name_is_accepted(project, smtp_server):
    inbox = Inbox()
    port = smtp_server(inbox)
    result = send(
        project, port, "--to", "Ann Lee <ann@example.com>", "--to", '"Lee, Bob" <bob@example.org>'
    )
    assert result.exit_code == 0, result.output
    assert [rcpts for rcpts, _, _ in inbox.received] == [["ann@example.com"], ["bob@example.org"]]
    first, second = inbox.messages
    assert first["To"] == "Ann Lee <ann@example.com>"
    assert email.utils.getaddresses([second["To"]]) == [("Lee, Bob", "bob@example.org")]
    assert "unsubscribe?email=ann@example.com>" in first["List-Unsubscribe"]
    again = send(project, port, "--to", "ann@example.com")  # the state is keyed by address
    assert again.exit_code == 0 and "sent to 0, 1 already sent" in again.output


def example_lines(text: str) -> list[str]:
    """The documented `digest --send … --smtp-port 1025` commands in `text`, as written."""
    lines = [
        line.strip().split("  #")[0].strip()
        for line in text.splitlines()
        if "python -m generator digest" in line and "--smtp-port 1025" in line
    ]
    assert lines, "no local-SMTP example found"
    return lines


@pytest.mark.parametrize("where", ["README.md", "--help"])
def test_documented_local_smtp_example_works_as_written(tmp_path, smtp_server, where):
    # A plain local SMTP server (aiosmtpd without STARTTLS), and the project's default
    # site.yml (smtp_security: starttls): the example must say how to talk to it.
    paths = make_project(tmp_path / "p", content_from=None)
    store.save_day(paths.content, Day(date=dt.date.fromisoformat(DAY), papers=day_papers()))
    if where == "README.md":
        text = (REPO / "README.md").read_text(encoding="utf-8")
    else:
        text = CliRunner().invoke(cli, ["digest", "--help"], terminal_width=200).output
    inbox = Inbox()
    port = smtp_server(inbox)
    for line in example_lines(text):
        args = line.replace("--smtp-port 1025", f"--smtp-port {port}").split()
        assert args[:3] == ["python", "-m", "generator"]
        (paths.root / "digest-state.json").unlink(missing_ok=True)
        before = len(inbox.received)
        result = subprocess.run(
            [sys.executable, *args[1:]],
            cwd=paths.root,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert result.returncode == 0, (line, result.stdout, result.stderr)
        assert [rcpts for rcpts, _, _ in inbox.received[before:]] == [["me@example.org"]], line


def test_smtp_security_option_and_environment_variable(project, smtp_server):
    configure(project, smtp_security="starttls")  # the default; the server has no STARTTLS
    port = smtp_server(Inbox())
    refused = send(project, port, "--to", "ann@example.com")
    assert (
        refused.exit_code == 1
        and "STARTTLS" in refused.output
        and "smtp_security" in refused.output
    )
    inbox = Inbox()
    port = smtp_server(inbox)
    by_option = send(project, port, "--to", "ann@example.com", "--smtp-security", "none")
    assert by_option.exit_code == 0, by_option.output
    by_env = send(
        project, port, "--to", "bob@example.org", env={"DAILYPAPERS_SMTP_SECURITY": "none"}
    )
    assert by_env.exit_code == 0, by_env.output
    assert [rcpts for rcpts, _, _ in inbox.received] == [["ann@example.com"], ["bob@example.org"]]
    assert send(project, port, "--to", "cy@example.net", "--smtp-security", "tls").exit_code == 2


def test_corrupt_state_file_refuses_to_send(project, smtp_server):
    (project.root / "digest-state.json").write_text("{not json")
    inbox = Inbox()
    result = send(project, smtp_server(inbox), "--to", "ann@example.com")
    assert result.exit_code == 1 and "digest-state.json: unreadable digest state" in result.output
    assert inbox.received == []


# ---------------------------------------------------------------- preview, .eml, units


def test_out_eml_parses_back_and_preview(project, tmp_path):
    out = tmp_path / "digest.eml"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            "digest",
            "--root",
            str(project.root),
            "--out",
            str(out),
            "--to",
            "ann@example.com",
        ],
        check=False,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    with out.open("rb") as fh:
        message = email.parser.BytesParser(policy=email.policy.default).parse(fh)
    assert message.get_content_type() == "multipart/alternative"
    assert message["To"] == "ann@example.com"
    assert HOSTILE_TITLE in text_part(message)
    preview = run(project, "--top", "1")
    assert preview.exit_code == 0
    assert preview.output.startswith("Daily Papers: the top 1 paper of Oct 3, 2026\n")
    assert "2610.00002" not in preview.output


def test_summary_cut_at_a_word_and_byline():
    long = paper("2610.00001", 1, summary="word " * 200)
    assert digest.summary(long, 50) == "word word word word word word word word word word…"
    assert digest.summary(paper("2610.00001", 1, ai_summary=" AI\nsays  this ")) == "AI says this"
    many = paper("2610.00001", 1, authors=["A", "B", "C", "D"])
    assert digest.byline(many) == "A, B, C et al."
    assert digest.byline(paper("2610.00001", 1, authors=[])) == ""


def test_latest_finished_day_skips_the_day_still_filling(tmp_path):
    for day in ("2026-10-02", "2026-10-03"):
        store.save_day(
            tmp_path, Day(date=dt.date.fromisoformat(day), papers=[paper("2610.00001", 1)])
        )
    assert digest.latest_finished_day(tmp_path, dt.date(2026, 10, 3)).stem == "2026-10-02"
    assert digest.latest_finished_day(tmp_path, dt.date(2026, 10, 4)).stem == "2026-10-03"
    with pytest.raises(Exception, match="no finished day"):
        digest.latest_finished_day(tmp_path, dt.date(2026, 10, 2))


def test_mailto_unsubscribe_has_no_one_click():
    config = SiteConfig(digest={"unsubscribe": "mailto:leave@example.org?subject=unsubscribe"})
    letter = digest.Digest(config, dt.date(2026, 10, 3), [], REPO / "site_config/templates/digest")
    message = letter.message("ann@example.com")
    assert message["List-Unsubscribe"] == "<mailto:leave@example.org?subject=unsubscribe>"
    assert message["List-Unsubscribe-Post"] is None
    assert mailer.unique(["a@x.org", "b@x.org", "A@X.org"]) == ["a@x.org", "b@x.org"]


def test_help_has_examples():
    result = CliRunner().invoke(cli, ["digest", "--help"])
    assert (
        result.exit_code == 0 and "Examples:" in result.output and "--send-empty" in result.output
    )


# ---------------------------------------------------------------- the site's Subscribe box


@pytest.mark.parametrize("subscribe_url", ["", "https://forms.example.org/daily-papers"])
def test_subscribe_box_on_day_pages(subscribe_url):
    config = SiteConfig(digest={"subscribe_url": subscribe_url})
    renderer = PageRenderer(config, REPO / "site_config" / "templates")
    day = Day(date=dt.date(2026, 10, 3), papers=[paper("2610.00001", 1)])
    page = renderer.render(
        "day.md.j2",
        f"papers/date/{DAY}.md",
        day=day,
        papers=day.papers,
        prev_day=None,
        next_day=None,
        home=False,
        week="2026-W40",
        month="2026-10",
    )
    box = lxml.html.fragment_fromstring(
        page[page.index('<aside class="dp-subscribe"') : page.index("</aside>") + 8]
    )
    hrefs = box.xpath(".//a/@href")
    assert [h for h in hrefs if h.endswith((".xml", ".json"))] == [
        "../../../feed.xml",
        "../../../atom.xml",
        "../../../feed.json",
    ]
    assert (subscribe_url in hrefs) == bool(subscribe_url)
    assert ("in your email inbox" in box.text_content()) == bool(subscribe_url)
