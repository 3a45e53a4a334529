#!/usr/bin/env bash
# Every figure of the issue "Fast where people wait", in one go, each beside its baseline
# measured in the same run (recorded in bench/RESULTS.md).
#
# Usage (from the repository root, in the project's virtual environment, nothing else running):
#
#     bash bench/bench_waits.sh [BEFORE]      # BEFORE: a checkout of an earlier roi (optional)
#
#   1. start-up, a rerun with nothing changed, the sample's forecast, its report + PDF + pack:
#      bench_speed.py (against `import click` and `roi status`; with BEFORE, that roi too);
#   2. the forecast of a 200-model portfolio (600 series): bench_forecast.py (against fitting
#      every series in one process);
#   3. the 200-model report, PDF and pack: bench_reports.py;
#   4. attribution at 10M lines against the bare month × tag sum: bench_attribution.py
#      (the pandas baseline left out: it is not a goal's baseline);
#   5. the test suite: `pytest -n auto -m "not slow"` and the README's `pytest -n auto`.
set -euo pipefail
cd "$(dirname "$0")/.."
before=()
[ $# -gt 0 ] && before=(--before "$1")

step() { echo; echo "=== $* ($(date -u +%H:%M:%S))"; }

step "1. bench_speed.py --repeat 5 ${before[*]}"
python bench/bench_speed.py --repeat 5 "${before[@]}"
step "2. bench_forecast.py --repeat 3"
python bench/bench_forecast.py --repeat 3
step "3. bench_reports.py --rows 1000000 --models 200 --repeat 3"
python bench/bench_reports.py --rows 1000000 --models 200 --repeat 3
step "4. bench_attribution.py --rows 10000000 --models 200 --skip-pandas"
python bench/bench_attribution.py --rows 10000000 --models 200 --skip-pandas
step "5. the test suite"
for args in '-m "not slow"' ''; do
  start=$(date +%s)
  eval "ROI_CI=1 pytest -n auto -q -p no:cacheprovider $args" | tail -n 1
  echo "pytest -n auto $args: $(($(date +%s) - start)) s wall"
done
