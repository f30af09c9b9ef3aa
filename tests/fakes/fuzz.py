"""Hypothesis settings shared by the fuzz tests.

CI runs the same bounded examples every time; CAREERBOT_FUZZ_RANDOM=1 (and CAREERBOT_FUZZ_SCALE=N for N times
more examples) explores new ones on a developer's machine.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXPLORE = os.environ.get("CAREERBOT_FUZZ_RANDOM") == "1"
SCALE = max(1, int(os.environ.get("CAREERBOT_FUZZ_SCALE") or 1))
FAST = settings(max_examples=40 * SCALE, deadline=None, derandomize=not EXPLORE, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
SLOW = settings(FAST, max_examples=25 * SCALE)  # one full answer per example
