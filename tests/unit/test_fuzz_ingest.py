"""Ingestion of any bytes gives a Document or a one-line SkipFile (the served-bot fuzz is tests/test_fuzz.py)."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from knowledge.ingest import SUPPORTED_SUFFIXES, Document, SkipFile, chunk_document, load_document
from tests.fakes.fuzz import FAST


def test_ingestion_of_any_bytes_is_a_document_or_a_skip(tmp_path: Path) -> None:
    text_like = st.one_of(
        st.text(max_size=2000).map(lambda s: s.encode("utf-8", "surrogatepass")),
        st.text(max_size=500).map(lambda s: ("---\ntitle: " + s + "\n---\n# H\n" + s).encode("utf-8", "replace")),
        st.text(max_size=500).map(lambda s: f"<html><title>{s}</title><body><h1>{s}</h1><p>{s}</p>".encode(
            "utf-8", "replace")),
        st.binary(max_size=2000),
        st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe\x00\x00", b"\x00" * 100, "中文".encode("gb18030")]),
    )
    counter = itertools.count()

    @FAST
    @given(data=text_like, suffix=st.sampled_from([*SUPPORTED_SUFFIXES, ".pdf", ""]))
    def prop(data: bytes, suffix: str) -> None:
        path = tmp_path / f"doc{next(counter)}{suffix}"
        path.write_bytes(data)
        try:
            doc = load_document(path)
        except SkipFile as exc:
            assert str(exc).strip() and "\n" not in str(exc)
            return
        assert isinstance(doc, Document) and doc.text.strip()
        for chunk in chunk_document(doc):
            assert chunk.text.strip() and chunk.source == path.name

    prop()
