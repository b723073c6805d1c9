"""The one error family: every message names the file or URL and the cause; exit 1."""

from __future__ import annotations

import click


class GeneratorError(click.ClickException):
    """A failure the operator can act on; click prints it without a traceback and exits 1."""

    exit_code = 1


class ContentError(GeneratorError):
    """A content file is missing, unreadable or invalid."""

    #: Each problem's message (file:line: cause) when raised by `listing`.
    problems: tuple[str, ...] = ()

    @classmethod
    def listing(cls, problems: list[str], where: str = "content") -> ContentError:
        """One error naming every problem found in `where`, one a line after a count."""
        error = cls(f"{len(problems)} problem(s) in {where}:\n" + "\n".join(problems))
        error.problems = tuple(problems)
        return error


class FetchError(GeneratorError):
    """The API could not be reached or answered something unusable."""


class BuildError(GeneratorError):
    """MkDocs, Pagefind or a writer failed; the published site is untouched."""
