"""The extractor's stages in order, as scripts/01_extract_state.py runs them: record an env's RAM under a few
policies, decide every byte, write the spec (and a picture of the decisions), score it against the ROM's symbols
file when there is one.

Where the spec goes: `--out` when given; else `artifacts/extract/<profile or env>/` under the working directory.
The committed spec beside a ROM (roms/<game>/<game>.state_spec.json, which `obs_type="state"` reads by default)
is replaced only when asked (`update_committed=True`), so a trial run never changes what training reads.

Not re-exported by gbc.extract: it plays gbc.baselines' agents, and gbc.baselines imports gbc, which imports
gbc.extract (through gbc.env).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import gymnasium as gym

import gbc  # noqa: F401  (registers the envs, so gym.spec knows the Game Boy ids)
from gbc.baselines import SCRIPTED_PLAYERS, RandomAgent
from gbc.extract.core import ExtractSettings, build_spec, extract
from gbc.extract.perturb import EmulatorReplayer
from gbc.extract.picture import draw_decisions
from gbc.extract.record import PolicySource, RecordingError, check_env_id, is_game_boy_env_id, record_ram
from gbc.extract.score import bars_met, format_score, load_json, score_spec
from gbc.extract.spec import FLAT_LAYOUT, GAME_BOY_LAYOUT, SPEC_SUFFIX, default_spec_path, write_spec
from gbc.profiles import ROMS_DIR, GameProfile, get_profile

OUTPUT_ROOT = Path("artifacts") / "extract"  # relative to the working directory, as every script's outputs


@dataclass
class ExtractionJob:
    """What one run of the extractor does (scripts/01_extract_state.py's Args, parsed)."""

    env_id: str = "GBCBreakout-v0"
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    frames: int = 100_000
    policies: Sequence[str] = ()
    extra_sources: Sequence[PolicySource] = ()
    """more kinds of play (a trained agent's), after the named policies"""
    seed: int = 0
    action_repeat: int = 4
    max_episode_frames: int = 20_000
    out: Path | None = None
    update_committed: bool = False
    picture: bool = True
    score: bool = True
    settings: ExtractSettings = field(default_factory=ExtractSettings)


def parse_env_kwargs(text: str) -> dict[str, Any]:
    """--env-kwargs as a dict; empty text is {}."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise RecordingError(f"--env-kwargs is not valid JSON ({err}): {text!r}") from err
    if not isinstance(value, dict):
        raise RecordingError(f"--env-kwargs must be a JSON object, got {text!r}")
    return value


def register_ale() -> None:
    """ALE ids (ALE/Breakout-v5) are registered only once ale_py is imported (Gymnasium 1.x)."""
    try:
        import ale_py
    except ModuleNotFoundError:
        return
    gym.register_envs(ale_py)


def env_profile(env_id: str, env_kwargs: dict[str, Any]) -> GameProfile | None:
    """The game profile of a Game Boy env id (with its kwargs), None for any other env."""
    check_env_id(env_id)
    if not is_game_boy_env_id(env_id):
        return None
    return get_profile({**gym.spec(env_id).kwargs, **env_kwargs}.get("profile") or "")


def scripted_player(profile: GameProfile | None):
    """The scripted player class of a profile, by the profile's name (gbc.baselines.SCRIPTED_PLAYERS), or None.
    Only the name decides: a user profile whose variables happen to be called ball_x and paddle_x is not our
    Breakout, and its ROM need not have the constants our players read."""
    return SCRIPTED_PLAYERS.get(profile.name) if profile is not None else None


def policy_sources(job: ExtractionJob, profile: GameProfile | None) -> list[PolicySource]:
    """The named policies (default: random, and the game's scripted player where it has one), then the job's
    extra sources. "scripted" (or the player's own name, e.g. follow_ball) is the game's scripted player."""
    player = scripted_player(profile)
    names = list(job.policies) or ["random", *(["scripted"] if player is not None else [])]
    choices = ["random", "scripted", *sorted({p.name for p in SCRIPTED_PLAYERS.values()})]
    unknown = [n for n in names if n not in choices]
    if unknown:
        raise RecordingError(f"unknown policies {unknown}; choose from {choices} (and --model for an agent)")
    scripted = [n for n in names if n != "random"]
    if scripted and player is None:
        raise RecordingError(f"{job.env_id} (profile {profile.name if profile else None!r}) has no scripted player "
                             f"(games with one: {sorted(SCRIPTED_PLAYERS)}): use --policies random, or --model")
    wrong = [n for n in scripted if n not in ("scripted", player.name)] if player is not None else []
    if wrong:
        raise RecordingError(f"{wrong} is not {profile.name}'s scripted player; it is {player.name!r} "
                             "(or say --policies scripted)")
    ram_kwargs = {"obs_type": "ram"} if is_game_boy_env_id(job.env_id) else {}
    action_space = gym.spaces.Discrete(len(profile.actions)) if profile is not None else None
    sources = []
    for name in names:
        if name == "random":
            if action_space is None:
                probe = gym.make(job.env_id, **job.env_kwargs)
                action_space = probe.action_space
                probe.close()
            sources.append(PolicySource("random", lambda s, a=action_space: RandomAgent(a, s), ram_kwargs,
                                        job.action_repeat))
        else:
            sources.append(PolicySource(player.name, lambda s: player(profile, s), ram_kwargs, job.action_repeat))
    return sources + list(job.extra_sources)


def spec_output(job: ExtractionJob, profile: GameProfile | None) -> Path:
    """Where the spec goes: --out; the committed spec beside the ROM if asked; else artifacts/extract/<name>/."""
    if job.out is not None and job.update_committed:
        raise RecordingError("give either --out PATH or --update-committed, not both")
    if job.out is not None:
        return Path(job.out)
    if job.update_committed:
        if profile is None:
            raise RecordingError(f"--update-committed replaces the spec beside a ROM; {job.env_id} has no ROM: "
                                 "pass --out PATH")
        return default_spec_path(profile.rom_path)
    if profile is not None:
        return OUTPUT_ROOT / profile.name / default_spec_path(profile.rom_path).name
    name = job.env_id.replace("/", "-")
    return OUTPUT_ROOT / name / f"{name}{SPEC_SUFFIX}"


def picture_path(spec_path: Path) -> Path:
    """The decisions' PNG beside a spec: x.state_spec.json -> x.state_spec.png."""
    return spec_path.with_name(spec_path.name.removesuffix(".json") + ".png")


def rom_entry(profile: GameProfile | None) -> dict[str, Any] | None:
    """The spec's "rom": the profile, the ROM's file name, its path in the repository (if inside) and SHA-1."""
    if profile is None:
        return None
    rom_path = profile.rom_path.resolve()
    repo = ROMS_DIR.resolve().parent
    relative = rom_path.relative_to(repo) if rom_path.is_relative_to(repo) else None
    return {"profile": profile.name, "file": rom_path.name, "path": str(relative) if relative else None,
            "sha1": profile.sha1.lower()}


def symbol_names(symbols: dict[str, Any], addresses: Any, banks: Any) -> dict[int, str]:
    """Index -> variable name (on its first byte) for the picture; a banked variable (the symbols file's
    "cgb_wram_bank") names the byte of its bank."""
    index_of = {(0 if banks is None else int(b), int(a)): i
                for i, (a, b) in enumerate(zip(addresses.tolist(), banks.tolist() if banks is not None else
                                               [0] * len(addresses)))}
    names = {}
    for variable in symbols["variables"]:
        key = (int(variable.get("cgb_wram_bank", 0)), int(variable["address"]))
        if key in index_of:
            names[index_of[key]] = variable["name"]
    return names


def _load_average() -> float:
    return round(os.getloadavg()[0], 2)


def run_extraction(job: ExtractionJob, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Record, extract, write the spec (and its picture), score it; returns the figures (timings included)."""
    start, cpu_start = time.perf_counter(), time.process_time()
    load_start = _load_average()
    if job.env_id.startswith("ALE/"):
        register_ale()
    profile = env_profile(job.env_id, job.env_kwargs)
    out = spec_output(job, profile)
    sources = policy_sources(job, profile)
    log(f"recording {job.frames} frames of {job.env_id} ({', '.join(s.name for s in sources)} play)")
    recording = record_ram(job.env_id, job.env_kwargs, sources, job.frames, job.seed, job.max_episode_frames,
                           progress=log)
    recorded, cpu_recorded = time.perf_counter(), time.process_time()
    replayer = None
    if profile is not None and job.settings.overwrite_test:
        replayer = EmulatorReplayer(job.env_id, job.env_kwargs, recording, job.seed, job.max_episode_frames)
    try:
        extraction = extract(recording, job.settings, replayer)
    finally:
        if replayer is not None:
            replayer.close()
    extracted, cpu_extracted = time.perf_counter(), time.process_time()
    if extraction.overwrite_test is not None:
        log(f"perturbation test: {extraction.overwrite_test}")

    spec = build_spec(extraction, env_id=job.env_id, env_kwargs=job.env_kwargs,
                      layout=GAME_BOY_LAYOUT if profile is not None else FLAT_LAYOUT, rom=rom_entry(profile),
                      recording={"sources": recording.sources, "seed": job.seed})
    write_spec(out, spec)
    log(f"wrote {out} ({len(spec['features'])} features from {len(spec['kept'])} kept bytes of {extraction.size})")

    symbols_path = profile.rom_path.with_suffix(".symbols.json") if profile is not None else None
    symbols = load_json(symbols_path) if symbols_path is not None and symbols_path.is_file() else None
    if job.picture:
        # Names from the symbols file label the picture only; the decisions above never saw them.
        names = symbol_names(symbols, extraction.addresses, extraction.banks) if symbols is not None else {}
        picture = draw_decisions(extraction, picture_path(out), names=names,
                                 title=f"{job.env_id}: {extraction.frames} frames, {extraction.episodes} episodes; "
                                       f"{len(spec['kept'])} bytes kept -> {len(spec['features'])} features")
        log(f"wrote {picture}")
    result = {"spec": str(out), "frames": extraction.frames, "episodes": extraction.episodes,
              "kept_bytes": len(spec["kept"]), "features": len(spec["features"]),
              "record_seconds": round(recorded - start, 2), "extract_seconds": round(extracted - recorded, 2),
              "record_cpu_seconds": round(cpu_recorded - cpu_start, 2),
              "extract_cpu_seconds": round(cpu_extracted - cpu_recorded, 2),
              "total_seconds": round(time.perf_counter() - start, 2), "load_1min_start": load_start,
              "load_1min_end": _load_average()}
    if job.score and symbols is not None:
        scored = score_spec(spec, symbols)
        log(format_score(scored))
        result.update(state_recall=scored["state_recall"], screen_bytes_kept=scored["screen_bytes_kept"],
                      runtime_bytes_kept=scored["runtime_bytes_kept"], scratch_bytes_kept=scored["scratch_bytes_kept"],
                      runtime_scratch_share=round(scored["runtime_scratch_share"], 4), bars_met=bars_met(scored))
    return result
