"""HTML mail to plain text with inscriptis (Apache-2.0) over lxml (BSD), in bounded time.

inscriptis lays out block elements, lists and tables the way a mail client shows them. Its
layout runs in Python per element, so the document is first parsed by lxml (C), stripped of
what is never shown (head, style, script, comments) and cut after `MAX_ELEMENTS` elements;
the HTML itself is cut at `HTML_LIMIT` characters. Quoted replies (`<blockquote>`) come out as
"> " lines, as a plain-text mail client writes them, so the reply splitter drops them.
"""

from __future__ import annotations

import re

from inscriptis import Inscriptis
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig
from lxml import etree

HTML_LIMIT = 200_000  # characters of HTML read
MAX_ELEMENTS = 500  # elements laid out (a long newsletter has more; a reply far fewer)
_CONFIG = ParserConfig(css=CSS_PROFILES["strict"], display_links=False, display_images=False)
_OPEN, _CLOSE = "\u2063\u2064\u2063", "\u2064\u2063\u2064"  # invisible quote markers
_DROP = "//head|//style|//script|//noscript|//template"
_TAGS = re.compile(r"<[^>]*>")
# Plain lxml elements: lxml.html's element classes cost a Python lookup per element.
_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
_BLANK_RUN = re.compile(r"\n{3,}")


def html_to_text(html: str) -> str:
    """Readable text from an HTML body: links kept as their text, images and styles dropped."""
    html = html[:HTML_LIMIT]
    try:
        tree = etree.fromstring(html, _PARSER)
        if tree is None:
            return ""
        _prune(tree)
        text = _quote_lines(Inscriptis(tree, _CONFIG).get_text())
    except Exception:  # nothing to parse, or markup lxml refuses: fall back to dropping tags
        text = _TAGS.sub(" ", html)
    return _BLANK_RUN.sub("\n\n", "\n".join(line.rstrip() for line in text.split("\n"))).strip()


def _prune(tree: etree._Element) -> None:
    for node in tree.xpath(_DROP):
        parent = node.getparent()
        if parent is not None:
            _remove_keeping_tail(node, parent)
    elements = list(tree.iter())
    for node in reversed(elements[MAX_ELEMENTS:]):
        parent = node.getparent()
        if parent is not None:
            parent.remove(node)
    for quote in tree.iter("blockquote"):
        quote.text = _OPEN + (quote.text or "")
        if len(quote):
            quote[-1].tail = (quote[-1].tail or "") + _CLOSE
        else:
            quote.text += _CLOSE


def _remove_keeping_tail(node: etree._Element, parent: etree._Element) -> None:
    tail = node.tail or ""
    previous = node.getprevious()
    if tail and previous is not None:
        previous.tail = (previous.tail or "") + tail
    elif tail:
        parent.text = (parent.text or "") + tail
    parent.remove(node)


def _quote_lines(text: str) -> str:
    """Lines inside a blockquote get one "> " per level; the markers are removed."""
    out, depth = [], 0
    for line in text.split("\n"):
        opens, closes = line.count(_OPEN), line.count(_CLOSE)
        level = depth + opens
        line = line.replace(_OPEN, "").replace(_CLOSE, "")
        out.append("> " * level + line.strip() if level and line.strip() else line)
        depth = max(0, depth + opens - closes)
    return "\n".join(out)
