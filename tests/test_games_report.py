"""The pipeline on every game: the cross-game table (agents.probing.games_report) built from small fake per-game
folders, what run_pipeline.sh plans for a game from the manifest (agents.probing.game_runs), and the script's
--help and its one-line errors."""

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agents.curves import CURVE_COLUMNS
from agents.probing.game_runs import GameNameError, plan, resolve_game
from agents.probing.games_report import COLUMNS, games_rows, write_games_report
from breakout_py.errors import UserError
from breakout_py.files import write_json, write_table

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}


def _manifest(tmp_path: Path, *entries: tuple[str, str]) -> Path:
    """A trained/ folder whose manifest ships (agent, env id) `entries` (no model files: only the manifest is read)."""
    trained = tmp_path / "trained"
    write_json(trained / "manifest.json", {"agents": [
        {"agent": agent, "env_id": env_id, "env_kwargs": {}, "file": f"{env_id}__{agent}.pt",
         "global_step": 3_000_000, "train_seconds": 900.0,
         "evaluation": {"episodes": 100, "mean_return": 50.0, "greedy": False}} for agent, env_id in entries]})
    return trained


def _everything(folder: Path) -> None:
    """What every step writes for GBC Breakout, in miniature."""
    (folder / "extract").mkdir()
    shutil.copy(ROOT / "roms/breakout/breakout.state_spec.json", folder / "extract" / "breakout.state_spec.json")
    write_json(folder / "evaluate" / "GBCBreakout-v0__memory__shipped.json",
               {"episodes": 100, "mean_return": 104.46, "greedy": False})  # the pixel agent's: from the manifest
    write_json(folder / "scripted.json", {"agent": "follow_ball", "episodes": 10, "mean_score": 112.6})
    write_table(folder / "key_variables" / "key_variables.csv", ["feature", "symbol", "rank"],
                [["0xC0A5", "paddle_x", 2], ["0xC0A6", "ball_x", 1], ["0xC0FF", "", 3]])
    write_table(folder / "key_variables_ram" / "key_variables.csv", ["feature", "symbol", "rank"],
                [["0xC0A6", "ball_x", 2], ["0xFF80", "", 1]])
    write_json(folder / "probe" / "summary.json", {
        "bars": {"key_variables_r2": {
            "ball_x": {"best_layer": "conv2", "r2": 0.968, "random_weights_r2": 0.942, "pixels_r2": 0.489, "pass": True},
            "ball_y": {"best_layer": "fc1", "r2": 0.5, "random_weights_r2": -0.57, "pixels_r2": 0.2, "pass": False}},
            "causal": {"ball_x": {"pass": True}, "paddle_x": {"pass": False}},
            "causal_generic": {"ball_dx": {"pass": True}}},
        "families": {"ball_x": "ball", "ball_y": "ball", "paddle_x": "paddle", "reached_red": "ball",
                     "brick[0]": "bricks"},  # the report's colours; the kinds cell reads the kinds
        "kinds": {"ball_x": "position", "ball_y": "position", "paddle_x": "position", "reached_red": "flag",
                  "brick[0]": "array element"},
        "r2_bar_variables": ["ball_x", "ball_y"],
        "screen_maps": {"variables": {"ball_x": {"iou": 0.6, "pointing_hit_rate": 1.0},
                                      "ball_y": {"iou": 0.2, "pointing_hit_rate": 0.5},
                                      "ball_dx": {"iou": 0.1, "pointing_hit_rate": 0.0}}}})
    write_table(folder / "probe" / "probe_best.csv", ["variable", "metric", "score", "random_best", "pixels"],
                [["ball_x", "r2", 0.968, 0.95, 0.489], ["ball_y", "r2", 0.5, 0.1, 0.2], ["paddle_x", "r2", 0.9, 0.8, 0.7],
                 ["reached_red", "balanced_accuracy", 0.75, 0.5, 0.6], ["brick[0]", "balanced_accuracy", "nan", "nan",
                                                                       "nan"]])
    (folder / "probe" / "report.html").write_text("<html></html>")


@pytest.fixture()
def pipeline_root(tmp_path) -> Path:
    """GBC Breakout with every output, Pong with only the extractor's, Python Breakout planned but not run."""
    root = tmp_path / "pipeline"
    trained = _manifest(tmp_path, ("memory", "GBCBreakout-v0"), ("pixel", "GBCBreakout-v0"),
                        ("memory_ram", "GBCBreakout-v0"))
    # the memory agent shipped with its training curve: 90% of its best (10) first reached at 2M steps by a peak
    columns = list(CURVE_COLUMNS)
    write_table(trained / "GBCBreakout-v0__memory.curve.csv", columns,
                [[step * 1_000_000, step * 100.0, step * 50, mean, peak] + [0.0] * (len(columns) - 5)
                 for step, mean, peak in ((1, 2, 2), (2, 5, 9.5), (3, 8, 8), (4, 10, 10), (5, 9, 9))])
    manifest = json.loads((trained / "manifest.json").read_text())
    manifest["agents"][0]["curve"] = "GBCBreakout-v0__memory.curve.csv"
    write_json(trained / "manifest.json", manifest)
    _, breakout = plan("breakout", root, trained)
    _everything(breakout)
    _, pong = plan("pong", root, trained)
    (pong / "extract").mkdir()
    shutil.copy(ROOT / "roms/pong/pong.state_spec.json", pong / "extract" / "pong.state_spec.json")
    plan("breakout-py", root, trained)
    return root


def test_cross_game_table_has_one_row_per_game_and_says_why_a_cell_is_empty(pipeline_root):
    rows = {row["game"]: row for row in games_rows(pipeline_root)}
    assert list(rows) == ["breakout-py", "breakout", "pong"]  # folder order: BreakoutPy, GBCBreakout, GBCPong
    breakout, pong, python = rows["breakout"], rows["pong"], rows["breakout-py"]

    spec = json.loads((ROOT / "roms/breakout/breakout.state_spec.json").read_text())
    assert breakout["extractor kept bytes"].startswith(f"{spec['summary']['kept_bytes']} (")
    assert breakout["extractor dropped bytes"].startswith(f"{sum(spec['summary']['dropped_bytes'].values())} (")
    assert breakout["extractor score"].startswith("state recall ")
    assert breakout["memory agent return"] == ("104.5 over 100 games (sampled, this run); trained 3.0M steps, 900 s; "
                                               "90% of its best smoothed return (10.0) at 2.00M steps, 200 s")
    assert breakout["pixel agent return"] == "50.0 over 100 games (sampled, manifest); trained 3.0M steps, 900 s"
    assert breakout["memory agent (raw RAM) return"].startswith("50.0 over 100 games (sampled, manifest)")
    assert breakout["top key variables of the raw-RAM agent (06)"] == "0xFF80, ball_x"
    assert breakout["scripted player"] == "follow_ball: 112.6 over 10 games"
    assert breakout["top key variables (06)"] == "ball_x, paddle_x, 0xC0FF"
    probe = breakout["probe R^2: best layer (random weights there; pixels)"]
    assert probe == "ball_x conv2 0.97 (0.94; 0.49); ball_y fc1 0.50 (-0.57; 0.20) below the bar"
    # medians per kind over the scored variables (brick[0] was constant on the test split: nan, left out)
    kinds = breakout["probe by variable kind: median best-layer score (random weights at their best; pixels)"]
    assert kinds == "flag balanced accuracy 0.75 (0.50; 0.60), 1 variable; position R^2 0.90 (0.80; 0.49), 3 variables"
    assert breakout["causal: key variables whose steering beats random directions"] == \
        "2 of 3 (1 of 2 as predicted; 1 of 1 more than random)"
    maps = breakout["screen maps: median IoU, pointing game (on-screen positions; all mapped)"]
    assert maps == "0.40, 75% over 2; all mapped: 0.20, 50% over 3"
    assert breakout["reports"] == [("probe report", "GBCBreakout-v0/probe/report.html")]

    assert pong["extractor kept bytes"] == "16 (16 features)"
    assert pong["memory agent return"] == "no memory agent shipped"
    assert pong["pixel agent return"] == "no pixel agent shipped"
    assert pong["memory agent (raw RAM) return"] == "no raw-RAM memory agent shipped"
    assert pong["top key variables of the raw-RAM agent (06)"] == "no raw-RAM memory agent shipped"
    assert pong["top key variables (06)"] == "no memory agent shipped"
    for column in COLUMNS[COLUMNS.index("probe R^2: best layer (random weights there; pixels)"):-1]:
        assert pong[column] == "no pixel agent shipped", column
    assert pong["scripted player"] == "not run: no scripted.json"
    assert pong["reports"] == []  # the spec's picture was not copied

    assert python["extractor score"] == "BreakoutPy-v0 is not a Game Boy game (no RAM to extract or render)"
    assert python["memory agent (raw RAM) return"] == \
        "BreakoutPy-v0 has no RAM (its memory agent reads the state vector)"


def test_a_probe_with_no_drawn_position_among_its_key_variables_says_so(pipeline_root):
    path = pipeline_root / "GBCBreakout-v0" / "probe" / "summary.json"
    summary = json.loads(path.read_text())
    summary["bars"]["key_variables_r2"], summary["r2_bar_variables"] = {}, []  # no key variable drawn
    write_json(path, summary)
    row = {row["game"]: row for row in games_rows(pipeline_root)}["breakout"]
    assert row["probe R^2: best layer (random weights there; pixels)"] == \
        "no key variable is an on-screen position (none held to the bar)"


def test_cross_game_files_are_written(pipeline_root):
    written = write_games_report(pipeline_root)
    with open(written["csv"], newline="") as f:
        table = list(csv.DictReader(f))
    assert [r["env id"] for r in table] == ["BreakoutPy-v0", "GBCBreakout-v0", "GBCPong-v0"]
    assert list(table[0]) == list(COLUMNS)
    assert table[1]["reports"] == "GBCBreakout-v0/probe/report.html"
    page = written["html"].read_text()
    assert '<a href="GBCBreakout-v0/probe/report.html">probe report</a>' in page
    assert page.count("<tr>") == 4 and "no pixel agent shipped" in page
    with pytest.raises(UserError, match="no game folders"):
        write_games_report(pipeline_root / "empty")


def test_plan_takes_the_shipped_agents_from_the_manifest(tmp_path):
    trained = _manifest(tmp_path, ("memory", "GBCPong-v0"))
    target, folder = plan("pong", tmp_path / "out", trained)
    assert folder == tmp_path / "out" / "GBCPong-v0" and (folder / "game.json").is_file()
    assert target.steps["evaluate_memory"] == target.steps["key_variables"] == "run"
    assert target.steps["evaluate_pixel"].startswith("skipped: no shipped pixel agent for GBCPong-v0 (train it "
                                                     "with scripts/03_train_pixel.py --env-id GBCPong-v0")
    assert target.steps["key_variables_ram"] == target.steps["evaluate_memory_ram"] == (
        "skipped: no shipped memory_ram agent for GBCPong-v0 (train it with scripts/02_train_memory.py --env-id "
        "GBCPong-v0 --env-kwargs '{\"obs_type\": \"ram\"}', then ship it with scripts/evaluate.py --model "
        "runs/<run>/model.pt --ship)")
    trained = _manifest(tmp_path / "b", ("pixel", "GBCPong-v0"))
    target, _ = plan("pong", tmp_path / "out", trained)
    assert target.steps["probe"] == "run"  # every Game Boy game has step 07's adapter (agents.probing.gbc_game)
    assert resolve_game("breakout-py").env_id == "BreakoutPy-v0"
    with pytest.raises(GameNameError, match=r"--game 'tetris' is no game we know: use one of \['breakout-py'"):
        resolve_game("tetris")


def _pipeline(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "scripts/run_pipeline.sh", *args], cwd=ROOT, env=ENV, capture_output=True,
                          text=True, timeout=120)


def test_run_pipeline_help_and_one_line_errors(tmp_path):
    shown = _pipeline("--help")
    assert shown.returncode == 0 and "--all-games" in shown.stdout and "set -e" not in shown.stdout
    for args, message in [(("--game", "tetris"), "error: --game 'tetris' is no game we know"),
                          (("--bogus",), "error: run_pipeline.sh: unknown option '--bogus'"),
                          (("--game",), "error: run_pipeline.sh: --game needs a game name"),
                          (("--all-games", "--game", "pong"), "error: run_pipeline.sh: give either --all-games")]:
        result = _pipeline(*args, "--out-dir", str(tmp_path)) if args[-1] != "--game" else _pipeline(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.strip().splitlines() == [result.stderr.strip()] and \
            result.stderr.startswith(message), (args, result.stderr)
    assert not any(tmp_path.iterdir())  # nothing ran


def _stand_in_python(tmp_path: Path, failing: str) -> Path:
    """A PYTHON for run_pipeline.sh that plans with the real interpreter and stands in for every step: it logs the
    step's start and sleeps (the scripted player 1 s, so an evaluation starts well after 06 when they run side by
    side, and before it when they run in turn), or fails on `failing`."""
    log = tmp_path / "steps.log"
    script = tmp_path / "python"
    script.write_text(f"""#!/usr/bin/env bash
case "$1 $2" in
  "scripts/pipeline_game.py plan"|"scripts/pipeline_game.py games") exec {sys.executable} "$@" ;;
esac
echo "$(basename "$1") start" >> {log}
case "$1" in
  *{failing}*) echo "stand-in: $1 fails" >&2; exit 3 ;;
  scripts/pipeline_game.py) sleep 1 ;;
  *) sleep 0.2 ;;
esac
echo "ran $1"
""")
    script.chmod(0o755)
    return log


def test_run_pipeline_plays_the_games_beside_06_to_08_and_fails_when_they_fail(tmp_path):
    log = _stand_in_python(tmp_path, failing="no-such-step")
    env = {**ENV, "PYTHON": str(tmp_path / "python")}
    run = subprocess.run(["bash", "scripts/run_pipeline.sh", "--game", "pong", "--out-dir", str(tmp_path / "out")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    started = log.read_text().split("\n")
    assert started.index("06_key_variables.py start") < started.index("evaluate.py start")  # beside, not before
    out = run.stdout
    assert out.index("ran scripts/08_visualise.py") < out.index("ran scripts/evaluate.py") < out.index("pong done")
    assert (tmp_path / "out" / "GBCPong-v0" / "evaluate" / "games_played.log").is_file()

    _stand_in_python(tmp_path, failing="evaluate.py")
    run = subprocess.run(["bash", "scripts/run_pipeline.sh", "--game", "pong", "--out-dir", str(tmp_path / "out")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "stand-in: scripts/evaluate.py fails" in run.stdout
    assert run.stderr.strip().startswith("error: run_pipeline.sh: the games played failed")
    assert "pong done" not in run.stdout


def test_editing_run_pipeline_during_a_run_does_not_change_that_run(tmp_path):
    """bash reads a script as it goes; run_pipeline.sh is one block read whole, so a user who edits it (say, its
    defaults) while it runs cannot send the running copy into a half-read line. The stand-in of step 01 rewrites
    the file in place, as an editor does, with the loop's steps renamed."""
    tree = tmp_path / "tree"
    (tree / "scripts").mkdir(parents=True)
    script = tree / "scripts" / "run_pipeline.sh"
    shutil.copy(ROOT / "scripts" / "run_pipeline.sh", script)
    (tree / "scripts" / "pipeline_game.py").symlink_to(ROOT / "scripts" / "pipeline_game.py")
    edited = script.read_text().replace('step "06 key', 'step "EDITED 06 key').replace("# ", "#  ")
    (tmp_path / "edited.sh").write_text(edited)
    stand_in = tmp_path / "python"
    stand_in.write_text(f"""#!/usr/bin/env bash
case "$1" in
  scripts/pipeline_game.py) exec {sys.executable} "$@" ;;
  scripts/01_extract_state.py) cat {tmp_path / "edited.sh"} > {script} ;;
esac
echo "ran $1"
""")
    stand_in.chmod(0o755)
    run = subprocess.run(["bash", str(script), "--game", "pong", "--out-dir", str(tmp_path / "out")], cwd=tree,
                         env={**ENV, "PYTHON": str(stand_in)}, capture_output=True, text=True, timeout=120)
    assert script.read_text() == edited  # the file was edited during the run
    assert run.returncode == 0, run.stderr
    assert "EDITED" not in run.stdout and "syntax error" not in run.stderr
    assert "ran scripts/08_visualise.py" in run.stdout and "pong done" in run.stdout
