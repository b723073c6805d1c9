"""site/: run MkDocs into a fresh folder, and swap a complete folder in as the published site."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import shutil
from pathlib import Path

from generator.config import Paths, SiteConfig
from generator.errors import BuildError

log = logging.getLogger(__name__)

RENAME_EXCHANGE = 2
AT_FDCWD = -100


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def run_mkdocs(paths: Paths, config: SiteConfig, out_dir: Path) -> None:
    """Build the generated Markdown with MkDocs in strict mode into `out_dir`."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    collect = _Collect()
    mkdocs_log = logging.getLogger("mkdocs")
    mkdocs_log.addHandler(collect)
    try:
        cfg = load_config(
            str(paths.mkdocs_yml),
            docs_dir=str(paths.docs),
            site_dir=str(out_dir),
            site_name=config.title,
            site_url=config.site_url,
            site_description=config.description,
            strict=True,
        )
        build(cfg)
    except (MkDocsException, SystemExit, OSError) as exc:
        detail = "; ".join(collect.messages[:10]) or str(exc)
        raise BuildError(f"{paths.mkdocs_yml}: MkDocs build failed: {detail}") from None
    finally:
        mkdocs_log.removeHandler(collect)


def publish(new_site: Path, site: Path) -> None:
    """Make `new_site` the published `site` in one step; the old site is removed after."""
    if site.exists() and _exchange(new_site, site):
        shutil.rmtree(new_site)  # now holds the previous site
        return
    old = site.with_name(f".site-old-{os.getpid()}")
    if site.exists():
        os.rename(site, old)
    os.rename(new_site, site)
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux renameat2); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    res = fn(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    if res != 0:
        log.debug("renameat2 exchange unsupported: %s", os.strerror(ctypes.get_errno()))
    return res == 0


def clean_leftovers(root: Path) -> None:
    """Undo what a killed build left; call while holding the build lock."""
    site = root / "site"
    olds = sorted(root.glob(".site-old-*"))
    if not site.exists() and olds:  # killed between the two renames of the fallback swap
        os.rename(olds[-1], site)
    for leftover in root.glob(".site-*"):
        if leftover.is_dir():
            with contextlib.suppress(OSError):
                shutil.rmtree(leftover)
                log.info("removed unfinished build %s", leftover)
