"""The answer pipeline, as stages: guard → retrieve → decide → write → verify → render.

Every surface (CLI, Slack, eval) calls ``Pipeline.answer``, which returns one ``Answer``: a cited
answer, or a refusal (``refused=True``, no citations, ``reason`` saying why) worded in the
question's language and saying what this knowledge base covers (bot/scope.py). Each decision
has one place:

- guard (bot/guards.py): injection, secret-seeking and advert requests, deterministic;
- retrieve (knowledge/): hybrid passages, thread context for follow-ups, other-language passages;
- decide (bot/answerability.py): the one answerability model over retrieval and sentence evidence;
- write: the offline extractive writer, or the LLM writer (which also sees borderline passages
  and may say the sources do not answer);
- verify: the citation check (LLM), secret scrubbing, advert sentences dropped, markers renumbered;
- render: the Answer.

It never raises for LLM trouble: the offline answer is always there to fall back on.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from knowledge.glossary import Concept
from knowledge.text import language

from . import answerability, guards, prompts
from .answer import Answer, Citation
from .answerability import Decision, Evidence
from .concepts import Concepts
from .extractive import Candidate, Draft, ExtractiveWriter, mentioned
from .scope import Scope
from .similarity import SentenceVectors

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase
    from knowledge.retrieval import Passage, Retrieval

    from .llm import LLMWriter
    from .settings import Settings

log = logging.getLogger(__name__)

TOP_K = 6  # passages handed to a writer
DEPTH = 20  # passages retrieved, from which other-language ones may be added
FOREIGN_EXTRA = 3  # other-language passages added (the dense model favours same-language text)
MAX_LLM_PASSAGES = 10  # numbered sources in the LLM prompt
NEIGHBOURS_OF = 3  # the offline writer also reads the chunks next to this many best passages
_MARKER_RE = re.compile(r"\s*\[\d+(?:\s*[,，]\s*\d+)*\]")
Mode = Literal["llm", "extractive"]


@dataclass
class Asked:
    """The question as the pipeline works on it."""

    question: str
    history: list[str]
    context: str  # the earlier thread, trimmed: retrieval context for a follow-up
    lang: str
    mode: Mode
    start: float
    user_id: str | None = None


@dataclass
class Found:
    """What retrieval found, and every candidate sentence with its relevance score."""

    retrieval: Retrieval
    passages: list[Passage]
    candidates: list[Candidate] = field(default_factory=list)
    concepts: list[Concept] = field(default_factory=list)  # the glossary concepts the question (with its thread) names


class Pipeline:
    """One per process: holds the knowledge base, the writers, the model and the caches."""

    def __init__(self, settings: Settings, kb: KnowledgeBase, llm: LLMWriter | None = None) -> None:
        self.settings = settings
        self.kb = kb
        self.llm = llm
        self.vectors = SentenceVectors(kb, cache_dir=settings.data_dir / "cache")
        self.extractive = ExtractiveWriter(self.vectors)
        self.concepts = Concepts(kb, cache_dir=settings.data_dir / "cache")
        self.model = answerability.load(str(getattr(kb.embedder, "id", "")))
        self.scope = Scope(kb, settings.scope)
        self._secrets = settings.secret_values()
        self._positions: dict[str, dict[str, int]] = {}
        self._lock = threading.Lock()

    # -- public ------------------------------------------------------------------------
    def answer(self, question: str, *, history: list[str] | None = None, user_id: str | None = None,
               on_delta: Callable[[str], None] | None = None) -> Answer:
        """A cited answer or a refusal for ``question``; ``history`` is the earlier thread, oldest first.

        ``on_delta`` (LLM mode only) receives the model's unchecked text as it streams; the returned
        Answer is the verified one that must replace it.
        """
        asked = self._intake(question, history or [], user_id)
        if not asked.question:
            return self._refuse(asked, "empty question")
        block = guards.check_question(asked.question)
        if block is not None:
            log.info("refused question (%s) from %s", block, user_id or "-")
            return self._refuse(asked, block, blocked=True)
        found = self.retrieve(asked)
        decision = self.decide(asked, found)
        try:
            if not found.candidates or not (decision.answer or (decision.borderline and self.llm is not None)):
                return self._refuse(asked, decision.reason, decision=decision)
            draft, mode, note = self.write(asked, found, decision, on_delta)
            text, citations = self.verify(draft)
            if not citations:
                return self._refuse(asked, "no supported sentence", decision=decision, note=note)
            return Answer(
                question=asked.question, text=text, refused=False, mode=mode, citations=citations,
                latency_ms=(time.perf_counter() - asked.start) * 1000, note=note, language=asked.lang,
                coverage=decision.probability,
            )
        finally:
            self.vectors.save()

    def answer_stream(self, question: str, *, history: list[str] | None = None,
                      user_id: str | None = None) -> Generator[str, None, Answer]:
        """Yields the model's text deltas as they are generated, then returns the verified Answer.

        ``answer = yield from pipeline.answer_stream(q)``. Offline answers yield nothing.
        """
        import queue

        pieces: queue.Queue[tuple[str, Any]] = queue.Queue()

        def run() -> None:
            try:
                pieces.put(("done", self.answer(question, history=history, user_id=user_id,
                                                on_delta=lambda d: pieces.put(("delta", d)))))
            except BaseException as exc:  # re-raised in the consumer's thread
                pieces.put(("error", exc))

        threading.Thread(target=run, name="careerbot-answer-stream", daemon=True).start()
        while True:
            kind, value = pieces.get()
            if kind == "delta":
                yield value
            elif kind == "error":
                raise value
            else:
                return value  # type: ignore[no-any-return]

    def evidence(self, question: str) -> Decision:
        """The decision and its evidence for one question, without writing (for fitting and eval)."""
        asked = self._intake(question, [], None)
        return self.decide(asked, self.retrieve(asked))

    # -- stages ------------------------------------------------------------------------
    def _intake(self, question: str, history: list[str], user_id: str | None) -> Asked:
        # Lone surrogates (JSON can carry "\ud800") cannot be encoded for the embedder: make them "?".
        q = (question or "").encode("utf-8", "replace").decode("utf-8").strip()
        hist = [h.encode("utf-8", "replace").decode("utf-8") for h in history]
        mode: Mode = "llm" if self.llm is not None else "extractive"
        return Asked(q, hist, _context(hist), language(q) if q else "en", mode, time.perf_counter(), user_id)

    def retrieve(self, asked: Asked) -> Found:
        """Passages for the question (with its thread), other-language ones added, sentences scored."""
        question, context = asked.question, asked.context
        query = f"{context}\n{question}" if context else question
        retrieval = self.kb.search(query, k=TOP_K)
        if context:
            # A follow-up ("what about translators?") is judged on the thread, not alone.
            own = self.kb.search(question, k=TOP_K)
            if own.coverage > retrieval.coverage:
                retrieval = _merge(own, retrieval)
        cross = _cross_terms(f"{context} {question}" if context else question, asked.lang)
        passages = list(retrieval.passages)
        if cross and passages:
            # Lexical only: the glossary terms are a bag of words, not a sentence worth embedding.
            pool = self.kb.search(cross, k=DEPTH, mode="lexical").passages
            passages = _balance(passages, pool, asked.lang)
        concepts = mentioned(f"{context} {question}" if context else question)
        cands = self.extractive.score(question, passages, context, concepts=concepts) if passages else []
        return Found(retrieval, passages, cands, concepts)

    def decide(self, asked: Asked, found: Found) -> Decision:
        """The one answerability decision (bot/answerability.py) over this question's evidence."""
        f = found.retrieval.features
        cands = found.candidates
        best = sorted(cands, key=lambda c: -c.score)[:5]
        evidence = Evidence({
            "dense_passage": float(f.get("top_dense", 0.0)),
            "dense_sentence": max((c.dense for c in cands), default=0.0),
            "sentence_terms": max((c.lexical for c in best), default=0.0),
            "passage_terms": float(f.get("passage_terms", 0.0)),
            "bm25_norm": float(f.get("bm25_norm", 0.0)),
            "known_share": float(f.get("known_share", 0.0)),
            "agreement": float(f.get("agreement", 0.0)),
            "rare_terms": float(f.get("rare_terms", 0.0)),
            "foreign": _foreign_share(found.retrieval.passages[:3], asked.lang),
            **self.concepts.features(asked.question),
            "soft_terms": self.concepts.local(asked.question, [(p.id, _passage_text(p)) for p in found.passages[:3]]),
            "scope_prior": self.model.scope_prior(self.vectors.query(asked.question), asked.lang)
            if self.model.prior else 0.0,
        })
        return answerability.decide(self.model, evidence)

    def write(
        self, asked: Asked, found: Found, decision: Decision, on_delta: Callable[[str], None] | None = None,
    ) -> tuple[Draft, Mode, str | None]:
        """The LLM's draft when there is an LLM and it answered; else the offline one."""
        note: str | None = None
        if self.llm is not None:
            draft, failure = self.llm.write(
                asked.question, found.passages[:MAX_LLM_PASSAGES], asked.history, self.vectors, asked.lang,
                on_delta=on_delta,
            )
            if draft is not None:
                return draft, "llm", None
            log.warning("LLM writer failed (%s); answering offline", failure)
            note = prompts.pick(prompts.LLM_UNAVAILABLE_NOTE, asked.lang)
            if not decision.answer:  # borderline: offline answers only what is clearly answerable
                return Draft("", [], 0.0, 0), "extractive", note
        picked = self.extractive.select(self.writer_candidates(asked, found), retrieved=found.passages)
        picked = self._with_subsections(asked, picked) or picked
        positions = self._positions_for(found.passages)
        best = max((c.score for c in found.candidates), default=0.0)
        return self.extractive.compose(asked.question, picked, best, positions), "extractive", note

    def verify(self, draft: Draft) -> tuple[str, list[Citation]]:
        """Scrub secrets, drop advert sentences, and keep markers and citations in step."""
        from .citations import drop_sentences, renumber

        if not draft.citations:
            return "", []
        text = guards.scrub(draft.text, self._secrets)
        text = drop_sentences(text, guards.is_promotional)
        cleaned = [
            replace(c, quote=guards.scrub(c.quote, self._secrets))
            for c in draft.citations
            if not guards.is_promotional(c.quote)
        ]
        return renumber(text, cleaned)

    def _refuse(
        self, asked: Asked, reason: str, *, blocked: bool = False, decision: Decision | None = None,
        note: str | None = None,
    ) -> Answer:
        return Answer(
            question=asked.question,
            text=self.scope.refusal(asked.lang, blocked=blocked),
            refused=True,
            mode=asked.mode,
            citations=[],
            latency_ms=(time.perf_counter() - asked.start) * 1000,
            note=note,
            language=asked.lang,
            coverage=decision.probability if decision else 0.0,
            reason=reason,
        )

    def writer_candidates(self, asked: Asked, found: Found) -> list[Candidate]:
        """The candidates the offline writer chooses from: the retrieved passages' sentences, with the
        chunks next to the best passages in their section added.

        Chunking cuts a long section at a size, not where its answer ends: the list a passage announces,
        or the sentence that goes on from its last one, may sit in the next chunk. Only the writer
        sees them; the decision was made on the retrieved passages' own evidence. (Reading the passages
        retrieved down to rank 12 as well was measured on the fit corpora, 2026-12-01: the facts they
        hold ranked low and other answers lost theirs, so retrieval depth for the writer stays TOP_K.)
        """
        have = {p.id for p in found.passages}
        floor = min((p.score for p in found.passages), default=0.0)  # not retrieved: ranked below all that were
        extra: list[Passage] = []
        for p in found.passages[:NEIGHBOURS_OF]:
            try:
                near = self.kb.neighbours(p)
            except Exception:  # a store that cannot list its chunks: answer from what was retrieved
                near = []
            for n in near:
                if n.id not in have:
                    have.add(n.id)
                    extra.append(replace(n, score=min(n.score, floor)))
        if not extra:
            return found.candidates
        return self.extractive.score(asked.question, [*found.passages, *extra], asked.context, concepts=found.concepts)

    def _with_subsections(self, asked: Asked, picked: list[Candidate]) -> list[Candidate] | None:
        """A section that announces a list ("Here are a few examples:") answers with its subsections.

        When the first sentence comes from a passage whose text ends announcing what follows, and the
        document's next passages are subsections of its section, the answer is that sentence plus the
        best sentence of each subsection (up to three), not more sentences from wherever.
        """
        if not picked:
            return None
        top = picked[0]  # the answer's first sentence, from the unit chosen to answer
        p = top.passage
        if not p.text.rstrip().endswith((":", "：")):
            return None
        kids = self._subsections(p)
        if not kids:
            return None
        out = [top]
        for kid in kids[:3]:
            scored = self.extractive.score(asked.question, [kid], asked.context)
            if scored:
                out.append(max(scored, key=lambda c: c.value))
        return out if len(out) > 1 else None

    def _subsections(self, p: Passage) -> list[Passage]:
        """The first passage of each subsection directly inside ``p``'s section, right after ``p``."""
        from knowledge.retrieval import Passage as P

        try:
            doc = self.kb.sections_of(p.source)  # (text, section path) in reading order
        except Exception:
            return []
        texts = [text for text, _ in doc]
        if p.text not in texts:
            return []
        stored = [section for _, section in doc]
        paths = [tuple(x.split(" › ")) if x else () for x in stored] if any(stored) else _section_paths(texts)
        i = texts.index(p.text)
        own = paths[i]
        out: list[Passage] = []
        seen: set[tuple[str, ...]] = set()
        for j in range(i + 1, len(texts)):
            path = paths[j]
            if len(path) <= len(own) or path[: len(own)] != own:
                break
            child = path[: len(own) + 1]
            if child in seen:
                continue
            seen.add(child)
            out.append(P(f"{p.source}#sub{j}", p.source, p.title, p.url, texts[j], 0.0, None, 0.0, child[-1],
                         section=" › ".join(child)))
        return out

    def _positions_for(self, passages: Sequence[Passage]) -> dict[str, int]:
        """Chunk text -> position in its document, for reading-order layout."""
        out: dict[str, int] = {}
        for source in {p.source for p in passages}:
            with self._lock:
                known = self._positions.get(source)
            if known is None:
                try:
                    known = {text: i for i, text in enumerate(self.kb.passages_of(source))}
                except Exception:  # order is cosmetic; never fail an answer over it
                    known = {}
                with self._lock:
                    self._positions[source] = known
            out.update(known)
        return out


def _passage_text(p: Passage) -> str:
    """A passage as its words are judged: with the question it answers (FAQ) and its heading."""
    return "\n".join(x for x in (p.question, p.heading, p.text) if x)


def _foreign_share(passages: Sequence[Passage], lang: str) -> float:
    """Share of these passages written in the other language than the question."""
    return sum(1 for p in passages if language(p.text) != lang) / len(passages) if passages else 0.0


def _section_paths(texts: Sequence[str]) -> list[tuple[str, ...]]:
    """The heading path of each chunk of one document, from the markdown headings the chunks open with."""
    stack: list[tuple[int, str]] = []
    out: list[tuple[str, ...]] = []
    for text in texts:
        first = text.lstrip().split("\n", 1)[0]
        m = re.match(r"^(#{1,6})\s+(.+?)\s*#*$", first)
        if m:
            level = len(m.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, m.group(2).strip()))
        out.append(tuple(h for _, h in stack))
    return out


def _context(history: Sequence[str]) -> str:
    """The last few thread messages, markers removed, trimmed: retrieval context for a follow-up."""
    msgs = [_MARKER_RE.sub("", h).strip() for h in history if h and h.strip()]
    text = " ".join(msgs[-3:])
    return text[-600:]


def _cross_terms(text: str, lang: str) -> str:
    """The other language's glossary terms for the career concepts ``text`` names (翻译 -> translator)."""
    from knowledge.glossary import expand
    from knowledge.text import has_cjk, tokenize

    terms = expand(text, tokenize(text))
    return " ".join(t for t in terms if has_cjk(t) != (lang == "zh"))


def _balance(top: list[Passage], pool: Sequence[Passage], lang: str) -> list[Passage]:
    """The top passages plus the best few other-language ones from a glossary search.

    The multilingual embedder ranks same-language text higher, so a Chinese question
    about translators would otherwise only ever see the Chinese document.
    """
    have = {p.id for p in top}
    foreign = [p for p in pool if p.id not in have and language(p.text) != lang]
    return list(top) + foreign[:FOREIGN_EXTRA]


def _merge(primary: Retrieval, secondary: Retrieval) -> Retrieval:
    """The question's own retrieval, topped up with thread-context passages it lacks."""
    seen = {p.id for p in primary.passages}
    extra = [p for p in secondary.passages if p.id not in seen]
    primary.passages = list(primary.passages) + extra[: max(0, TOP_K - len(primary.passages))]
    return primary


def build_pipeline(settings: Settings, *, kb: KnowledgeBase | None = None, openai_client: Any = None) -> Pipeline:
    """The pipeline for these settings: LLM writer when OPENAI_API_KEY is set (or a client is given)."""
    if kb is None:
        from knowledge.base import KnowledgeBase

        kb = KnowledgeBase(settings.knowledge(), openai_client=openai_client)
    llm = None
    if settings.llm_enabled or openai_client is not None:
        from .llm import LLMWriter

        llm = LLMWriter.from_settings(settings, client=openai_client)
    return Pipeline(settings, kb, llm)
