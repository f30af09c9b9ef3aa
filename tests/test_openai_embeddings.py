"""CAREERBOT_EMBEDDINGS=openai: the embeddings endpoint of an OpenAI-compatible server, via the openai client.

The server is the local fake (tests/fakes/openai_server.py) on a loopback port; its vectors
are hashes, so this checks the plumbing a user relies on (requests, storage, the embedder
recorded on the collection), not retrieval quality.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli
from tests.fakes.openai_server import FakeOpenAI

DOC = """# Prompt engineers

Prompt engineers design the inputs that get high-quality outputs from language models.
"""


def test_ingest_and_search_use_the_openai_embeddings_endpoint(clean_env: Path) -> None:
    folder = clean_env / "docs"
    folder.mkdir()
    (folder / "prompts.md").write_text(DOC, encoding="utf-8")
    with FakeOpenAI() as server:
        env = {
            "CAREERBOT_EMBEDDINGS": "openai",
            "OPENAI_API_KEY": "sk-test-embeddings-0000",
            "OPENAI_BASE_URL": server.url,
        }
        runner = CliRunner()
        ingest = runner.invoke(cli, ["ingest", "-q", str(folder)], env=env)
        assert ingest.exit_code == 0, ingest.output
        found = runner.invoke(cli, ["search", "prompt engineers", "--json", "-k", "1"], env=env)
        assert found.exit_code == 0, found.output
        assert json.loads(found.stdout)["passages"][0]["source"] == "prompts.md"
        calls = [r for r in server.requests if r["path"].endswith("/embeddings")]
        assert len(calls) >= 2  # the chunks at ingest, the question at search
        assert all(r["json"]["model"] == "text-embedding-3-small" for r in calls)
        assert "sk-test-embeddings-0000" not in ingest.output + found.output

    # The same store opened with the bundled embedder refuses, with the fix in one line.
    local = runner.invoke(cli, ["search", "prompt engineers"], env={"CAREERBOT_EMBEDDINGS": "local"})
    assert local.exit_code != 0
    assert "careerbot ingest --rebuild" in local.output and local.output.count("\n") == 1
