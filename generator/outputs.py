"""Generated files cached between builds (feeds, the JSON export): OutputCache."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from generator.fsutil import code_digest, write_if_changed
from generator.tree import SiteTree, files_under


class OutputCache:
    """Generated files kept in `folder` between builds, remade only when their key changes.

    `fresh(name, key)` says whether the file made under that key last time is still there;
    otherwise `write` it. `finish()` drops files not asked for this time and records the
    keys (after the files, so a killed build only costs regeneration); `add_to(tree)` puts
    the files into the new site (they are replaced, never changed in place: see
    write_if_changed, and tree.py for why that matters).
    """

    def __init__(self, folder: Path, global_key: str) -> None:
        self.folder = folder
        self.manifest = folder.with_name(folder.name + "-manifest.json")
        self.global_key = hashlib.sha256(f"{code_digest()}|{global_key}".encode()).hexdigest()
        try:
            old = json.loads(self.manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        self.old: dict[str, str] = (
            old.get("files", {}) if old.get("global") == self.global_key else {}
        )
        # The files there, from the folder listings (a stat per file was 20,000 stats)
        self.present = {rel for rel, _path in files_under(folder)} if self.old else set()
        self.keys: dict[str, str] = {}
        self.written = 0

    def fresh(self, name: str, key: str) -> bool:
        digest = hashlib.sha256(key.encode()).hexdigest()
        self.keys[name] = digest
        return self.old.get(name) == digest and name in self.present

    def write(self, name: str, data: bytes) -> None:
        self.written += write_if_changed(self.folder / name, data, durable=False)

    def finish(self) -> OutputCache:
        self.folder.mkdir(parents=True, exist_ok=True)
        for rel, path in list(files_under(self.folder)):
            if rel not in self.keys:
                os.unlink(path)
        data = json.dumps({"global": self.global_key, "files": self.keys}).encode()
        write_if_changed(self.manifest, data, durable=False)
        return self

    def add_to(self, tree: SiteTree, prefix: str = "") -> None:
        tree.add_folder(prefix, self.folder)
