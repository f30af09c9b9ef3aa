"""Benchmark 4: the Slack HTTP endpoint under a burst of signed app_mention events.

    python benchmarks/bench_slack.py --data-dir DIR [--events N] [--retries R] [--workers W] [--out FILE.json]

Starts the fake Slack Web API (tests/fakes/slack_server.py) in this process and
`careerbot serve --http` as a child process pointed at it (offline answers, store in
DIR already ingested; the front door process plus W answering threads in worker processes of 4).
Then N signed app_mention events from N
different users are POSTed to /slack/events at once, plus R re-deliveries of the first events with
``X-Slack-Retry-Num: 1``, as Slack sends when an ack is slow. The client is ``burst_client.py`` in a
process of its own: one thread, the requests built and signed beforehand, one connection per request opened
(and accepted by the server) before the burst, then every request written in one loop and each response
timestamped as it completes — end to end from the client's view, without a client thread per request
competing for the 2 cores it measures. We measure each ack (HTTP response) latency, then
wait for the answers in the fake Slack: answers posted (one per event expected),
duplicates (a thread answered more than once), busy/rate-limit notices, and the time
from the burst until the last answer was posted.

Then the attack phase: 1000 idle TCP connections are opened and held while 8 threads
POST unsigned 844 KB form bodies (fresh timestamp, wrong signature: the server must read
and hash each one), and 40 valid signed events are sent one by one meanwhile (``burst_client.py
serial``: a fresh connection each, connect included); we
measure their acks, how many flood requests were turned away, and the front door's
resident memory (peak while held, and after everything closed).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import careerbot_cmd, load_questions, offline_env, percentile, write_result  # noqa: E402

CHANNEL = "C0BENCH001"
SOLO_CHANNEL = "C0BENCHSOLO"  # the one-at-a-time baseline events, kept out of the burst's counts
RUN = int(time.time())  # event ids and ts unique per run: the data dir's database remembers claimed event ids


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"careerbot serve exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers (503 while a check is pending still means listening)
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"careerbot serve was not listening after {timeout:.0f} s")


def raw_request(body: bytes, *, retry_num: int | None = None, secret: str | None = None) -> str:
    """A signed ``POST /slack/events`` as it goes on the wire (latin-1 text, for the client's JSON spec)."""
    from tests.fakes.slack_server import TEST_SIGNING_SECRET, sign

    ts = int(time.time())
    head = [
        "POST /slack/events HTTP/1.1", "host: bench", "content-type: application/json",
        f"content-length: {len(body)}", f"x-slack-request-timestamp: {ts}",
        f"x-slack-signature: {sign(body, ts, secret or TEST_SIGNING_SECRET)}",
    ]
    if retry_num is not None:
        head += [f"x-slack-retry-num: {retry_num}", "x-slack-retry-reason: http_timeout"]
    return "\r\n".join(head) + "\r\n\r\n" + body.decode("latin-1")


def client(port: int, requests: list[str], mode: str = "burst", gap_s: float = 0.05) -> subprocess.Popen[bytes]:
    """``burst_client.py`` in its own process, fed the pre-built requests; ``finish`` reads its answer."""
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve().parent / "burst_client.py")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None
    proc.stdin.write(json.dumps({"host": "127.0.0.1", "port": port, "mode": mode, "gap_s": gap_s,
                                 "requests": requests}).encode())
    proc.stdin.close()
    return proc


def finish(proc: subprocess.Popen[bytes], timeout: float = 120) -> dict[str, Any]:
    assert proc.stdout is not None
    out = proc.stdout.read()
    proc.wait(timeout)
    result: dict[str, Any] = json.loads(out)
    return result


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _attack(url: str, port: int, pid: int, *, idle: int = 1000, flooders: int = 8, valid: int = 40) -> dict[str, Any]:
    """Valid acks while ``idle`` idle connections and an unsigned flood are held; the door's RSS."""
    import resource

    from tests.fakes.slack_server import deliver, event_body

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, idle + 512), hard), hard))
    before = _rss_mib(pid)
    held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(idle)]
    stop = threading.Event()
    flood = {"sent": 0, "401": 0, "other": 0}
    body = b"f=" + b"x" * 844_000

    def unsigned() -> None:
        while not stop.is_set():
            try:
                d = deliver(url, body, content_type="application/x-www-form-urlencoded", signature="v0=" + "0" * 64,
                            timeout=10)
                flood["401" if d.status == 401 else "other"] += 1
            except OSError:
                flood["other"] += 1
            flood["sent"] += 1

    threads = [threading.Thread(target=unsigned, daemon=True) for _ in range(flooders)]
    for t in threads:
        t.start()
    peak = before
    try:
        while flood["sent"] < flooders:
            time.sleep(0.05)
        requests = []
        for i in range(valid):
            ts = f"{RUN}2.{i:06d}"
            event = {"type": "app_mention", "user": f"UATK{i:05d}", "text": "<@UBOT0001> hello", "ts": ts,
                     "event_ts": ts, "channel": "C0BENCHATK", "channel_type": "channel"}
            requests.append(raw_request(event_body(event, f"EvATK{RUN}{i:06d}")))
        prober = client(port, requests, mode="serial", gap_s=0.05)
        while prober.poll() is None:
            peak = max(peak, _rss_mib(pid))
            time.sleep(0.05)
        acks = [ms if status == 200 else float("inf") for status, ms in finish(prober)["acks"]]
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        for s in held:
            s.close()
    deadline = time.monotonic() + 30
    after = _rss_mib(pid)
    while after > before + 50 and time.monotonic() < deadline:
        time.sleep(0.5)
        after = _rss_mib(pid)
    return {"idle_connections": idle, "flood_requests": flood["sent"], "flood_401": flood["401"],
            "valid_acked": sum(1 for a in acks if a != float("inf")), "valid": valid,
            "valid_ack_ms": {"p50": percentile(acks, 50), "p99": percentile(acks, 99), "max": max(acks)},
            "rss_mib": {"before": before, "peak": peak, "after": after}}


def run(data_dir: Path, events: int, retries: int, answer_timeout: float, workers: int = 8) -> dict[str, Any]:
    from bot.prompts import BUSY_TEXT, RATE_LIMITED_TEXT
    from tests.fakes.slack_server import TEST_SIGNING_SECRET, FakeSlack, deliver, event_body

    questions = [q["q"] for q in load_questions() if q.get("kind", "in_scope") == "in_scope"]
    bodies: list[tuple[bytes, int | None]] = []
    for i in range(events):
        ts = f"{RUN}0.{i:06d}"
        text = f"<@UBOT0001> {questions[i % len(questions)]}"
        event = {"type": "app_mention", "user": f"UBENCH{i:05d}", "text": text, "ts": ts, "event_ts": ts,
                 "channel": CHANNEL, "channel_type": "channel"}
        bodies.append((event_body(event, f"EvBENCH{RUN}{i:06d}"), None))
    bodies += [(bodies[i][0], 1) for i in range(min(retries, events))]

    port = _free_port()
    started = {"at_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_before": os.getloadavg()[0]}
    with FakeSlack() as slack, tempfile.TemporaryDirectory(prefix="careerbot-bench-slack-") as tmp:
        log_path = Path(tmp) / "serve.log"
        env = offline_env(
            data_dir,
            SLACK_BOT_TOKEN="xoxb-test-0000",
            SLACK_SIGNING_SECRET=TEST_SIGNING_SECRET,
            SLACK_API_URL=slack.api_url,
            CAREERBOT_LOG_LEVEL="WARNING",
            DATABASE_URL=f"sqlite:///{Path(tmp).resolve() / 'state.sqlite3'}",  # fresh claims: event ids repeat
        )
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [*careerbot_cmd(), "serve", "--http", "--host", "127.0.0.1", "--port", str(port),
                 "--workers", str(workers)],
                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp,
            )
            try:
                t_start = time.perf_counter()
                _wait_ready(f"http://127.0.0.1:{port}/healthz", proc, timeout=120)
                startup_s = time.perf_counter() - t_start
                url = f"http://127.0.0.1:{port}/slack/events"
                solo: list[float] = []
                for i in range(5):  # baseline: one event at a time on an idle server
                    ts = f"{RUN}1.{i:06d}"
                    event = {"type": "app_mention", "user": f"USOLO{i:05d}", "text": f"<@UBOT0001> {questions[i]}",
                             "ts": ts, "event_ts": ts, "channel": SOLO_CHANNEL, "channel_type": "channel"}
                    d = deliver(url, event_body(event, f"EvSOLO{RUN}{i:06d}"), timeout=30)
                    if d.status == 200:
                        solo.append(d.seconds * 1000)
                slack.wait_for("chat.postMessage", 5, timeout=answer_timeout)
                requests = [raw_request(b, retry_num=r) for b, r in bodies]
                got = finish(client(port, requests))
                burst_at = float(got["burst_at"])  # the client's first write (CLOCK_MONOTONIC, shared by processes)
                acks = [(status, ms, r) for (status, ms), (_, r) in zip(got["acks"], bodies, strict=True)]
                answered: dict[str, int] = {}
                notices = 0
                deadline = time.monotonic() + answer_timeout
                last_at = burst_at
                while time.monotonic() < deadline:
                    answered, notices, last_at = {}, 0, burst_at
                    for c in slack.calls("chat.postMessage", ok_only=True):
                        if c.params.get("channel") != CHANNEL:
                            continue
                        text = str(c.params.get("text", ""))
                        if text.startswith(BUSY_TEXT[:30]) or text.startswith(RATE_LIMITED_TEXT[:30]):
                            notices += 1
                            continue
                        thread = str(c.params.get("thread_ts", ""))
                        answered[thread] = answered.get(thread, 0) + 1
                        last_at = max(last_at, c.at)
                    if len(answered) >= events:
                        break
                    time.sleep(0.2)
                time.sleep(min(2.0, answer_timeout / 10))  # a late duplicate would arrive now
                dupes = sum(
                    1 for c in slack.calls("chat.postMessage", ok_only=True)
                    if c.params.get("channel") == CHANNEL and str(c.params.get("thread_ts", "")) in answered
                ) - len(answered)
                attack = _attack(url, port, proc.pid)
            finally:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
        tail = log_path.read_text(errors="replace")[-600:]
    first = [a for a in acks if a[2] is None]
    lat = [ms for status, ms, _ in first if status == 200]
    return {
        **started,
        "load_after": os.getloadavg()[0],
        "events": events,
        "workers": workers,
        "retries": len(bodies) - events,
        "startup_s": startup_s,
        "acked_200": len(lat),
        "ack_statuses": sorted({status for status, _, _ in acks}),
        "ack_ms": {"p50": percentile(lat, 50), "p99": percentile(lat, 99), "max": max(lat) if lat else None},
        "burst_spread_ms": got["spread_ms"],
        "solo_ack_ms": {"p50": percentile(solo, 50), "max": max(solo) if solo else None, "n": len(solo)},
        "acks_over_3s": sum(1 for ms in lat if ms > 3000),
        "retry_acks_200": sum(1 for status, _, r in acks if r is not None and status == 200),
        "answers": len(answered),
        "duplicates": dupes,
        "notices": notices,
        "last_answer_s": last_at - burst_at,
        "attack": attack,
        "server_log_tail": tail if len(answered) < events else "",
    }


def markdown(r: dict[str, Any]) -> str:
    if r.get("not_run"):
        return f"Not run: {r['not_run']}"
    a = r["ack_ms"]
    p99 = a["p99"] if a["p99"] is not None else float("nan")
    return "\n".join(
        [
            f"{r['events']} signed app_mention events at once (+{r['retries']} Slack retries of the first ones) "
            f"to `careerbot serve --http --workers {r.get('workers', 8)}` (front door + answering processes, "
            f"offline answers), fake Slack Web API; "
            f"server ready {r['startup_s']:.1f} s after start"
            + (f"; {r['at_utc']}, 1-minute load average {r['load_before']:.1f} before, {r['load_after']:.1f} after"
               if "at_utc" in r else "") + ".",
            "Client: `burst_client.py`, one thread in a process of its own; connections opened first, the "
            f"{r['events'] + r['retries']} requests written within {r.get('burst_spread_ms', float('nan')):.1f} ms; "
            "each ack timed from its request's first byte written to its response's last byte read.",
            "",
            "| measure | value | target | |",
            "|---|---:|---:|---|",
            f"| ack latency, one event at a time (baseline, median of {r['solo_ack_ms']['n']}) "
            f"| {r['solo_ack_ms']['p50']:.0f} ms | | |",
            f"| ack latency p50 | {a['p50']:.0f} ms | | |",
            f"| ack latency p99 | {p99:.0f} ms | ≤ 100 ms | {'met' if p99 <= 100 else '**not met**'} |",
            f"| acks over Slack's 3 s limit | {r['acks_over_3s']} | 0 "
            f"| {'met' if r['acks_over_3s'] == 0 else '**not met**'} |",
            f"| answers posted | {r['answers']}/{r['events']} | {r['events']}/{r['events']} "
            f"| {'met' if r['answers'] == r['events'] else '**not met**'} |",
            f"| duplicate answers | {r['duplicates']} | 0 | {'met' if r['duplicates'] == 0 else '**not met**'} |",
            f"| busy / rate-limit notices | {r['notices']} | | |",
            f"| time until the last answer | {r['last_answer_s']:.1f} s | | |",
            *_attack_rows(r.get("attack")),
        ]
    )


def _attack_rows(a: dict[str, Any] | None) -> list[str]:
    if not a:
        return []
    v, m = a["valid_ack_ms"], a["rss_mib"]
    return [
        f"| under attack: {a['idle_connections']} idle connections + unsigned 844 KB flood "
        f"({a['flood_requests']} requests, {a['flood_401']} answered 401) — valid acks | "
        f"{a['valid_acked']}/{a['valid']} | {a['valid']}/{a['valid']} "
        f"| {'met' if a['valid_acked'] == a['valid'] else '**not met**'} |",
        f"| under attack: valid ack p50 / p99 / max | {v['p50']:.0f} / {v['p99']:.0f} / {v['max']:.0f} ms "
        f"| p99 ≤ 100 ms | {'met' if v['p99'] <= 100 else '**not met**'} |",
        f"| front door RSS before / peak / after | {m['before']:.0f} / {m['peak']:.0f} / {m['after']:.0f} MiB "
        f"| after ≤ before + 50 | {'met' if m['after'] <= m['before'] + 50 else '**not met**'} |",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--retries", type=int, default=20)
    ap.add_argument("--answer-timeout", type=float, default=300)
    ap.add_argument("--workers", type=int, default=8, help="answering threads (4 per worker process)")
    ap.add_argument("--out")
    args = ap.parse_args()
    write_result(args.out, run(args.data_dir, args.events, args.retries, args.answer_timeout, args.workers))


if __name__ == "__main__":
    main()
