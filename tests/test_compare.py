"""agents.compare (scripts/04_compare.py's library) on hand-made TensorBoard runs whose convergence steps are known."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from torch.utils.tensorboard import SummaryWriter

from agents import compare
from agents.compare import compare_runs
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

    run = compare.Run("r", "memory", 1, *(np.zeros(0),) * 4, {}, frame_skip=4)
    lines = compare.reference_lines("GBCBreakout-v0", [run], games=2)
    assert [label.split(" script")[0] for label, _ in lines] == ["random", "follow-ball"]
    follow = np.mean([r["return"] for r in play_episodes("follow_ball", 2, 4, seed=0)])
    assert lines[1][1] == pytest.approx(follow) and follow > lines[0][1] + 20
    assert compare.reference_lines("CartPole-v1", [run], games=2) == []


@pytest.mark.skipif(not (REPO / "roms" / "pong" / "pong.gb").is_file(), reason="ROM not built: make -C roms")
def test_reference_lines_of_a_new_game_are_its_own_scripted_player():
    from gbc.baselines import play_episodes

    run = compare.Run("r", "memory", 1, *(np.zeros(0),) * 4, {}, frame_skip=4)
    lines = compare.reference_lines("GBCPong-v0", [run], games=1)
    assert [label.split(" script")[0] for label, _ in lines] == ["random", "track-ball"]
    track = play_episodes("track_ball", 1, 4, seed=0, game="pong")
    assert lines[1][1] == pytest.approx(next(track)["return"])
