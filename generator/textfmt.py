"""Untrusted text -> safe HTML: everything escaped, `$…$` math rendered to sanitised MathML.

No string from content ever reaches a page as markup: text is HTML-escaped, and the only
markup added is MathML that this module rebuilds element by element from an allowlist.
Math is rendered at build time (latex2mathml) so pages need no script, font or CDN.
"""

from __future__ import annotations

import functools
import html
import logging
import re
import xml.etree.ElementTree as ET

from latex2mathml.converter import convert as latex_to_mathml
from markupsafe import Markup

log = logging.getLogger(__name__)

# Everything outside the XML 1.0 Char production (controls, lone surrogates, U+FFFE/FFFF).
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def count(n: int, word: str) -> str:
    """ "1 paper", "1,204 papers": a count and its word, plural unless it is 1."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def xml_safe(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (models already do; output must not depend on it)."""
    return _NOT_XML_CHAR.sub("", text)


# Pandoc's rule: an opening $ has a non-space right after it, a closing $ a non-space right
# before it and no digit right after it; so "costs $5 and $10" stays text.
MATH = re.compile(
    r"(?<![\\$])\$\$(?=\S)(?P<display>[^$]{1,600}?)(?<=\S)\$\$"
    r"|(?<![\\$\w])\$(?=[^\s$])(?P<inline>[^$\n]{1,300}?)(?<=[^\s\\$])\$(?![\d$])"
)
MAX_FORMULAS = 64
# LaTeX commands that would make links, load things or style arbitrary HTML: never rendered.
UNSAFE_LATEX = re.compile(r"\\(href|url|html|class|style|data|cssId|require|includegraphics)\b")

ALLOWED_TAGS = frozenset(
    [
        "math",
        "mrow",
        "mi",
        "mn",
        "mo",
        "ms",
        "mtext",
        "mspace",
        "msub",
        "msup",
        "msubsup",
        "mfrac",
        "msqrt",
        "mroot",
        "mover",
        "munder",
        "munderover",
        "mtable",
        "mtr",
        "mtd",
        "mstyle",
        "mpadded",
        "mphantom",
        "menclose",
        "merror",
        "mmultiscripts",
        "mprescripts",
        "none",
    ]
)
ALLOWED_ATTRS = frozenset(
    [
        "display",
        "mathvariant",
        "stretchy",
        "fence",
        "separator",
        "form",
        "lspace",
        "rspace",
        "accent",
        "accentunder",
        "movablelimits",
        "largeop",
        "symmetric",
        "minsize",
        "maxsize",
        "linethickness",
        "scriptlevel",
        "displaystyle",
        "columnalign",
        "rowalign",
        "columnspacing",
        "rowspacing",
        "columnlines",
        "rowlines",
        "frame",
        "width",
        "height",
        "depth",
        "voffset",
        "notation",
    ]
)
SAFE_VALUE = re.compile(r"^[\w .%#+-]{0,40}$")
MATHML_NS = "{http://www.w3.org/1998/Math/MathML}"


def rich(text: str) -> Markup:
    """HTML for untrusted text: escaped, with well-formed `$…$` spans rendered as MathML."""
    out: list[str] = []
    last = 0
    for count, match in enumerate(MATH.finditer(text)):
        if count >= MAX_FORMULAS:
            break
        display = match.group("display") is not None
        mathml = render_math(match.group("display") or match.group("inline"), display)
        if mathml is None:
            continue
        out.append(html.escape(text[last : match.start()], quote=False))
        out.append(mathml)
        last = match.end()
    out.append(html.escape(text[last:], quote=False))
    return Markup("".join(out))


@functools.lru_cache(maxsize=4096)
def render_math(latex: str, display: bool = False) -> str | None:
    """Sanitised MathML for one formula, or None to show it as literal text."""
    if UNSAFE_LATEX.search(latex):
        return None
    # latex2mathml copies <, > and & through unescaped; give it the LaTeX names instead.
    source = latex.replace("&", r"\&").replace("<", r"\lt ").replace(">", r"\gt ")
    try:
        raw = latex_to_mathml(source, display="block" if display else "inline")
        root = ET.fromstring(raw)
    except Exception:  # noqa: BLE001 - any failure means: show the text as it is
        log.debug("math not rendered: %r", latex)
        return None
    body = _rebuild(root)
    if body is None:
        return None
    # Keep the LaTeX source beside the rendering, as MathML's own annotation element.
    tex = html.escape(latex, quote=False)
    head, _, inner = body.partition(">")
    return (
        f"{head}><semantics>{inner.removesuffix('</math>')}"
        f'<annotation encoding="application/x-tex" data-pagefind-ignore>{tex}</annotation>'
        "</semantics></math>"
    )


def _rebuild(node: ET.Element) -> str | None:
    """Serialise MathML from the allowlist only; None if anything else appears."""
    tag = node.tag.removeprefix(MATHML_NS)
    if tag not in ALLOWED_TAGS:
        return None
    attrs = "".join(
        f' {name}="{html.escape(value)}"'
        for name, value in sorted(node.attrib.items())
        if name in ALLOWED_ATTRS and SAFE_VALUE.match(value)
    )
    parts = [html.escape(node.text or "", quote=False)]
    for child in node:
        inner = _rebuild(child)
        if inner is None:
            return None
        parts.append(inner)
        parts.append(html.escape(child.tail or "", quote=False))
    return f"<{tag}{attrs}>{''.join(parts)}</{tag}>"
