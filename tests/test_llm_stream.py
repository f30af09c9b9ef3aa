"""The LLM writer's streaming and its per-call bookkeeping, against the real fake OpenAI HTTP server.

Streaming: the pipeline hands each piece of the model's text to a listener as it arrives and then
returns the verified Answer; a stream cut midway ends in the offline answer with a note. The writer
is shared by worker threads, so the attempt count of one call must never leak into another's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import prompts
from knowledge.base import KnowledgeBase
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.test_answers import assert_valid_citations
from tests.test_llm import customer_service_reply, find, make

QUESTION = "Will AI chatbots replace customer service representatives?"
NOTE = prompts.LLM_UNAVAILABLE_NOTE["en"]


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as s:
        yield s


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("llmstream")


def streamed_reply(request: dict[str, Any], **kw: Any) -> Reply:
    """The customer-service answer, cut into word pieces and streamed."""
    text = customer_service_reply(request).body["choices"][0]["message"]["content"]
    words = text.split(" ")
    return Reply.stream([w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)], **kw)


def test_streamed_pieces_arrive_in_order_then_the_verified_answer(
    kb: KnowledgeBase, data: Path, server: FakeOpenAI
) -> None:
    server.default = streamed_reply
    deltas: list[str] = []
    answer = make(kb, data, server).answer(QUESTION, on_delta=deltas.append)
    assert len(deltas) > 5  # piece by piece, not the whole reply at the end
    assert "".join(deltas).startswith("LLMs are increasingly deployed in customer service")
    assert answer.mode == "llm" and answer.note is None and not answer.refused
    assert_valid_citations(answer)
    assert server.chat_requests()[0]["json"]["stream"] is True


def test_answer_stream_yields_deltas_and_returns_the_answer(kb: KnowledgeBase, data: Path, server: FakeOpenAI) -> None:
    server.default = streamed_reply
    gen = make(kb, data, server).answer_stream(QUESTION)
    deltas: list[str] = []
    while True:
        try:
            deltas.append(next(gen))
        except StopIteration as stop:
            answer = stop.value
            break
    assert deltas and answer.mode == "llm"
    assert_valid_citations(answer)


def test_think_blocks_never_reach_the_listener(kb: KnowledgeBase, data: Path, server: FakeOpenAI) -> None:
    def reply(request: dict[str, Any]) -> Reply:
        n = find(request, "customer service")
        return Reply.stream(["<thi", "nk>private plan", " more</th", "ink>", "LLMs are increasingly deployed ",
                             "in customer service roles, where they can handle many queries around the clock, ",
                             f"which threatens traditional customer service jobs [{n}]."])

    server.default = reply
    deltas: list[str] = []
    answer = make(kb, data, server).answer(QUESTION, on_delta=deltas.append)
    streamed = "".join(deltas)
    assert "think" not in streamed and "private plan" not in streamed
    assert streamed.startswith("LLMs are increasingly")
    assert answer.mode == "llm" and "private plan" not in answer.text


def test_a_stream_cut_midway_ends_in_the_offline_answer_with_a_note(
    kb: KnowledgeBase, data: Path, server: FakeOpenAI
) -> None:
    server.default = lambda request: streamed_reply(request, cut_after=4)
    deltas: list[str] = []
    answer = make(kb, data, server).answer(QUESTION, on_delta=deltas.append)
    assert deltas  # the start of the reply was seen ...
    assert answer.mode == "extractive" and answer.note == NOTE  # ... and replaced by the offline answer
    assert_valid_citations(answer)
    assert not answer.text.startswith("".join(deltas).strip())
    assert len(server.chat_requests()) == 1  # text was shown: no retry that would repeat it


def test_attempt_counts_of_concurrent_calls_stay_apart(kb: KnowledgeBase, data: Path, server: FakeOpenAI) -> None:
    """One shared writer, two worker threads: B's failure must report B's attempts, not A's."""
    pipeline = make(kb, data, server)
    writer = pipeline.llm
    assert writer is not None
    b_arrived, release_b = threading.Event(), threading.Event()
    a_requests = []

    def respond(request: dict[str, Any]) -> Reply:
        if "<question>B:" in request["messages"][-1]["content"]:
            b_arrived.set()
            release_b.wait(20)
            return Reply.error(400)  # not retried: one attempt
        a_requests.append(request)
        if len(a_requests) == 1:
            return Reply.error(500, retry_after=0)  # retried at once: two attempts
        return customer_service_reply(request)

    server.default = respond
    passages = kb.search(QUESTION, k=6).passages
    result_b: list[tuple[Any, str | None]] = []
    b = threading.Thread(target=lambda: result_b.append(
        writer.write("B: " + QUESTION, passages, [], pipeline.vectors, "en")))
    b.start()
    assert b_arrived.wait(20)
    draft_a, failure_a = writer.write("A: " + QUESTION, passages, [], pipeline.vectors, "en")
    release_b.set()
    b.join(20)
    assert draft_a is not None and failure_a is None and len(a_requests) == 2
    [(draft_b, failure_b)] = result_b
    assert draft_b is None
    assert failure_b == "HTTP 400 after 1 attempt(s)"


def test_run_returns_the_attempts_with_the_reply(kb: KnowledgeBase, data: Path, server: FakeOpenAI) -> None:
    server.push(Reply.error(500, retry_after=0))
    server.default = Reply.chat("fine")
    writer = make(kb, data, server).llm
    assert writer is not None
    done = writer.run([{"role": "user", "content": "hi"}])
    assert (done.text, done.attempts) == ("fine", 2)
