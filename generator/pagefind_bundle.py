"""Pagefind's bundle files: make one run's output depend on its input pages only.

Pagefind 1.5 builds its filter index in a hash map seeded at random on each run, so a
filter with several values (organization) is written with its values, and the filters
themselves, in a different order every time: different `filter/*.pf_filter` bytes, so
different file names, so a different `*.pf_meta` and `pagefind-entry.json`. The search
results are the same, but a daily update would no longer equal a full build byte for byte
(the year filter alone was stable: each bundle holds one year). `canonicalize` rewrites
those files in a fixed order, under names made from their content:

    pagefind-entry.json        {"languages": {"en": {"hash": "en_<meta>"}}, ...}
    pagefind.en_<meta>.pf_meta gzip("pagefind_dcd" + CBOR [version, pages, index chunks,
                               [[filter, "en_<chunk>"], ...], sorts, meta fields])
    filter/en_<chunk>.pf_filter gzip("pagefind_dcd" + CBOR [filter, [[value, [page, ...]],
                               ...]])

Pagefind's browser code finds every file by the names these files give, so any name works.
Every other file of the bundle (word index, fragments, scripts) is already deterministic.
It runs on a fresh bundle folder before the build swaps it in (generator/search.py), so
plain writes do: a failed build discards the folder.
A layout this module does not recognise (another Pagefind version) is left as Pagefind
wrote it, with a warning: search still works; only the byte-for-byte equality is lost,
which the tests check.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
from pathlib import Path

import cbor2

log = logging.getLogger(__name__)

#: What Pagefind writes before the CBOR of every index file.
SIGNATURE = b"pagefind_dcd"
#: Where the filters' list is in the pf_meta array (Pagefind 1.5's MetaIndex).
META_FILTERS = 3
ENTRY = "pagefind-entry.json"


class UnknownLayout(Exception):
    """The bundle is not laid out as this module expects."""


def canonicalize(bundle: Path) -> bool:
    """Rewrite `bundle`'s filter chunks, metadata and entry file in a fixed order.

    True if it did; False (with a warning) if the layout is not Pagefind 1.5's.
    """
    try:
        _canonicalize(bundle)
    except UnknownLayout as exc:
        log.warning(
            "%s: Pagefind's output kept as written (%s); it may differ between runs", bundle, exc
        )
        return False
    return True


def _canonicalize(bundle: Path) -> None:
    entry_file = bundle / ENTRY
    try:
        entry = json.loads(entry_file.read_text(encoding="utf-8"))
        languages = entry["languages"]
        metas = {lang: info["hash"] for lang, info in languages.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UnknownLayout(f"{ENTRY}: {exc}") from None
    for lang, meta_hash in sorted(metas.items()):
        languages[lang]["hash"] = _canonical_meta(bundle, meta_hash)
    text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
    entry_file.write_text(text, encoding="utf-8")


def _canonical_meta(bundle: Path, meta_hash: str) -> str:
    """Rewrite one language's pf_meta and filter chunks; the meta file's new hash."""
    meta_file = bundle / f"pagefind.{meta_hash}.pf_meta"
    meta = read(meta_file)
    if not (isinstance(meta, list) and len(meta) > META_FILTERS):
        raise UnknownLayout(f"{meta_file.name}: not a metadata array")
    filters = meta[META_FILTERS]
    if not isinstance(filters, list) or not all(_is_pair(item) for item in filters):
        raise UnknownLayout(f"{meta_file.name}: no list of [filter, chunk] at {META_FILTERS}")
    prefix = meta_hash.partition("_")[0] + "_"
    renamed = []
    for name, chunk_hash in filters:
        old = bundle / "filter" / f"{chunk_hash}.pf_filter"
        chunk = read(old)
        if not (
            isinstance(chunk, list)
            and len(chunk) == 2
            and chunk[0] == name
            and isinstance(chunk[1], list)
            and all(_is_value(v) for v in chunk[1])
        ):
            raise UnknownLayout(f"filter/{old.name}: not a filter chunk of {name!r}")
        chunk[1].sort(key=lambda value: value[0])
        new_hash = prefix + write(bundle / "filter", chunk, "pf_filter", 7, replaces=old)
        renamed.append([name, new_hash])
    meta[META_FILTERS] = sorted(renamed)
    new_hash = prefix + write(bundle, meta, "pf_meta", 10, replaces=meta_file, stem="pagefind.")
    return new_hash


def read(path: Path) -> object:
    """The CBOR value in a Pagefind index file, checked to encode back to the same bytes
    (so rewriting it changes nothing but what is meant to change)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnknownLayout(f"{path.name}: {exc.strerror}") from None
    try:
        payload = gzip.decompress(data)
    except (OSError, EOFError, ValueError):
        payload = data
    if not payload.startswith(SIGNATURE):
        raise UnknownLayout(f"{path.name}: no {SIGNATURE.decode()} signature")
    body = payload[len(SIGNATURE) :]
    try:
        value = cbor2.loads(body)
    except (cbor2.CBORDecodeError, ValueError) as exc:
        raise UnknownLayout(f"{path.name}: {exc}") from None
    if cbor2.dumps(value) != body:
        raise UnknownLayout(f"{path.name}: its CBOR does not encode back to the same bytes")
    return value


def write(
    folder: Path, value: object, ext: str, digits: int, *, replaces: Path, stem: str = ""
) -> str:
    """Write `value` as an index file named by its content's hash; remove `replaces`; the
    hash (without the language prefix)."""
    payload = SIGNATURE + cbor2.dumps(value)
    digest = hashlib.sha256(payload).hexdigest()[:digits]
    prefix = replaces.name[len(stem) :].partition("_")[0] + "_"
    target = folder / f"{stem}{prefix}{digest}.{ext}"
    if target != replaces:
        target.write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))
        replaces.unlink()
    return digest


def _is_pair(item: object) -> bool:
    return isinstance(item, list) and len(item) == 2 and all(isinstance(s, str) for s in item)


def _is_value(item: object) -> bool:
    return isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
