"""Reading source files into clean, chunked, stably-identified passages.

Everything here is pure (no store, no embeddings) so it can be tested and fuzzed on
its own: ``load_document`` turns a file into a ``Document`` or raises ``SkipFile``
with a one-line reason; ``chunk_document`` turns a document into ``Chunk``s whose ids
depend only on source and content, which is what makes re-ingesting idempotent.
"""

from __future__ import annotations

import bisect
import hashlib
import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .text import split_sentences, tokenize, weight

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
MAX_BYTES = 5 * 1024 * 1024
CHUNK_WEIGHT = 700  # about 700 Latin characters or ~230 Chinese ones
GENERIC_HEADINGS = {"summary", "introduction", "links", "topics", "overview", "conclusion", "contents"}


class SkipFile(Exception):
    """A file that cannot be ingested; the message is the one-line reason."""


@dataclass
class Document:
    source: str  # file name, the citation key
    path: Path
    title: str
    url: str | None
    date: str | None
    tags: list[str]
    text: str  # cleaned body: boilerplate removed
    raw: str  # the file as read, for verbatim-quote checks
    stripped: list[str] = field(default_factory=list)  # what was removed, one label per block


@dataclass(frozen=True)
class Chunk:
    id: str
    source: str
    title: str
    url: str | None
    text: str
    position: int
    heading: str

    def metadata(self, doc: Document, root: str) -> dict[str, str | int]:
        return {
            "source": self.source,
            "title": self.title,
            "url": self.url or "",
            "date": doc.date or "",
            "tags": ",".join(doc.tags),
            "heading": self.heading,
            "position": self.position,
            "root": root,
            # Lexical tokens are computed once here so retrieval never re-segments the corpus.
            "lex": " ".join(tokenize(f"{self.heading} {self.title if self.position == 0 else ''} {self.text}")),
        }


# --- reading -----------------------------------------------------------------

_FRONT_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Supported files under the given files/folders, sorted, hidden ones left out."""
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES and not any(
                    part.startswith(".") for part in f.relative_to(p).parts
                ):
                    yield f
        else:
            yield p


def read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SkipFile(f"cannot read: {exc.strerror or exc}") from None
    if size == 0:
        raise SkipFile("empty file")
    if size > MAX_BYTES:
        raise SkipFile(f"too large ({size / 1_048_576:.2f} MB; the limit is {MAX_BYTES // 1_048_576} MB)")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise SkipFile(f"unsupported file type {path.suffix or '(none)'!r}")
    try:
        data = path.read_bytes()
    except OSError as exc:  # permissions, a file deleted mid-ingest, a device...
        raise SkipFile(f"cannot read: {exc.strerror or exc}") from None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise SkipFile("not UTF-8 (UTF-16 text; save it as UTF-8)")
    if b"\x00" in data[:8192]:
        raise SkipFile("binary file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SkipFile(f"not UTF-8 (invalid byte at offset {exc.start}; save it as UTF-8)") from None
    if not text.strip():
        raise SkipFile("empty file")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_front_matter(text: str) -> tuple[dict[str, object], str]:
    """YAML front matter between --- lines; raises SkipFile when it is malformed."""
    match = _FRONT_RE.match(text)
    if not match:
        if re.match(r"---[ \t]*\n", text) and not re.search(r"\n---[ \t]*(\n|\Z)", text):
            raise SkipFile("malformed front matter: no closing ---")
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise SkipFile(f"malformed front matter: {_yaml_problem(exc)}") from None
    if not isinstance(meta, dict):
        raise SkipFile("malformed front matter: not a mapping")
    return meta, text[match.end():]


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """'invalid YAML at line N: problem', N counted in the file (the opening --- is line 1)."""
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["invalid YAML"])[0]
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 2}" if mark is not None else ""
    return f"invalid YAML{where}: {problem}"


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


# --- cleaning ----------------------------------------------------------------

_EMBED_RE = re.compile(r"!\[\[[^\]\n]*\]\]")
_URL_ONLY_RE = re.compile(r"^\s*<?https?://\S+>?\s*$")
_COMMENT_START_RE = re.compile(
    r"^\s*(leave a (reply|comment)|post a comment|\d+\s+comments?|comments?\s*$|share this:?|like this:?|"
    r"related posts?:?|you may also like|subscribe to (our|the) newsletter|cancel reply)\s*$",
    re.I,
)
_COMMENT_LINE_RE = re.compile(
    r"(your email address will not be published|required fields are marked|save my name, email|"
    r"notify me of (new|follow-up) (posts|comments))",
    re.I,
)
# Promotional calls to action: QR codes, WeChat contacts, "free resource pack" giveaways.
# Only phrases that ask the reader to do something: a mere mention of WeChat, a QR
# code or "scan the resumes" in an article is content, not an advert.
_PROMO_RE = re.compile(
    r"(二维码|扫码|扫描下方|vx|v信|加我|(添加|加).{0,4}(好友|微信|vx)|关注.{0,4}公众号|领取|资料包|大礼包|无偿分享|"
    r"点击下方链接|qr[ -]?code|scan (the|this|my|our) (qr|code)|scan below|"
    r"add me on (wechat|whatsapp|telegram)|free (course|resource|gift)s? ?(pack|bundle)|course pack|"
    r"discount code|limited[- ]time offer)",
    re.I,
)
PROMO_MAX_WEIGHT = 300  # a long paragraph that mentions one of these is an article, not an advert


def _is_promo(line: str) -> bool:
    hits = {m.group(0).lower() for m in _PROMO_RE.finditer(line)}
    return bool(hits) and (weight(line) <= PROMO_MAX_WEIGHT or len(hits) >= 2)


def clean(body: str) -> tuple[str, list[str]]:
    """Remove boilerplate that is not knowledge and say what was removed.

    Removed: Obsidian embeds, bare-URL lines, comment-form footers ("Leave a Reply"
    and what follows), promotional blocks (from the block's heading to the end when
    the tail of the document is an advert; single promo lines elsewhere), and headings
    left with nothing under them.
    """
    lines = body.split("\n")
    stripped: list[str] = []

    kept: list[str] = []
    embeds = 0
    for line in lines:
        found = len(_EMBED_RE.findall(line))
        if found:
            embeds += found
            line = _EMBED_RE.sub("", line).rstrip()
            if not line.strip():
                continue  # the line was only embeds
        kept.append(line)
    if embeds:
        stripped.append(f"{embeds} Obsidian embed(s)")
    lines = kept

    urls = {i for i, line in enumerate(lines) if _URL_ONLY_RE.match(line)}
    if urls:
        lines = [line for i, line in enumerate(lines) if i not in urls]
        stripped.append(f"{len(urls)} bare URL line(s)")

    # Comment-form footer: a marker line in the last part of the document cuts the rest.
    content_idx = [i for i, line in enumerate(lines) if line.strip()]
    for i in content_idx:
        if (_COMMENT_START_RE.match(lines[i]) or _COMMENT_LINE_RE.search(lines[i])) and i >= content_idx[
            len(content_idx) // 2
        ]:
            stripped.append(f"comment-form footer ({sum(1 for x in lines[i:] if x.strip())} line(s))")
            lines = lines[:i]
            break

    # Promotional block: the first promo line after which promo lines keep coming.
    promo = [i for i, line in enumerate(lines) if _is_promo(line)]
    if promo:
        content_idx = [i for i, line in enumerate(lines) if line.strip()]
        tail_start = None
        for n, i in enumerate(promo):
            later = len(promo) - n  # promo lines from here to the end, this one included
            rest = len(content_idx) - bisect.bisect_left(content_idx, i)  # content lines from here on
            if (
                later >= 3
                and i >= content_idx[len(content_idx) // 3]
                and later >= 0.15 * rest  # the tail really is an advert, not an article with mentions
                and promo[-1] >= content_idx[max(0, len(content_idx) - 5)]  # and it runs to the end
            ):
                tail_start = i
                break
        if tail_start is not None:
            # Walk back over the block's short title lines ("零基础如何学习大模型 AI").
            start = tail_start
            back = 0
            while start > 0 and back < 2:
                prev = lines[start - 1].strip()
                if not prev:
                    start -= 1
                    continue
                if weight(prev) <= 60 and not re.search(r"[。.!！]$", prev):
                    start -= 1
                    back += 1
                else:
                    break
            removed = sum(1 for x in lines[start:] if x.strip())
            stripped.append(f"promotional block ({removed} line(s): QR code / WeChat / free resource pack)")
            lines = lines[:start]
        else:
            singles = set(promo)
            lines = [line for i, line in enumerate(lines) if i not in singles]
            stripped.append(f"{len(singles)} promotional line(s)")

    # Headings that now have nothing under them (e.g. "## Topics" after its embeds went).
    out: list[str] = []
    empty_headings: list[str] = []
    following: list[str | None] = [None] * len(lines)  # the next non-blank line after each line (linear time)
    nxt_line: str | None = None
    for i in range(len(lines) - 1, -1, -1):
        following[i] = nxt_line
        if lines[i].strip():
            nxt_line = lines[i]
    for i, line in enumerate(lines):
        if line.lstrip().startswith("#"):
            level = len(line.lstrip()) - len(line.lstrip().lstrip("#"))
            nxt = (following[i] or "").lstrip()
            nxt_level = len(nxt) - len(nxt.lstrip("#")) if nxt.startswith("#") else 0
            if following[i] is None or (nxt_level and nxt_level <= level):
                empty_headings.append(line.strip())
                continue
        out.append(line)
    if len(empty_headings) <= 3:
        stripped.extend(f"empty heading {h!r}" for h in empty_headings)
    else:
        stripped.append(f"{len(empty_headings)} empty headings")
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()
    return text, stripped


# --- documents ---------------------------------------------------------------

def _slug_title(url: str) -> str | None:
    slug = url.rstrip("/").rsplit("/", 1)[-1]
    slug = re.sub(r"\.(html?|php|aspx?)$", "", slug)
    words = [w for w in re.split(r"[-_]+", slug) if w]
    if len(words) < 2:
        return None
    small = {"a", "an", "the", "of", "on", "in", "to", "for", "and", "or"}
    titled = [w.upper() if w.lower() in {"ai", "ml", "llm", "llms", "nlp"} else w for w in words]
    return " ".join(
        w if (i and w.lower() in small) or w.isupper() else w[:1].upper() + w[1:] for i, w in enumerate(titled)
    )


def derive_title(meta: dict[str, object], text: str, url: str | None, fallback: str) -> str:
    """Front-matter title, else a specific heading, else a short first line, else the URL slug."""
    title = meta.get("title")
    if isinstance(title, str) and title.strip():
        return title.strip()
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("#"):
            heading = s.lstrip("#").strip()
            if heading and heading.lower() not in GENERIC_HEADINGS:
                return heading
    first = next((line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")), "")
    if first and weight(first) <= 100 and not re.search(r"[。.!！?？,，:：]$", first):
        return first
    if url and (slug := _slug_title(url)):
        return slug
    if first:
        sentence = split_sentences(first)[0] if split_sentences(first) else first
        sentence = sentence.rstrip("。.，,")
        limit = 30 if re.search(r"[\u4e00-\u9fff]", sentence) else 80
        return sentence if len(sentence) <= limit else sentence[:limit].rstrip() + "…"
    return fallback


def load_document(path: Path) -> Document:
    """Read, parse and clean one file; raise SkipFile with a one-line reason."""
    raw = read_text(path)
    meta, body = parse_front_matter(raw)
    if path.suffix.lower() in (".html", ".htm"):
        # The <title> is metadata (like front matter), not a heading: as a heading it
        # would sit empty above the page's own <h1> and be stripped.
        if not meta.get("title") and (page_title := html_title(body)):
            meta = {**meta, "title": page_title}
        body = html_to_text(body)
    text, stripped = clean(body)
    if not text.strip():
        raise SkipFile("no text left after removing boilerplate")
    url = meta.get("link") or meta.get("url") or meta.get("source")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        first_url = re.search(r"^\s*<?(https?://\S+?)>?\s*$", body, re.M)
        url = first_url.group(1) if first_url else None
    date = meta.get("date") or meta.get("upload_date")
    tags = meta.get("tags") or meta.get("categories") or []
    if isinstance(tags, str):
        tags = tags.split()
    title = derive_title(meta, text, url, path.stem)
    return Document(
        source=path.name,
        path=path,
        title=title,
        url=url,
        date=str(date) if date else None,
        tags=[str(t) for t in tags] if isinstance(tags, list) else [],
        text=text,
        raw=raw,
        stripped=stripped,
    )


def chunk_document(doc: Document, max_weight: int = CHUNK_WEIGHT) -> list[Chunk]:
    """Split on paragraphs (lines), then sentences; a heading opens a new chunk.

    Chunk text is kept verbatim (headings included) so quotes drawn from it are
    verbatim in the source. Ids are source + content hash: unchanged text keeps its id.
    """
    pieces: list[tuple[str, str]] = []  # (heading, paragraph)
    heading = ""
    for para in re.split(r"\n+", doc.text):
        para = para.strip()
        if not para:
            continue
        if para.startswith("#"):
            heading = para.lstrip("#").strip()
            pieces.append((heading, para))
            continue
        if weight(para) <= max_weight:
            pieces.append((heading, para))
        else:
            pieces.extend((heading, part) for part in _split_paragraph(para, max_weight))

    groups: list[tuple[str, list[str]]] = []
    for head, para in pieces:
        is_heading = para.startswith("#")
        if (
            not groups
            or is_heading
            or (groups[-1][0] != head and not groups[-1][1][-1].startswith("#"))
            or weight("\n".join(groups[-1][1])) + weight(para) > max_weight
        ):
            groups.append((head, [para]))
        else:
            groups[-1][1].append(para)

    chunks: list[Chunk] = []
    seen: set[str] = set()
    for head, paras in groups:
        if all(p.startswith("#") for p in paras):
            continue  # a heading whose body went to the next chunk
        text = "\n".join(paras)
        digest = hashlib.sha256(f"{doc.source}\n{text}".encode()).hexdigest()[:16]
        cid = f"{doc.source}#{digest}"
        if cid in seen:
            continue
        seen.add(cid)
        chunks.append(Chunk(cid, doc.source, doc.title, doc.url, text, len(chunks), head))
    return chunks


def _split_paragraph(para: str, max_weight: int) -> list[str]:
    """Cut a long paragraph between sentences, each piece a verbatim slice of it.

    Slicing (rather than re-joining sentences with spaces) keeps Chinese text free of
    inserted spaces, so any quote taken from a chunk is found verbatim in the source.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    for sentence in split_sentences(para):
        start = para.find(sentence, pos)
        if start < 0:  # split_sentences re-joined fragments: fall back to the next position
            start = pos
        end = max(start + len(sentence), pos)
        spans.extend(_hard_spans(para, start, end, max_weight))
        pos = end
    parts: list[str] = []
    first = last = None
    for start, end in spans:
        if first is not None and last is not None and weight(para[first:end]) > max_weight:
            parts.append(para[first:last].strip())
            first = None
        if first is None:
            first = start
        last = end
    if first is not None:
        parts.append(para[first:].strip())
    return [p for p in parts if p]


def _hard_spans(para: str, start: int, end: int, max_weight: int) -> list[tuple[int, int]]:
    """A "sentence" far over the chunk size (no punctuation for pages) is cut at commas or spaces.

    Real sentences are never cut; this only guards against one giant chunk that no
    embedder reads to the end and no answer can quote.
    """
    if weight(para[start:end]) <= 3 * max_weight:
        return [(start, end)]
    spans: list[tuple[int, int]] = []
    while start < end:
        stop, budget = start, max_weight
        while stop < end and budget > 0:
            budget -= 3 if "\u3400" <= para[stop] <= "\u9fff" else 1
            stop += 1
        if stop < end:
            window = para[start:stop]
            cut = max(window.rfind(c) for c in "，,；;、 ")
            if cut > len(window) // 2:
                stop = start + cut + 1
        spans.append((start, stop))
        start = stop
    return spans
