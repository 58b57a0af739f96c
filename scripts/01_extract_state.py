"""Step 01: record RAM over many episodes and extract the game's state variables into a spec file.

    .venv/bin/python scripts/01_extract_state.py                      # GBCBreakout-v0, 100,000 frames
    .venv/bin/python scripts/01_extract_state.py --update-committed   # ... replacing roms/breakout/breakout.state_spec.*
    .venv/bin/python scripts/01_extract_state.py --model runs/GBCBreakout-v0__memory__s1__x/model.pt
    .venv/bin/python scripts/01_extract_state.py --env-id ALE/Breakout-v5 \\
        --env-kwargs '{"obs_type": "ram", "frameskip": 1, "repeat_action_probability": 0.0}'

Plays random, the game's scripted player (by profile name) and, with --model, a trained memory agent's episodes, several seeds
each; records the RAM observation every frame; decides every byte; writes the spec and a picture of the
decisions beside it (.png) to artifacts/extract/<profile>/ (or --out); for a ROM with a symbols file, prints the
score against it (scripts/score_extractor.py prints it for an existing spec). The extractor never reads the
symbols file. The committed spec beside the ROM, which obs_type="state" reads, changes only with
--update-committed. The steps are gbc.extract.pipeline's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tyro

from breakout_py.errors import run_script
from breakout_py.files import json_line
from gbc.extract.core import ExtractSettings
from gbc.extract.pipeline import ExtractionJob, parse_env_kwargs, run_extraction
from gbc.extract.record import PolicySource, RecordingError, is_game_boy_env_id


@dataclass
class Args:
    env_id: str = "GBCBreakout-v0"
    """a Game Boy env id, or any Gymnasium env whose observation is a flat uint8 RAM vector"""
    env_kwargs: str = ""
    """JSON object of env keyword arguments (e.g. '{"profile": "mygame"}' for GBC-v0)"""
    frames: int = 100_000
    """RAM vectors to record in all (env steps; Game Boy envs step one frame at a time)"""
    policies: tuple[str, ...] = ()
    """of random, scripted (the game's scripted player, chosen by profile name: follow_ball, chase_food, track_ball);
    empty: both where the game has a scripted player"""
    model: str | None = None
    """a trained memory agent's model.pt (scripts/02_train_memory.py) to record as one more policy"""
    seed: int = 0
    """seed of every policy's first episode; episode i uses seed + i"""
    action_repeat: int = 4
    """env steps each decision of random/scripted is held (a model uses its training frame_skip)"""
    max_episode_frames: int = 20_000
    """episodes are cut after this many steps"""
    out: str | None = None
    """spec path; default: artifacts/extract/<profile or env>/<rom or env>.state_spec.json (working directory)"""
    update_committed: bool = False
    """write the spec over the committed one beside the ROM (roms/<game>/<game>.state_spec.{json,png}), which
    obs_type="state" reads"""
    picture: bool = True
    """also write the decisions as a PNG beside the spec (<spec stem>.png)"""
    score: bool = True
    """print the score against the ROM's symbols file, when there is one"""
    extract_settings: ExtractSettings = field(default_factory=ExtractSettings)
    """the extractor's thresholds (e.g. --extract-settings.keep-frame-counters)"""


class TorchPolicy:
    """A trained agent's stochastic policy, seeded per episode."""

    def __init__(self, agent, seed: int):
        import torch

        self._torch = torch
        self._agent = agent
        self._generator = torch.Generator().manual_seed(seed)

    def act(self, observation: np.ndarray) -> int:
        torch = self._torch
        with torch.no_grad():
            logits = self._agent.policy_logits(torch.as_tensor(observation).unsqueeze(0))
            return int(torch.multinomial(torch.softmax(logits, -1), 1, generator=self._generator).item())


def model_source(path: str, env_id: str) -> PolicySource:
    """A trained memory agent's play, as one more policy (agents/ is above gbc/, so it is loaded here)."""
    from agents.checkpoint import CheckpointError, load_agent

    try:
        agent, payload = load_agent(path)
    except CheckpointError as err:
        raise RecordingError(str(err)) from err
    if payload.get("env_id") != env_id:
        raise RecordingError(f"{path} was trained on {payload.get('env_id')!r}, not {env_id!r}; pass --env-id "
                             f"{payload.get('env_id')} or a model trained on {env_id}")
    if agent.config.get("type") not in ("mlp", "grid"):
        raise RecordingError(f"{path} is a {agent.config.get('type')} agent; only memory agents (a network on a flat "
                             "observation) can be recorded, since the recording steps one frame at a time")
    kwargs = dict(payload.get("env_kwargs") or {})
    repeat = int(kwargs.pop("frame_skip", 4)) if is_game_boy_env_id(env_id) else 1
    return PolicySource("model", lambda seed: TorchPolicy(agent, seed), kwargs, repeat)


def main(args: Args) -> dict:
    job = ExtractionJob(
        env_id=args.env_id, env_kwargs=parse_env_kwargs(args.env_kwargs), frames=args.frames, policies=args.policies,
        extra_sources=[model_source(args.model, args.env_id)] if args.model else [], seed=args.seed,
        action_repeat=args.action_repeat, max_episode_frames=args.max_episode_frames,
        out=Path(args.out) if args.out else None, update_committed=args.update_committed, picture=args.picture,
        score=args.score, settings=args.extract_settings,
    )
    result = run_extraction(job, log=lambda line: print(f"01: {line}"))
    print(json_line(result))
    return result


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
