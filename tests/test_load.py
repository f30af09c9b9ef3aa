"""Load, smoke size: `careerbot serve --http` as a real process, 50 events over 2 s, twice.

Every event must be acked inside Slack's 3 seconds and answered exactly once (Slack's re-deliveries
of a few of them included), and the process's memory must be flat: the second, identical wave may
not grow its RSS by more than a small allowance. The full size (500 events over 10 s) is
benchmarks/load.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.bot_server import BotProcess, settings_env
from tests.fakes.load import fire
from tests.fakes.slack_server import FakeSlack

EVENTS, SECONDS = 50, 2.0
RSS_ALLOWANCE_KB = 40 * 1024  # a second wave may not add more than this


@pytest.fixture(scope="module")
def bot(slack: FakeSlack, kb_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    root = tmp_path_factory.mktemp("load")
    shutil.copytree(kb_data_dir, root / "data")
    with BotProcess(settings_env(slack, root / "data"), root / "serve.log") as proc:
        yield proc
    assert proc.exit_code == 0  # SIGTERM drained and exited cleanly


def test_a_burst_is_acked_in_time_answered_once_and_memory_stays_flat(bot: BotProcess, slack: FakeSlack) -> None:
    start_rss, _ = bot.rss_kb()
    first = fire(bot.events_url, slack, events=EVENTS, seconds=SECONDS, channel="C0LOADA", tag="A", retries=5)
    after_first, _ = bot.rss_kb()
    second = fire(bot.events_url, slack, events=EVENTS, seconds=SECONDS, channel="C0LOADB", tag="B", retries=5)
    after_second, peak = bot.rss_kb()
    slowest = max(first.slowest_ack, second.slowest_ack)
    print(f"\nload smoke: ack p50 {first.percentile(50) * 1000:.0f} ms, max {slowest * 1000:.0f} ms; RSS start "
          f"{start_rss // 1024} MiB, after wave 1 {after_first // 1024} MiB, after wave 2 {after_second // 1024} MiB, "
          f"peak {peak // 1024} MiB")
    for wave in (first, second):
        assert wave.statuses == {200: EVENTS + 5}
        assert wave.slowest_ack < 3.0, f"slowest ack {wave.slowest_ack:.2f} s"
        assert wave.missing == [] and wave.answered == EVENTS
        assert wave.duplicates == 0
    assert after_second - after_first < RSS_ALLOWANCE_KB, (after_first, after_second)
    assert "Traceback" not in bot.output()
