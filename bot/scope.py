"""What this knowledge base covers, in a few words, for refusals and greetings.

Derived from the documents themselves — their titles, the documents with the most text first —
once per store version, so a refusal on a Chinese Q&A corpus names that corpus's topics and a
refusal on the seeds names the seeds'. ``CAREERBOT_SCOPE`` (Settings.scope) overrides it.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

from knowledge.text import weight

from . import prompts

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase

MAX_TOPICS = 4
MAX_WEIGHT = 70  # a longer title is not a topic name (often a first sentence standing in for a title)


def _clean(title: str) -> str | None:
    """A document title fit to name a topic: display text, no "Key:" label, not truncated, not long."""
    from .extractive import display_text

    t = display_text(title)
    t = re.sub(r"^[^\w(（]+", "", t)  # leading emoji and symbols
    label = re.match(r"^(\w+)\s*[:：]\s*(?=\S)", t)  # "Title: …", "职位名称：…"
    if label and weight(label.group(1)) <= 12:
        t = t[label.end():]
    t = re.split(r"\s[|–—]\s|\s-\s|_", t)[0].strip(" -–—|:：·.。")  # "Real title | Site name"
    if weight(t) > MAX_WEIGHT and re.search(r"[:：]", t):
        t = re.split(r"[:：]", t)[0].strip()  # "Main title: a long subtitle"
    if not t or t.endswith(("…", "...")) or "=" in t or weight(t) > MAX_WEIGHT:
        return None
    return t


class Scope:
    """Topics of one knowledge base, recomputed when its chunks change."""

    def __init__(self, kb: KnowledgeBase, override: str | None = None) -> None:
        self.kb = kb
        self.override = override
        self._lock = threading.Lock()
        self._key: int | None = None
        self._topics: list[str] = []

    def topics(self) -> list[str]:
        if self.override:
            return [self.override]
        try:
            chunks = self.kb.chunks()
        except Exception:  # a store that cannot be listed: refuse without topics
            return []
        with self._lock:
            if self._key != id(chunks):
                self._topics = _derive(chunks)
                self._key = id(chunks)
            return list(self._topics)

    def describe(self, lang: str) -> str:
        """'A; B; C' (or the override), for the refusal templates."""
        topics = self.topics()
        sep = "；" if lang == "zh" else "; "
        return sep.join(topics)

    def refusal(self, lang: str, *, blocked: bool = False) -> str:
        described = self.describe(lang)
        if blocked:
            table = prompts.BLOCKED_SCOPE if described else prompts.BLOCKED
        else:
            table = prompts.REFUSAL_SCOPE if described else prompts.REFUSAL
        return prompts.pick(table, lang).format(scope=described)


def _derive(chunks: Any) -> list[str]:
    """Document titles, the documents with the most chunks first, near-repeats dropped."""
    sizes: Counter[str] = Counter()
    titles: dict[str, str] = {}
    for c in chunks:
        m = c.metadata
        source = str(m.get("source", ""))
        sizes[source] += 1
        titles.setdefault(source, str(m.get("title") or source))
    out: list[str] = []
    for source, _ in sizes.most_common():
        t = _clean(titles[source])
        if t and t.lower() not in {o.lower() for o in out}:
            out.append(t)
        if len(out) >= MAX_TOPICS:
            break
    return out
