"""Bad input files: each is skipped with a one-line reason, the rest is ingested, and
`careerbot ingest` exits 1 when anything was skipped (0 otherwise)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from knowledge.ingest import MAX_BYTES, SkipFile, load_document

GOOD = {
    "good.md": "---\ntitle: Prompt engineering\n---\n\nPrompt engineers write and test instructions for LLMs.\n",
    "good_zh.txt": "提示工程师\n\n提示工程师负责为大模型编写和测试指令。\n",
    "good.html": "<html><head><title>AI auditors</title></head><body><p>AI auditors check models for bias.</p></body>",
}

# name -> (bytes, words the one-line reason must contain)
BAD: dict[str, tuple[bytes, str]] = {
    "empty.txt": (b"", "empty"),
    "blank.md": (b"  \n\n\t\n", "empty"),
    "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" * 20, "binary"),
    "latin1.txt": ("Carrière en apprentissage automatique: ingénieur données.".encode("latin-1"), "UTF-8"),
    "utf16.md": ("Data scientists analyse data.".encode("utf-16"), "UTF-8"),
    "huge.txt": (b"x", "too large"),  # written separately: MAX_BYTES + 1
    "unclosed.md": (b"---\ntitle: Never closed\n\nBody text about careers.\n", "no closing ---"),
    "badyaml.md": (b"---\ntitle: [unclosed, list\ndate: : :\n---\n\nBody text.\n", "malformed front matter"),
    "listyaml.md": (b"---\n- just\n- a list\n---\n\nBody text.\n", "malformed front matter"),
    "only_embeds.md": (b"![[topics/Concept/Generative AI]]\n![[topics/Concept/RLHF]]\n", "boilerplate"),
}


def _write_bad(folder: Path) -> None:
    for name, (data, _) in BAD.items():
        (folder / name).write_bytes(data)
    with open(folder / "huge.txt", "wb") as f:
        f.write(b"Career advice. " * (MAX_BYTES // 15 + 1))


def _write_good(folder: Path) -> None:
    for name, text in GOOD.items():
        (folder / name).write_text(text, encoding="utf-8")


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_bad_file_is_skipped_with_a_one_line_reason(name: str, tmp_path: Path) -> None:
    _write_bad(tmp_path)
    with pytest.raises(SkipFile) as err:
        load_document(tmp_path / name)
    reason = str(err.value)
    assert BAD[name][1].lower() in reason.lower()
    assert "\n" not in reason and 0 < len(reason) <= 120


def test_unsupported_file_given_explicitly_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "slides.pptx"
    path.write_bytes(b"PK\x03\x04 careers")
    with pytest.raises(SkipFile, match="unsupported file type"):
        load_document(path)


def test_cli_ingest_skips_bad_files_ingests_the_rest_and_exits_1(clean_env: Path) -> None:
    folder = clean_env / "docs"
    folder.mkdir()
    _write_good(folder)
    _write_bad(folder)
    (folder / "image.png").write_bytes(b"\x89PNG\x00")  # not a supported suffix: ignored, not skipped
    runner = CliRunner()

    res = runner.invoke(cli, ["ingest", "-q", str(folder)])
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    lines = res.stdout.splitlines()
    for name, (_, words) in BAD.items():
        (line,) = [x for x in lines if f" {name}:" in x]
        assert line.startswith("skipped") and words.lower() in line.lower(), line
    for name in GOOD:
        assert any(x.startswith("added") and name in x for x in lines), name
    assert not any("image.png" in x for x in lines)
    assert f"skipped {len(BAD)}" in lines[-1]

    found = runner.invoke(cli, ["search", "who checks models for bias", "--json", "-k", "5"])
    assert found.exit_code == 0, found.output
    passages = json.loads(found.stdout)["passages"]
    assert {p["source"] for p in passages} == set(GOOD)  # every good file, and nothing else, is stored
    assert (passages[0]["source"], passages[0]["title"]) == ("good.html", "AI auditors")

    for name in BAD:
        (folder / name).unlink()
    clean = runner.invoke(cli, ["ingest", "-q", str(folder)])
    assert clean.exit_code == 0, clean.output
    assert all(x.startswith("unchanged") for x in clean.stdout.splitlines()[:-1])


def test_cli_ingest_of_a_missing_path_is_one_line(clean_env: Path) -> None:
    res = CliRunner().invoke(cli, ["ingest", str(clean_env / "nope")])
    assert res.exit_code != 0
    assert res.stderr.strip().count("\n") == 0 and "no such file or folder" in res.stderr
