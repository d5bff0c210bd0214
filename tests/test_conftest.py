"""The harness tells a newcomer what it skipped: a run without PostgreSQL or Chromium ends with a
loud count of the skipped tests, why, and how to get them; a run that skipped none says nothing.

Each case is a pytest run of its own (a subprocess) over a small part of the suite, with a
PostgreSQL URL nobody answers at or a Chromium path that does not exist.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
NOBODY = "postgresql+asyncpg://postgres@127.0.0.1:1/nobody"  # port 1: refused at once


def run_pytest(*args: str, **env: str) -> list[str]:
    """The output lines of `pytest args`, this machine's YILIAN_REQUIRE_* left out."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("YILIAN_REQUIRE_")}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    done = subprocess.run(
        command, cwd=ROOT, env={**environ, **env}, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()


def test_skips_for_want_of_postgresql_are_counted_at_the_end() -> None:
    lines = run_pytest("tests/core/test_jobs.py", YILIAN_TEST_PG_URL=NOBODY)
    *_, banner, why, how, counts = lines
    assert "3 tests SKIPPED for want of PostgreSQL" in banner
    assert why.startswith(f"why: PostgreSQL not reachable at {NOBODY} (ConnectionRefusedError")
    assert how.startswith("to run them: ")
    assert "YILIAN_TEST_PG_URL" in how
    assert "YILIAN_REQUIRE_PG=1" in how
    assert counts.startswith("9 passed, 3 skipped")


def test_nothing_is_said_when_nothing_skipped_for_want_of_postgresql() -> None:
    lines = run_pytest("tests/core/test_jobs.py", "-k", "not postgresql", YILIAN_TEST_PG_URL=NOBODY)
    assert not [line for line in lines if "for want of" in line]
    assert lines[-1].startswith("9 passed")


def test_skips_for_want_of_chromium_are_counted_at_the_end() -> None:
    lines = run_pytest(
        "-p", "no:asyncio", "tests/browser/test_pages.py", YILIAN_CHROMIUM="/nonexistent/chromium"
    )
    *_, banner, why, how, counts = lines
    assert "2 tests SKIPPED for want of Chromium" in banner
    assert why == "why: Chromium not found at /nonexistent/chromium (apt-get install chromium);" + (
        " YILIAN_REQUIRE_BROWSER=1 fails instead"
    )
    assert "/usr/bin/chromium" in how
    assert "YILIAN_CHROMIUM" in how
    assert counts.startswith("2 skipped")


def test_the_browser_runs_skips_for_want_of_postgresql_are_counted_too() -> None:
    lines = run_pytest(
        "-p", "no:asyncio", "tests/browser/test_openapi.py", "-k", "sequences and postgresql",
        YILIAN_TEST_PG_URL=NOBODY,
    )  # fmt: skip
    *_, banner, why, how, counts = lines
    assert "1 test SKIPPED for want of PostgreSQL" in banner
    assert why.startswith(f"why: PostgreSQL not usable at {NOBODY}")
    assert "YILIAN_TEST_PG_URL" in how
    assert counts.startswith("1 skipped")
