"""Reading files into documents and chunks: stripping, front matter, titles, chunk boundaries, ids.

These run on the real seed files and small synthetic ones; no store, no embedder.
"""

from __future__ import annotations

import re
from pathlib import Path

from knowledge.ingest import chunk_document, load_document

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
S000 = SEEDS / "000_45b06a9571d21951.txt"
S001 = SEEDS / "001_32f9b0a181c54d4b.txt"
S003 = SEEDS / "003_0c1c93809ca1b7a8.txt"
S004 = SEEDS / "004_a012fad4e6cda691.txt"

PROMO_MARKERS = ("二维码", "vx", "领取", "资料包", "扫描", "无偿分享", "大礼包")
SENTENCE_END = ("。", "！", "？", "!", "?", ".")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- stripping -------------------------------------------------------------------


def test_leave_a_reply_footer_is_stripped_and_reported() -> None:
    doc = load_document(S001)
    assert "Leave a Reply" in doc.raw  # the seed really has the footer
    assert "Leave a Reply" not in doc.text
    assert "email address will not be published" not in doc.text
    assert doc.text.rstrip().endswith(doc.raw.split("Leave a Reply")[0].rstrip()[-60:])  # content before it kept
    assert any("comment-form footer" in s for s in doc.stripped)
    assert all("Leave a Reply" not in c.text for c in chunk_document(doc))


def test_obsidian_embeds_and_their_empty_heading_are_stripped() -> None:
    doc = load_document(S000)
    assert doc.raw.count("![[") == 6
    assert "![[" not in doc.text
    sections = {b.section for b in doc.blocks}
    assert not any("Topics" in s for s in sections)  # nothing left under it
    assert ("Links",) in sections  # real links section stays
    assert any("6 Obsidian embed" in s for s in doc.stripped)
    assert any("Topics" in s for s in doc.stripped)


def test_inline_obsidian_embeds_go_and_the_sentence_stays(tmp_path: Path) -> None:
    doc = load_document(_write(tmp_path / "note.md", "# RLHF\n\nAnnotators rank answers. ![[diagram.png]]\n"))
    assert doc.text == "# RLHF\n\nAnnotators rank answers."
    assert doc.stripped == ["1 Obsidian embed(s)"]


def test_qr_code_wechat_promo_block_of_004_is_stripped_but_the_article_is_kept() -> None:
    doc = load_document(S004)
    assert "二维码" in doc.raw and "vx" in doc.raw
    for marker in PROMO_MARKERS:
        assert marker not in doc.text, marker
        assert all(marker not in c.text for c in chunk_document(doc)), marker
    # The advert's heading and its course pitch go too; the article before it stays intact.
    assert "零基础如何学习大模型" not in doc.text
    assert "学习大模型课程" not in doc.text
    assert doc.text.rstrip().endswith("就看我们能不能抓住了。")
    assert "1. 推荐算法岗的现状" in doc.text
    assert "2. 大模型创造的新需求" in doc.text
    assert any("promotional block" in s for s in doc.stripped)


def test_a_single_promo_line_inside_an_article_goes_but_its_neighbours_stay(tmp_path: Path) -> None:
    body = "\n".join(
        [f"Paragraph {i} explains how machine learning engineers ship models to production." for i in range(8)]
    )
    lines = body.split("\n")
    lines.insert(1, "Scan the QR code to add me on WeChat for a free course pack!")
    doc = load_document(_write(tmp_path / "promo.md", "\n\n".join(lines)))
    assert "WeChat" not in doc.text
    assert all(f"Paragraph {i} " in doc.text for i in range(8))
    assert doc.stripped


def test_articles_that_mention_scanning_or_wechat_are_not_mistaken_for_adverts(tmp_path: Path) -> None:
    en = "\n\n".join(
        ["# Hiring with AI"]
        + [f"Point {i}: recruiters use AI tools that scan the resumes of applicants and rank them." for i in range(6)]
        + ["Candidates should learn how these systems scan the keywords in a CV."]
    )
    zh = "\n".join(
        ["微信支付团队的算法工程师"]
        + [f"第{i}点：微信支付和微信搜索团队都在招聘大模型算法工程师，岗位要求熟悉推荐和检索。" for i in range(6)]
    )
    for name, text in (("hiring.md", en), ("wechat.txt", zh)):
        doc = load_document(_write(tmp_path / name, text))
        assert doc.stripped == [], name
        for line in text.split("\n"):  # every line kept, as a heading or as text
            assert line.lstrip("# ") in doc.text, (name, line)


def test_clean_seeds_report_nothing_stripped() -> None:
    assert load_document(S003).stripped == []


# --- front matter and titles -----------------------------------------------------


def test_front_matter_becomes_metadata() -> None:
    doc = load_document(S003)
    assert doc.title == "The Impact of Large Language Models on the Job Market: Opportunities and Challenges"
    assert doc.date == "2023-05-26"
    assert doc.tags == ["ai", "jobs"]
    assert not doc.text.startswith("---")
    assert "layout: post" not in doc.text
    chunks = chunk_document(doc)
    assert {c.title for c in chunks} == {doc.title}


def test_link_becomes_url_and_title_is_derived_from_the_slug() -> None:
    doc = load_document(S000)
    assert doc.url == "https://newsletter.ruder.io/p/thoughts-on-the-2024-ai-job-market"
    assert doc.title == "Thoughts on the 2024 AI Job Market"
    assert doc.date == "2024-02-22"  # from upload_date
    assert "Large_Language_Model" in doc.tags
    assert all(c.url == doc.url for c in chunk_document(doc))


def test_title_without_front_matter_is_the_first_line() -> None:
    doc = load_document(S001)
    assert doc.title == "Navigating the Future: The Role of RLHF in AI Job Markets"
    assert doc.url is None and doc.date is None


def test_markdown_front_matter_with_title_link_date_tags(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "note.md",
        "---\ntitle: Prompt engineering careers\nlink: https://example.org/prompting\n"
        "date: 2024-03-01\ntags: [prompting, careers]\n---\n\n# Why it matters\n\n"
        "Prompt engineers design the inputs that steer language models.\n",
    )
    doc = load_document(path)
    assert (doc.title, doc.url, doc.date, doc.tags) == (
        "Prompt engineering careers", "https://example.org/prompting", "2024-03-01", ["prompting", "careers"]
    )
    assert doc.source == "note.md"
    (chunk,) = chunk_document(doc)
    assert chunk.heading == "Why it matters"
    assert "Prompt engineers design" in chunk.text


def test_html_file_is_read_as_text(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "page.html",
        "<!doctype html><html><head><title>AI Ethics &amp; Careers</title>"
        "<style>body { color: red }</style><script>var tracking = 1;</script></head>"
        "<body><nav>Home | About</nav><h1>AI ethics roles</h1>"
        "<p>AI ethics professionals review models for bias &amp; fairness.</p>"
        "<p>They work with legal teams on regulation.</p>"
        "<footer>Copyright 2024</footer></body></html>",
    )
    doc = load_document(path)
    assert doc.title == "AI Ethics & Careers"
    assert "bias & fairness" in doc.text
    assert "They work with legal teams" in doc.text
    for junk in ("tracking", "color: red", "<p>", "Home | About", "Copyright"):
        assert junk not in doc.text, junk
    assert chunk_document(doc)


# --- chunking ----------------------------------------------------------------------


def test_chinese_chunks_of_004_end_at_a_sentence_or_line_end() -> None:
    doc = load_document(S004)
    chunks = chunk_document(doc)
    assert len(chunks) >= 3
    for c in chunks:
        at = doc.text.find(c.text)
        assert at >= 0, "chunk text must be a verbatim slice of the document"
        end = at + len(c.text)
        assert c.text.endswith(SENTENCE_END) or end == len(doc.text) or doc.text[end] == "\n", c.text[-20:]


def test_a_long_chinese_paragraph_is_cut_only_between_sentences(tmp_path: Path) -> None:
    sentences = [f"第{i}句说明推荐算法工程师转向大模型推理工程化的原因和路径，以及需要补充的技能。" for i in range(40)]
    paragraph = "".join(sentences)
    doc = load_document(_write(tmp_path / "long_zh.txt", paragraph + "\n"))
    chunks = chunk_document(doc)
    assert len(chunks) > 3
    assert "".join(c.text for c in chunks) == paragraph  # verbatim: no inserted spaces, nothing lost
    for c in chunks:
        assert c.text.endswith("。")
        assert c.text.startswith("第")


def test_a_long_english_paragraph_is_cut_only_between_sentences(tmp_path: Path) -> None:
    sentences = [f"Sentence number {i} says data scientists analyse complex datasets for teams." for i in range(60)]
    paragraph = " ".join(sentences)
    doc = load_document(_write(tmp_path / "long_en.txt", paragraph))
    chunks = chunk_document(doc)
    assert len(chunks) > 3
    assert " ".join(c.text for c in chunks) == paragraph
    assert all(re.fullmatch(r"Sentence number \d+ .*teams\.", c.text, re.S) for c in chunks)


def test_chunk_ids_are_source_plus_content_hash() -> None:
    doc = load_document(S003)
    first, again = chunk_document(doc), chunk_document(load_document(S003))
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == len(first)
    assert all(c.id.startswith("003_0c1c93809ca1b7a8.txt#") for c in first)
    assert [c.position for c in first] == list(range(len(first)))


def test_editing_one_paragraph_changes_only_that_chunks_id(tmp_path: Path) -> None:
    paras = [f"## Section {i}\n\nBody of section {i} about career growth in machine learning." for i in range(5)]
    a = load_document(_write(tmp_path / "doc.md", "\n\n".join(paras)))
    paras[2] = paras[2].replace("career growth", "salary negotiation")
    b = load_document(_write(tmp_path / "doc.md", "\n\n".join(paras)))
    ids_a, ids_b = [c.id for c in chunk_document(a)], [c.id for c in chunk_document(b)]
    assert len(ids_a) == len(ids_b) == 5
    assert [x == y for x, y in zip(ids_a, ids_b, strict=True)] == [True, True, False, True, True]


def test_same_text_in_another_file_gets_another_id(tmp_path: Path) -> None:
    text = "Research scientists publish papers and prototype new model architectures.\n"
    (one,) = chunk_document(load_document(_write(tmp_path / "one.txt", text)))
    (two,) = chunk_document(load_document(_write(tmp_path / "two.txt", text)))
    assert one.text == two.text and one.id != two.id


def test_text_without_any_punctuation_still_gets_bounded_chunks(tmp_path: Path) -> None:
    words = [f"token{i}" for i in range(20_000)]
    doc = load_document(_write(tmp_path / "dump.txt", " ".join(words)))
    chunks = chunk_document(doc)
    assert len(chunks) > 20
    assert max(len(c.text) for c in chunks) <= 800
    assert " ".join(c.text for c in chunks).split() == words  # cut at spaces, nothing lost
