"""The one error family: every message names the file or URL and the cause; exit 1."""

from __future__ import annotations

import click


class GeneratorError(click.ClickException):
    """A failure the operator can act on; click prints it without a traceback and exits 1."""

    exit_code = 1


class ContentError(GeneratorError):
    """A content file is missing, unreadable or invalid."""


class FetchError(GeneratorError):
    """The API could not be reached or answered something unusable."""


class BuildError(GeneratorError):
    """MkDocs, Pagefind or a writer failed; the published site is untouched."""
