"""The `careerbot` command line.

Every command builds one Settings object and passes it down. Errors a user can cause
are CareerbotError subclasses, printed as one line with a non-zero exit
(a traceback only with CAREERBOT_DEBUG=1).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from knowledge.errors import CareerbotError

from .settings import Settings


class _Group(click.Group):
    """Turns CareerbotError into one line on stderr and the error's exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CareerbotError as exc:
            if os.environ.get("CAREERBOT_DEBUG", "") in ("1", "true"):
                raise
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except CareerbotError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)


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
    logging.basicConfig(
        level=os.environ.get("CAREERBOT_LOG_LEVEL", "WARNING").upper() if "serve" not in sys.argv else logging.INFO,
        format="%(message)s",
    )


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--rebuild", is_flag=True, help="Drop the collection first (needed after changing CAREERBOT_EMBEDDINGS).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def ingest(paths: tuple[Path, ...], rebuild: bool, quiet: bool) -> None:
    """(Re)index files and folders (default: seeds/).

    Unchanged chunks are left alone, changed ones replaced, and chunks of files that
    were removed from an ingested folder are deleted. Exit status 1 if any file was
    skipped.

    \b
    Examples:
      careerbot ingest
      careerbot ingest seeds/ notes/roles.md
      careerbot ingest --rebuild
    """
    settings = _settings()
    kb = _knowledge(settings)
    targets = list(paths) or [settings.seeds_dir]
    from tqdm import tqdm

    bar: Any = None

    def progress(name: str, done: int, total: int) -> None:
        nonlocal bar
        if quiet:
            return
        if bar is None:
            bar = tqdm(total=total, unit="file", desc="ingest", file=sys.stderr, leave=False)
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
            click.echo(f"          stripped {s}")
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
        click.echo(f"\n{i}. {p.title} — {p.source}  score {p.score:.4f}" + (f"  {p.url}" if p.url else ""))
        snippet = " ".join(p.text.split())
        click.echo(f"   {snippet[:300]}{'…' if len(snippet) > 300 else ''}")


def main() -> None:
    cli(prog_name="careerbot")


if __name__ == "__main__":
    main()
