"""How clean and structured the ingested chunks are, per corpus folder.

    python benchmarks/structure_quality.py ../shared/corpora/dev ../shared/seeds [--docs]

For each folder (every supported file, SOURCES.md and README.md left out) it prints:
- chunks whose text still holds markup (``**``, ``__``, a leading ``>``, ``[^``, ``<tag``, ``&amp;``-style
  entities, ``#`` heading lines), with the count per kind;
- chunks whose first sentence is a heading or a section number (a heading line of the raw file, or
  "1.2.3 ..." numbering);
- FAQ question/answer pairs detected per document (distinct ``question`` values of its chunks);
- the share of chunk sentences found verbatim in the document's plain text (``knowledge.readers.plain``)
  and, for reference, in the raw file with whitespace collapsed.
Nothing is written; no corpus text is printed unless --docs lists per-document figures (names only).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from knowledge.ingest import SkipFile, chunk_document, iter_files, load_document  # noqa: E402
from knowledge.text import split_sentences  # noqa: E402

MARKUP = {
    "**": re.compile(r"\*\*"),
    "__": re.compile(r"__"),
    "leading >": re.compile(r"^\s*>", re.M),
    "[^": re.compile(r"\[\^"),
    "<tag": re.compile(r"</?[A-Za-z][A-Za-z0-9]*(\s[^>]*)?/?>"),
    "&entity;": re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[A-Za-z]{2,8});"),
    "# heading": re.compile(r"^\s*#{1,6}\s", re.M),
}
NUMBERED_RE = re.compile(r"^\s*(#+\s*)?\d+(\.\d+)+\.?\s")
RAW_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.M)
SKIP_NAMES = {"SOURCES.md", "README.md"}


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def _heading_texts(raw: str) -> set[str]:
    out = set()
    for m in RAW_HEADING_RE.finditer(raw):
        text = re.sub(r"[*_`]", "", m.group(1)).strip()
        out.add(_norm(text))
        out.add(_norm(re.sub(r"^\d+(\.\d+)*\.?\s*", "", text)))
    return {h for h in out if h}


def measure(folder: Path, per_doc: bool) -> dict[str, object]:
    try:
        from knowledge.readers import plain  # noqa: F401  (only whether it exists)
        has_plain = True
    except ImportError:  # an older tree: compare with the raw file only
        has_plain = False
    docs = chunks = markup_chunks = heading_first = sentences = verbatim_plain = verbatim_raw = 0
    kinds: Counter[str] = Counter()
    faq: dict[str, int] = {}
    for path in iter_files([folder]):
        if path.name in SKIP_NAMES:
            continue
        try:
            doc = load_document(path)
        except SkipFile as exc:
            print(f"  skipped {path.name}: {exc}")
            continue
        docs += 1
        cs = chunk_document(doc)
        chunks += len(cs)
        headings = _heading_texts(path.read_text(encoding="utf-8", errors="replace"))
        plain_text = doc.plain if has_plain else _norm(doc.raw)
        raw_text = _norm(path.read_text(encoding="utf-8", errors="replace"))
        questions = {getattr(c, "question", "") for c in cs} - {""}
        faq[path.name] = len(questions)
        doc_markup = 0
        for c in cs:
            found = [k for k, rx in MARKUP.items() if rx.search(c.text)]
            if found:
                markup_chunks += 1
                doc_markup += 1
                kinds.update(found)
            sents = split_sentences(c.text)
            if sents:
                first = _norm(sents[0])
                first_line = _norm(c.text.split("\n", 1)[0])
                if NUMBERED_RE.match(first) or first_line.lstrip("# ") in headings or first_line.startswith("#"):
                    heading_first += 1
            for s in sents:
                s = _norm(s)
                sentences += 1
                verbatim_plain += s in plain_text
                verbatim_raw += s in raw_text
        if per_doc:
            print(f"  {path.name}: chunks={len(cs)} markup={doc_markup} faq_pairs={len(questions)}")
    return {
        "docs": docs,
        "chunks": chunks,
        "markup_chunks": markup_chunks,
        "markup_kinds": dict(kinds),
        "heading_first": heading_first,
        "faq_pairs": faq,
        "sentences": sentences,
        "verbatim_plain_pct": round(100 * verbatim_plain / sentences, 1) if sentences else 0.0,
        "verbatim_raw_pct": round(100 * verbatim_raw / sentences, 1) if sentences else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--docs", action="store_true", help="also print per-document figures (names only)")
    args = ap.parse_args(argv)
    for folder in args.folders:
        print(f"== {folder}")
        r = measure(folder, args.docs)
        pairs: dict[str, int] = r["faq_pairs"]  # type: ignore[assignment]
        faq = {k: v for k, v in pairs.items() if v}
        print(f"  documents {r['docs']}, chunks {r['chunks']}")
        print(f"  chunks with markup: {r['markup_chunks']} {r['markup_kinds']}")
        print(f"  chunks opening with a heading / section number: {r['heading_first']}")
        print(f"  FAQ pairs: {sum(faq.values())} in {len(faq)} document(s) {faq}")
        print(f"  chunk sentences verbatim in plain text: {r['verbatim_plain_pct']}% of {r['sentences']} "
              f"(in the raw file: {r['verbatim_raw_pct']}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
