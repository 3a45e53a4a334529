"""The command line tunes Polars' allocator (jemalloc reads `_RJEM_MALLOC_CONF` once, when
Polars loads): the setting is in place before Polars is imported, and a user's own wins."""

from __future__ import annotations

import os
import subprocess
import sys

from roi.cli.allocator import SETTINGS, VARIABLE

# Runs in a fresh interpreter: what the variable held when Polars was first imported (the
# commands import it lazily, after `roi.cli`).
PROBE = """
import builtins, os
original = builtins.__import__
seen = []

def spy(name, *args, **kwargs):
    if name.split(".")[0] == "polars" and not seen:
        seen.append(os.environ.get("_RJEM_MALLOC_CONF", "<unset>"))
    return original(name, *args, **kwargs)

builtins.__import__ = spy
import roi.cli  # what `roi` and `python -m roi` import first
import polars
print(seen[0] if seen else "<polars never imported>")
"""


def _setting_when_polars_loads(env: dict[str, str], cwd: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )
    return done.stdout.strip().splitlines()[-1]


def test_settings_are_in_place_before_polars_loads(tmp_path: object) -> None:
    env = {k: v for k, v in os.environ.items() if k != VARIABLE}
    assert _setting_when_polars_loads(env, str(tmp_path)) == SETTINGS


def test_a_users_own_setting_wins(tmp_path: object) -> None:
    env = {k: v for k, v in os.environ.items() if k != VARIABLE} | {VARIABLE: "narenas:2"}
    assert _setting_when_polars_loads(env, str(tmp_path)) == "narenas:2"
