"""agents.compare (scripts/04_compare.py's library) on hand-made TensorBoard runs whose convergence steps are known."""

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from torch.utils.tensorboard import SummaryWriter

from agents import compare, curves
from agents.checkpoint import load_agent
from agents.compare import compare_runs
from agents.shipped import TRAINED_DIR, read_manifest, ship
from breakout_py.errors import UserError

REPO = Path(__file__).resolve().parents[1]


def fake_run(runs_dir: Path, agent: str, seed: int, episodes: list[tuple[int, float]],
             seconds: list[tuple[int, float]], name: str = "x", env_kwargs: dict | None = None) -> None:
    run_dir = runs_dir / f"Fake-v0__{agent}__s{seed}__{name}"
    run_dir.mkdir(parents=True)
    args = {"env_id": "Fake-v0", "seed": seed} | ({"env_kwargs": json.dumps(env_kwargs)} if env_kwargs else {})
    (run_dir / "config.json").write_text(json.dumps({"agent_name": agent, "args": args}))
    writer = SummaryWriter(str(run_dir))
    for step, value in episodes:
        writer.add_scalar("charts/episodic_return", value, step)
    for step, value in seconds:
        writer.add_scalar("charts/train_seconds", value, step)
        writer.add_scalar("losses/value_loss", 1.0 / step, step)
    writer.close()


@pytest.fixture
def runs_dir(tmp_path):
    runs = tmp_path / "runs"
    # window 2: memory s1 smoothed 1, 3, 5, 7 at steps 20..50; memory s2 0, 1, 2; pixel s1 4, 4
    fake_run(runs, "memory", 1, [(10, 0), (20, 2), (30, 4), (40, 6), (50, 8)], [(25, 5.0), (50, 10.0)])
    fake_run(runs, "memory", 2, [(10, 0), (20, 0), (30, 2), (40, 2)], [(20, 2.0), (40, 4.0)])
    fake_run(runs, "pixel", 1, [(10, 4), (20, 4), (30, 4)], [(15, 3.0), (30, 6.0)])
    fake_run(runs, "pixel", 2, [(10, 100), (20, 100)], [(20, 1.0)], name="other")  # filtered out by --run-glob
    return runs


def read_csv(path: Path) -> list[dict]:
    with path.open() as f:
        return list(csv.DictReader(f))


def test_convergence_steps_seconds_and_spread(runs_dir, tmp_path):
    out = compare_runs(env_id="Fake-v0", runs_dir=str(runs_dir), run_glob="x", window=2,
                       out_dir=str(tmp_path / "out"), targets=(4.0,))
    runs = {(r["agent"], r["seed"]): r for r in read_csv(out / "runs.csv")}
    assert set(runs) == {("memory", "1"), ("memory", "2"), ("pixel", "1")}
    # reference R = best smoothed return = 7: 0.5R = 3.5, 0.9R = 6.3
    assert runs["memory", "1"]["steps_to_0.5xR"] == "40" and runs["memory", "1"]["seconds_to_0.5xR"] == "8.0"
    assert runs["memory", "1"]["steps_to_0.9xR"] == "50" and runs["memory", "1"]["seconds_to_0.9xR"] == "10.0"
    assert runs["memory", "2"]["steps_to_0.5xR"] == ""
    assert runs["pixel", "1"]["steps_to_0.5xR"] == "20" and runs["pixel", "1"]["seconds_to_0.5xR"] == "4.0"
    assert runs["pixel", "1"]["steps_to_4"] == "20" and runs["memory", "1"]["steps_to_4"] == "40"
    assert float(runs["memory", "1"]["sps"]) == pytest.approx(5.0)

    agents = {r["agent"]: r for r in read_csv(out / "comparison.csv")}
    memory = agents["memory"]
    assert memory["seeds"] == "2" and memory["reached_0.5xR"] == "1/2" and memory["reached_0.9xR"] == "1/2"
    assert float(memory["final_return_mean"]) == pytest.approx(4.5)
    assert float(memory["final_return_std"]) == pytest.approx(2.5)
    assert float(memory["steps_to_0.5xR"]) == pytest.approx(40)
    assert agents["pixel"]["reached_0.9xR"] == "0/1" and agents["pixel"]["steps_to_0.9xR"] == ""

    table = (out / "comparison.md").read_text()
    assert "R = 7.0" in table and "last 2 episodes" in table
    assert "| memory | 2 | 45 | 7 |" in table
    assert (out / "returns.png").stat().st_size > 10_000 and (out / "losses.png").stat().st_size > 10_000


def test_reference_return_can_be_fixed(runs_dir, tmp_path):
    out = compare_runs(env_id="Fake-v0", runs_dir=str(runs_dir), run_glob="x", window=2,
                       out_dir=str(tmp_path / "out"), reference_return=10.0, fractions=(0.5,))
    runs = {(r["agent"], r["seed"]): r for r in read_csv(out / "runs.csv")}
    assert runs["memory", "1"]["steps_to_0.5xR"] == "40"  # 5 >= 5
    assert runs["pixel", "1"]["steps_to_0.5xR"] == ""
    assert "set by --reference-return" in (out / "comparison.md").read_text()


def test_missing_runs_are_explained(runs_dir, tmp_path):
    with pytest.raises(UserError, match="--env-id"):
        compare_runs(env_id="Other-v0", runs_dir=str(runs_dir), out_dir=str(tmp_path / "out"))
    with pytest.raises(UserError, match="no runs folder"):
        compare_runs(env_id="Fake-v0", runs_dir=str(tmp_path / "nowhere"))
    with pytest.raises(UserError, match="lower --window"):
        compare_runs(env_id="Fake-v0", runs_dir=str(runs_dir), run_glob="x", window=50,
                     out_dir=str(tmp_path / "out"))


def test_memory_agents_on_different_observations_get_their_own_rows(tmp_path):
    runs = tmp_path / "runs"
    fake_run(runs, "memory", 1, [(10, 0), (20, 2)], [(20, 2.0)], name="state", env_kwargs={"obs_type": "state"})
    fake_run(runs, "memory", 2, [(10, 2), (20, 4)], [(20, 2.0)], name="state", env_kwargs={"obs_type": "state"})
    fake_run(runs, "memory", 1, [(10, 1), (20, 1)], [(20, 4.0)], name="ram", env_kwargs={"obs_type": "ram"})
    fake_run(runs, "pixel", 1, [(10, 5), (20, 5)], [(20, 8.0)], name="px", env_kwargs={"obs_type": "pixels"})
    out = compare_runs(env_id="Fake-v0", runs_dir=str(runs), window=2, out_dir=str(tmp_path / "out"))
    agents = {r["agent"]: r for r in read_csv(out / "comparison.csv")}
    assert set(agents) == {"memory (state)", "memory (ram)", "pixel"}
    assert agents["memory (state)"]["seeds"] == "2" and agents["memory (ram)"]["seeds"] == "1"
    assert float(agents["memory (state)"]["final_return_mean"]) == pytest.approx(2.0)


@pytest.mark.skipif(not (REPO / "roms" / "breakout" / "breakout.gb").is_file(), reason="ROM not built: make -C roms")
def test_gbc_reference_lines_are_the_scripted_players_mean_scores():
    from gbc.baselines import play_episodes

    run = curves.Run("r", "memory", 1, *(np.zeros(0),) * 4, {}, frame_skip=4)
    lines = compare.reference_lines("GBCBreakout-v0", [run], games=2)
    assert [label.split(" script")[0] for label, _ in lines] == ["random", "follow-ball"]
    follow = np.mean([r["return"] for r in play_episodes("follow_ball", 2, 4, seed=0)])
    assert lines[1][1] == pytest.approx(follow) and follow > lines[0][1] + 20
    assert compare.reference_lines("CartPole-v1", [run], games=2) == []


@pytest.mark.skipif(not (REPO / "roms" / "pong" / "pong.gb").is_file(), reason="ROM not built: make -C roms")
def test_reference_lines_of_a_new_game_are_its_own_scripted_player():
    from gbc.baselines import play_episodes

    run = curves.Run("r", "memory", 1, *(np.zeros(0),) * 4, {}, frame_skip=4)
    lines = compare.reference_lines("GBCPong-v0", [run], games=1)
    assert [label.split(" script")[0] for label, _ in lines] == ["random", "track-ball"]
    track = play_episodes("track_ball", 1, 4, seed=0, game="pong")
    assert lines[1][1] == pytest.approx(next(track)["return"])


def noisy_run(runs_dir: Path) -> Path:
    """A run of 40 iterations of 100 steps, 5 episodes each, returns climbing with one lone spike in between."""
    rng = np.random.default_rng(0)
    episodes = [(step, float(step) / 400 + rng.normal()) for step in range(20, 4001, 20)]
    episodes[77] = (episodes[77][0], 400.0)  # a peak the mean at an iteration's end alone would miss
    fake_run(runs_dir, "memory", 1, episodes, [(step, step / 50) for step in range(100, 4001, 100)])
    return runs_dir / "Fake-v0__memory__s1__x"


def test_a_shipped_curve_keeps_the_runs_best_final_and_first_reach_to_a_row(tmp_path):
    run_dir = noisy_run(tmp_path / "runs")
    run, _ = curves.load_run(run_dir, curves.CURVE_WINDOW)
    header, rows = curves.curve_table(run, max_rows=9)  # 40 iterations kept as 9 rows: every 4th or 5th
    assert len(rows) == 9 and rows[-1][0] == 4000 and header[0] == "env_step"
    path = curves.write_table(tmp_path / "x.curve.csv", header, rows)
    shipped = curves.run_from_curve(path, "x", "memory", 1)
    # the best is the spike's (the run ends near 10), though no row ends on it
    assert shipped.best == pytest.approx(run.best) and run.best > 20 and run.first_reach(20) < 2000
    assert shipped.smoothed[-1] == pytest.approx(run.smoothed[-1]) and shipped.episodes == run.episodes == 200
    row_steps = [row[0] for row in rows]
    for threshold in (1.0, 3.0, 5.0, 20.0):
        exact = run.first_reach(threshold)
        # the first kept row at or after the exact step
        assert shipped.first_reach(threshold) == next(step for step in row_steps if step >= exact), threshold
    assert shipped.seconds_at(4000) == pytest.approx(80.0)
    assert shipped.losses["losses/value_loss"][1][-1] == pytest.approx(1 / 4000)


def fake_shipped(trained: Path, runs_dir: Path) -> None:
    """A manifest of two agents of Fake-v0: a memory agent with the curve of `noisy_run`, a pixel agent without."""
    trained.mkdir(parents=True)
    curves.write_curve(noisy_run(runs_dir), trained / "Fake-v0__memory.curve.csv")
    evaluation = {"episodes": 100, "mean_return": 9.5, "seed": 20000, "greedy": False}
    entries = [{"agent": "memory", "env_id": "Fake-v0", "env_kwargs": {}, "file": "Fake-v0__memory.pt", "seed": 1,
                "run_name": "x", "global_step": 4000, "train_seconds": 80.0, "evaluation": evaluation,
                "curve": "Fake-v0__memory.curve.csv"},
               {"agent": "pixel", "env_id": "Fake-v0", "env_kwargs": {}, "file": "Fake-v0__pixel.pt", "seed": 3,
                "run_name": "old", "global_step": 9000, "train_seconds": 300.0,
                "evaluation": {**evaluation, "mean_return": 2.25}}]
    (trained / "manifest.json").write_text(json.dumps({"agents": entries}))


def test_the_shipped_agents_are_compared_from_their_curves_and_the_manifest(tmp_path):
    trained = tmp_path / "trained"
    fake_shipped(trained, tmp_path / "runs")
    out = compare.compare_shipped("Fake-v0", tmp_path / "out", targets=(5.0,), baseline_games=0, trained_dir=trained)
    assert out == tmp_path / "out" / "shipped" / "Fake-v0"
    agents = {r["agent"]: r for r in read_csv(out / "comparison.csv")}
    assert set(agents) == {"memory (state)", "pixel"}
    run, _ = curves.load_run(tmp_path / "runs" / "Fake-v0__memory__s1__x", curves.CURVE_WINDOW)
    assert float(agents["memory (state)"]["best_return"]) == pytest.approx(run.best)
    assert agents["memory (state)"]["evaluation"] == "9.50 (100 games, sampled)"
    pixel = agents["pixel"]
    assert pixel["reached_5"] == "no curve" and pixel["steps_to_5"] == "" and pixel["best_return"] == ""
    assert float(pixel["sps"]) == pytest.approx(30.0) and pixel["evaluation"] == "2.25 (100 games, sampled)"
    table = (out / "comparison.md").read_text()
    assert "Shipped without a curve" in table and ": pixel;" in table
    assert "| pixel | 1 | 9,000 | 300 | 30 | - | - | 2.25 (100 games, sampled) | no curve |" in table
    assert (out / "returns.png").is_file()

    # without a curve to draw, no plot of the comparison before stays beside the new tables
    manifest = json.loads((trained / "manifest.json").read_text())
    del manifest["agents"][0]["curve"]
    (trained / "manifest.json").write_text(json.dumps(manifest))
    compare.compare_shipped("Fake-v0", tmp_path / "out", baseline_games=0, trained_dir=trained)
    assert not (out / "returns.png").exists() and not (out / "losses.png").exists()


def test_shipped_comparison_errors_name_the_fix(tmp_path):
    trained = tmp_path / "trained"
    fake_shipped(trained, tmp_path / "runs")
    with pytest.raises(UserError, match=r"no agent shipped for Other-v0 .*shipped envs: Fake-v0.*--env-id"):
        compare.compare_shipped("Other-v0", tmp_path / "out", trained_dir=trained)
    (trained / "Fake-v0__memory.curve.csv").write_text("step,return\n1,2\n")
    with pytest.raises(UserError, match="not a training curve.*git checkout"):
        compare.compare_shipped("Fake-v0", tmp_path / "out", baseline_games=0, trained_dir=trained)
    (trained / "Fake-v0__memory.curve.csv").unlink()
    with pytest.raises(UserError, match="file is missing; restore it with git checkout"):
        compare.compare_shipped("Fake-v0", tmp_path / "out", baseline_games=0, trained_dir=trained)


def test_shipping_from_a_run_folder_ships_its_training_curve(tmp_path):
    """The curve of the run folder the model lies in ships beside it; shipping again from elsewhere drops it, so no
    curve of an agent replaced stays listed."""
    entry = next(e for e in read_manifest()["agents"] if (e["agent"], e["env_id"]) == ("memory", "GBCPong-v0"))
    _, checkpoint = load_agent(TRAINED_DIR / entry["file"])
    fake_run(tmp_path / "runs", "memory", 1, [(step, step / 100) for step in range(10, 501, 10)],
             [(step, step / 10) for step in range(100, 501, 100)])
    run_dir = tmp_path / "runs" / "Fake-v0__memory__s1__x"
    shutil.copyfile(TRAINED_DIR / entry["file"], run_dir / "model.pt")
    trained = tmp_path / "trained"
    shipped = ship(run_dir / "model.pt", checkpoint, entry["evaluation"], {}, trained_dir=trained)
    assert shipped["curve"] == "GBCPong-v0__memory.curve.csv"
    rows = read_csv(trained / shipped["curve"])
    assert [int(r["env_step"]) for r in rows] == [100, 200, 300, 400, 500] and rows[-1]["episodes"] == "50"
    assert float(rows[-1]["mean_return_last_20"]) == pytest.approx(np.mean(np.arange(310, 501, 10) / 100))

    # the same model shipped again from outside a run folder (say, to evaluate it anew) keeps its curve
    same = ship(trained / shipped["file"], checkpoint, entry["evaluation"], {}, trained_dir=trained)
    assert same["curve"] == shipped["curve"] and len(read_csv(trained / shipped["curve"])) == 5
    # another model in its place: the curve was the old one's, so it goes
    other = next(e for e in read_manifest()["agents"] if e["sha256"] != entry["sha256"])
    again = ship(TRAINED_DIR / other["file"], checkpoint, entry["evaluation"], {}, trained_dir=trained)
    assert "curve" not in again and not (trained / shipped["curve"]).exists()
    assert "curve" not in read_manifest(trained)["agents"][0]


def test_compare_shipped_refuses_another_window(tmp_path):
    done = subprocess.run([sys.executable, "scripts/04_compare.py", "--env-id", "GBCSnake-v0", "--shipped",
                           "--window", "5", "--out-dir", str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 2 and done.stderr.startswith("error: --shipped reads the shipped curves, smoothed over "
                                                           "20 episodes: drop --window")
    assert not any(tmp_path.iterdir())
