"""feeds.opml: every feed the site writes, as an OPML 2.0 subscription list.

Made from the list of feeds actually written (feeds.write_all passes it), so a feed added
there is listed without a change here. Feeds are grouped by where they live: topics/ and
orgs/ feeds under Topics and Organizations, feeds/top-N.xml under Thresholds, every other
feed (the main feeds, the daily feed, any new one) under Site. Built with
xml.etree.ElementTree, which escapes every attribute; titles are filtered to XML's
character range first. No date is written, so the same feeds give the same bytes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from urllib.parse import quote

from generator.config import SiteConfig
from generator.textfmt import xml_safe

FILE = "feeds.opml"
FEED_SUFFIXES = (".xml", ".json")
GROUPS = ("Site", "Thresholds", "Topics", "Organizations")
#: What a title says of a feed's format (RSS, the default, says nothing).
FORMAT_NAMES = {"atom": "Atom", "json": "JSON Feed"}
_THRESHOLD = re.compile(r"^feeds/top-[0-9]+\.xml$")


def format_title(title: str, kind: str) -> str:
    """A feed's title in the list: "Daily Papers: topic LLM (Atom)"."""
    return f"{title} ({FORMAT_NAMES[kind]})" if kind in FORMAT_NAMES else title


def group_of(path: str) -> str:
    """The OPML group of a site-relative feed path."""
    if path.startswith("topics/"):
        return "Topics"
    if path.startswith("orgs/"):
        return "Organizations"
    return "Thresholds" if _THRESHOLD.match(path) else "Site"


def document(config: SiteConfig, feeds: Mapping[str, str]) -> bytes:
    """The OPML of `feeds` ({site-relative path: title}), in the order given, grouped."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = xml_safe(f"{config.title}: feeds")
    ET.SubElement(head, "docs").text = "https://opml.org/spec2.opml"
    body = ET.SubElement(root, "body")
    groups = {name: ET.Element("outline", text=name, title=name) for name in GROUPS}
    for path, title in feeds.items():
        label = xml_safe(title).strip() or path
        folder = path.rpartition("/")[0]
        ET.SubElement(
            groups[group_of(path)],
            "outline",
            type="rss",
            text=label,
            title=label,
            xmlUrl=config.site_url + quote(path, safe="/"),
            htmlUrl=config.site_url + quote(folder + "/" if folder else "", safe="/"),
        )
    body.extend(group for group in groups.values() if len(group))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
