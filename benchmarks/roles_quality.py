"""Role catalog quality per corpus: recall of the roles it describes, entries that are not roles,
outlooks the sources do not state.

    python benchmarks/roles_quality.py                       # dev (if present), seeds, our test corpus
    python benchmarks/roles_quality.py CORPUS=EXPECTED ...   # any folder with an expected-roles file
    python benchmarks/roles_quality.py --json

Each corpus folder is ingested into a throw-away embedded store and ``KnowledgeBase.role_catalog()``
is read. The expected file has one role a line, ``Canonical | alias | alias | files`` (the last field
is ignored when it names files); ``#`` starts a comment. Reported per corpus:

- recall: expected roles found as an entry (an entry counts when its name or one of its aliases
  matches the canonical name or an alias, compared with ``knowledge.roles.normalize``);
- not roles: entries that match no expected role (listed by name);
- unsupported outlooks: outlook lines (the sentences a card quotes as the outlook) that neither name
  the role nor sit in its own section or lead-in, or that carry no outlook statement at all (neither a
  direction word in a clause about jobs nor any word of jobs, hiring or the market).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from knowledge.base import KnowledgeBase  # noqa: E402
from knowledge.config import KnowledgeConfig  # noqa: E402
from knowledge.roles import Role, normalize  # noqa: E402
from knowledge.roles.names import find_term  # noqa: E402
from knowledge.roles.outlook import about_jobs, is_outlook_statement  # noqa: E402

# ../shared/corpora next to the main checkout (a worktree sits one level deeper).
DEV = next((p / "shared" / "corpora" for p in (ROOT.parent, ROOT.parent.parent) if (p / "shared" / "corpora").is_dir()),
           ROOT.parent / "shared" / "corpora")
DEFAULTS = [
    ("dev", DEV / "dev", DEV / "dev_roles.txt"),
    ("seeds", ROOT / "seeds", ROOT / "benchmarks" / "data" / "seeds_roles.txt"),
    ("tests (book chapter + Chinese job post)", ROOT / "tests" / "data" / "roles_corpus",
     ROOT / "tests" / "data" / "roles_corpus_expected.txt"),
    ("tests (blog post in prose)", ROOT / "tests" / "data" / "roles_prose",
     ROOT / "tests" / "data" / "roles_prose_expected.txt"),
    ("tests (Chinese Q&A page)", ROOT / "tests" / "data" / "roles_faq_zh",
     ROOT / "tests" / "data" / "roles_faq_zh_expected.txt"),
    ("tests (Chinese Q&A page, stated outlooks)", ROOT / "tests" / "data" / "roles_outlook_zh",
     ROOT / "tests" / "data" / "roles_outlook_zh_expected.txt"),
    ("tests (two titles per heading)", ROOT / "tests" / "data" / "roles_joined",
     ROOT / "tests" / "data" / "roles_joined_expected.txt"),
]


def read_expected(path: Path) -> list[list[str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if not line:
            continue
        parts = [p.strip() for p in line.split("|") if p.strip()]
        if len(parts) > 1 and "." in parts[-1] and ("," in parts[-1] or parts[-1].endswith((".md", ".txt", ".html"))):
            parts = parts[:-1]  # the files column
        out.append(parts)
    return out


def _names(role: Role) -> set[str]:
    return {normalize(t) for t in role.terms()}


def supported(role: Role) -> tuple[int, list[str]]:
    """(outlook lines, the unsupported ones)."""
    bad = []
    lines = role.outlook_evidence()
    terms = role.text_terms() + role.topics
    for e in lines:
        names_it = any(find_term(t, e.text) for t in terms)
        own = e.kind in ("definition", "section")
        if not (names_it or own) or not (is_outlook_statement(e.text, terms if own else ()) or about_jobs(e.text)):
            bad.append(e.text)
    return len(lines), bad


def measure(folder: Path, expected_file: Path) -> dict[str, Any]:
    expected = read_expected(expected_file)
    with tempfile.TemporaryDirectory(prefix="roles-quality-") as tmp:
        kb = KnowledgeBase(KnowledgeConfig(data_dir=Path(tmp)))
        kb.ingest([folder])
        catalog = kb.role_catalog()
        roles = list(catalog.roles)
        found, missing = [], []
        matched_keys: set[str] = set()
        for names in expected:
            want = {normalize(n) for n in names} | {normalize(re.sub(r"\s*\([^)]*\)", "", n)) for n in names}
            hits = [r for r in roles if _names(r) & want]
            if hits:
                found.append(names[0])
                matched_keys.update(r.key for r in hits)
            else:
                missing.append(names[0])
        not_roles = [r.name for r in roles if r.key not in matched_keys]
        outlook_lines, unsupported = 0, []
        for r in roles:
            n, bad = supported(r)
            outlook_lines += n
            unsupported += [f"{r.name}: {b[:120]}" for b in bad]
        return {
            "corpus": str(folder), "expected": len(expected), "found": found, "missing": missing,
            "entries": len(roles), "not_roles": not_roles, "outlook_lines": outlook_lines,
            "unsupported_outlooks": unsupported,
            "catalog": [{"name": r.name, "aliases": r.aliases[:6], "outlook": r.outlook} for r in roles],
        }


def report(results: list[tuple[str, dict[str, Any]]]) -> str:
    lines = [f"# Role catalog quality ({dt.date.today().isoformat()})", "",
             "| corpus | recall | entries | not roles | outlook lines | unsupported outlooks |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, r in results:
        lines.append(f"| {name} | {len(r['found'])}/{r['expected']} | {r['entries']} | {len(r['not_roles'])} | "
                     f"{r['outlook_lines']} | {len(r['unsupported_outlooks'])} |")
    for name, r in results:
        lines += ["", f"## {name}", f"- missing: {', '.join(r['missing']) or 'none'}",
                  f"- not roles: {', '.join(r['not_roles']) or 'none'}"]
        for u in r["unsupported_outlooks"]:
            lines.append(f"- unsupported outlook: {u}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpora", nargs="*", help="FOLDER=EXPECTED_FILE pairs (default: dev, seeds, test corpus)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--out", type=Path, help="also write the markdown report here")
    args = ap.parse_args()
    todo = [(Path(c.split("=", 1)[0]).name, Path(c.split("=", 1)[0]), Path(c.split("=", 1)[1]))
            for c in args.corpora] or [d for d in DEFAULTS if d[1].exists() and d[2].exists()]
    results = [(name, measure(folder, exp)) for name, folder, exp in todo]
    if args.json:
        print(json.dumps({n: r for n, r in results}, ensure_ascii=False, indent=2))
        return
    md = report(results)
    print(md)
    if args.out:
        args.out.write_text(md + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
