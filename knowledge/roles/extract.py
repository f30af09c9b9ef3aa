"""Find the roles a corpus describes, from the structure of its documents.

A *candidate* is a job-title name (see ``names``) in a place where documents introduce a subject:

- a heading or sub-heading that is the name ("2.1.3 ML infrastructure engineer"), names joined by
  "and" or "/" ("Translators and Interpreters": one role each, unless the alias file has one entry for
  both), "X vs. Y" (two roles), or asks about one ("What is an AI
  engineer?", "The role of a data engineer");
- a lead-in: a bold span or a "Name:" opening a paragraph or list item ("**ML infrastructure engineer,
  ML platform engineer**: …" is one role with an alias; "Data Scientist: Data scientists use …");
- a list item that is only a title;
- a question naming it ("What about data analysts?"), whose answer follows;
- a Chinese title (搜索算法工程师, AI平台开发工程师): the head suffix makes it one wherever it is;
- a title that running prose keeps talking about: the subject of several sentences of one document
  ("Site reliability engineers own …", "A site reliability engineer is …"), found where a post discusses
  roles without headings;
- a line of work the curated alias file knows, named as jobs ("jobs in translation", "做模型部署相关的
  工作"): the document discusses the work, the file supplies the role's name.

A candidate becomes a role only with text that describes it: sentences in its section or lead-in, or
sentences elsewhere that name it. Section titles without a job-title head ("Junior vs senior role",
"Different machine learning roles") are never candidates. Spellings merge by ``names.merge_key``
(plural, case, "machine learning" ~ "ML", seniority) and by the curated aliases; the alias file never
adds a role on its own.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..glossary import concepts
from ..text import has_cjk
from .catalog import Evidence, EvidenceKind, Role, RoleCatalog
from .curated import CuratedRole, curated_roles
from .document import ChunkLike, Document, Line, Sentence, documents
from .names import (
    ZH_HEAD_RE,
    abbreviation,
    clean_title,
    dedupe,
    display,
    find_term,
    is_role_name,
    merge_key,
    noun_phrases,
    slug,
    split_names,
    split_versus,
    strip_seniority,
    variants,
    zh_role_name,
    zh_role_names,
)
from .outlook import (
    STRONG,
    STRONG_FLOOR,
    WEAK,
    ZH_BACK_REF_RE,
    OutlookReader,
    about_jobs,
    is_outlook_statement,
    names_role,
    outlook_cues,
    relate,
    tag_outlook,
    zh_cues,
)

Embed = Callable[[list[str]], Any]  # texts -> unit vectors, one row each

# Words a heading may have around a role name and still be *about* that role
# ("What is an AI engineer?", "The role of a data scientist", "Becoming a product manager").
_ABOUT_WORDS = frozenset(
    "what who is are a an the of as role roles job jobs career careers path paths position positions title "
    "titles am i do does you become becoming being vs versus and or s meaning introduction overview "
    "exactly really".split()
)
_BOLD_LEAD_RE = re.compile(r"^\s*(?:[-*•+]\s+|\d{1,3}[.)、]\s*)?\*\*(?P<lead>[^*\n]{2,120}?)\*\*\s*(?P<rest>.*)$", re.S)
_COLON_LEAD_RE = re.compile(
    r"^\s*(?:[-*•+]\s+|\d{1,3}[.)、]\s*)?(?P<lead>[^:：。!?？\n]{2,80}?)\s*[:：]\s*(?P<rest>\S.*)$", re.S
)
_LIST_MARK_RE = re.compile(r"^\s*(?:[-*•+]\s+|\d{1,3}[.)、]\s*)")
_QUESTION_MARK_RE = re.compile(r"^\s*(?:\*\*)?\s*(?:Q\d*|问)\s*[:：.]\s*", re.I)
_CLAUSE_RE = re.compile(r"[,;:，；：—]|\s(?:but|while|although|whereas)\s", re.I)
# "jobs in translation", "careers built around data labelling", 做模型部署相关的工作.
_EN_FIELD_RE = re.compile(
    r"\b(?:jobs?|roles?|careers?|career paths?|positions?|occupations?|professionals|specialists|experts)\s+"
    r"(?:\w+\s+)?(?:in|focused on|focusing on|centered around|centred around|centered on|centred on|related to|"
    r"involving|specializing in|specialising in|around)\s+(?P<field>[^.;:!?]{3,80})",
    re.I,
)
_ZH_FIELD_RE = re.compile(
    r"(?:做|从事|转行做|转行到|转到)(?P<field>[\u4e00-\u9fffA-Za-z]{2,16}?)(?:相关的?|方向的?)?(?:工作|岗位|职位)"
)
_DEMAND_RE = re.compile(
    r"\b(demand|hiring|hire[sd]?|jobs?|careers?|roles?|positions?|employ\w*)\b|需求|招聘|岗位", re.I
)



@dataclass
class _Candidate:
    names: list[str]
    joined: bool  # "A and B" (titles covered together) rather than "A, B" (one title and its aliases)
    kind: EvidenceKind  # "definition" for lead-ins and answers, "section" for headings
    source: str
    body: list[Sentence] = field(default_factory=list)
    section: tuple[str, ...] | None = None  # a heading candidate owns the sentences under it
    structural: bool = True
    curated: int | None = None  # index of the curated entry a line of work named
    introduced: bool = True  # a heading, lead-in, title or short line, asker question; False: named in a paragraph


@dataclass
class _Draft:
    key: str
    name: str
    names: list[str]
    curated: CuratedRole | None = None
    cands: list[_Candidate] = field(default_factory=list)


def build_catalog(chunks: Sequence[ChunkLike], curated: Sequence[CuratedRole] | None = None,
                  version: str = "", embed: Embed | None = None) -> RoleCatalog:
    """The roles the stored chunks describe, enriched (never extended) by the curated alias file."""
    curated = curated_roles() if curated is None else tuple(curated)
    docs = documents(chunks)
    cands: list[_Candidate] = []
    for d in docs:
        cands.extend(_candidates(d))
        cands.extend(_field_candidates(d, curated))
        cands.extend(_subject_candidates(d))
    drafts = _drop_generic(_merge(cands, curated), docs)
    mentions = _Mentions([s for d in docs for s in d.sentences])
    roles = [r for r in (_role(dr, docs, mentions) for dr in drafts) if r is not None]
    _aliases_from_text(roles)
    _outlooks(roles, embed)
    relate(roles)
    roles.sort(key=lambda r: (_OUTLOOK_ORDER[r.outlook], r.name.lower()))
    return RoleCatalog(roles, version)


_OUTLOOK_ORDER = {"growing": 0, "reshaped": 1, "at risk": 2, "unclear": 3}


# --- candidates ----------------------------------------------------------------------------------

def heading_names(text: str) -> list[tuple[list[str], bool]]:
    """The roles a heading is about: ([names], joined) per role; [] for a heading that names none."""
    t = clean_title(text)
    if not t:
        return []
    if has_cjk(t):
        return [([n], False) for n in dedupe(zh_role_names(t))]
    out: list[tuple[list[str], bool]] = []
    for part in split_versus(t.rstrip("?？")):
        base, abbrs = abbreviation(part)
        names = split_names(base)
        if all(is_role_name(n) for n in names):
            out.append((names + abbrs, len(names) > 1 and "," not in base))
            continue
        nps = noun_phrases(base)
        if len(nps) == 1:
            start, end, phrase = nps[0]
            rest = re.findall(r"[a-z']+", (base[:start] + " " + base[end:]).lower())
            if all(w in _ABOUT_WORDS for w in rest):
                out.append(([phrase, *abbrs], False))
    return out


def lead_names(lead: str) -> tuple[list[str], bool] | None:
    """A lead-in that is a role's name ('ML infrastructure engineer, ML platform engineer')."""
    t = clean_title(lead).rstrip(":：")
    if not t:
        return None
    if has_cjk(t):
        name = zh_role_name(t)
        return ([name], False) if name == t else None
    base, abbrs = abbreviation(t)
    names = split_names(base)
    if all(is_role_name(n) for n in names):
        return names + abbrs, len(names) > 1 and "," not in base
    return None


# What makes a Chinese sentence ending in "?" ask something (吗, 会不会, 怎么 …); without one it states
# its point with a question mark ("… 势必会带来很多岗位?").
_ZH_ASK_RE = re.compile(
    r"吗|呢|(?<![这那怎多要什])么|会不会|是不是|能不能|有没有|要不要|"
    r"是否|什么|怎样|如何|哪|多少|为何|几[个年]|还是"
)


def _asks(text: str) -> bool:
    """A question, which asks about an outlook rather than stating one."""
    if not _is_question(text):
        return False
    return not has_cjk(text) or _ZH_ASK_RE.search(text) is not None


def _is_question(text: str) -> bool:
    t = text.strip().rstrip("*").strip()
    return t.endswith(("?", "？")) or bool(_QUESTION_MARK_RE.match(text))


def _candidates(doc: Document) -> list[_Candidate]:
    out: list[_Candidate] = []
    lines = doc.lines
    for i, ln in enumerate(lines):
        if ln.kind in ("table", "code") or ln.text.lstrip().startswith("|"):
            continue  # table rows and code are data, not introductions
        if ln.kind == "heading":
            for names, joined in heading_names(ln.text):
                out.append(_Candidate(names, joined, "section", doc.source, section=ln.section))
            continue
        if ln.question and (i == 0 or lines[i - 1].question != ln.question):
            out.extend(_question_candidates(ln.question, [x for x in lines[i:] if x.question == ln.question],
                                            doc.source))
        if _QUESTION_MARK_RE.match(ln.text) and _is_question(ln.text):  # "Q: What about data analysts?"
            out.extend(_question_candidates(ln.text, _answer_lines(lines, i), doc.source))
            continue
        lead, rest = _line_lead(ln)
        if lead is not None:
            if _is_question(lead):  # a bold question or "Q:" line, answered by what follows
                answer = [ln] if rest else _answer_lines(lines, i)
                out.extend(_question_candidates(lead, answer, doc.source, skip_first=not rest))
                continue
            got = lead_names(lead)
            if got:
                names, joined = got
                out.append(_Candidate(names, joined, "definition", doc.source,
                                      body=list(ln.sentences) + _continuation(lines, i, names)))
                continue
        if ln.kind == "list_item" or len(ln.text) <= 60:
            got = lead_names(_LIST_MARK_RE.sub("", ln.text))
            if got:  # a list item (or short line) that is only a title: what follows describes it
                body = []
                for nxt in _answer_lines(lines, i):
                    if lead_names(_LIST_MARK_RE.sub("", nxt.text)) or _line_lead(nxt)[0] is not None:
                        break
                    body.extend(nxt.sentences)
                out.append(_Candidate(got[0], got[1], "definition", doc.source, body=body[:6]))
                continue
        if ln.kind == "list_item":
            # A list item opening with a title ("ML accelerator/hardware engineer designs …"): a lead-in
            # whose emphasis the reader dropped. The title must open the item and be capitalised there.
            item = _LIST_MARK_RE.sub("", ln.text)
            nps = noun_phrases(item[:100])
            art = re.match(r"(?:An?|The)\s+", item)
            if nps and nps[0][0] == (art.end() if art else 0) and item[:1].isupper() and _substantial(item):
                names, abbrs = [nps[0][2]], abbreviation(item[nps[0][1]:nps[0][1] + 40])[1][:1]
                after = item[nps[0][1]:].lstrip()
                if after.startswith(("(", ":", "—", "–", "-", ",")) or re.match(r"[a-z]+s\b", after):
                    out.append(_Candidate(names + abbrs, False, "definition", doc.source,
                                          body=list(ln.sentences) + _continuation(lines, i, names)))
                    continue
        for name in dedupe(zh_role_names(ln.text)):
            body = [s for s in ln.sentences if name in s.text]
            body += [s for s in _zh_back_refs(lines, i, name) if s not in body]
            short = len(ln.text) <= 40 or ln.kind == "list_item"
            out.append(_Candidate([name], False, "definition", doc.source, body=body, structural=short,
                                  introduced=short))
    return out


# A paragraph that refers back to the one before it ("They …", "These engineers …", "This role …", 这个岗位…).
_BACK_REF_RE = re.compile(
    r"^(?:they|their|these|this|those|such|it|its|the role|the job|the title|the position|in this role|"
    r"for (?:this|these|such) (?:role|roles|engineers|people|positions?))\b|"
    r"^(?:他们|她们|这个|这类|这些|该岗位|该职位|这种)",
    re.I,
)


def _continuation(lines: list[Line], i: int, names: list[str]) -> list[Sentence]:
    """Sentences of the paragraphs after a lead-in that go on about its role: each refers back to it
    (opens with "They", "This role", 这个岗位 …) or names it, up to the next lead-in or heading."""
    out: list[Sentence] = []
    for nxt in lines[i + 1: i + 5]:
        if nxt.kind in ("heading", "table", "code") or nxt.section != lines[i].section or _line_lead(nxt)[0]:
            break
        text = _LIST_MARK_RE.sub("", nxt.text).strip()
        if not (_BACK_REF_RE.match(text) or any(find_term(v, text) for n in names for v in variants(n))):
            break
        out.extend(nxt.sentences)
    return out


# A Chinese sentence that goes on about the title the sentence before it was about (这个岗位负责…, 他们…).
_ZH_BACK_REF_RE = re.compile(r"^(?:这个|这一|这类|这种|该)(?:岗位|职位|方向|工作|职业|角色)|^(?:他们|她们)")


def _zh_back_refs(lines: list[Line], i: int, name: str) -> list[Sentence]:
    """Sentences that go on about a Chinese title a sentence of line ``i`` opens with: the ones right
    after it, in its paragraph or the next ones of its section (an answer's prose), that refer back
    to it (这个岗位…, 他们…); the first that does not ends them. A title named in passing (not a
    sentence's subject) gets none."""
    out: list[Sentence] = []
    after = False
    for ln in lines[i: i + 3]:
        if ln is not lines[i] and (ln.kind in ("heading", "table", "code") or ln.section != lines[i].section
                                   or _is_question(ln.text) or _line_lead(ln)[0]):
            break
        for s in ln.sentences:
            text = _LIST_MARK_RE.sub("", clean_title(s.text)).strip()
            if not after:
                after = ln is lines[i] and text.startswith(name)
                continue
            if _ZH_BACK_REF_RE.match(text) and not any(n != name for n in zh_role_names(text)):
                out.append(s)
                continue
            return out
    return out


def _line_lead(ln: Line) -> tuple[str | None, str]:
    """The line's lead-in label and the rest: the emphasis the reader kept at ingest, else the markup
    or "Name:" in the text."""
    if ln.lead:
        return ln.lead, re.sub(r"^[:：\-–—,.]\s*", "", ln.text[len(ln.lead):].strip())
    return _lead(ln.text)


def _lead(text: str) -> tuple[str | None, str]:
    m = _BOLD_LEAD_RE.match(text)
    if m:
        return m.group("lead").strip(), re.sub(r"^[:：\-–—]\s*", "", m.group("rest").strip())
    m = _COLON_LEAD_RE.match(text)
    if m and len(m.group("lead").split()) <= 8:
        return m.group("lead").strip(), m.group("rest").strip()
    return None, ""


def _answer_lines(lines: list[Line], i: int) -> list[Line]:
    out = []
    for ln in lines[i + 1: i + 9]:
        if ln.kind == "heading" or _is_question(ln.text) or (_lead(ln.text)[0] or "").endswith("?"):
            break
        out.append(ln)
    return out


def _question_candidates(question: str, answer: list[Line], source: str, skip_first: bool = False) -> list[_Candidate]:
    q = clean_title(_QUESTION_MARK_RE.sub("", question))
    names = zh_role_names(q) if has_cjk(q) else [p for _, _, p in noun_phrases(q)]
    names = dedupe(names)
    if not names or len(names) > 2:
        return []
    body = [s for ln in answer for s in ln.sentences]
    out = []
    for n in names:
        if has_cjk(q) and _ZH_SELF_RE.search(q[:q.find(n)] if n in q else ""):
            # "我是开发工程师，想转…": the asker's own job is the background of the question, not what
            # it asks about; it is a role only if the page goes on to describe it.
            out.append(_Candidate([n], False, "definition", source, structural=False, introduced=False))
        else:
            out.append(_Candidate([n], False, "definition", source, body=body))
    return out


# An asker saying what they do now (我是…, 本人做了三年…, 作为一名…): the title after it is their background.
_ZH_SELF_RE = re.compile(
    r"(?:我|本人|自己)(?:目前|现在|之前|以前|一直)?(?:是|做|当|干)(?:了)?(?:[\d一二三四五六七八九十几两]+年(?:的)?)?"
    r"(?:一名|一个|个)?$|(?:作为|身为)(?:一名|一个|个)?$"
)
# After a title: leaving it (开发工程师转大模型应用 speaks of switching, not of the job).
_ZH_LEAVING_RE = re.compile(r"^(?:想|要|如何|怎么|怎样|能不能|可以)?(?:转|跳槽|离职|改行)")


# Words that may stand before a sentence's subject: articles, quantifiers, possessives ("Most data
# engineers …", "A good data engineer …", "Our analytics engineers …").
_DETERMINERS = frozenset(
    "a an the most many some all every each any our your their good great strong typical successful "
    "experienced senior junior today's".split()
)
# After the subject's head noun, words that show the title is not the subject: it is inside a larger
# phrase ("analysts of …", "engineers' tools") or the object of a preposition.
_NOT_PREDICATE = frozenset("of for at in on from to with by into about than as".split())
SUBJECT_SENTENCES = 2  # "several": the title is the subject of at least this many sentences of one document


def subject_titles(text: str) -> list[str]:
    """The job titles a sentence is about as its grammatical subject: a title opening the sentence
    (after an article or quantifier at most, or after a short fronted phrase and its comma: "At most
    startups, data engineers …") with a predicate after it, and a title coordinated with it ("Data
    engineers and analytics engineers share …"). [] for "Demand for data engineers …" or "Engineers …"."""
    nps = noun_phrases(text[:200])
    if not nps:
        return []
    first = _subject_at(text, nps, 0)
    if first is None:
        comma = text.find(",", 0, 80)
        if comma < 0 or len(text[:comma].split()) > 8:
            return []
        first = _subject_at(text, nps, comma + 1)
        if first is None:
            return []
    out = [nps[first][2]]
    i = first
    while i + 1 < len(nps):  # "X and Y …", "X, Y and Z …"
        gap = text[nps[i][1]:nps[i + 1][0]]
        if not re.fullmatch(r"\s*,?\s*(?:and|or|as well as)\s+(?:(?:an?|the)\s+)?", gap, re.I):
            break
        i += 1
        out.append(nps[i][2])
    end = nps[i][1]
    after = re.match(r"\s*([A-Za-z]+|\S)", text[end:])
    if after is None or text[end:end + 1] in ("'", "’", "-", "/") or after.group(1).lower() in _NOT_PREDICATE:
        return []
    return out


def _subject_at(text: str, nps: list[tuple[int, int, str]], offset: int) -> int | None:
    """Index of the noun phrase that opens ``text[offset:]`` (after determiners only), else None."""
    for k, (start, _, _) in enumerate(nps):
        if start < offset:
            continue
        before = re.findall(r"[A-Za-z']+|[^\sA-Za-z']", text[offset:start])
        return k if all(w.lower() in _DETERMINERS for w in before) else None
    return None


# A title set against the sentence's subject ("Data engineers, unlike analysts, …", "… differ from
# analysts", "… more than analysts do"): the prose form of an "X vs. Y" heading, about both roles.
_CONTRAST_RE = re.compile(
    r"\b(?:unlike|compared (?:with|to)|in contrast to|as opposed to|rather than|differ(?:s|ent)? from|than|"
    r"versus|vs\.?)\s+(?:(?:an?|the|most|many)\s+)?$",
    re.I,
)


def contrasted_titles(text: str) -> list[str]:
    """Titles a sentence compares its subject with ("Unlike analysts, data engineers …" → analysts)."""
    if not subject_titles(text):
        return []
    out = []
    for start, _, phrase in noun_phrases(text[:300]):
        if _CONTRAST_RE.search(text[max(0, start - 40):start]):
            out.append(phrase)
    return out


def _subject_candidates(doc: Document) -> list[_Candidate]:
    """Titles a document's running prose keeps talking about: the subject of several of its sentences,
    or the subject of some and the role the others compare theirs with. A role it discusses without a
    heading or lead-in; one mention, or a title only named in passing, is not enough."""
    by_key: dict[str, list[tuple[str, Sentence]]] = defaultdict(list)
    for ln in doc.lines:
        if ln.kind in ("heading", "table", "code") or ln.text.lstrip().startswith("|"):
            continue
        for s in ln.sentences:
            if has_cjk(s.text) or not _substantial(s.text):
                continue
            text = _LIST_MARK_RE.sub("", s.text.strip())
            for phrase in dedupe([*subject_titles(text), *contrasted_titles(text)]):
                by_key[merge_key(phrase)].append((phrase, s))
    out: list[_Candidate] = []
    for hits in by_key.values():
        if len({s.order for _, s in hits}) >= SUBJECT_SENTENCES:
            out.append(_Candidate([hits[0][0]], False, "definition", doc.source, body=[s for _, s in hits],
                                  structural=False))
    return out


def _field_candidates(doc: Document, curated: Sequence[CuratedRole]) -> list[_Candidate]:
    """Lines of work the curated file names, spoken of as jobs ('jobs focused on auditing')."""
    out: list[_Candidate] = []
    for s in doc.sentences:
        fields = [m.group("field") for m in _EN_FIELD_RE.finditer(s.text)]
        fields += [m.group("field") for m in _ZH_FIELD_RE.finditer(s.text)]
        for fld in fields:
            for idx, cr in enumerate(curated):
                if any(_opens_with(fld, t) for t in (*cr.aliases, *cr.mentions, cr.name)):
                    out.append(_Candidate([cr.name], False, "definition", doc.source, body=[s], structural=False,
                                          curated=idx))
        # "demand for legal professionals": a curated title of several words, named as a job.
        if _DEMAND_RE.search(s.text):
            for idx, cr in enumerate(curated):
                for t in cr.aliases:
                    if not has_cjk(t) and len(t.split()) >= 2 and is_role_name(t) and find_term(t, s.text):
                        out.append(_Candidate([cr.name], False, "definition", doc.source, body=[s],
                                              structural=False, curated=idx))
                        break
    return out


def _opens_with(fld: str, term: str) -> bool:
    """The field phrase starts with the term ('translation and interpretation' opens with 'translation')."""
    if not term or len(term) < 2:
        return False
    f = fld.strip().lower()
    t = term.lower()
    if has_cjk(t):
        return f.startswith(t)
    return re.match(re.escape(t) + r"(?![a-z])", f) is not None and len(t) >= 4


# --- merging -----------------------------------------------------------------------------------------

def _merge(cands: list[_Candidate], curated: Sequence[CuratedRole]) -> list[_Draft]:
    cur_index: dict[str, int] = {}
    for idx, cr in enumerate(curated):
        for t in (cr.name, *cr.aliases, *([cr.zh] if cr.zh else [])):
            for part in [t, *t.split(" / ")]:
                cur_index.setdefault(merge_key(part), idx)
    drafts: dict[str, _Draft] = {}
    key_of: dict[str, str] = {}

    def known(name: str, inside: bool = False) -> str | None:
        k = merge_key(name)
        if k in key_of:
            return key_of[k]
        if k in cur_index:
            return _curated_draft(cur_index[k]).key
        if inside:  # "Personalized Educators" (of "… Educators and Coaches") is the known "educator"
            for known_key, idx in sorted(cur_index.items(), key=lambda kv: -len(kv[0])):
                if len(known_key) >= 4 and k.endswith(" " + known_key):
                    return _curated_draft(idx).key
        return None

    def _curated_draft(idx: int) -> _Draft:
        cr = curated[idx]
        key = slug(cr.name)
        if key not in drafts:
            drafts[key] = _Draft(key, cr.name, [cr.name], cr)
            for t in (cr.name, *cr.aliases, *([cr.zh] if cr.zh else [])):
                key_of.setdefault(merge_key(t), key)
        return drafts[key]

    def new(names: list[str]) -> _Draft:
        name = _pretty(names[0]) if len(names) == 1 else " / ".join(_pretty(n) for n in names)
        key = slug(name)
        while key in drafts:
            key += "-2"
        d = _Draft(key, name, [])
        drafts[key] = d
        return d

    def attach(d: _Draft, names: list[str], cand: _Candidate) -> None:
        for n in names:
            d.names.append(n)
            key_of.setdefault(merge_key(n), d.key)
        d.cands.append(cand)

    # Single titles and alias lists first, so "A and B" can split into roles already known; a post
    # ("算法岗") last, so it can join the title of its field.
    posts = [c for c in cands if _is_post(c)]
    ordered = sorted((c for c in cands if not _is_post(c)), key=lambda c: (c.joined, not c.structural))
    for c in ordered:
        if c.curated is not None:
            attach(_curated_draft(c.curated), [], c)
            continue
        if not c.joined:
            target = next((k for k in (known(n) for n in c.names) if k), None)
            attach(drafts[target] if target else new([c.names[0]]), c.names, c)
            continue
        targets = [known(n, inside=True) for n in c.names]
        if len({t for t in targets if t}) == 1 and all(t is not None for t in targets):
            attach(drafts[targets[0] or ""], c.names, c)  # the alias file's one entry for both titles
            continue
        # Two titles in one heading or lead-in ("A / B", "A and B") are two roles, each with the text
        # under them, never one entry named "A / B". An abbreviation after them names neither alone.
        for n, target in zip(c.names, targets, strict=True):
            if target is None and not is_role_name(n):
                continue
            one = _Candidate([n], False, c.kind, c.source, c.body, c.section, c.structural)
            attach(drafts[target] if target else new([n]), [n], one)
    for c in posts:  # a post the alias file names, else the corpus's title of the same field
        k = known(c.names[0])
        field_title = drafts[k] if k else _post_target(c.names[0], drafts.values())
        if field_title is not None:
            attach(field_title, c.names, c)
        elif _post_field_is_speciality(c.names[0], drafts.values()):
            attach(new(c.names), c.names, c)
    return list(drafts.values())


_POST_RE = re.compile(r"^(?P<field>.+?)(?:岗位|岗)$")


def _drop_generic(drafts: list[_Draft], docs: list[Document]) -> list[_Draft]:
    """A Chinese title that is only the generic end of other titles the corpus names (开发工程师 of
    大模型应用开发工程师, 后端开发工程师), only named in passing, is not a role of its own: the documents
    must introduce it with text that describes it (heading, lead-in, title line, an asker's question and
    their answer) or open a clause with it."""
    texts = {t for doc in docs for ln in doc.lines for t in (ln.text, ln.question or "", *ln.section) if has_cjk(t)}
    zh = {n.replace(" ", "") for t in texts for n in zh_role_names(t)}
    # Clause openings: a title a clause starts with is what the clause speaks about (its subject).
    openings = [c.strip() for doc in docs for s in doc.sentences
                for c in re.split(r"[，,；;：:。！？!?]", clean_title(_QUESTION_MARK_RE.sub("", s.text)))]
    out = []
    for d in drafts:
        names = [n.replace(" ", "") for n in d.names]
        generic = d.curated is None and bool(names) and all(
            has_cjk(n) and any(o != n and o.endswith(n) for o in zh) for n in names)
        # Introduced means with text that describes it: a heading's section, a question's answer, the lines
        # under a title line; a short line that only names it ("相关岗位：开发工程师") does not describe it.
        described = any(c.introduced and (c.section is not None or any(
            _substantial(s.text) and all(_describes(s.text, n) for n in names) for s in c.body)) for c in d.cands)
        if generic and not described and not any(
                o.startswith(n) and _predicate(o[len(n):]) for o in openings for n in names):
            continue
        out.append(d)
    return out


def _describes(text: str, name: str) -> bool:
    """A sentence of a title's text says something about it: it does not name it (an answer, the lines
    under a title line), or names it with something said after it in its clause."""
    text = text.replace(" ", "")
    for other in sorted(zh_role_names(text), key=len, reverse=True):  # 开发工程师 inside 测试开发工程师
        if other != name and name in other:
            text = text.replace(other, "，")
    parts = text.split(name)
    return len(parts) == 1 or any(_predicate(re.split(r"[，,；;：:。！？!?]", p)[0]) for p in parts[1:])


def _predicate(rest: str) -> bool:
    """What follows a title opening a clause says something about it: not only more titles of a list
    ("开发工程师、测试工程师"), nor leaving it ("开发工程师转大模型应用")."""
    if _ZH_LEAVING_RE.match(rest):
        return False
    for name in zh_role_names(rest):
        rest = rest.replace(name, "")
    return len(re.findall(r"[\u4e00-\u9fffA-Za-z]", re.sub(r"[、和与及或]", "", rest))) >= 2


def _post_field_is_speciality(name: str, drafts: Iterable[_Draft]) -> bool:
    """"开发岗": its field is the speciality right before the head of a title, of the corpus
    (应用开发工程师) or of the glossary (开发工程师), so it names a kind of post; "技术岗", "大模型岗" have
    no such title."""
    m = _POST_RE.match(name.replace(" ", ""))
    if m is None:
        return False
    fld = m.group("field")
    if any(v.startswith(fld) and ZH_HEAD_RE.fullmatch(v[len(fld):]) and not _POST_RE.match(v)
           for c in concepts() for v in c.zh):
        return True
    for d in drafts:
        for n in d.names:
            n = n.replace(" ", "")
            i = n.find(fld)
            while i > 0:
                if not _POST_RE.match(n) and ZH_HEAD_RE.fullmatch(n[i + len(fld):]):
                    return True
                i = n.find(fld, i + 1)
    return False


def _is_post(c: _Candidate) -> bool:
    return c.curated is None and len(c.names) == 1 and has_cjk(c.names[0]) and _POST_RE.match(c.names[0]) is not None


def _post_target(name: str, drafts: Iterable[_Draft]) -> _Draft | None:
    """"算法岗" (a post named by its field) is the role of a title with that field and a real head
    (算法工程师, 算法研究员); a field no title of the corpus has (技术岗, 开发岗, 大模型岗) names no role."""
    m = _POST_RE.match(name.replace(" ", ""))
    if m is None:
        return None
    fld = m.group("field")
    for d in drafts:
        for n in [*d.names, *([d.curated.zh] if d.curated and d.curated.zh else [])]:
            n = n.replace(" ", "")
            if has_cjk(n) and not _POST_RE.match(n) and zh_role_name(n) == n and n.startswith(fld) \
                    and ZH_HEAD_RE.fullmatch(n[len(fld):]):
                return d
    return None


def _pretty(name: str) -> str:
    n = display(strip_seniority(" ".join(name.split())))
    return n[:1].upper() + n[1:] if n and not has_cjk(n[:1]) else n


# --- roles and their evidence ------------------------------------------------------------------------

class _Mentions:
    """Which sentences name a term: a substring prefilter, then the word-boundary check, cached per term."""

    def __init__(self, sentences: list[Sentence]) -> None:
        self.sentences = sentences
        self._lower = [s.text.lower() for s in sentences]
        self._cache: dict[str, list[int]] = {}

    def of(self, terms: list[str]) -> list[Sentence]:
        hits: set[int] = set()
        for t in terms:
            if t not in self._cache:
                low = t.lower()
                self._cache[t] = [i for i, text in enumerate(self._lower)
                                  if low in text and find_term(t, self.sentences[i].text)]
            hits.update(self._cache[t])
        return [self.sentences[i] for i in sorted(hits)]


def _role(d: _Draft, docs: list[Document], mentions: _Mentions) -> Role | None:
    cr = d.curated
    names = dedupe([d.name, *(display(n) for n in d.names), *d.names, *(x for n in d.names for x in _shared_head(n))])
    # 算法岗 shares 算法工程师's key (it matches either way) but is a name the corpus uses: kept as an alias.
    aliases = [n for n in names if merge_key(n) != merge_key(d.name)
               or (has_cjk(n) and n.replace(" ", "") != d.name.replace(" ", ""))]
    if cr:
        aliases = dedupe([*cr.aliases, *aliases])
    role = Role(d.key, d.name, cr.zh if cr else _zh_of(d.names), [a for a in aliases if a != d.name],
                list(cr.mentions) if cr else [], list(cr.topics) if cr else [], curated=cr is not None)
    ev: dict[tuple[str, int], Evidence] = {}
    rank = ("definition", "section", "mention", "context", "topic")

    def add(s: Sentence, kind: EvidenceKind, parent: str = "") -> None:
        k = (s.source, s.order)
        prev = ev.get(k)
        if prev is None or rank.index(kind) < rank.index(prev.kind):
            above = s.section[-2] if len(s.section) > 1 else ""
            ev[k] = Evidence(s.source, s.title, s.url, s.text, s.chunk_id, s.position, s.order, kind,
                             s.section[-1] if s.section else "", parent or above, s.location)

    terms = role.text_terms()
    others_in_heading: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for c in d.cands:
        for s in c.body:
            add(s, c.kind)
        if c.section is not None:
            others_in_heading[(c.source, c.section)] = c.names
    by_doc = {doc.source: doc for doc in docs}
    for (source, section), own_names in others_in_heading.items():
        doc = by_doc[source]
        own_names = [v for n in own_names for v in variants(n)]
        siblings = [v for c2 in heading_names(section[-1]) for n in c2[0] if n not in own_names for v in variants(n)]
        parent = section[-2] if len(section) > 1 else ""
        for s in doc.sentences:
            if s.section[: len(section)] == section:
                # In "X vs. Y", a sentence that names only the other role is not about this one.
                if siblings and any(find_term(n, s.text) for n in siblings) and not any(
                        find_term(n, s.text) for n in own_names):
                    continue
                add(s, "section", parent)
            elif parent and s.section == section[:-1]:
                add(s, "context", parent)
    for s in mentions.of(terms):
        add(s, "mention")
    if role.topics and ev:
        docs_with = {e.source for e in ev.values()}
        for s in mentions.of(role.topics):
            if s.source in docs_with:
                add(s, "topic")
    evidence = sorted(ev.values(), key=lambda e: (e.source, e.order))
    described = [e for e in evidence if e.kind != "context" and _substantial(e.text)]
    structural = any(c.structural for c in d.cands) or any(c.curated is not None for c in d.cands)
    if not described or (not structural and len(described) < 2):
        return None
    role.evidence = evidence
    return role


_ALSO_RE = re.compile(
    r"\b(?:also|sometimes|often|commonly)\s+(?:called|known as|referred to as|titled)\s+(?:an?\s+|the\s+)?"
    r"(?P<alias>[A-Za-z][\w\-/ ]{1,60}?(?:,?\s+or\s+(?:an?\s+|the\s+)?[A-Za-z][\w\-/ ]{1,40}?)?)"
    r"(?=\s*[,.;:)\"”]|\s+(?:in|at|is|are|by|who|which|that)\b|$)",
    re.I,
)


def _aliases_from_text(roles: list[Role]) -> None:
    """Other names the documents give a role: "(also called an accelerator engineer)", "DevOps (SRE)"."""
    taken = {merge_key(t): r.key for r in roles for t in r.terms()}
    for r in roles:
        found: list[str] = []
        own = [e for e in r.evidence if e.kind in ("definition", "section", "mention")]
        for e in own:
            for m in _ALSO_RE.finditer(e.text):
                if e.kind == "mention" and not any(find_term(t, e.text[:m.start()]) for t in r.text_terms()):
                    continue
                found.extend(p.strip() for p in re.split(r"\s+or\s+|,", m.group("alias")))
            for t in r.text_terms():
                if has_cjk(t):
                    continue
                for m in re.finditer(r"(?<![A-Za-z])" + re.escape(t) + r"(?:s|es)?\s*\(([^()]{2,30})\)", e.text, re.I):
                    found.append(m.group(1).strip())
        for a in dedupe(found):
            abbrev = re.fullmatch(r"[A-Za-z][A-Za-z0-9&/\-]{1,11}", a) is not None and any(c.isupper() for c in a[1:])
            if not (is_role_name(a) or abbrev) or taken.get(merge_key(a), r.key) != r.key:
                continue
            if all(merge_key(a) != merge_key(t) for t in r.terms()):
                r.aliases.append(a)
                taken[merge_key(a)] = r.key


_SHARED_HEAD_RE = re.compile(r"^(?P<pre>(?:\S+\s+)*?)(?P<a>[A-Za-z][\w\-]*)/(?P<b>[A-Za-z][\w\-]*)\s+(?P<head>\S.*)$")


def _shared_head(name: str) -> list[str]:
    """'ML accelerator/hardware engineer' → 'ML accelerator engineer', 'ML hardware engineer'."""
    m = _SHARED_HEAD_RE.match(name.strip())
    if m is None:
        return []
    out = [f"{m.group('pre')}{m.group(x)} {m.group('head')}" for x in ("a", "b")]
    return [n for n in out if is_role_name(n)]


def _zh_of(names: list[str]) -> str | None:
    return next((n for n in names if has_cjk(n)), None)


def _substantial(text: str) -> bool:
    """Long enough to say something: 6+ words, or 10+ Chinese characters (links and markup aside)."""
    text = re.sub(r"\[[^\]]*\]\([^)]*\)|https?://\S+|<[^>]+>", " ", text)
    if has_cjk(text):
        return len(re.findall(r"[\u4e00-\u9fff]", text)) >= 10
    return len(re.findall(r"[A-Za-z]+", text)) >= 6


# --- outlook -------------------------------------------------------------------------------------------

def _cue_names_role(r: Role, e: Evidence) -> bool:
    """One clause both names the role and carries an outlook cue ("demand for X keeps rising, …")."""
    terms = r.text_terms() + r.topics
    return any(any(find_term(t, c) for t in terms) and any(outlook_cues(c).values())
               for c in _CLAUSE_RE.split(e.text))


def role_cues(r: Role, e: Evidence) -> dict[str, int]:
    """The direction words of a sentence about the role: for Chinese, those that speak about it."""
    return _zh_role_cues(r, e) if has_cjk(e.text) else outlook_cues(e.text)


# Before a title: the standard a comparison measures against (X比Y更缺人 is about X).
_ZH_COMPARED_RE = re.compile(r"(?:比|比起|相比|相比于|相对于|不如|对比)\s*$")
# Between two titles: they are coordinated (X和Y都很缺人 is about both).
_ZH_AND_RE = re.compile(r"^\s*(?:和|与|及|以及|跟|、|或|或者|还有|，|,)\s*$")


def _titles_in(text: str, r: Role, own_place: bool) -> list[tuple[int, int, bool]]:
    """Where a Chinese sentence names a job title, and whether the title is this role's, as (start, end,
    is this role). This role's: one of its names, a shorter name it goes by (产品经理 of 大模型产品经理),
    and, in its own section or answer, a kind of it (CV算法工程师 under 算法工程师; 应用开发工程师 under
    the post 开发岗)."""
    own = [t.replace(" ", "") for t in r.text_terms() + r.topics if t]
    fields = [m.group("field") for t in own if has_cjk(t) for m in [_POST_RE.match(t)] if m]

    def mine(name: str) -> bool:
        name = name.replace(" ", "")
        if any(name == t or t.endswith(name) for t in own):
            return True
        if not own_place:
            return False
        head = ZH_HEAD_RE.search(name)
        mods = name[:head.start()] if head else name
        return any(has_cjk(t) and name.endswith(t) for t in own) or any(mods.endswith(f) for f in fields)

    out: list[tuple[int, int, bool]] = []
    for name in dedupe(zh_role_names(text)):
        for m in re.finditer(re.escape(name), text):
            out.append((m.start(), m.end(), mine(name)))
    for t in own:  # a name of the role inside a longer title (开发工程师 in 测试开发工程师) is that title
        for m in re.finditer(r"\s*".join(map(re.escape, t)), text, re.I):  # "AI 训练师" is "AI训练师"
            if not any(a <= m.start() < b or a < m.end() <= b for a, b, _ in out):
                out.append((m.start(), m.end(), True))
    return sorted(out)


def _subject_before(text: str, titles: list[tuple[int, int, bool]], pos: int) -> bool | None:
    """Whether the title a word at ``pos`` speaks of (the last one named before it, with the titles
    coordinated with it; not the standard of a comparison) is this role; None when none is named."""
    before = [t for t in titles if t[0] < pos and not _ZH_COMPARED_RE.search(text[max(0, t[0] - 4):t[0]])]
    if not before:
        return None
    group = [before[-1]]
    for prev in reversed(before[:-1]):
        if not _ZH_AND_RE.match(text[prev[1]:group[-1][0]]):
            break
        group.append(prev)
    return any(m for _, _, m in group)


_ZH_TURN_RE = re.compile(r"但是|但|不过|然而|可是|反而")
_ZH_REPORTED_RE = re.compile(r"说法|有人说|很多人说|都说|听说|据说|传言|网上说|以为|觉得")


def _zh_role_cues(r: Role, e: Evidence) -> dict[str, int]:
    """The direction words of a Chinese sentence that speak about this role: the title named last before
    the word is this role's, or (naming none before it) the clause names it after the word ("不少公司在扩招
    X") or, in the role's own section or answer, names no other title. A word about jobs in general (取代,
    下滑) also needs a word of jobs or the role's name in its clause."""
    own_place = e.kind in ("definition", "section")
    counts = {"at risk": 0, "growing": 0, "reshaped": 0}
    titles = _titles_in(e.text, r, own_place)
    bounds = [0, *(m.end() for m in _CLAUSE_RE.finditer(e.text)), len(e.text) + 1]
    found: list[tuple[str, int]] = []
    for direction, pos, market in zh_cues(e.text):
        lo = max(b for b in bounds if b <= pos)
        hi = min(b for b in bounds if b > pos)
        clause = e.text[lo:hi]
        if not market and not (about_jobs(clause) or any(lo <= p < hi and mine for p, _, mine in titles)
                               or (own_place and ZH_BACK_REF_RE.search(clause))):
            continue
        subject = _subject_before(e.text, titles, pos)
        after = [mine for p, _, mine in titles if pos <= p < hi]
        if subject is not None:
            about = subject
        elif after:
            about = after[0]
        else:
            about = own_place
        if about:
            found.append((direction, pos))
    # "有人说A，但B": a view the sentence reports (说法, 有人说, 听说 …) and then turns against (但, 反而 …) is
    # not its own; without the report, "A，但B" states both (now in demand, but later replaced).
    turns = [m.end() for m in _ZH_TURN_RE.finditer(e.text)]
    turns = [t for t in turns if _ZH_REPORTED_RE.search(e.text[:t])]
    if turns and len({d for d, _ in found}) > 1:
        later = [(d, p) for d, p in found if p >= turns[-1]]
        found = later or found
    for direction, _ in found:
        counts[direction] += 1
    return counts


def _outlooks(roles: list[Role], embed: Embed | None) -> None:
    """Keep as outlook statements only sentences about the role (its section or lead-in, or naming it)
    that say something about its prospects, the one that best answers how the role is doing first.

    With the embedder (``OutlookReader``): a sentence with a direction word in a clause about jobs or
    the role ("demand … keeps growing", "岗位需求在萎缩") is one unless it reads as answering another
    question (in its own section), or, elsewhere, reads no nearer the outlook questions than the others
    with its direction word outside the clause naming the role. A statement that names the role and
    speaks of jobs or hiring is one on the reading alone when it answers the outlook questions clearly
    better. Offline, the direction words decide alone. The section introducing a group of roles is
    context, never an outlook.
    """
    reader = OutlookReader(embed) if embed is not None else None
    for r in roles:
        chosen: list[tuple[Evidence, float]] = []
        worded: list[Evidence] = []  # the chosen sentences whose direction words speak of jobs or the role
        # The sentences that could state it: a direction word in a clause about jobs or the role, or
        # (for the reading alone) a statement that names the role and speaks of jobs or hiring. Measured
        # on dev, the reading alone also picks sentences like "In some companies there is not really a
        # difference.", so it is not asked of the others.
        cands: list[tuple[Evidence, bool, bool]] = []
        cues_of: dict[Evidence, dict[str, int]] = {}  # a sentence's direction words about the role, read once
        for e in r.evidence:
            if e.kind == "context" or _asks(e.text):  # a question asks; it states no outlook
                continue
            own = e.kind in ("definition", "section")
            zh = role_cues(r, e) if has_cjk(e.text) else None
            lexical = any(zh.values()) if zh is not None else is_outlook_statement(
                e.text, r.text_terms() if own else ())
            alone = (reader is not None and e.kind != "topic" and about_jobs(e.text) and names_role(r, e.text)
                     and not _is_question(e.text)
                     and (not has_cjk(e.text) or any(m for _, _, m in _titles_in(e.text, r, False))))
            if lexical or alone:
                cues_of[e] = zh if zh is not None else role_cues(r, e)
                cands.append((e, lexical, alone))
        reads = reader.read(r, [e.text for e, _, _ in cands]) if reader else [None] * len(cands)
        for (e, lexical, alone), rd in zip(cands, reads, strict=True):
            cues = cues_of[e]
            direction = e.kind in ("definition", "section") and bool(cues["at risk"] or cues["growing"])
            named = _cue_names_role(r, e) if not has_cjk(e.text) else any(cues.values())
            if rd is None:
                if lexical and (direction or named):
                    chosen.append((e, 0.0))
                continue
            d, close = rd
            strong = alone and d >= STRONG and close >= STRONG_FLOOR
            agree = lexical and (d >= WEAK if direction else (d >= 0 or named))
            if strong or agree:
                chosen.append((e, d))
                if lexical or any(cues.values()):
                    worded.append(e)
        chosen.sort(key=lambda ed: (-ed[1], ed[0].source, ed[0].order))
        r.outlook, r.outlook_scores = tag_outlook(worded, cues_of.__getitem__) if worded else ("unclear", {})
        # A statement with no direction word is still quoted (the card then names no direction): the
        # embedder reads which way a sentence points no better than chance (on the seeds, own and dev
        # corpora, against the direction words).
        r.outlook_orders = [(e.source, e.order) for e, _ in chosen if r.outlook != "unclear" or e not in worded]
