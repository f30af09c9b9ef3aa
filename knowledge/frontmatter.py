"""Document metadata written at the top of a file: YAML (---), TOML (+++), or ``Key: value`` header lines.

``Key: value`` headers are Pelican's metadata and what page scrapers write ("Title:", "URL Source:",
"Published Time:", "Markdown Content:"). Only a run of such lines at the very start that names a title,
address or date counts, so a document opening with "Note: ..." stays text.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

import yaml

from .errors import FrontMatterError

_YAML_RE = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.S)
_TOML_RE = re.compile(r"\A\+\+\+[ \t]*\n(.*?)\n\+\+\+[ \t]*(?:\n|\Z)", re.S)
_HEADER_LINE_RE = re.compile(r"^([A-Za-z][A-Za-z _-]{0,24}):[ \t]*(.*)$")
_HEADER_KEYS = {"title", "url", "url source", "source", "link", "date", "published", "published time", "author",
                "authors", "tags", "category", "categories", "slug", "status", "modified", "summary", "lang"}
_TITLE_KEYS = {"title", "url", "url source", "link", "date", "published time"}
_CONTENT_MARKER_RE = re.compile(r"^(markdown content|content|text):[ \t]*$", re.I)


def split_front_matter(text: str) -> tuple[dict[str, Any], str, bool]:
    """(metadata, body, body_is_markdown_hint). Raises FrontMatterError for malformed YAML/TOML front matter."""
    if text.startswith("---"):
        match = _YAML_RE.match(text)
        if not match:
            if re.match(r"---[ \t]*\n", text) and not re.search(r"\n---[ \t]*(\n|\Z)", text):
                raise FrontMatterError("malformed front matter: no closing ---")
            return {}, text, False
        try:
            meta = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as exc:
            raise FrontMatterError(f"malformed front matter: {_yaml_problem(exc)}") from None
        if not isinstance(meta, dict):
            raise FrontMatterError("malformed front matter: not a mapping")
        return meta, text[match.end():], False
    if text.startswith("+++"):
        match = _TOML_RE.match(text)
        if not match:
            raise FrontMatterError("malformed front matter: no closing +++")
        try:
            meta = tomllib.loads(match.group(1))
        except tomllib.TOMLDecodeError as exc:
            raise FrontMatterError(f"malformed front matter: invalid TOML: {str(exc).splitlines()[0]}") from None
        return meta, text[match.end():], False
    return _header_lines(text)


def _header_lines(text: str) -> tuple[dict[str, Any], str, bool]:
    lines = text.split("\n")
    meta: dict[str, Any] = {}
    end = 0
    markdown = False
    for i, line in enumerate(lines[:40]):
        if not line.strip():
            end = i + 1
            continue
        if _CONTENT_MARKER_RE.match(line.strip()) and meta:
            end, markdown = i + 1, True
            break
        m = _HEADER_LINE_RE.match(line)
        if not m or m.group(1).strip().lower() not in _HEADER_KEYS:
            break
        meta[m.group(1).strip().lower()] = m.group(2).strip()
        end = i + 1
    if not meta or not (set(meta) & _TITLE_KEYS) or (len(meta) < 2 and "title" not in meta):
        return {}, text, False
    if len(meta) == 1 and end < len(lines) and not markdown:
        # A lone "Title: x" line directly followed by text is a sentence, not a header.
        if end < len(lines) and lines[end - 1].strip():
            return {}, text, False
    return meta, "\n".join(lines[end:]), markdown


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """'invalid YAML at line N: problem', N counted in the file (the opening --- is line 1)."""
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["invalid YAML"])[0]
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 2}" if mark is not None else ""
    return f"invalid YAML{where}: {problem}"


def metadata_fields(meta: dict[str, Any]) -> dict[str, Any]:
    """title / url / date / tags from whichever keys the front matter used."""
    def first(*keys: str) -> Any:
        for k in keys:
            v = meta.get(k)
            if v not in (None, "", []):
                return v
        return None

    title = first("title")
    url = first("link", "url", "url source", "source", "canonical_url", "canonical")
    if not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        url = None
    date = first("date", "upload_date", "published", "published time", "pubdate")
    tags = first("tags", "categories", "keywords", "category")
    if tags is None and isinstance(meta.get("taxonomies"), dict):
        tags = meta["taxonomies"].get("tags")
    if isinstance(tags, str):
        tags = [t for t in re.split(r"[,\s]+", tags) if t]
    return {
        "title": str(title).strip() if isinstance(title, str | int | float) and str(title).strip() else None,
        "url": url,
        "date": str(date) if date else None,
        "tags": [str(t) for t in tags] if isinstance(tags, list) else [],
    }
