#!/usr/bin/env bash
# Every step on a game's shipped agents (agents/trained/manifest.json; no training), into <out-dir>/<env id>/:
#   01  extract the GBC ROM's state variables from recorded RAM, scored against its symbols file (extract/)
#   05  record a GBC episode and render its memory dumps, compared with PyBoy's own screen (render/)
#   --  the scripted player's games (scripted.json) and each shipped agent's evaluation, 100 games (evaluate/), in
#       a second process beside 06-08
#   06  key variables: the inputs the shipped memory agent depends on (key_variables/), and the bytes the raw-RAM
#       memory agent of a Game Boy game depends on (key_variables_ram/)
#   07  probe the shipped pixel agent: probes, function vectors, causal check, screen regions (probe/)
#   08  its figures and one self-contained HTML report (probe/report.html)
# A step whose agent is not shipped prints one "skipped: ..." line saying how to train it, and the game goes on.
#
#   scripts/run_pipeline.sh                  # --game breakout-py --game breakout
#   scripts/run_pipeline.sh --game NAME      # breakout-py, breakout, snake, pong, runner, shooter, or a .profile.json
#   scripts/run_pipeline.sh --all-games      # every game, then <out-dir>/games.csv and games.html across games
#   scripts/run_pipeline.sh --game pong --hide-symbols   # our game as a user's ROM: its ROM copied without the
#       symbols file into <out-dir>/<env id>-hidden-symbols/rom/ with a user profile; 01, 05 and 06 (features named
#       by address), then 06 with the symbols file and the two top tens compared by address (hidden_vs_symbols.json)
#   options: --out-dir DIR (artifacts/pipeline), --scripted-games N (10)
#
# Training from scratch instead of using the shipped agents: scripts/run_all.sh --full (see README).
{  # bash reads the whole block before running it, so editing this file during a run cannot change that run
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # idle torch threads sleep rather than spin (agents/cpu_threads.py)
OUT=artifacts/pipeline
SCRIPTED_GAMES=10
GAMES=()
ALL=0
HIDE=()
fail() { echo "error: run_pipeline.sh: $1 (see scripts/run_pipeline.sh --help)" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --out-dir) [ $# -ge 2 ] || fail "--out-dir needs a folder"; OUT=$2; shift ;;
    --game) [ $# -ge 2 ] || fail "--game needs a game name"; GAMES+=("$2"); shift ;;
    --all-games) ALL=1 ;;
    --hide-symbols) HIDE=(--hide-symbols) ;;
    --scripted-games) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || fail "--scripted-games needs a positive number"
      SCRIPTED_GAMES=$2; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1' "$0"; exit 0 ;;
    *) fail "unknown option '$1'" ;;
  esac
  shift
done
helper() { "$PY" scripts/pipeline_game.py "$@" --out-root "$OUT"; }
if [ "$ALL" = 1 ]; then
  [ ${#GAMES[@]} -eq 0 ] || fail "give either --all-games or --game, not both"
  [ ${#HIDE[@]} -eq 0 ] || fail "--hide-symbols takes --game NAME (one of our GBC games), not --all-games"
  mapfile -t GAMES < <(helper games)
elif [ ${#GAMES[@]} -eq 0 ]; then
  GAMES=(breakout-py breakout)
fi
# every game's name is checked before any step runs: a typo costs seconds, not a run
PLANS=()
for game in "${GAMES[@]}"; do
  plan=$(helper plan --game "$game" "${HIDE[@]}") || exit 2  # its one error line is on stderr
  PLANS+=("$plan")
done
step() { echo; echo "== $1 ($(date +%H:%M:%S))"; }
skipped() { [ "$1" != run ] && echo "$1"; }
play_games() {  # the scripted player's games and the shipped agents' 100-game evaluations, one after another
  step "scripted player ($SCRIPTED_GAMES games)"
  skipped "$STEP_SCRIPTED" || helper scripted --game "$game" --episodes "$SCRIPTED_GAMES"
  for agent in memory memory_ram pixel; do
    step "evaluate the shipped ${agent/_ram/ (raw RAM)} agent (100 games)"
    line=STEP_EVALUATE_${agent^^}; greedy=GREEDY_${agent^^}
    skipped "${!line}" || "$PY" scripts/evaluate.py --agent "$agent" --env-id "$ENV_ID" --episodes 100 ${!greedy} \
      --out-dir "$GAME_OUT/evaluate"
  done
  echo; echo "== the games played are done ($(date +%H:%M:%S))"
}
games_pid=
# an error in 06-08 (or Ctrl-C) stops the games too: the background shell and the program it runs
trap 'if [ -n "$games_pid" ]; then pkill -P "$games_pid"; kill "$games_pid"; fi 2>/dev/null || true' EXIT

for i in "${!GAMES[@]}"; do
  eval "${PLANS[$i]}"  # GAME_OUT, ENV_ID, ENV_KWARGS, PROFILE, SYMBOLS_HIDDEN_OF, STEP_* and GREEDY_*
                       # (scripts/pipeline_game.py plan)
  game=${GAMES[$i]}
  echo; echo "==== $game: $ENV_ID -> $GAME_OUT/"
  kwargs=(); [ -z "$ENV_KWARGS" ] || kwargs=(--env-kwargs "$ENV_KWARGS")
  step "01 state extractor"
  skipped "$STEP_EXTRACT" || "$PY" scripts/01_extract_state.py --env-id "$ENV_ID" "${kwargs[@]}" \
    --out "$GAME_OUT/extract/$(basename "$PROFILE" .profile.json).state_spec.json"
  step "05 GBC render"
  skipped "$STEP_RENDER" || "$PY" scripts/05_render_gbc.py --game "$PROFILE" --record --compare --every 25 \
    --out-dir "$GAME_OUT/render"
  # The games played (scripted player, each shipped agent's evaluation) run in a second process beside 06-08, each
  # step being one thread: on the 2-core machine the Shooter took 14.6 minutes instead of 18.8 (the two processes
  # slow each other down; agents/trained/results/pipeline.md). Its log is printed once it ends.
  games_log="$GAME_OUT/evaluate/games_played.log"
  mkdir -p "$GAME_OUT/evaluate"
  step "the games played, in the background beside 06-08 (printed when done; log: $games_log)"
  play_games > "$games_log" 2>&1 &
  games_pid=$!
  step "06 key variables of the shipped memory agent"
  if [ -n "$SYMBOLS_HIDDEN_OF" ]; then  # the agent of the game whose symbols are hidden, on the user's copy
    skipped "$STEP_KEY_VARIABLES" || "$PY" scripts/06_key_variables.py --env-id "$SYMBOLS_HIDDEN_OF" \
      --profile "$PROFILE" --out-dir "$GAME_OUT/key_variables"
  else
    skipped "$STEP_KEY_VARIABLES" || "$PY" scripts/06_key_variables.py --env-id "$ENV_ID" \
      --out-dir "$GAME_OUT/key_variables"
  fi
  step "06 key variables of the shipped memory agent on raw RAM"
  skipped "$STEP_KEY_VARIABLES_RAM" || "$PY" scripts/06_key_variables.py --env-id "$ENV_ID" --agent memory_ram \
    --out-dir "$GAME_OUT/key_variables_ram"
  step "07 + 08 probe the shipped pixel agent, and its report"
  if ! skipped "$STEP_PROBE"; then
    keys=(); [ ! -f "$GAME_OUT/key_variables/key_variables.csv" ] || \
      keys=(--key-variables-csv "$GAME_OUT/key_variables/key_variables.csv")  # step 06's top variables
    "$PY" scripts/07_probe.py --env-id "$ENV_ID" --out-dir "$GAME_OUT/probe" --gbc-regions-dir "$GAME_OUT/ram_regions" \
      "${keys[@]}"
    "$PY" scripts/08_visualise.py --probe-dir "$GAME_OUT/probe" --gbc-regions-dir "$GAME_OUT/ram_regions"
  fi
  if ! wait "$games_pid"; then
    cat "$games_log"; echo "error: run_pipeline.sh: the games played failed (log above: $games_log)" >&2; exit 1
  fi
  games_pid=
  cat "$games_log"
  if [ -n "$SYMBOLS_HIDDEN_OF" ]; then
    step "06 again with the symbols file ($SYMBOLS_HIDDEN_OF), and the two top tens compared by address"
    if ! skipped "$STEP_COMPARE_HIDDEN"; then
      "$PY" scripts/06_key_variables.py --env-id "$SYMBOLS_HIDDEN_OF" --out-dir "$GAME_OUT/symbols_key_variables"
      helper compare-hidden --game "$game"
    fi
  fi
  echo; echo "$game done ($(date +%H:%M:%S)): $GAME_OUT/"
done
if [ "$ALL" = 1 ]; then
  step "the cross-game report"
  helper report
fi
echo
echo "pipeline done ($(date +%H:%M:%S)); each game's folder is listed above (probe/report.html where its pixel agent was probed)"
[ "$ALL" = 0 ] || echo "across games: $OUT/games.html, $OUT/games.csv"
exit
}
