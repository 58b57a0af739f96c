"""Step 01: record RAM over many episodes and extract the game's state variables into a spec file.

    .venv/bin/python scripts/01_extract_state.py                      # GBCBreakout-v0, 100,000 frames
    .venv/bin/python scripts/01_extract_state.py --model runs/GBCBreakout-v0__memory__s1__x/model.pt
    .venv/bin/python scripts/01_extract_state.py --env-id ALE/Breakout-v5 \\
        --env-kwargs '{"obs_type": "ram", "frameskip": 1, "repeat_action_probability": 0.0}'

Plays random, scripted (GBCBreakout only) and, with --model, a trained memory agent's episodes, several seeds
each; records the RAM observation every frame; decides every byte (gbc.extract); writes the spec (by default
beside the ROM: roms/breakout/breakout.state_spec.json, which GBCBreakout-v0 obs_type="state" reads) and a
picture of the decisions beside it (.png); for a ROM with a symbols file, prints the score against it
(scripts/score_extractor.py prints it for an existing spec). The extractor never reads the symbols file.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym
import numpy as np
import tyro

import gbc
from gbc.baselines import FollowBallAgent, RandomAgent
from gbc.extract import ExtractSettings, RecordingTooShortError, build_spec, extract, write_json_atomic
from gbc.extract_picture import draw_decisions
from gbc.extract_record import PolicySource, RecordingError, is_game_boy_env_id, record
from gbc.extract_score import bars_met, format_score, load_json, score
from gbc.extract_spec import FLAT_LAYOUT, GAME_BOY_LAYOUT, default_spec_path

REPO = Path(__file__).resolve().parent.parent
POLICIES = ("random", "follow_ball")


@dataclass
class Args:
    env_id: str = "GBCBreakout-v0"
    """a Game Boy env id, or any Gymnasium env whose observation is a flat uint8 RAM vector"""
    env_kwargs: str = ""
    """JSON object of env keyword arguments (e.g. '{"profile": "mygame"}' for GBC-v0)"""
    frames: int = 100_000
    """RAM vectors to record in all (env steps; Game Boy envs step one frame at a time)"""
    policies: tuple[str, ...] = ()
    """of random, follow_ball (GBCBreakout only); empty: both where they apply"""
    model: str | None = None
    """a trained memory agent's model.pt (scripts/02_train_memory.py) to record as one more policy"""
    seed: int = 0
    """seed of every policy's first episode; episode i uses seed + i"""
    action_repeat: int = 4
    """env steps each decision of random/follow_ball is held (a model uses its training frame_skip)"""
    max_episode_frames: int = 20_000
    """episodes are cut after this many steps"""
    out: str | None = None
    """spec path; default: beside the ROM (<rom>.state_spec.json), else artifacts/state_spec/<env>.state_spec.json"""
    picture: bool = True
    """also write the decisions as a PNG beside the spec (<spec stem>.png)"""
    score: bool = True
    """print the score against the ROM's symbols file, when there is one"""
    extract_settings: ExtractSettings = field(default_factory=ExtractSettings)
    """the extractor's thresholds (e.g. --extract-settings.keep-frame-counters)"""


def parse_env_kwargs(text: str) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise RecordingError(f"--env-kwargs is not valid JSON ({err}): {text!r}") from err
    if not isinstance(value, dict):
        raise RecordingError(f"--env-kwargs must be a JSON object, got {text!r}")
    return value


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
    from agents.checkpoint import CheckpointError, load_agent

    try:
        agent, payload = load_agent(path)
    except CheckpointError as err:
        raise RecordingError(str(err)) from err
    if payload.get("env_id") != env_id:
        raise RecordingError(f"{path} was trained on {payload.get('env_id')!r}, not {env_id!r}; pass --env-id "
                             f"{payload.get('env_id')} or a model trained on {env_id}")
    if agent.config.get("type") != "mlp":
        raise RecordingError(f"{path} is a {agent.config.get('type')} agent; only memory agents (MLP on a flat "
                             "observation) can be recorded, since the recording steps one frame at a time")
    kwargs = dict(payload.get("env_kwargs") or {})
    repeat = int(kwargs.pop("frame_skip", 4)) if is_game_boy_env_id(env_id) else 1
    return PolicySource("model", lambda seed: TorchPolicy(agent, seed), kwargs, repeat)


def policy_sources(args: Args, env_kwargs: dict, profile) -> list[PolicySource]:
    scripted_ok = profile is not None and all(v in profile.variables for v in ("paddle_x", "ball_x", "ball_y"))
    names = list(args.policies) or [p for p in POLICIES if p == "random" or scripted_ok]
    unknown = [n for n in names if n not in POLICIES]
    if unknown:
        raise RecordingError(f"unknown policies {unknown}; choose from {list(POLICIES)} (and --model for an agent)")
    if "follow_ball" in names and not scripted_ok:
        raise RecordingError(f"follow_ball plays GBCBreakout only (it reads paddle_x/ball_x); {args.env_id} has no "
                             "such variables: use --policies random")
    ram_kwargs = {"obs_type": "ram"} if is_game_boy_env_id(args.env_id) else {}
    action_space = gym.spaces.Discrete(len(profile.actions)) if profile is not None else None
    sources = []
    for name in names:
        if name == "random":
            if action_space is None:
                probe = gym.make(args.env_id, **env_kwargs)
                action_space = probe.action_space
                probe.close()
            sources.append(PolicySource("random", lambda s, a=action_space: RandomAgent(a, s), ram_kwargs,
                                        args.action_repeat))
        else:
            sources.append(PolicySource("follow_ball", lambda s: FollowBallAgent(profile, s), ram_kwargs,
                                        args.action_repeat))
    if args.model:
        sources.append(model_source(args.model, args.env_id))
    return sources


def register_ale() -> None:
    """ALE ids (ALE/Breakout-v5) are registered only once ale_py is imported (Gymnasium 1.x)."""
    try:
        import ale_py
    except ModuleNotFoundError:
        return
    gym.register_envs(ale_py)


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def main(args: Args) -> dict:
    start, cpu_start = time.perf_counter(), time.process_time()
    load_start = load_average()
    env_kwargs = parse_env_kwargs(args.env_kwargs)
    if args.env_id.startswith("ALE/"):
        register_ale()
    game_boy = is_game_boy_env_id(args.env_id)
    profile = None
    if game_boy:
        profile = gbc.get_profile({**gym.spec(args.env_id).kwargs, **env_kwargs}.get("profile") or "")
    settings = args.extract_settings
    sources = policy_sources(args, env_kwargs, profile)
    print(f"01: recording {args.frames} frames of {args.env_id} ({', '.join(s.name for s in sources)} play)")
    recording = record(args.env_id, env_kwargs, sources, args.frames, args.seed, args.max_episode_frames,
                       progress=lambda line: print(f"01: {line}"))
    recorded, cpu_recorded = time.perf_counter(), time.process_time()
    extraction = extract(recording, settings)
    extracted, cpu_extracted = time.perf_counter(), time.process_time()

    rom = None
    if profile is not None:
        rom_path = profile.rom_path.resolve()
        relative = rom_path.relative_to(REPO) if rom_path.is_relative_to(REPO) else None
        rom = {"profile": profile.name, "file": rom_path.name, "path": str(relative) if relative else None,
               "sha1": profile.sha1.lower()}
    if args.out:
        out = Path(args.out)
    elif profile is not None:
        out = default_spec_path(profile.rom_path)
    else:
        out = REPO / "artifacts" / "state_spec" / f"{args.env_id.replace('/', '-')}.state_spec.json"
    spec = build_spec(extraction, env_id=args.env_id, env_kwargs=env_kwargs,
                      layout=GAME_BOY_LAYOUT if game_boy else FLAT_LAYOUT, rom=rom,
                      recording={"sources": recording.sources, "seed": args.seed})
    write_json_atomic(out, spec)
    print(f"01: wrote {out} ({len(spec['features'])} features from {len(spec['kept'])} kept bytes of "
          f"{extraction.size})")

    symbols_path = profile.rom_path.with_suffix(".symbols.json") if profile is not None else None
    symbols = load_json(symbols_path) if symbols_path is not None and symbols_path.is_file() else None
    if args.picture:
        # Names from the symbols file label the picture only; the decisions above never saw them.
        names = {}
        if symbols is not None:
            for variable in symbols["variables"]:
                names[int(variable["address"])] = variable["name"]
        picture = draw_decisions(extraction, out.with_name(out.name.removesuffix(".json") + ".png"),
            title=f"{args.env_id}: {extraction.frames} frames, {extraction.episodes} episodes; "
                  f"{len(spec['kept'])} bytes kept -> {len(spec['features'])} features", names=names)
        print(f"01: wrote {picture}")
    result = {"spec": str(out), "frames": extraction.frames, "episodes": extraction.episodes,
              "kept_bytes": len(spec["kept"]), "features": len(spec["features"]),
              "record_seconds": round(recorded - start, 2), "extract_seconds": round(extracted - recorded, 2),
              "record_cpu_seconds": round(cpu_recorded - cpu_start, 2),
              "extract_cpu_seconds": round(cpu_extracted - cpu_recorded, 2),
              "total_seconds": round(time.perf_counter() - start, 2), "load_1min_start": load_start,
              "load_1min_end": load_average()}
    if args.score and symbols is not None:
        scored = score(spec, symbols)
        print(format_score(scored))
        result.update(state_recall=scored["state_recall"], screen_bytes_kept=scored["screen_bytes_kept"],
                      runtime_bytes_kept=scored["runtime_bytes_kept"], bars_met=bars_met(scored))
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    try:
        main(tyro.cli(Args))
    except (RecordingError, RecordingTooShortError, gbc.ProfileError, gbc.UnknownProfileError) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
