"""Held-out check: corpora written for measuring only, never for fitting.

    python benchmarks/heldout.py                 # every corpus, tables on stdout
    python benchmarks/heldout.py --set heldout2  # the second held-out set (benchmarks/data/heldout2/)
    python benchmarks/heldout.py --log           # also append the figures to benchmarks/results/heldout.md
    python benchmarks/heldout.py --json OUT.json # the raw per-question results too

benchmarks/data/heldout/ holds three small corpora in the styles of documents the bot is judged on
(not copies of them): ``book/`` (markdown chapters of an ML-careers book: numbered headings, bold
lead-ins, footnotes, block quotes), ``qa/`` (a Chinese Q&A page with bold numbered asker questions
and paid-group adverts) and ``web/`` (an HTML blog post with site chrome). ``questions.jsonl`` uses
the schema of ``careerbot eval``; an in-scope question belongs to the corpus holding its source, and
every out-of-scope and adversarial question is asked of every corpus. ``roles.txt`` lists the roles
the documents describe (``Canonical | aliases | files``).

benchmarks/data/heldout2/ (``--set heldout2``) is a second, fresh set in the same styles, written after the
first had been looked at while fixing things: ``chapters/`` (three markdown chapters of an invented data/ML
careers book, with a table) and ``faq/`` (a Chinese FAQ web page in HTML with site navigation, a sidebar, bold
numbered asker questions and paid-group adverts between the answers); its questions.jsonl adds English
questions about the Chinese page.

benchmarks/data/heldout3/ (``--set heldout3``) covers the two styles the first two lacked: ``zhbook/`` (two
markdown chapters of an invented Chinese book on algorithm, data and AI-product careers and 转行, with numbered
headings, bold lead-ins, footnotes, block quotes, a table and lists) and ``enfaq/`` (an English FAQ web page with
a cookie banner, navigation, sidebar, comments and footer, questions as "Q:"/"A:", bold lines and ``<h3>``, and a
course promo with a discount code, a paid-community block and a sponsor line between the answers). About a
quarter of its in-scope questions are asked in the other language. Its adverts carry no 【...】 label, so their
plain text is listed in ``adverts.txt`` for the advert column (the bot never reads that file).

benchmarks/data/heldout4/ (``--set heldout4``, written 2026-12-02 by a session that had not seen the code, and
measured before anything was changed after it): ``enbook/`` (two chapters of an invented English book as a
publisher's online reader shows them in HTML: site header and navigation, a contents sidebar, numbered section
headings, a list, a block quote with its attribution, a table, footnote references, a figure caption, a "Key
takeaways" box and a footer with a newsletter form and a discount-code advert) and ``zhfaq/`` (a Chinese 问/答 FAQ
article in markdown with front matter, 【广告】 blocks, a WeChat group invitation and reader comments, and a
timestamped Chinese podcast transcript). About a quarter of the in-scope questions are asked in the other language.

Do not tune on these folders (nor on benchmarks/data/seeds_heldout.jsonl): they are report only, and
benchmarks/fit_answerability.py never sees them. Its figures are only meaningful while no parameter, rule or test in
bot/ or knowledge/ was chosen by looking at it.

Each corpus goes through the public CLI as a new user would, in a fresh CAREERBOT_DATA_DIR with no
LLM configured: ``careerbot ingest FOLDER``, ``careerbot eval FILE --json`` (the figures the project
reports), ``careerbot ask --json`` on stdin (the answers as the contract shows them, for the checks
below) and ``careerbot roles --json``. Independent of the project's own checks, every answer is
scanned for markup (``**``, ``__``, a line starting with ``>`` or ``#``, ``[^``, HTML tags, an FAQ's
``Q:``/``A:`` marker; in the answer text also table cell separators `` | ``, a doubled colon and a colon
after ``?``/``!``), glued
headings (a sentence starting with a section number, or with a heading of the corpus followed by more
text), advert text (a clause of an advert paragraph of the corpus) and asker questions quoted as the
answer; every quote must appear in the source's raw text or in a plain text extracted here (not with
the project's reader).
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "heldout.md"


@dataclass(frozen=True)
class HeldoutSet:
    """One held-out set: a folder of corpora (one sub-folder each), questions.jsonl and roles.txt."""

    name: str
    data: Path
    corpora: tuple[str, ...]
    # Roles whose outlook each corpus states (for "outlook the sources do not state" / "stated outlook missed").
    outlook_stated: dict[str, set[str]]
    ambiguous_outlook: dict[str, set[str]]  # either reading is fair


SETS = {
    "heldout": HeldoutSet(
        "heldout", ROOT / "benchmarks" / "data" / "heldout", ("book", "qa", "web"),
        {
            "book": {"machine learning engineer", "data scientist", "research scientist", "ml platform engineer",
                     "ai hardware engineer", "developer advocate"},
            "qa": {"cv algorithm engineer", "algorithm engineer", "llm application engineer", "software developer"},
            "web": {"llm engineer"},
        },
        {"qa": {"nlp algorithm engineer"}},
    ),
    "heldout2": HeldoutSet(
        "heldout2", ROOT / "benchmarks" / "data" / "heldout2", ("chapters", "faq"),
        {
            "chapters": {"data engineer", "mlops engineer", "machine learning engineer", "analytics engineer",
                         "data analyst", "data scientist", "prompt engineer"},
            "faq": {"llm application engineer", "llm algorithm engineer", "ai trainer",
                    "recommendation algorithm engineer", "data engineer"},
        },
        {},
    ),
    "heldout3": HeldoutSet(
        "heldout3", ROOT / "benchmarks" / "data" / "heldout3", ("zhbook", "enfaq"),
        {
            "zhbook": {"algorithm engineer", "data analyst", "data engineer", "ai product manager"},
            "enfaq": {"ai engineer", "prompt engineer"},
        },
        {"zhbook": {"llm algorithm engineer", "llm application algorithm engineer"}},
    ),
    "heldout4": HeldoutSet(
        "heldout4", ROOT / "benchmarks" / "data" / "heldout4", ("enbook", "zhfaq"),
        {"enbook": {"evaluation engineer"}},
        {
            "enbook": {"llm reliability engineer", "red-team specialist", "annotation quality lead", "ml engineer",
                       "data scientist", "software engineer, ml", "llm application engineer"},
            "zhfaq": {"evaluation engineer", "annotation quality lead", "llm application engineer",
                      "algorithm engineer", "algorithm intern", "ai trainer", "test development engineer"},
        },
    ),
}


# --- independent plain text ---------------------------------------------------------------


class _Text(HTMLParser):
    SKIP = {"script", "style", "head"}
    INLINE = {"a", "abbr", "b", "code", "em", "i", "mark", "small", "span", "strong", "sub", "sup", "u"}  # no break

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.SKIP:
            self.depth += 1
        if tag not in self.INLINE:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.depth:
            self.depth -= 1
        if tag not in self.INLINE:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.parts.append(data)


def plain_text(raw: str, suffix: str) -> str:
    if suffix in (".html", ".htm"):
        p = _Text()
        p.feed(raw)
        return " ".join("".join(p.parts).split())
    text = re.sub(r"(?m)^\s{0,3}#{1,6}\s+", "", raw)
    text = re.sub(r"(?m)^\s*>\s?", "", text)
    text = re.sub(r"(?m)^\s*(?:[-*+]|\d+[.)])\s+", "", text)
    text = re.sub(r"\[\^[^\]]*\]:?", "", text)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = text.replace("**", "").replace("__", "")
    text = re.sub(r"(?<![\w*])\*(?=\S)([^*\n]+?)\*", r"\1", text)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"(?m)^-{3,}\s*$", "", text)
    return " ".join(html.unescape(text).split())


def _norm(text: str) -> str:
    return " ".join(text.split())


def _strip_tags(fragment: str) -> str:
    return _norm(html.unescape(re.sub(r"<[^>]+>", " ", fragment)))


def quote_verbatim(quote: str, raw: str, plain: str) -> bool:
    """Every part of the quote (split at an ellipsis the display may add) is in the raw or plain text."""
    parts = [p.strip(" .…") for p in re.split(r"…|\.\.\.", quote)]
    parts = [_norm(p) for p in parts if len(p.strip(" .…")) >= 3]
    if not parts:
        return False
    flat_raw = _norm(raw)
    return all(p in flat_raw or p in plain for p in parts)


# --- what a corpus shows ------------------------------------------------------------------


@dataclass
class CorpusText:
    name: str
    folder: Path
    raw: dict[str, str] = field(default_factory=dict)
    plain: dict[str, str] = field(default_factory=dict)
    headings: list[str] = field(default_factory=list)  # heading texts with any section number removed
    leadins: list[str] = field(default_factory=list)  # bold lead-ins that open a paragraph ("**Skills.** ...")
    questions: list[str] = field(default_factory=list)  # asker questions of FAQ pages
    advert_clauses: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, name: str, folder: Path) -> CorpusText:
        ct = cls(name, folder)
        for path in sorted(folder.iterdir()):
            if not path.is_file():
                continue
            raw = path.read_text(encoding="utf-8")
            ct.raw[path.name] = raw
            ct.plain[path.name] = plain_text(raw, path.suffix.lower())
            if path.suffix.lower() in (".html", ".htm"):
                for h in re.findall(r"<h[1-6][^>]*>(.*?)</h[1-6]>", raw, flags=re.S):
                    ct.headings.append(_strip_tags(h))
                # an FAQ page: an asker question in bold or a heading, maybe numbered or after "Q:"
                # ("<strong>3. ...？</strong>", "<strong>Q: ...?</strong>", "<h3>...?</h3>")
                for m in re.finditer(r"<(strong|b|h[2-6])\b[^>]*>(.+?)</\1>", raw, flags=re.S):
                    q = re.sub(r"^(?:Q\s*[:：.]?\s*)?(?:\d+[.、．:：]?\s*)?", "", _strip_tags(m.group(2)))
                    if q.endswith(("?", "？")):
                        ct.questions.append(q)
                # an advert block: opens with a bold 【...】 label, the rest of its block is the advert
                for m in re.finditer(r"<(strong|b)>\s*【[^】]+】\s*</\1>(.*?)</(?:p|div|li|section)>", raw, flags=re.S):
                    clauses = re.split(r"[，。！？!?,；;、]", _strip_tags(m.group(2)))
                    ct.advert_clauses += [c.strip() for c in clauses if len(c.strip()) >= 6]
                continue
            for line in raw.splitlines():
                heading = re.match(r"^\s{0,3}#{1,6}\s+(.*)$", line)
                if heading:
                    ct.headings.append(re.sub(r"^(?:Chapter\s+)?\d+(?:\.\d+)*\.?\s*", "", heading.group(1)).strip())
                lead = re.match(r"^\s*(?:[-*]\s+|\d+\.\s+)?\*\*([^*【]+?)\*\*", line)
                if lead and not re.match(r"\d+(?:\.\d+)+", lead.group(1)):
                    ct.leadins.append(lead.group(1).strip())
                asked = re.match(r"^\*\*(\d+(?:\.\d+)+)\s*(.+?)\*\*\s*$", line)
                if asked:
                    ct.questions.append(asked.group(2).strip())
                ad = re.match(r"^\*\*【[^】]+】\*\*\s*(.+)$", line)
                if ad:
                    clauses = re.split(r"[，。！？!?,；;、]", ad.group(1))
                    ct.advert_clauses += [_norm(c.replace("**", "")) for c in clauses if len(c.strip()) >= 6]
        # adverts without a 【...】 label (English pages): their plain text, one block a line, in the set's
        # adverts.txt; a block counts for this corpus when its text is on one of its pages
        listed = folder.parent / "adverts.txt"
        if listed.exists():
            flat = " ".join(ct.plain.values())
            for line in listed.read_text(encoding="utf-8").splitlines():
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                clauses = [_norm(c) for c in re.split(r"[，。！？!?,；;、—]|\.(?:\s|$)", line)]
                clauses = [c for c in clauses if len(c) >= 6]
                if any(c in flat for c in clauses):
                    ct.advert_clauses += clauses
        ct.headings = [h for h in ct.headings if len(h) >= 6]
        return ct


_MARKUP = (
    ("bold/underline markers", re.compile(r"\*\*|__")),
    ("quote marker line", re.compile(r"(?m)^\s*>")),
    ("heading hashes", re.compile(r"(?m)^\s*#{1,6}\s")),
    ("footnote mark", re.compile(r"\[\^")),
    ("html tag", re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")),
    ("html entity", re.compile(r"&(?:[a-z]+|#\d+);")),
    ("FAQ Q:/A: marker", re.compile(r"(?:^|\n|[.!?。！？]\s+)[QA]\s*[:：]\s")),
)
# Only in the answer text: a quote may be a table row verbatim, but the answer shows names and values.
_ANSWER_MARKUP = (
    ("table cell separators", re.compile(r"\S \| \S")),
    ("doubled colon", re.compile(r"[:：]\s*[:：]")),
    ("colon after a question or exclamation mark", re.compile(r"[?？!！]\s*[:：]")),
)
_SECTION_START = re.compile(r"(?:^|[.。!?！？:：]\s*|\]\s*|\n\s*)(?:Chapter\s+)?\d+(?:\.\d+)+\.?\s+\S")


def _segments(answer: str) -> list[str]:
    """Sentences of an answer, with [n] markers removed."""
    text = re.sub(r"\[\d+(?:\s*[,，]\s*\d+)*\]", "\n", answer)
    segs = (s.strip(" .。;；") for s in re.split(r"\n|(?<=[.!?。！？])\s*", text))
    return [s for s in segs if s and not s.endswith((":", "："))]


def scan_answer(answer: dict[str, Any], ct: CorpusText) -> dict[str, list[str]]:
    """Problems a user would see in one answer (refusals are scanned too: they are shown)."""
    text = answer.get("answer", "")
    quotes = [c.get("quote", "") for c in answer.get("citations", [])]
    out: dict[str, list[str]] = {"markup": [], "glued": [], "label_sentence": [], "advert": [], "asker_question": [],
                                 "quote_markup": [], "bad_quote": []}
    out["markup"] = [name for name, rx in (*_MARKUP, *_ANSWER_MARKUP) if rx.search(text)]
    for q in quotes:
        out["quote_markup"] += [name for name, rx in _MARKUP if rx.search(q)]
    if not answer.get("refused"):
        if _SECTION_START.search(text):
            out["glued"].append("section number starts a sentence")
        for seg in _segments(text):
            low = seg.lower().strip(" .。:：")
            if any(low == lab.lower().strip(" .。:：") for lab in ct.leadins):
                out["label_sentence"].append(seg[:50])
                continue
            for h in ct.headings:
                hl = h.lower()
                if low == hl:
                    out["glued"].append(f"heading line: {h[:50]}")
                elif low.startswith(hl) and re.match(r"\s*[:：—–-]\s*\S|\s+[A-Z0-9]", seg[len(h):]):
                    # the heading, then a separator or a new capitalised sentence ("Far switchers Who they are");
                    # a sentence that merely opens with the heading's words ("Far switchers reported") is fine
                    out["glued"].append(f"heading glued: {h[:50]}")
    hay = _norm(" ".join([text, *quotes]))
    out["advert"] = [c for c in ct.advert_clauses if c in hay][:3]
    for q in ct.questions:
        core = _norm(q)
        if len(core) >= 8 and any(core[:20] in _norm(x) for x in [text, *quotes]):
            out["asker_question"].append(core[:40])
    for c in answer.get("citations", []):
        src, quote = c.get("source", ""), c.get("quote", "")
        if src not in ct.raw:
            out["bad_quote"].append(f"[{c.get('n')}] unknown source {src}")
        elif not quote_verbatim(quote, ct.raw[src], ct.plain[src]):
            out["bad_quote"].append(f"[{c.get('n')}] {src}: {quote[:60]!r}")
    return {k: v for k, v in out.items() if v}


# --- running the CLI ----------------------------------------------------------------------


def _cli() -> list[str]:
    """This checkout's careerbot (run from its root, so its own ``bot`` package is imported first), not the console
    script the environment installed: run from a second worktree, the installed script measured the first one's code."""
    return [sys.executable, "-m", "bot.cli"]


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "CHROMA_", "SLACK_")) and k not in ("DATABASE_URL", "CAREERBOT_SCOPE",
                                                                               "CAREERBOT_SEEDS_DIR")}
    env.update(CAREERBOT_DATA_DIR=str(data_dir), ANONYMIZED_TELEMETRY="False", CAREERBOT_EMBEDDINGS="local")
    return env


def _run(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    proc = subprocess.run([*_cli(), *args], env=env, input=stdin, capture_output=True, text=True, cwd=ROOT,
                          timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"careerbot {' '.join(args[:2])} failed ({proc.returncode}): "
                           f"{(proc.stderr or proc.stdout).strip()[-400:]}")
    return proc.stdout


def _json_lines(out: str) -> list[dict[str, Any]]:
    rows = []
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("{"):
            rows.append(json.loads(line))
    return rows


def read_roles(path: Path) -> list[tuple[list[str], set[str]]]:
    """(names, files) per expected role."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split("|") if p.strip()]
        files = {f.strip() for f in parts[-1].split(",")} if re.search(r"\.(md|txt|html)\b", parts[-1]) else set()
        out.append((parts[:-1] if files else parts, files))
    return out


def _rnorm(s: str) -> str:
    s = s.lower().replace("machine learning", "ml").replace("（", "(").replace("）", ")")
    s = re.sub(r"\(.*?\)", "", s)
    s = re.sub(r"[^\w\u4e00-\u9fff]+", " ", s).strip()
    return re.sub(r"s\b", "", s)


def check_roles(entries: list[dict[str, Any]], expected: list[tuple[list[str], set[str]]], ct: CorpusText,
                hs: HeldoutSet) -> dict[str, Any]:
    mine = [(names, files) for names, files in expected if files & set(ct.raw)]
    found: set[str] = set()
    not_roles: list[str] = []
    not_in_corpus: list[str] = []
    unstated_outlook: list[str] = []
    missed_outlook: list[str] = []
    aliases_missed: list[str] = []  # an alias the corpus uses for a found role, not on its entry
    corpus_text = " ".join(ct.plain.values()).lower()
    for e in entries:
        terms = {_rnorm(t) for t in [e.get("name", ""), e.get("zh") or "", *e.get("aliases", [])] if t}
        match = next((names for names, _ in expected if terms & {_rnorm(n) for n in names}), None)
        label = e.get("name", "?")
        if match is None:
            named = [t for t in [e.get("name", ""), e.get("zh") or "", *e.get("aliases", [])]
                     if t and t.lower() in corpus_text]
            within = [n for names, _ in expected for n in names if len(_rnorm(n)) >= 3
                      and any(_rnorm(n) in t for t in terms)]
            label += f" (garbled {within[0]})" if within else ""
            (not_roles if named else not_in_corpus).append(label)
            continue
        if not any(match == names for names, _ in mine):
            not_in_corpus.append(label)
            continue
        found.add(match[0])
        for alias in match[1:]:
            if alias.lower() in corpus_text and _rnorm(alias) not in terms:
                aliases_missed.append(f"{label} ~ {alias}")
        shown = (e.get("outlook") or "").lower() not in ("", "unclear", "unknown", "none")
        stated = hs.outlook_stated.get(ct.name, set())
        if match[0].lower() in hs.ambiguous_outlook.get(ct.name, set()):
            pass
        elif shown and match[0].lower() not in stated:
            unstated_outlook.append(f"{label}: {e.get('outlook')}")
        elif not shown and match[0].lower() in stated:
            missed_outlook.append(label)
    return {
        "expected": len(mine), "found": len(found), "missing": [n[0] for n, _ in mine if n[0] not in found],
        "entries": len(entries), "not_roles": not_roles, "not_in_corpus": not_in_corpus,
        "unstated_outlook": unstated_outlook, "missed_outlook": missed_outlook,
        "aliases_missed": aliases_missed,
    }


@dataclass
class CorpusResult:
    name: str
    files: int
    eval: dict[str, Any]
    answers: list[dict[str, Any]]
    scans: list[dict[str, list[str]]]
    roles: dict[str, Any]
    items: list[dict[str, Any]]

    def figures(self) -> dict[str, Any]:
        o = self.eval["overall"]
        kinds = [it["kind"] for it in self.items]
        ins = [i for i, k in enumerate(kinds) if k == "in_scope"]
        oos = [i for i, k in enumerate(kinds) if k == "out_of_scope"]
        adv = [i for i, k in enumerate(kinds) if k == "adversarial"]
        refused = [bool(a.get("refused")) for a in self.answers]
        answered = [i for i, r in enumerate(refused) if not r]
        quotes = sum(len(a.get("citations", [])) for a in self.answers)
        return {
            "in_scope": len(ins),
            "cite_rate": o.get("cited_right"),
            "fact_rate": o.get("facts"),
            "recall@5": o.get("recall@5"),
            "false_refusals": sum(1 for i in ins if refused[i]),
            "oos": len(oos), "oos_answered": sum(1 for i in oos if not refused[i]),
            "adv": len(adv), "adv_answered": sum(1 for i in adv if not refused[i]),
            "markup": sum(1 for i in answered if "markup" in self.scans[i]),
            "glued": sum(1 for i in answered if "glued" in self.scans[i]),
            "label_sentence": sum(1 for i in answered if "label_sentence" in self.scans[i]),
            "advert": sum(1 for i in range(len(self.answers)) if "advert" in self.scans[i]),
            "asker_q": sum(1 for i in answered if "asker_question" in self.scans[i]),
            "quote_markup": sum(1 for i in answered if "quote_markup" in self.scans[i]),
            "quotes": quotes,
            "bad_quotes": sum(len(s.get("bad_quote", [])) for s in self.scans),
            "project_bad_quotes": (o.get("quotes_total") or 0) - (o.get("quotes_ok") or 0),
            "project_markup": o.get("with_markup"),
            "p50_ms": o.get("p50_ms"),
            "role_found": self.roles["found"], "role_expected": self.roles["expected"],
            "role_entries": self.roles["entries"], "not_roles": len(self.roles["not_roles"]),
            "not_in_corpus": len(self.roles["not_in_corpus"]),
            "unstated_outlook": len(self.roles["unstated_outlook"]),
            "missed_outlook": len(self.roles["missed_outlook"]),
        }


def run_corpus(hs: HeldoutSet, name: str, work: Path, items: list[dict[str, Any]]) -> CorpusResult:
    folder = hs.data / name
    ct = CorpusText.read(name, folder)
    env = _env(work / name)
    _run(["ingest", str(folder)], env)
    qfile = work / f"{name}.jsonl"
    qfile.write_text("".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items), encoding="utf-8")
    ev = _json_lines(_run(["eval", str(qfile), "--json"], env))[-1]
    answers = _json_lines(_run(["ask", "--json"], env, stdin="".join(it["q"] + "\n" for it in items)))
    if len(answers) != len(items):
        raise RuntimeError(f"{name}: {len(items)} questions but {len(answers)} answers")
    scans = [scan_answer(a, ct) for a in answers]
    roles_json = _json_lines(_run(["roles", "--json"], env))[-1]
    roles = check_roles(roles_json.get("roles", []), read_roles(hs.data / "roles.txt"), ct, hs)
    roles["raw"] = roles_json.get("roles", [])
    roles["listing"] = [f"{e.get('name')} ({e.get('zh') or ''}; {', '.join(e.get('aliases', [])[:3])}) "
                        f"outlook={e.get('outlook')}" for e in roles_json.get("roles", [])]
    return CorpusResult(name, len(ct.raw), ev, answers, scans, roles, items)


def split_items(hs: HeldoutSet) -> dict[str, list[dict[str, Any]]]:
    path = hs.data / "questions.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    files = {c: {p.name for p in (hs.data / c).iterdir() if p.is_file()} for c in hs.corpora}
    out: dict[str, list[dict[str, Any]]] = {c: [] for c in hs.corpora}
    for r in rows:
        if r["kind"] == "in_scope":
            for c in hs.corpora:
                if set(r["sources"]) & files[c]:
                    out[c].append(r)
        else:
            for c in hs.corpora:
                out[c].append(r)
    return out


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


HEADER = ("| corpus | in-scope | cites right source | facts | false refusals | out-of-scope answered "
          "| adversarial answered | markup | glued headings | lead-in label as sentence | adverts "
          "| asker question quoted | quotes not verbatim "
          "| roles found | not roles | roles not in corpus | unstated outlook | stated outlook missed | p50 ms |\n"
          "|---|" + "---:|" * 19)


def row(r: CorpusResult) -> str:
    f = r.figures()
    return (f"| {r.name} | {f['in_scope']} | {_pct(f['cite_rate'])} | {_pct(f['fact_rate'])} | {f['false_refusals']} "
            f"| {f['oos_answered']}/{f['oos']} | {f['adv_answered']}/{f['adv']} | {f['markup']} | {f['glued']} "
            f"| {f['label_sentence']} | {f['advert']} | {f['asker_q']} | {f['bad_quotes']}/{f['quotes']} "
            f"| {f['role_found']}/{f['role_expected']} | {f['not_roles']} | {f['not_in_corpus']} "
            f"| {f['unstated_outlook']} | {f['missed_outlook']} | {f['p50_ms']:.0f} |")


def failures(r: CorpusResult) -> list[str]:
    """Failure categories with counts, without the question text (the set stays held out)."""
    cats: dict[str, int] = {}
    for it, a, s in zip(r.items, r.answers, r.scans, strict=True):
        if it["kind"] == "in_scope":
            if a.get("refused"):
                cats["in-scope refused"] = cats.get("in-scope refused", 0) + 1
            elif not set(it["sources"]) & {c.get("source") for c in a.get("citations", [])}:
                cats["in-scope answered from a wrong source"] = cats.get("in-scope answered from a wrong source", 0) + 1
        elif not a.get("refused"):
            k = f"{it['kind'].replace('_', '-')} answered"
            cats[k] = cats.get(k, 0) + 1
        for k in s:
            cats[k] = cats.get(k, 0) + 1
    return [f"{k}: {v}" for k, v in sorted(cats.items())]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--log", action="store_true", help="append the figures to benchmarks/results/heldout.md")
    ap.add_argument("--json", type=Path, help="write every answer and scan here")
    ap.add_argument("--set", default="heldout", choices=sorted(SETS),
                    help="which held-out set (folder benchmarks/data/SET/); default heldout")
    ap.add_argument("--corpus", action="append", help="only these corpora of the set")
    args = ap.parse_args(argv)
    hs = SETS[args.set]
    unknown = [c for c in args.corpus or [] if c not in hs.corpora]
    if unknown:
        ap.error(f"--corpus: {', '.join(unknown)} not in set {hs.name} ({', '.join(hs.corpora)})")
    split = split_items(hs)
    results: list[CorpusResult] = []
    with tempfile.TemporaryDirectory(prefix="careerbot-heldout-") as tmp:
        for name in args.corpus or hs.corpora:
            results.append(run_corpus(hs, name, Path(tmp), split[name]))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"### {stamp}, commit {commit}, set {hs.name}, offline (extractive) answers", "", HEADER,
             *[row(r) for r in results], ""]
    for r in results:
        lines.append(f"- {r.name}: " + "; ".join(failures(r)))
        if any(r.roles[k] for k in ("missing", "not_roles", "not_in_corpus", "unstated_outlook", "missed_outlook",
                                       "aliases_missed")):
            lines.append(f"  - roles missing: {', '.join(r.roles['missing']) or '—'}; not roles: "
                         f"{', '.join(r.roles['not_roles']) or '—'}; not in corpus: "
                         f"{', '.join(r.roles['not_in_corpus']) or '—'}; unstated outlook: "
                         f"{', '.join(r.roles['unstated_outlook']) or '—'}; stated outlook missed: "
                         f"{', '.join(r.roles['missed_outlook']) or '—'}; aliases the corpus uses, missing: "
                         f"{', '.join(r.roles['aliases_missed']) or '—'}")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.log:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        if not RESULTS.exists():
            RESULTS.write_text(
                "# Held-out check (benchmarks/heldout.py)\n\nCorpora in benchmarks/data/heldout*/, written for "
                "measuring only: never tune on them. Columns: see the docstring of benchmarks/heldout.py. "
                "Newest run last.\n\n", encoding="utf-8")
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    if args.json:
        args.json.write_text(json.dumps([
            {"corpus": r.name, "figures": r.figures(), "roles": r.roles,
             "items": [{"id": it["id"], "kind": it["kind"], "answer": a, "scan": s}
                       for it, a, s in zip(r.items, r.answers, r.scans, strict=True)]}
            for r in results], ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
