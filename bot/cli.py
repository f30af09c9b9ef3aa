"""The `careerbot` command line.

Every command builds one Settings object and passes it down. Errors a user can cause
are bot.errors.USER_ERRORS, printed as one line with a non-zero exit
(a traceback only with CAREERBOT_DEBUG=1).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from .errors import USER_ERRORS
from .settings import Settings


class _Group(click.Group):
    """Turns CareerbotError into one line on stderr and the error's exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            if Settings.console_from_env()[1]:
                raise
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(getattr(exc, "exit_code", 1))


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except USER_ERRORS as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(getattr(exc, "exit_code", 1))


def _knowledge(settings: Settings) -> Any:
    from knowledge.base import KnowledgeBase

    return KnowledgeBase(settings.knowledge())


@click.group(cls=_Group)
@click.version_option(package_name="careerbot")
def cli() -> None:
    """careerbot: cited answers to career questions about AI and LLM work.

    \b
    Examples:
      careerbot ask "Which jobs are most exposed to disruption by LLMs?"
      careerbot search "which jobs are at risk from LLMs" -k 3
      careerbot ingest seeds/
      careerbot serve --http --port 3000
    """
    level, _ = Settings.console_from_env()
    logging.basicConfig(
        level=(level or "WARNING") if "serve" not in sys.argv else logging.INFO,
        format="%(message)s",
    )


@cli.command()
@click.argument("paths", nargs=-1)
@click.option("--rebuild", is_flag=True, help="Drop the collection first (needed after changing CAREERBOT_EMBEDDINGS).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def ingest(paths: tuple[str, ...], rebuild: bool, quiet: bool) -> None:
    """(Re)index files, folders and web pages (default: seeds/).

    Files: .md, .txt, .html, .pdf, .docx. A URL is fetched (HTML, PDF, DOCX or
    text); a sitemap.xml URL means every page it lists, and pages it no longer
    lists are removed. Pages fetched before are asked for only if changed.
    Unchanged chunks are left alone, changed ones replaced, and chunks of files that
    were removed from an ingested folder are deleted. Exit status 1 if anything was
    skipped.

    \b
    Examples:
      careerbot ingest
      careerbot ingest seeds/ notes/roles.md reports/ladder.pdf
      careerbot ingest https://wiki.example.com/sitemap.xml
      careerbot ingest --rebuild
    """
    from knowledge.web import is_url

    settings = _settings()
    kb = _knowledge(settings)
    targets: list[Path | str] = [p if is_url(p) else Path(p) for p in paths] or [settings.seeds_dir]
    from tqdm import tqdm

    bar: Any = None

    def progress(name: str, done: int, total: int) -> None:
        nonlocal bar
        if quiet:
            return
        if bar is None:
            bar = tqdm(total=total, unit="file", desc="ingest", file=sys.stderr, leave=False)
        bar.total = total  # fetched pages (a sitemap's) come after the files and add to the total
        bar.n = done
        bar.set_postfix_str(name[:40])
        bar.refresh()

    report = kb.ingest(targets, rebuild=rebuild, progress=progress)
    if bar is not None:
        bar.close()
    for f in report.files:
        extra = f": {f.reason}" if f.reason else (f" ({f.chunks} chunks)" if f.chunks else "")
        click.echo(f"{f.status:9} {f.source}{extra}")
        for s in f.stripped:
            click.echo(f"          note: {s}")  # what was stripped, or how a bad part was read
    click.echo(report.summary())
    if report.skipped:
        sys.exit(1)


@cli.command()
@click.argument("query")
@click.option("-k", "k", default=5, show_default=True, help="How many passages.")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "lexical"]), default="hybrid", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def search(query: str, k: int, mode: str, as_json: bool) -> None:
    """Retrieval only: ranked passages with scores and sources.

    \b
    Examples:
      careerbot search "which jobs are at risk from LLMs"
      careerbot search "推荐算法 前景" -k 3 --json
    """
    if not query.strip():
        raise click.UsageError("the query is empty")
    settings = _settings()
    kb = _knowledge(settings)
    kb.ensure_ingested([settings.seeds_dir])
    res = kb.search(query, k=k, mode=mode)  # type: ignore[arg-type]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "query": query,
                    "coverage": res.coverage,
                    "features": res.features,
                    "latency_ms": round(res.latency_ms, 1),
                    "passages": [
                        {
                            "rank": i + 1,
                            "source": p.source,
                            "title": p.title,
                            "url": p.url,
                            "score": p.score,
                            "dense": p.dense,
                            "lexical": round(p.lexical, 3),
                            "text": p.text,
                            "location": p.location or None,
                        }
                        for i, p in enumerate(res.passages)
                    ],
                },
                ensure_ascii=False,
            )
        )
        return
    click.echo(f"coverage {res.coverage:.2f} ({'covered' if res.covered else 'not covered'}), {res.latency_ms:.0f} ms")
    for i, p in enumerate(res.passages, 1):
        where = f" ({p.location})" if p.location else ""
        click.echo(f"\n{i}. {p.title} — {p.source}{where}  score {p.score:.4f}" + (f"  {p.url}" if p.url else ""))
        snippet = " ".join(p.text.split())
        click.echo(f"   {snippet[:300]}{'…' if len(snippet) > 300 else ''}")


@cli.command(name="eval")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="One JSON object: overall, by_language, items.")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "lexical"]), default="hybrid", show_default=True,
              help="Retrieval mode for recall and for the answers.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N questions.")
@click.option("--corpus", type=click.Path(path_type=Path, file_okay=False, exists=True), default=None,
              help="Answer from this folder's documents, ingested into a store of its own "
                   "(CAREERBOT_DATA_DIR/eval/NAME), not from the main store.")
def eval_command(file: Path, as_json: bool, mode: str, limit: int | None, corpus: Path | None) -> None:
    """Run a question set and print retrieval, citation, refusal and latency figures.

    FILE is JSON lines: {"q", "sources": [...], "facts": [...], "kind":
    "in_scope"|"out_of_scope"|"adversarial", "lang" (optional)}.

    \b
    Examples:
      careerbot eval benchmarks/data/questions.jsonl
      careerbot eval benchmarks/data/questions.jsonl --mode dense --limit 20 --json
      careerbot eval tests/corpus/questions.jsonl --corpus tests/corpus
    """
    from dataclasses import replace

    from .evaluation import load_items, run_eval

    items = load_items(file, limit)  # a bad line fails here, before the model loads
    settings = _settings()
    if corpus is not None:
        # Each corpus is measured on its own store, so figures are never mixed across corpora.
        settings = replace(settings, data_dir=settings.data_dir / "eval" / corpus.resolve().name, seeds_dir=corpus)
        kb = _knowledge(settings)
        skip = {"SOURCES.md", "README.md", file.name}
        kb.ingest(sorted(p for p in corpus.iterdir() if p.is_file() and p.name not in skip and p.suffix != ".jsonl"))
    else:
        kb = _knowledge(settings)
        kb.ensure_ingested([settings.seeds_dir])

    def progress(done: int, total: int) -> None:
        if not as_json and sys.stderr.isatty():
            click.echo(f"\r{done}/{total}", nl=False, err=True)

    report = run_eval(items, settings, kb=kb, mode=mode, progress=progress)
    if as_json:
        click.echo(json.dumps({"file": str(file), **report.to_json()}, ensure_ascii=False))
        return
    if sys.stderr.isatty():
        click.echo("\r", nl=False, err=True)
    click.echo(f"{file}: {len(items)} questions, retrieval {mode}, {report.answer_mode} answers\n")
    click.echo(report.table())
    misses = report.misses()
    if misses:
        click.echo("\nto look at:")
        for line in misses:
            click.echo(f"  {line}")


@cli.command()
@click.option("--http", "http", is_flag=True, help="HTTP mode even when SLACK_APP_TOKEN is set.")
@click.option("--host", default="0.0.0.0", show_default=True, help="Interface to listen on (HTTP mode).")
@click.option("--port", type=int, default=3000, envvar="PORT", show_default=True, help="Port (HTTP mode; also $PORT).")
@click.option("--workers", type=click.IntRange(0, 64), default=4, show_default=True,
              help="Answering threads (HTTP mode: in worker processes of up to 4 threads each; 0: only acknowledge, "
                   "replicas sharing DATABASE_URL answer).")
def serve(http: bool, host: str, port: int, workers: int) -> None:
    """Run the Slack app: Socket Mode when SLACK_APP_TOKEN is set, else HTTP.

    HTTP mode serves POST /slack/events (events, slash commands, interactivity)
    and GET /healthz: a front door that verifies, records and acknowledges each
    request, and worker processes that answer from the shared job queue. SIGTERM
    stops taking work, finishes answers in progress (up to 20 s; the rest stays
    queued for the next start or another replica) and exits 0.

    \b
    Examples:
      careerbot serve                      # Socket Mode (SLACK_APP_TOKEN set)
      careerbot serve --http --port 3000   # behind a public HTTPS URL
      careerbot serve --http --workers 8   # two answering processes
    """
    settings = _settings()
    from .server import configure_logging, run_http, run_socket_mode
    from .slack_app import SlackBot, check_auth, make_client, require_tokens

    socket_mode = bool(settings.slack_app_token) and not http
    require_tokens(settings, socket_mode=socket_mode)
    configure_logging(settings.log_level, settings.secret_values())
    client = make_client(settings, settings.slack_bot_token)
    auth = check_auth(client, settings.slack_api_url)
    from .pipeline import build_pipeline

    kb = _knowledge(settings)
    kb.ensure_ingested([settings.seeds_dir])
    name = auth.get("user") or "careerbot"
    if socket_mode:
        bot = SlackBot(settings, build_pipeline(settings, kb=kb), auth=auth, client=client, socket_mode=True,
                       workers=workers)
        bot.warm()
        code = run_socket_mode(bot, str(settings.slack_app_token), drain_timeout_s=settings.drain_timeout_s,
                               on_ready=lambda: click.echo(f"{name}: connected in Socket Mode", err=True))
    else:
        code = run_http(settings, auth, kb, host, port, workers=workers,
                        drain_timeout_s=settings.drain_timeout_s, on_ready=lambda s: click.echo(
                            f"{name}: listening on http://{s.host}:{s.port} (POST /slack/events, GET /healthz)",
                            err=True))
    sys.exit(code)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object: the roles with aliases and outlook.")
def roles(as_json: bool) -> None:
    """List the roles the knowledge base speaks about, with aliases and outlook.

    The catalog is built from the ingested documents (role headings, "Foo Engineer:
    These professionals…" lines, mentions of known roles), so a new document that
    defines a role adds it after `careerbot ingest`.

    \b
    Examples:
      careerbot roles
      careerbot roles --json
    """
    from .role_service import RoleService

    settings = _settings()
    kb = _knowledge(settings)
    kb.ensure_ingested([settings.seeds_dir])
    service = RoleService(kb, settings)
    if as_json:
        click.echo(json.dumps({"roles": [e.to_json() for e in service.entries()]}, ensure_ascii=False))
        return
    click.echo(service.catalog_text())


@cli.command()
@click.argument("name", required=False, default="")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: the card with citations, or suggestions.")
def role(name: str, as_json: bool) -> None:
    """Print the card of one role: what it does, skills, outlook, related roles, sources.

    NAME may be a name, an alias (English or Chinese), a misspelling, or a
    description. When nothing matches, prints the closest roles and the catalog
    (exit status 0).

    \b
    Examples:
      careerbot role translator
      careerbot role "ml eng" --json
      careerbot role 推荐算法工程师
      careerbot role "someone who writes prompts"
    """
    from .role_service import RoleService

    settings = _settings()
    kb = _knowledge(settings)
    kb.ensure_ingested([settings.seeds_dir])
    result = RoleService(kb, settings).card(name)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False))
        return
    click.echo(result.to_text())


@cli.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object; without QUESTION, one per stdin line.")
def ask(question: str | None, as_json: bool) -> None:
    """Answer a career question with cited sources (ingests seeds/ first if the store is empty).

    Without OPENAI_API_KEY the answer is assembled offline from the sources' own
    sentences; with it, a chat model writes it and every citation is checked.

    \b
    Examples:
      careerbot ask "Which jobs are most exposed to disruption by LLMs?"
      careerbot ask --json "大模型会取代翻译吗？"
      printf 'Is prompt engineering a real career?\\nWhat does a data scientist do?\\n' | careerbot ask --json
    """
    if question is None and not as_json:
        click.echo('Error: give a question, e.g. careerbot ask "Which jobs are at risk from LLMs?"', err=True)
        sys.exit(2)
    if question is not None and not question.strip():
        click.echo("Error: the question is empty", err=True)
        sys.exit(2)
    settings = _settings()
    from .pipeline import build_pipeline

    pipeline = build_pipeline(settings)
    if pipeline.kb.is_empty():
        click.echo(f"First run: indexing {settings.seeds_origin} (once)…", err=True)
        pipeline.kb.ensure_ingested([settings.seeds_dir])
    if question is None:
        for line in sys.stdin:
            if not line.strip():
                continue
            answer = pipeline.answer(line.strip())
            click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
            sys.stdout.flush()
        return
    answer = pipeline.answer(question.strip())
    if as_json:
        click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
        return
    click.echo(answer.text)
    if answer.note:
        click.echo(f"\n({answer.note})")
    if answer.citations:
        click.echo("\nSources")
        for c in answer.citations:
            where = f", {c.location}" if c.location else ""
            click.echo(f"[{c.n}] {c.title} — {c.source}{where}" + (f"\n    {c.url}" if c.url else ""))
            click.echo(f"    “{' '.join(c.quote.split())}”")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object: {\"documents\": [...]}.")
def sources(as_json: bool) -> None:
    """What is indexed: document, title, location kind, chunks, ingested at, origin.

    \b
    Examples:
      careerbot sources
      careerbot sources --json
    """
    settings = _settings()
    docs = _knowledge(settings).documents()
    if as_json:
        click.echo(json.dumps({"documents": [d.to_json() for d in docs]}, ensure_ascii=False))
        return
    if not docs:
        click.echo("Nothing is indexed yet: run `careerbot ingest`.")
        return
    for d in docs:
        click.echo(f"{d.source}  “{d.title}”")
        click.echo(f"    {d.chunks} chunks, cited by {d.location_kind}, ingested {d.ingested_at or 'unknown'}"
                   f"\n    from {d.origin or 'unknown'}")
    click.echo(f"{len(docs)} documents, {sum(d.chunks for d in docs)} chunks")


@cli.command()
@click.argument("source")
def forget(source: str) -> None:
    """Remove one document (a SOURCE name as `careerbot sources` lists it) from the index.

    A file still in an ingested folder comes back on the next `careerbot ingest` of
    that folder; delete or move the file to keep it out.

    \b
    Examples:
      careerbot forget old-salary-survey.pdf
      careerbot forget wiki.example.com_careers_data-analyst
    """
    settings = _settings()
    removed = _knowledge(settings).forget(source)
    if not removed:
        click.echo(f"Error: no document named {source!r} is indexed (see `careerbot sources`)", err=True)
        sys.exit(1)
    click.echo(f"forgot {source} ({removed} chunks)")


@cli.command()
@click.option("--since", default="7d", show_default=True, help="A span (7d, 24h, 2w) or a date (2026-11-01, UTC).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: days, lowest, down_sources.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a kind column: day, answer, source.")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="How many lowest-rated answers.")
def feedback(since: str, as_json: bool, as_csv: bool, limit: int) -> None:
    """Votes per day, the lowest-rated answers with their question and sources, and the documents
    cited by down-voted answers — what to fix in the knowledge base.

    Reads the shared database (DATABASE_URL, else the SQLite file in CAREERBOT_DATA_DIR).

    \b
    Examples:
      careerbot feedback
      careerbot feedback --since 30d --json
      careerbot feedback --since 2026-11-01 --csv > feedback.csv
    """
    from .state import State
    from .state.report import parse_since, to_csv, to_json, to_text

    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    try:
        start = parse_since(since)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    settings = _settings()
    with State.from_settings(settings) as state:
        summary = state.feedback_summary(start, lowest=limit)
    if as_json:
        click.echo(to_json(summary))
    elif as_csv:
        click.echo(to_csv(summary), nl=False)
    else:
        click.echo(to_text(summary))


def main() -> None:
    cli(prog_name="careerbot")


if __name__ == "__main__":
    main()
