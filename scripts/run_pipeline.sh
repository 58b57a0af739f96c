#!/usr/bin/env bash
# The main job, on the trained agents shipped in agents/trained/ (no training): in a few minutes on 2 CPU cores,
#   01  extract the GBC ROM's state variables from recorded RAM and score them against the symbols file
#   05  record a GBC episode and render its memory dumps, compared with PyBoy's own screen
#   --  evaluate the shipped memory and pixel agents on Python Breakout (100 games each)
#   06  key variables: the inputs the shipped memory agents of Python Breakout and GBC Breakout depend on
#   07  probe the shipped pixel agent (probes, function vectors, causal check, screen regions, GBC RAM-to-screen map)
#   08  turn the probe into figures and one self-contained HTML report
#   07+08 again for the shipped GBC Breakout pixel agent (frames drawn by the game itself; RAM addresses on labels)
#
#   scripts/run_pipeline.sh [--out-dir artifacts/pipeline]
#
# Training from scratch instead of using the shipped agents: scripts/run_all.sh --full (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # idle torch threads sleep rather than spin (agents/cpu_threads.py)
OUT=artifacts/pipeline
while [ $# -gt 0 ]; do
  case "$1" in
    --out-dir) OUT=$2; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "error: run_pipeline.sh: unknown option '$1' (see scripts/run_pipeline.sh --help)" >&2; exit 2 ;;
  esac
  shift
done
step() { echo; echo "== $1 ($(date +%H:%M:%S))"; }

step "01 state extractor"
"$PY" scripts/01_extract_state.py --out "$OUT/state_spec/breakout.state_spec.json"
step "05 GBC render"
"$PY" scripts/05_render_gbc.py --record --compare --every 25 --out-dir "$OUT/render_gbc"
step "evaluate the shipped agents"
for agent in memory pixel; do
  "$PY" scripts/evaluate.py --agent "$agent" --episodes 100 --greedy --out-dir "$OUT/evaluate"
done
step "06 key variables of the shipped memory agents"
for env_id in BreakoutPy-v0 GBCBreakout-v0; do
  "$PY" scripts/06_key_variables.py --env-id "$env_id" --out-dir "$OUT/key_variables/$env_id"
done
step "07 probe the shipped pixel agent"
"$PY" scripts/07_probe.py --out-dir "$OUT/probe" --gbc-regions-dir "$OUT/gbc_ram_regions"
step "08 report"
"$PY" scripts/08_visualise.py --probe-dir "$OUT/probe" --gbc-regions-dir "$OUT/gbc_ram_regions"
step "07 + 08 for the shipped GBC Breakout pixel agent"
"$PY" scripts/07_probe.py --env-id GBCBreakout-v0 --no-gbc-regions --out-dir "$OUT/probe_gbc"
"$PY" scripts/08_visualise.py --probe-dir "$OUT/probe_gbc"
echo
echo "pipeline done ($(date +%H:%M:%S)); the reports: $OUT/probe/report.html, $OUT/probe_gbc/report.html"
