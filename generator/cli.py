"""The command line: `python -m generator` / `dailypapers`. Thin commands, lazy imports."""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

import click

from generator import __version__


def _setup_logging(verbose: int) -> None:
    from rich.console import Console
    from rich.logging import RichHandler

    level = logging.WARNING - 10 * verbose if verbose else logging.WARNING
    handler = RichHandler(console=Console(stderr=True), show_path=False, show_time=False)
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)
    logging.getLogger("generator").setLevel(min(level, logging.INFO))
    logging.getLogger("mkdocs").setLevel(logging.WARNING if verbose < 2 else logging.DEBUG)
    logging.getLogger("httpx").setLevel(logging.WARNING if verbose < 2 else logging.INFO)


def _context(root: Path, *, project: bool = False):
    """Paths and settings; `project`: refuse (creating nothing) unless `root` is a project
    folder, one holding content/ and site_config/."""
    from generator.config import Paths, load_config
    from generator.errors import GeneratorError

    paths = Paths(root.resolve())
    if project:
        missing = [
            p.name + "/" for p in (paths.content, paths.config_file.parent) if not p.is_dir()
        ]
        if not paths.root.is_dir():
            raise GeneratorError(
                f"{paths.root}: no such folder (--root names the project "
                "folder, holding content/ and site_config/)"
            )
        if missing:
            raise GeneratorError(
                f"{paths.root}: not a Daily Papers project (no "
                f"{' or '.join(missing)} here); run it in the project folder "
                "or pass --root"
            )
    return paths, load_config(paths)


root_option = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Project folder holding content/, site_config/ and mkdocs.yml.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dailypapers")
@click.option("-v", "--verbose", count=True, help="More output (-vv: debug).")
def cli(verbose: int) -> None:
    """Daily Papers: Hugging Face's trending AI papers as a static, searchable site.

    \b
    Typical use, e.g. from cron:
      python -m generator fetch      # today and the 3 days before
      python -m generator build      # content/ -> site/
    """
    _setup_logging(verbose)


@cli.command()
@click.option("--date", "one_day", type=click.DateTime(["%Y-%m-%d"]), help="Fetch this day.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day of a range.")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day (default: today).")
@click.option("--api", help="API base URL [env DAILYPAPERS_API; site.yml `api`].")
@click.option(
    "--yes",
    is_flag=True,
    help="Go ahead with a range longer than site.yml fetch.max_range_days (400).",
)
@root_option
def fetch(
    one_day: dt.datetime | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
    api: str | None,
    yes: bool,
    root: Path,
) -> None:
    """Fetch featured days from the Hugging Face API into content/.

    Without dates: today (Hugging Face's day, which rolls over at 21:30 New York time)
    and the days before it (site.yml fetch.days, default 4), and again the last stored
    days (fetch.refresh_days, default 14), whose counts still move. Re-fetching a day
    merges: counts update, papers not returned again stay. Every run records the counts
    that changed in content/history/ (at $DAILYPAPERS_NOW if set, for tests and replays).
    Sends HF_TOKEN when set.

    \b
    Examples:
      python -m generator fetch
      python -m generator fetch --date 2026-10-03
      python -m generator fetch --from 2026-06-01 --to 2026-06-30
      python -m generator fetch --from 2023-05-04 --yes   # the whole archive: ~1,300 requests
      DAILYPAPERS_API=http://127.0.0.1:8080 python -m generator fetch --date 2026-10-03
    """
    from generator import update

    paths, config = _context(root)
    if api:
        config = config.model_copy(update={"api": api.rstrip("/") + "/"})
    if one_day and (start or end):
        raise click.UsageError("use either --date or --from/--to")
    for name, value in (("--date", one_day), ("--from", start), ("--to", end)):
        _in_window(name, value)
    if one_day:
        days = [one_day.date()]
    elif start:
        days = update.date_range(start.date(), end.date() if end else update.hf_today())
    else:
        last = end.date() if end else update.hf_today()
        days = update.date_range(last - dt.timedelta(days=config.fetch.days - 1), last)
        if end is None:  # the default run also follows the counts of recent days
            days = update.with_refresh(paths.content, days, config.fetch.refresh_days)
    _confirm_range(update, days, config.fetch, yes)
    report = _run_fetch(update, paths.content, config, days)
    click.echo(
        f"{len(report.written)} day(s) written, {len(report.unchanged)} unchanged, "
        f"{len(report.empty)} empty, {len(report.failed)} failed"
        + (f"; {report.rejected} invalid item(s) rejected" if report.rejected else "")
        + f"; {report.points} history point(s) recorded"
    )
    update.raise_for_failures(report)


def _in_window(name: str, value: dt.datetime | None) -> None:
    """Refuse a day outside the featured-day window that content/ accepts."""
    from generator.models import FIRST_DAY, LAST_DAY

    if value is not None and not FIRST_DAY <= value.date() <= LAST_DAY:
        raise click.BadParameter(
            f"{value.date()} is outside {FIRST_DAY} to {LAST_DAY} (Daily Papers "
            "lists days from 2023-05-04 on)",
            param_hint=name,
        )


def _confirm_range(update, days: list[dt.date], settings, yes: bool) -> None:
    """A range over fetch.max_range_days needs --yes: say what it costs first."""
    if len(days) <= settings.max_range_days:
        return
    requests, seconds = update.estimate(len(days), settings)
    click.echo(
        f"{len(days):,} days from {days[0]} to {days[-1]}: at least {requests:,} "
        f"requests, at least {_duration(seconds)} at the rate limit "
        f"({settings.rate_limit} per {settings.rate_window:g} s).",
        err=True,
    )
    if not yes:
        from generator.errors import GeneratorError

        raise GeneratorError(
            f"{len(days):,} days is more than fetch.max_range_days "
            f"({settings.max_range_days}); add --yes to fetch them"
        )


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def _run_fetch(update, content: Path, config, days: list[dt.date]):
    from rich.progress import Progress

    token = os.environ.get("HF_TOKEN") or None
    with Progress(transient=True, disable=len(days) < 2) as progress:
        task = progress.add_task("Fetching days", total=len(days))
        return update.fetch_days(
            content, config, days, token, on_day=lambda _d: progress.advance(task)
        )


@cli.command()
@root_option
def build(root: Path) -> None:
    """Build the site: content/ -> Markdown -> MkDocs -> search index and feeds -> site/.

    The new site is built in a fresh folder and replaces site/ only when complete.

    \b
    Example:
      python -m generator build && python -m generator serve
    """
    from generator import hosting

    report = _run_build(root)
    click.echo(
        f"Built site/ from {report.days} day(s), {report.papers} paper(s) in "
        f"{sum(report.seconds.values()):.1f} s ("
        + ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items())
        + ")"
    )
    line, warnings = hosting.verdict(hosting.measure(root.resolve() / "site"))
    for warning in warnings:  # a warning, not a failure: the site is built and published
        click.echo(warning, err=True)
    click.echo(line)


def _run_build(root: Path):
    from rich.console import Console

    from generator.build import build as run

    paths, config = _context(root, project=True)
    console = Console(stderr=True)
    with console.status("Building…") as status:
        return run(paths, config, on_step=lambda name: status.update(f"Building: {name}…"))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--watch/--no-watch",
    default=True,
    show_default=True,
    help="Rebuild when content/ or site_config/ change.",
)
@root_option
def serve(host: str, port: int, watch: bool, root: Path) -> None:
    """Build, then serve site/ on a local address, rebuilding on changes.

    Search needs the site served over HTTP (Pagefind loads its index with fetch()),
    so use this rather than opening the files directly.

    \b
    Example:
      python -m generator serve --port 8000   # then open http://127.0.0.1:8000/
    """
    from generator.serve import serve as run

    _run_build(root)
    paths, _ = _context(root, project=True)
    run(paths, host, port, rebuild=(lambda: _run_build(root)) if watch else None)


@cli.command()
@click.option(
    "--fix",
    is_flag=True,
    help="First rewrite what is mechanically fixable (unquoted ids, key order, "
    "whitespace), atomically; comments in rewritten files are not kept.",
)
@root_option
def check(fix: bool, root: Path) -> None:
    """Validate every file in content/ and report every problem at once.

    Each problem reads file:line: paper: field: cause; exit 1 if there is any. The upvote
    history (content/history/*.jsonl) is checked too: file:line and cause.
    `build` runs the same validation first.

    \b
    Examples:
      python -m generator check
      python -m generator check --fix
    """
    from generator import store

    paths, _ = _context(root, project=True)
    if fix:
        with store.locked(paths.content):
            for message in store.fix_layout(paths.content):
                click.echo(f"fixed {message}")
            for path in store.day_files(paths.content):
                for message in store.fix_day_file(path)[0]:
                    click.echo(f"fixed {message}")
    from generator import history
    from generator.errors import ContentError

    recorded, problems = history.read(paths.content)
    try:
        days = store.load_all(paths.content)
    except ContentError as exc:
        if not problems:
            raise
        problems = [*(exc.problems or (exc.message,)), *problems]
    if problems:
        raise ContentError.listing(problems)
    points = sum(map(len, recorded.values()))
    click.echo(
        f"{len(days)} day file(s), {sum(len(d.papers) for d in days)} paper(s), "
        f"{points:,} history point(s): all valid"
    )


@cli.command()
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    help="The day to send (default: the latest finished day stored).",
)
@click.option(
    "--top", type=click.IntRange(1, 100), help="Papers in the digest [site.yml digest.top]."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the message to this .eml file.",
)
@click.option("--send", is_flag=True, help="Send it by SMTP to every recipient not sent this day.")
@click.option(
    "--to",
    "to",
    multiple=True,
    metavar="ADDRESS",
    help="Recipient (repeatable); replaces the subscribers file for this run.",
)
@click.option("--smtp-host", help="SMTP server [site.yml digest.smtp_host].")
@click.option("--smtp-port", type=click.IntRange(1, 65535), help="SMTP port [digest.smtp_port].")
@click.option(
    "--smtp-security",
    type=click.Choice(["starttls", "ssl", "none"]),
    envvar="DAILYPAPERS_SMTP_SECURITY",
    show_envvar=True,
    help="TLS: STARTTLS, implicit TLS, or none (a local test server) [digest.smtp_security].",
)
@click.option("--send-empty", is_flag=True, help="Send even when the day has no papers.")
@root_option
def digest(
    day: dt.datetime | None,
    top: int | None,
    out: Path | None,
    send: bool,
    to: tuple[str, ...],
    smtp_host: str | None,
    smtp_port: int | None,
    smtp_security: str | None,
    send_empty: bool,
    root: Path,
) -> None:
    """Email the day's top papers: print, write (--out) or send (--send) the digest.

    Without --out or --send, prints the plain-text part. With --send, each recipient
    (the subscribers file of site.yml `digest:`, or --to) gets a message of their own,
    once: the state file records who was sent which day, so a re-run sends nothing twice.
    Exits 1 if any recipient failed, naming each. A recipient is an address or
    "Name <address>"; an invalid --to exits 1. The SMTP password is read from the
    environment variable DAILYPAPERS_SMTP_PASSWORD, never from site.yml.

    \b
    Examples:
      python -m generator digest                        # preview the latest day as text
      python -m generator digest --date 2026-10-03 --out digest.eml
      python -m generator digest --send --to me@example.org --smtp-host localhost --smtp-port 1025 --smtp-security none
      DAILYPAPERS_SMTP_PASSWORD=… python -m generator digest --send   # cron, after fetch
    """
    from generator import digest as compose
    from generator import mailer
    from generator.errors import GeneratorError

    bad = [address for address in to if mailer.parse_recipient(address) is None]
    if bad:
        raise GeneratorError(
            "--to: not an email address: "
            + ", ".join(repr(a) for a in bad)
            + ' (write me@example.org or "Name <me@example.org>")'
        )
    to = tuple(mailer.parse_recipient(address) or address for address in to)
    paths, config = _context(root, project=True)
    overrides = {
        "top": top,
        "smtp_host": smtp_host,
        "smtp_port": smtp_port,
        "smtp_security": smtp_security,
    }
    settings = config.digest.model_copy(update={k: v for k, v in overrides.items() if v})
    config = config.model_copy(update={"digest": settings})
    letter = compose.compose(paths, config, day.date() if day else None)
    if out:
        _write_eml(out, letter.message(to[0] if to else None))
        click.echo(f"Wrote {out} ({len(letter.entries)} paper(s) of {letter.day})")
    if not send:
        if not out:
            click.echo(letter.render("email.txt.j2", to[0] if to else None), nl=False)
        return
    if not letter.entries and not send_empty:
        click.echo(f"{letter.day}: no papers; nothing sent (--send-empty sends it anyway)")
        return
    recipients = list(to) or mailer.read_subscribers(paths.root / settings.subscribers)
    report = mailer.send(letter, recipients, paths.root / settings.state_file)
    click.echo(
        f"{letter.day}: sent to {len(report.sent)}, {len(report.skipped)} already sent, "
        f"{len(report.failed)} failed"
    )
    if report.failed:
        raise GeneratorError(
            "not sent to " + "; ".join(f"{a}: {why}" for a, why in report.failed.items())
        )


def _write_eml(out: Path, message) -> None:
    from generator.fsutil import atomic_write

    atomic_write(out, bytes(message))


def main() -> None:
    cli(prog_name="python -m generator")
