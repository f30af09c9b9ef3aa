"""`careerbot feedback`: the feedback summary as text, JSON or CSV, and the --since parser."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from datetime import UTC, datetime

from .store import Summary

_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(value: str, *, now: float | None = None) -> float:
    """``7d``, ``24h``, ``30m``, ``2w`` (ago), or a date ``2026-11-01`` (UTC); returns an epoch time."""
    now = time.time() if now is None else now
    text = value.strip().lower()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([mhdw])", text)
    if m:
        return now - float(m.group(1)) * _UNITS[m.group(2)]
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"--since takes a span like 7d, 24h, 2w or a date like 2026-11-01, not {value!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def to_text(summary: Summary) -> str:
    lines = [f"Feedback since {_day(summary.since)}: {summary.answers} answers posted, "
             f"{summary.up} up, {summary.down} down"]
    if not summary.days:
        lines.append("No votes in this period.")
        return "\n".join(lines)
    lines += ["", "Votes per day"]
    lines += [f"  {day}  up {up:<4} down {down}" for day, up, down in summary.days]
    if summary.lowest:
        lines += ["", "Lowest-rated answers"]
        for a in summary.lowest:
            lines.append(f"  {a.score:+d} ({a.up} up, {a.down} down)  {_one_line(a.question, 100)}")
            lines.append(f"      answer: {_one_line(a.answer, 100)}")
            if a.sources:
                cited = ", ".join(f"{s.get('title') or s.get('source')} ({s.get('source')})" for s in a.sources)
                lines.append(f"      sources: {_one_line(cited, 200)}")
    if summary.down_sources:
        lines += ["", "Documents cited by down-voted answers"]
        lines += [f"  {n:>3}  {source} — {title}" for source, title, n in summary.down_sources]
    if summary.votes_unknown:
        lines += ["", f"({summary.votes_unknown} votes for answers this database does not hold)"]
    return "\n".join(lines)


def to_json(summary: Summary) -> str:
    return json.dumps(summary.to_json(), ensure_ascii=False)


CSV_FIELDS = ["kind", "day", "answer_id", "question", "answer", "up", "down", "score", "sources", "source", "title",
              "down_answers"]


def to_csv(summary: Summary) -> str:
    """One table, a ``kind`` column per row: ``day`` (votes per day), ``answer`` (lowest-rated), ``source``."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for day, up, down in summary.days:
        writer.writerow({"kind": "day", "day": day, "up": up, "down": down, "score": up - down})
    for a in summary.lowest:
        writer.writerow({"kind": "answer", "day": _day(a.created), "answer_id": a.answer_id, "question": a.question,
                         "answer": a.answer, "up": a.up, "down": a.down, "score": a.score,
                         "sources": " ".join(str(s.get("source")) for s in a.sources)})
    for source, title, n in summary.down_sources:
        writer.writerow({"kind": "source", "source": source, "title": title, "down_answers": n})
    return out.getvalue()
