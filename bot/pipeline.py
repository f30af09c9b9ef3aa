"""The answer pipeline: question → guards → retrieval → writer → citation check → Answer.

Every surface (CLI, Slack, eval) calls ``Pipeline.answer``. It never raises for LLM
trouble: the offline extractive answer is always there to fall back on, with a one-line
note. Refusals are Answers too (``refused=True``, no citations), worded in the
question's language and saying what the bot can help with.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from knowledge.text import language

from . import guards, prompts
from .answer import Answer, Citation
from .extractive import Draft, ExtractiveWriter, mentioned
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
_MARKER_RE = re.compile(r"\s*\[\d+(?:\s*[,，]\s*\d+)*\]")


class Pipeline:
    """One per process: holds the knowledge base, the writers and the sentence-vector cache."""

    def __init__(self, settings: Settings, kb: KnowledgeBase, llm: LLMWriter | None = None) -> None:
        self.settings = settings
        self.kb = kb
        self.llm = llm
        self.vectors = SentenceVectors(kb, cache_dir=settings.data_dir / "cache")
        self.extractive = ExtractiveWriter(self.vectors)
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
        start = time.perf_counter()
        # Lone surrogates (JSON can carry "\ud800") cannot be encoded for the embedder: make them "?".
        question = (question or "").encode("utf-8", "replace").decode("utf-8").strip()
        history = [h.encode("utf-8", "replace").decode("utf-8") for h in history or []]
        lang = language(question) if question else "en"
        mode: Literal["llm", "extractive"] = "llm" if self.llm is not None else "extractive"
        if not question:
            return self._refusal(question, lang, mode, start, prompts.REFUSAL, 0.0)

        block = guards.check_question(question)
        if block is not None:
            log.info("refused question (%s) from %s", block, user_id or "-")
            table = prompts.REFUSAL if block == "off_topic" else prompts.BLOCKED
            return self._refusal(question, lang, mode, start, table, 0.0)

        context = _context(history or [])
        query = f"{context}\n{question}" if context else question
        cross = _cross_terms(f"{context} {question}" if context else question, lang)
        retrieval = self.kb.search(query, k=TOP_K)
        if context:
            # A follow-up ("what about translators?") is judged on the thread, not alone.
            own = self.kb.search(question, k=TOP_K)
            if own.coverage > retrieval.coverage:
                retrieval = _merge(own, retrieval)
        if cross and retrieval.covered:
            # Lexical only: the glossary terms are a bag of words, not a sentence worth embedding.
            pool = self.kb.search(cross, k=DEPTH, mode="lexical").passages
            retrieval.passages = _balance(retrieval.passages, pool, lang)
        if not retrieval.covered or not retrieval.passages:
            return self._refusal(question, lang, mode, start, prompts.REFUSAL, retrieval.coverage)

        positions = self._positions_for(retrieval.passages)
        passages, children = self._expand(retrieval.passages)
        offline = self.extractive.write(
            question, passages, context=context, positions=positions, children=children,
            concepts=mentioned(f"{context} {question}" if context else question),
        )
        if offline is None or not offline.citations:
            # No retrieved sentence actually answers the question: refuse rather than let a
            # writer (offline or LLM) dress loosely related passages up as an answer.
            self.vectors.save()
            return self._refusal(question, lang, mode, start, prompts.REFUSAL, retrieval.coverage)
        note: str | None = None
        draft: Draft | None = None
        if self.llm is not None:
            draft, failure = self.llm.write(question, passages[:MAX_LLM_PASSAGES], history or [], self.vectors, lang,
                                            on_delta=on_delta)
            if draft is None:
                log.warning("LLM writer failed (%s); answering offline", failure)
                note = prompts.pick(prompts.LLM_UNAVAILABLE_NOTE, lang)
                mode = "extractive"
        if draft is None:
            draft = offline
            mode = "extractive"
        self.vectors.save()
        if draft is None or not draft.citations:
            answer = self._refusal(question, lang, mode, start, prompts.REFUSAL, retrieval.coverage)
            answer.note = note
            return answer
        text, citations = self._clean_output(draft.text, draft.citations)
        if not citations:
            return self._refusal(question, lang, mode, start, prompts.REFUSAL, retrieval.coverage)
        return Answer(
            question=question,
            text=text,
            refused=False,
            mode=mode,
            citations=citations,
            latency_ms=(time.perf_counter() - start) * 1000,
            note=note,
            language=lang,
            coverage=retrieval.coverage,
        )

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

    # -- helpers -----------------------------------------------------------------------
    def _refusal(
        self, question: str, lang: str, mode: Literal["llm", "extractive"], start: float,
        table: dict[str, str], coverage: float,
    ) -> Answer:
        return Answer(
            question=question,
            text=prompts.pick(table, lang),
            refused=True,
            mode=mode,
            citations=[],
            latency_ms=(time.perf_counter() - start) * 1000,
            language=lang,
            coverage=coverage,
        )

    def _clean_output(self, text: str, citations: list[Citation]) -> tuple[str, list[Citation]]:
        """Scrub secrets, drop advert sentences, and keep markers and citations in step."""
        from .citations import drop_sentences, renumber

        text = guards.scrub(text, self._secrets)
        text = drop_sentences(text, guards.is_promotional)
        cleaned = [
            replace(c, quote=guards.scrub(c.quote, self._secrets))
            for c in citations
            if not guards.is_promotional(c.quote)
        ]
        return renumber(text, cleaned)

    def _expand(self, passages: Sequence[Passage]) -> tuple[list[Passage], dict[str, list[str]]]:
        """Add the subsections a retrieved list intro announces ("Here are a few examples:").

        A section like "Jobs at Risk" says what it is about and then names each role in a
        "###" subsection of its own; the intro alone answers "which jobs?" only half.
        Returns the passages (children appended) and intro id -> child ids.
        """
        from knowledge.retrieval import Passage

        out = list(passages)
        texts = {p.text for p in out}
        children: dict[str, list[str]] = {}
        for p in passages[:3]:
            last = p.text.rstrip().rsplit("\n", 1)[-1].rstrip()
            if not last.endswith((":", "：")) or not p.section:
                continue
            try:
                doc = self.kb.sections_of(p.source)
            except Exception:
                continue
            at = next((i for i, (text, _) in enumerate(doc) if text == p.text), None)
            if at is None:
                continue
            kids: list[str] = []
            prefix = p.section + " › "
            previous = p.section
            for pos in range(at + 1, len(doc)):
                text, section = doc[pos]
                # Each direct subsection's opening chunk; stop at the first chunk outside them.
                if not section.startswith(prefix) or " › " in section[len(prefix):] or section == previous \
                        or len(kids) >= 4:
                    break
                previous = section
                heading = section[len(prefix):]
                child = next((q for q in out if q.text == text), None)
                if child is None:
                    child = Passage(f"{p.source}#sub{pos}", p.source, p.title, p.url, text, 0.0, None, 0.0, heading,
                                    section=section)
                    out.append(child)
                    texts.add(text)
                kids.append(child.id)
            if kids:
                children[p.id] = kids
        return out, children

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
