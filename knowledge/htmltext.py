"""Interim HTML reader: regex tag stripping to "#"-headed text, then the markdown reader.

Kept until a main-content HTML reader lands in ``readers.TEXT_READERS`` for ".html"/".htm".
"""

from __future__ import annotations

import html
import re

from .frontmatter import metadata_fields, split_front_matter
from .structure import Parsed


def html_title(markup: str) -> str | None:
    """The page's <title>, unescaped, when it has one."""
    title = re.search(r"(?is)<title[^>]*>(.*?)</title>", markup)
    text = html.unescape(re.sub(r"\s+", " ", title.group(1))).strip() if title else ""
    return text or None


def html_to_text(markup: str) -> str:
    """Cheap HTML to text: drop head/script/style/nav/footer, keep block breaks and headings."""
    markup = re.sub(r"(?is)<(script|style|nav|footer|header|form|noscript)\b.*?</\1>", " ", markup)
    markup = re.sub(r"(?is)<head\b.*?</head>", " ", markup)
    markup = re.sub(r"(?i)<h([1-6])[^>]*>", lambda m: "\n\n" + "#" * int(m.group(1)) + " ", markup)
    markup = re.sub(r"(?i)</?(p|div|br|li|h[1-6]|tr|section|article|ul|ol)\b[^>]*>", "\n", markup)
    text = html.unescape(re.sub(r"<[^>]+>", " ", markup))
    text = re.sub(r"[ \t]+", " ", text)
    return re.sub(r"\n\s*\n+", "\n\n", text).strip()




def read_html(raw: str, suffix: str) -> Parsed:
    """HTML as blocks: the page's <title> is metadata, not a heading."""
    from .readers import read_markdown_or_text

    meta, body, _ = split_front_matter(raw) if raw.startswith("---") else ({}, raw, False)
    fields = metadata_fields(meta)
    parsed = read_markdown_or_text(html_to_text(body), ".md")
    parsed.title = fields["title"] or html_title(body) or parsed.title
    parsed.url = fields["url"] or parsed.url
    parsed.date = fields["date"] or parsed.date
    parsed.tags = fields["tags"] or parsed.tags
    return parsed
