"""`roi --help` and every `roi <command> --help` start without the heavy libraries: the
commands import what they run when they run (start-up time is measured in bench/)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("polars", "duckdb", "pyarrow", "numpy", "statsmodels", "altair", "weasyprint", "rich")

# Runs in a fresh interpreter: every command path's --help, then which heavy modules loaded.
PROBE = """
import json, sys
import click
from roi.cli import cli

def paths(group, prefix):
    for name in group.list_commands(None):
        command = group.get_command(None, name)
        yield prefix + [name]
        if isinstance(command, click.Group):
            yield from paths(command, prefix + [name])

every = [[]] + list(paths(cli, []))
for args in every:
    try:
        cli.main(args + ["--help"], prog_name="roi", standalone_mode=False)
    except SystemExit:
        pass
heavy = sorted(m for m in sys.modules if m.split(".")[0] in json.loads(sys.argv[1]))
print(json.dumps({"commands": [" ".join(a) for a in every], "heavy": heavy}))
"""


def test_help_of_every_command_imports_nothing_heavy() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"run", "load", "attribute", "scenario forecast", "export excel"} <= set(
        found["commands"]
    )
    assert found["heavy"] == []
