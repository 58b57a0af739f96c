"""Play a trained agent for N whole games and print the mean and spread of its return; optionally record a video or
ship the model into agents/trained/ (model file + manifest entry with this evaluation).

    .venv/bin/python scripts/evaluate.py                                   # the shipped pixel agent, 100 games
    .venv/bin/python scripts/evaluate.py --agent memory --video artifacts/evaluate/memory.mp4
    .venv/bin/python scripts/evaluate.py --agent memory_ram --env-id GBCPong-v0  # the memory agent on raw RAM
    .venv/bin/python scripts/evaluate.py --model runs/BreakoutPy-v0__memory__s1__tuned/model.pt
    .venv/bin/python scripts/evaluate.py --model runs/.../model.pt --ship  # evaluate, then ship it
    .venv/bin/python scripts/evaluate.py --env-id GBCRunner-v0 --trace player_y,next_obstacle_kind  # how it plays

The model is played on the env id and env kwargs it was trained with (stored in the model file); a model whose
network does not fit the env's observations or actions is refused with a clear error. Games run in parallel, one per
sub-env of a vector env seeded with --seed, and each counts from its first step to game over (or the time limit).
Writes artifacts/evaluate/<env>__<agent>__<model name>.json and prints where. On a Game Boy game, --trace VARS also
plays --trace-games games one at a time reading those RAM variables after every step (agents/play_trace.py): the
steps go to <same name>__trace.csv, and the summary (action shares; each variable's spread, most common value and
values at the games' ends) into the JSON and onto the screen.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path

import torch
import tyro

from agents.checkpoint import load_agent
from agents.cpu_threads import use_torch_threads
from agents.evaluation import evaluate_agent, summarise_returns
from agents.play_trace import summarise_trace, trace_games, trace_rows
from agents.shipped import load_shipped, ship, shipped_agent_name
from agents.trainer import record_video
from breakout_py.errors import UserError, run_script
from breakout_py.files import json_line, write_json, write_table


@dataclass
class Args:
    model: str = ""
    """a model.pt or checkpoint.pt written by 02_train_memory.py / 03_train_pixel.py; empty: the shipped agent"""
    agent: str = "pixel"
    """which shipped agent to evaluate when --model is empty: memory (on the extracted state), memory_ram (on a Game
    Boy game's raw RAM) or pixel"""
    env_id: str = "BreakoutPy-v0"
    """env of the shipped agent (a --model is always played on its own env)"""
    env_kwargs: str = ""
    """JSON object of env kwargs to play on instead of the model's own (must fit its network)"""
    episodes: int = 100
    """games to play"""
    seed: int = 10_000
    """seed of the evaluation envs and action sampling (apart from the training seeds)"""
    greedy: bool = False
    """take the most probable action instead of sampling from the policy as in training"""
    video: str = ""
    """also write one game (sampled actions, seed --seed) to this mp4 file"""
    video_max_steps: int = 3000
    """longest recorded game, in env steps"""
    ship: bool = False
    """copy --model into agents/trained/ and add this evaluation to its manifest entry (needs 100+ games)"""
    trace: str = ""
    """comma-separated RAM variables of a Game Boy game (names from its symbols file) to record after every step of
    --trace-games extra games, e.g. player_y,next_obstacle_kind; empty: no trace"""
    trace_games: int = 20
    """games played for --trace (seeds --seed, --seed + 1, ...)"""
    out_dir: str = "artifacts/evaluate"
    """folder of the JSON result"""
    torch_threads: int = 0
    """torch CPU threads; 0: automatic, which is 1 for inference (agents/cpu_threads.py)"""


def main(args: Args) -> dict:
    use_torch_threads(args.torch_threads)
    if args.model:
        agent, checkpoint = load_agent(args.model)
        where = args.model
    else:
        if args.ship:
            raise UserError("--ship needs --model: the path of the model.pt to ship")
        agent, checkpoint = load_shipped(args.agent, args.env_id)
        where = checkpoint["path"]
    try:
        env_kwargs = json.loads(args.env_kwargs) if args.env_kwargs else checkpoint["env_kwargs"]
    except json.JSONDecodeError as err:
        raise UserError(f"--env-kwargs must be a JSON object such as '{{\"obs_type\": \"pixels\"}}': {err}") from err
    env_id = checkpoint["env_id"]
    agent_name = shipped_agent_name(checkpoint.get("agent_name", checkpoint.get("agent")), checkpoint["env_kwargs"])
    results = evaluate_agent(agent, env_id, env_kwargs, args.episodes, args.seed, args.greedy, where)
    summary = {"model": where, "env_id": env_id, "env_kwargs": env_kwargs, "agent": agent_name,
               "seed": args.seed, "greedy": args.greedy, **summarise_returns(results["returns"]),
               "mean_length": round(float(results["lengths"].mean()), 1)}
    print(json_line(summary), flush=True)

    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = Path(where).parent.name if args.model else f"{env_id.replace('/', '-')}__{agent_name}__shipped"
    if args.video:
        video_return, steps = record_video(agent, env_id, env_kwargs, Path(args.video), args.seed,
                                           args.video_max_steps, 30, torch.device("cpu"))
        summary["video"] = {"path": args.video, "return": video_return, "steps": steps}
        print(f"wrote a video of one game (return {video_return:.0f}, {steps} steps) to {args.video}")
    if args.trace:
        trace = trace_games(agent, env_id, env_kwargs, [name.strip() for name in args.trace.split(",")],
                            args.trace_games, args.seed, args.greedy, where)
        trace_path = write_table(out_dir / f"{stem}__trace.csv", *trace_rows(trace))
        summary["trace"] = {**summarise_trace(trace), "csv": str(trace_path)}
        print(json_line(summary["trace"]), flush=True)
        print(f"wrote the trace of {args.trace_games} games to {trace_path}")
    result_path = write_json(out_dir / f"{stem}.json", {**summary, "returns": results["returns"].tolist()})
    print(f"wrote the evaluation to {result_path}")

    if args.ship:
        if args.episodes < 100 or args.env_kwargs:
            raise UserError("--ship evaluates on the model's own env kwargs over at least 100 games: drop "
                             "--env-kwargs and keep --episodes at 100 or more")
        evaluation = {key: summary[key] for key in ("episodes", "mean_return", "std_return", "median_return",
                                                     "min_return", "max_return", "mean_length", "seed", "greedy")}
        provenance = {"commit": checkpoint.get("commit", "unknown"), "trained_on": checkpoint.get("device", "cpu"),
                      "evaluated_on": f"{platform.machine()} {os.cpu_count()} CPUs, torch {torch.__version__}"}
        # the spec it trained on (a checkpoint from before the record: the one this evaluation read)
        state_spec = checkpoint.get("state_spec") or results["state_spec"]
        entry = ship(Path(args.model), {**checkpoint, "state_spec": state_spec}, evaluation, provenance)
        curve = (f", its training curve as agents/trained/{entry['curve']}" if "curve" in entry else
                 " without a training curve (no run folder's logs beside it)")
        print(f"shipped {args.model} as agents/trained/{entry['file']}{curve} (manifest agents/trained/manifest.json)")
    return summary


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
