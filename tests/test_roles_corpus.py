"""The role catalog on a corpus unlike the seeds: a numbered markdown book chapter and a Chinese job post.

What a user notices after `careerbot ingest` of such documents: every role the chapter describes is an
entry of its own ("Research scientist vs. research engineer" is two roles; a bold lead-in with two
names is one role and an alias), section titles ("Junior vs senior role", "Interviews for internships
vs. for full-time positions") are never roles, roles known only to the alias file stay out even when a
word of theirs appears in passing, and an outlook is shown only where a source states it for the role.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.role_service import RoleService
from bot.settings import Settings
from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeConfig
from knowledge.roles import RoleCatalog, build_catalog, normalize

CORPUS = Path(__file__).resolve().parent / "data" / "roles_corpus"
EXPECTED = Path(__file__).resolve().parent / "data" / "roles_corpus_expected.txt"
CHAPTER = "ml-careers-chapter.md"
JOB_POST = "zh-job-post.md"
WIKI = "team-wiki-notes.md"


def _expected() -> list[list[str]]:
    out = []
    for line in EXPECTED.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            out.append([p.strip() for p in line.split("|") if p.strip()])
    return out


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("roles-corpus-store")
    KnowledgeBase(KnowledgeConfig(data_dir=data)).ingest([CORPUS])
    return data


@pytest.fixture(scope="module")
def corpus_kb(corpus_dir: Path) -> KnowledgeBase:
    return KnowledgeBase(KnowledgeConfig(data_dir=corpus_dir))


@pytest.fixture(scope="module")
def catalog(corpus_kb: KnowledgeBase) -> RoleCatalog:
    return corpus_kb.role_catalog()


@pytest.fixture(scope="module")
def service(corpus_kb: KnowledgeBase) -> RoleService:
    return RoleService(corpus_kb, Settings.from_env({}, dotenv=False))


def _entry_for(catalog: RoleCatalog, names: list[str]) -> list[str]:
    want = {normalize(n) for n in names}
    return [r.name for r in catalog.roles if {normalize(t) for t in r.terms()} & want]


def test_every_described_role_is_an_entry_of_its_own(catalog: RoleCatalog) -> None:
    seen: set[str] = set()
    for names in _expected():
        hits = _entry_for(catalog, names)
        assert len(hits) == 1, (names, hits, [r.name for r in catalog.roles])
        assert hits[0] not in seen, f"{names[0]} shares an entry with another role"
        seen.add(hits[0])
    assert len(catalog.roles) == len(seen), [r.name for r in catalog.roles if r.name not in seen]


def test_section_titles_and_alias_file_only_roles_are_not_entries(catalog: RoleCatalog) -> None:
    names = " | ".join(r.name for r in catalog.roles).lower()
    for title in ("junior", "senior", "interview", "internship", "different machine learning", "titles"):
        assert title not in names
    # The chapter says "machine translation" and "a lawyer friend" in passing: not the alias file's roles.
    for absent in ("translator", "lawyer", "translation"):
        assert catalog.match(absent) is None or catalog.match(absent).kind in ("fuzzy", "free text")  # type: ignore[union-attr]
    assert not {"Translator / Interpreter", "Technology Lawyer", "AI Ethics Professional"} & {
        r.name for r in catalog.roles}


def test_lead_in_with_two_names_is_one_role_with_an_alias(catalog: RoleCatalog) -> None:
    m = catalog.match("ML platform engineer")
    assert m is not None and m.kind in ("exact", "alias")
    assert m.role.name == "ML infrastructure engineer"
    devrel = catalog.match("DevRel")
    assert devrel is not None and devrel.role.name == "Developer advocate"
    mle = catalog.match("MLE")  # the alias file enriches a role the chapter describes
    assert mle is not None and mle.role.name == "Machine Learning Engineer"


def test_bold_lead_in_without_colon_names_a_role_and_its_aliases(catalog: RoleCatalog) -> None:
    # "**Evaluation engineer, model evaluation engineer** They build …": no colon, not a list item.
    m = catalog.match("model evaluation engineer")
    assert m is not None and m.kind in ("exact", "alias") and m.role.name == "Evaluation engineer"
    assert m.role.sources == [WIKI]
    labeling = catalog.match("data labeling manager")  # "also known as a data labeling manager"
    assert labeling is not None and labeling.role.name == "Annotation manager"
    applied = catalog.match("applied scientist")
    assert applied is not None and applied.kind == "exact"
    hw = catalog.match("ML accelerator engineer")  # "ML accelerator/hardware engineer" names both
    assert hw is not None and hw.kind in ("exact", "alias") and hw.role.name == "ML accelerator/hardware engineer"


def test_generic_chinese_posts_are_not_roles_and_a_field_post_joins_its_title(catalog: RoleCatalog) -> None:
    names = {t for r in catalog.roles for t in (r.name, *(r.aliases))}
    assert not {"技术岗", "研发岗", "大模型岗"} & names, names  # no title of the corpus has those fields
    post = catalog.match("推荐算法岗")
    assert post is not None and post.kind in ("exact", "alias")
    assert post.role.name == "Recommendation Algorithm Engineer"
    assert "推荐算法岗" in post.role.aliases
    # 开发 is the speciality right before a title's head in the corpus (大模型应用开发工程师): a kind of post.
    dev = catalog.match("开发岗")
    assert dev is not None and dev.kind == "exact"


def test_chinese_job_post_title_is_a_role_with_its_chinese_name(catalog: RoleCatalog) -> None:
    m = catalog.match("推荐算法工程师")
    assert m is not None and m.kind == "exact"
    assert JOB_POST in m.role.sources


def test_outlook_only_where_a_source_states_it(service: RoleService, catalog: RoleCatalog) -> None:
    infra = service.card("ML infrastructure engineer")
    assert infra.card is not None and infra.card.outlook == "growing"
    outlook = next(s for s in infra.card.sections if s.key == "outlook")
    cited = {infra.card.citations[n - 1].quote for ln in outlook.lines for n in ln.citations}
    assert any("Demand for ML infrastructure engineers is growing" in q for q in cited)
    # "threatened by a researcher" in the interviews section is not an outlook for research scientists.
    rs = service.card("research scientist")
    assert rs.card is not None and rs.card.outlook == "unclear"
    lines = " ".join(ln.text for s in rs.card.sections if s.key == "outlook" for ln in s.lines)
    assert "threatened" not in lines and "say nothing" in lines
    # The job post says nothing about prospects; the wiki note does, naming the post by its field (推荐算法岗).
    zh = service.card("推荐算法工程师")
    assert zh.card is not None and zh.card.language == "zh" and zh.card.outlook == "growing"
    zh_outlook = next(s for s in zh.card.sections if s.key == "outlook")
    zh_cited = {zh.card.citations[n - 1].quote for ln in zh_outlook.lines for n in ln.citations}
    assert any("推荐算法岗的招聘需求" in q for q in zh_cited), zh_cited
    # A bold lead-in without a colon keeps its paragraph: "expect hiring … to grow" is stated there.
    ev = service.card("evaluation engineer")
    assert ev.card is not None and ev.card.outlook == "growing"
    # The paragraph after a lead-in goes on about its role when it refers back to it ("They are hard to hire");
    # a general remark after one ("demand for AI talent keeps growing") is not that role's outlook.
    applied = service.card("applied scientist")
    assert applied.card is not None and applied.card.outlook == "growing"
    applied_outlook = next(s for s in applied.card.sections if s.key == "outlook")
    assert any("hard to hire" in applied.card.citations[n - 1].quote for ln in applied_outlook.lines
               for n in ln.citations)
    annotation = service.card("annotation manager")
    assert annotation.card is not None and annotation.card.outlook == "unclear"
    for r in catalog.roles:
        if r.outlook == "unclear":
            assert not r.outlook_evidence(), r.name


def test_cards_describe_the_role_from_its_own_sentences(service: RoleService) -> None:
    for query, phrase in (("research engineer", "turns research ideas into code"),
                          ("ML accelerator/hardware engineer", "chips, compilers and kernels"),
                          ("software engineer", "builds the product around the model"),
                          ("推荐算法工程师", "召回")):
        result = service.card(query)
        assert result.card is not None, query
        does = next(s for s in result.card.sections if s.key == "does")
        assert any(phrase in ln.text for ln in does.lines), (query, [ln.text for ln in does.lines])
        for c in result.card.citations:  # verbatim in the stored text (markup-free)
            flat = " ".join((CORPUS / c.source).read_text(encoding="utf-8").replace("**", "").split())
            assert " ".join(c.quote.split()) in flat
        # Research scientist sentences stay out of the research engineer's card (and the other way round).
        if query == "research engineer":
            assert not any("publishes" in c.quote for c in result.card.citations)


def test_cli_lists_the_corpus_roles(corpus_dir: Path, clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAREERBOT_DATA_DIR", str(corpus_dir))
    res = CliRunner().invoke(cli, ["roles", "--json"])
    assert res.exit_code == 0, res.output
    names = {r["name"] for r in json.loads(res.output)["roles"]}
    assert {"Research Scientist", "Research engineer", "Developer advocate", "ML solutions architect"} <= names


class _Chunk:
    def __init__(self, cid: str, text: str, metadata: dict[str, object]) -> None:
        self.id, self.text, self.metadata = cid, text, metadata


def test_structured_chunks_give_the_same_roles() -> None:
    """Chunks from the structured readers: heading path in metadata, markup-free text, no '#' lines."""
    chunks = []
    section: tuple[str, ...] = ()
    pos = 0
    block: list[str] = []

    def flush() -> None:
        nonlocal pos
        if block:
            chunks.append(_Chunk(f"c{pos}", "\n".join(block), {
                "source": CHAPTER, "title": "Field Guide to Machine Learning Careers, Chapter 2", "position": pos,
                "section": " › ".join(section)}))
            pos += 1
            block.clear()

    stack: list[tuple[int, str]] = []
    body = (CORPUS / CHAPTER).read_text(encoding="utf-8").split("---", 2)[2]
    for raw in body.splitlines():
        h = re.match(r"^(#+)\s+(?:[\d.]+\s+)?(.*)$", raw)
        if h:
            flush()
            while stack and stack[-1][0] >= len(h.group(1)):
                stack.pop()
            stack.append((len(h.group(1)), h.group(2)))
            section = tuple(t for _, t in stack)
            continue
        if raw.strip():
            text = raw.replace("**", "")
            if raw.startswith("  ") and block:
                block[-1] += " " + text.strip()
            else:
                block.append(text.strip())
    flush()
    cat = build_catalog(chunks)
    in_chapter = [n for n in _expected() if n[0].lower() in body.lower()]  # the chapter's roles only
    assert len(in_chapter) >= 9
    for names in in_chapter:
        assert len(_entry_for(cat, names)) == 1, (names, [r.name for r in cat.roles])
    assert len(cat.roles) == len(in_chapter), [r.name for r in cat.roles]


def test_list_items_opening_with_a_title_are_lead_ins_and_section_titles_are_not() -> None:
    """A reader that drops emphasis leaves 'ML accelerator/hardware engineer designs …' in a list item."""
    items = [
        "- ML accelerator/hardware engineer designs and tunes chips, compilers and kernels for fast training.",
        "- Developer advocate (DevRel) writes tutorials, gives talks and gathers feedback from developers.",
        "- Senior engineers mentor others and own ambiguous problems across several quarters.",
        "- Hiring managers decide whom to hire once the onsite interviews are finished.",
        "- Data pipelines move terabytes of logs every day into the feature store for training.",
    ]
    chunks = [
        _Chunk("a", "\n".join(items), {"source": "notes.md", "title": "Notes", "position": 0,
                                        "section": "Other technical roles", "kind": "list_item"}),
        _Chunk("b", "Scope grows with seniority: seniors get ambiguous problems and mentor juniors.",
               {"source": "notes.md", "title": "Notes", "position": 1, "section": "Junior vs senior role"}),
        # A title on a line of its own, described by the paragraph under it; a math operator is no title.
        _Chunk("c", "ML solutions architect\nWorks with customers to design systems that fit their data and budget.",
               {"source": "notes.md", "title": "Notes", "position": 2, "section": "Other technical roles"}),
        _Chunk("d", "The convolution operator slides a kernel over the input and sums the products.",
               {"source": "notes.md", "title": "Notes", "position": 3, "section": "Convolution operator"}),
    ]
    cat = build_catalog(chunks)
    assert sorted(r.name for r in cat.roles) == ["Developer advocate", "ML accelerator/hardware engineer",
                                                 "ML solutions architect"]
    devrel = cat.match("devrel")
    assert devrel is not None and devrel.role.name == "Developer advocate"


def test_other_names_the_text_gives_become_aliases_and_question_verbs_stay_out_of_chinese_titles() -> None:
    chunks = [
        _Chunk("a", "\n".join([
            "- ML hardware engineer designs the chips and kernels for training, also called an accelerator engineer.",
            "- Developer advocates (DevRel) write tutorials and give talks to the developers who use the tools.",
            "- An ML platform engineer, also known as an ML infrastructure engineer, builds the shared tooling.",
        ]), {"source": "roles.md", "title": "Roles", "position": 0, "section": "Other roles", "kind": "list_item"}),
        _Chunk("b", "问AI产品经理：这个岗位每天要和算法团队一起定义需求、验收模型效果并推动上线。\n"
                    "大模型会不会取代算法工程师？算法工程师需要理解业务，并持续改进模型和数据。",
               {"source": "qa.md", "title": "问答", "position": 0, "section": "问答"}),
    ]
    cat = build_catalog(chunks)
    aliases = {r.name: r.aliases for r in cat.roles}
    assert "accelerator engineer" in aliases["ML hardware engineer"]
    assert "DevRel" in aliases["Developer advocate"]
    assert "ML infrastructure engineer" in aliases["ML platform engineer"]
    names = {r.name for r in cat.roles}
    assert {"AI产品经理", "算法工程师"} <= names
    assert not any(n.startswith(("问", "大模型会")) for n in names), names
