"""Search: index the built site with Pagefind (its paper articles only)."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from generator.errors import BuildError

log = logging.getLogger(__name__)


def index_site(site_dir: Path) -> None:
    """Run Pagefind over `site_dir`, writing `site_dir/pagefind/`.

    Only elements marked `data-pagefind-body` (the paper pages' article) are indexed.
    """
    cmd = [sys.executable, "-m", "pagefind", "--site", str(site_dir)]
    cmd += ["--output-path", str(site_dir / "pagefind")]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise BuildError(f"{site_dir}: Pagefind failed (exit {proc.returncode}): {' '.join(tail)}")
    for line in proc.stdout.splitlines():
        if line.strip().startswith(("Indexed", "Finished")):
            log.debug("pagefind: %s", line.strip())
