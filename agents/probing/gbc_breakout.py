"""Step 07's adapter for pixel agents of GBC Breakout (`GBCBreakout-v0`; `ADAPTER`, see agents.probing.game): play
data and sweeps drawn by the game itself.

Targets: the state spec's features (`roms/breakout/breakout.state_spec.json`), named and typed from the symbols file
(`load_variables`): one variable per symbol, read with the symbol's size and sign (a 16-bit word such as `score` or
`ball_dx` is one value), and one per brick byte (`brick_r<row>_c<col>`, 0/1); each is labelled with its RAM address.

Frames come from the game's own code (`gbc.emulated_render.EmulatedRenderer`): a state saved SCREEN_LAG_FRAMES
frames before a screen, RAM written into it, then those frames run. While the agent plays (its own env kwargs,
sampled actions), the env's emulator saves, for the agent steps that make a kept sample's frame stack, the state
SCREEN_LAG_FRAMES frames before the step's last frame, the variables at that moment, and the RAM the last frame is
drawn from (the sample's targets). Re-rendering a play sample from its saved states gives the env's observation
byte for byte (tested), through the env's own greyscale + area downscale (`gbc.env.grey_frame`).

Frame stacks stay consistent: every frame of a stack is rendered from its own agent step's saved state, so the
earlier frame is the previous step's screen. A sweep sets `ball_x`, `ball_y` or `paddle_x` of the newest frame to a
value over its observed range and shifts the same variable in every earlier frame by the same amount (clipped to the
spec's range), as Python Breakout's "translate" rule does; the ball grid places ball and paddle jointly at random in
their observed box the same way. Targets of a rendered sample are read from the RAM its newest frame was drawn from,
so they are what the screen shows (the game has moved the ball one step from the written value). Only these
sprite-drawn variables are swept: the game redraws the background (bricks, score, lives) only on events, so writing
those bytes would not change the screen; they vary through play only, and their mean-difference directions come
from play states (upper vs lower third, or 0 vs 1). Stacks never reach back to an episode's reset screen (kept steps
are at least `frame_stack` steps into an episode), since no state SCREEN_LAG_FRAMES frames before it exists.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import gymnasium as gym
import numpy as np
import torch.nn as nn

from agents.probing.game import KIND_PLAY, ArrayLayout, GameSamples, GameSpec, ProbeConfig, ProbeSetup
from agents.probing.gbc_ram_map import load_features
from agents.probing.probes import ProbeError, sample_actions
from agents.probing.screen_maps import ScreenPerturbations
from gbc.emulated_render import SCREEN_LAG_FRAMES, EmulatedRenderer
from gbc.env import grey_frame
from gbc.hardware import ram_obs_index
from gbc.profiles import BREAKOUT_SYMBOLS, get_profile

GBC_ENV_ID = "GBCBreakout-v0"
SWEPT = ("ball_x", "ball_y", "paddle_x")  # sprites: the screen follows their RAM within SCREEN_LAG_FRAMES frames
KIND_SWEEP, KIND_BALL_GRID = 1, 2  # after KIND_PLAY = 0
KIND_NAMES = ("play", "sweep", "ball_grid")
# About 3 minutes of CPU on this 2-core machine: the emulated render costs about 5 ms a frame, a saved state 12 ms.
DEFAULTS = dict(num_games=8, num_steps=600, keep_every=6, num_bases=48, ball_positions=12, causal_variables=SWEPT,
                causal_states=48, group_steps=60)


@dataclass(frozen=True)
class Variable:
    """One target: a symbol (or one brick byte) of the state spec, as the game stores it."""

    name: str
    address: int
    size: int  # bytes, little-endian
    signed: bool
    binary: bool  # 0/1 (logistic probe)
    low: int  # the range the spec recorded (the type's range for a word the spec kept only in part)
    high: int

    @property
    def label(self) -> str:
        return f"0x{self.address:04X}"

    def encode(self, value: int) -> bytes:
        return (int(value) % (1 << (8 * self.size))).to_bytes(self.size, "little")


def load_variables(spec_path: Path | None = None, symbols_path: Path = BREAKOUT_SYMBOLS) -> list[Variable]:
    """The spec's features as variables named, sized and signed by the symbols file (see the module docstring)."""
    spec_path = Path(spec_path) if spec_path else get_profile("breakout").rom_path.with_suffix(".state_spec.json")
    symbols = json.loads(Path(symbols_path).read_text())
    by_name = {v["name"]: v for v in symbols["variables"]}
    columns = int(symbols["constants"]["BRICK_COLUMNS"])
    out, seen = [], set()
    for feature in load_features(spec_path, symbols):
        if feature.symbol == "bricks":
            row, col = divmod(feature.offset, columns)
            out.append(Variable(f"brick_r{row}_c{col}", feature.address, 1, False, True, 0, 1))
            continue
        symbol = by_name.get(feature.symbol)
        if symbol is None:  # a kept byte no symbol covers: named by its address
            out.append(Variable(f"ram_{feature.address:04X}", feature.address, feature.size, feature.signed,
                                False, feature.low, feature.high))
            continue
        if feature.symbol in seen:
            continue
        seen.add(feature.symbol)
        size, signed = int(symbol["size"]), not str(symbol["type"]).startswith("u")
        whole = feature.size == size
        bits = 8 * size
        low, high = (feature.low, feature.high) if whole else \
            (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        out.append(Variable(feature.symbol, int(symbol["address"]), size, signed,
                            whole and (feature.low, feature.high) == (0, 1), low, high))
    return out


def decode(raw: np.ndarray, variables: Sequence[Variable]) -> np.ndarray:
    """(N, total bytes) uint8, the variables' bytes in order -> (N, K) float32 values."""
    out = np.empty((len(raw), len(variables)), dtype=np.float32)
    start = 0
    for k, v in enumerate(variables):
        value = sum(raw[:, start + b].astype(np.int64) << (8 * b) for b in range(v.size))
        if v.signed:
            value = np.where(value >= 1 << (8 * v.size - 1), value - (1 << (8 * v.size)), value)
        out[:, k] = value
        start += v.size
    return out


def ram_indices(variables: Sequence[Variable]) -> np.ndarray:
    """Where the variables' bytes sit in the env's RAM observation (gbc.hardware.ram_obs_index), in order."""
    return np.array([ram_obs_index(v.address + b) for v in variables for b in range(v.size)])


def setup_for_gbc_checkpoint(agent: nn.Module, checkpoint: dict[str, Any], source: str) -> ProbeSetup:
    """Checks that the checkpoint is a pixel agent of GBCBreakout-v0 whose network takes that env's frames."""
    if checkpoint.get("env_id") != GBC_ENV_ID:
        raise ProbeError(f"{source} was trained on {checkpoint.get('env_id')!r}, not {GBC_ENV_ID}")
    kwargs = {k: v for k, v in dict(checkpoint.get("env_kwargs") or {}).items() if k != "render_mode"}
    env = gym.make(GBC_ENV_ID, **kwargs)
    try:
        game = env.unwrapped
        obs_type, shape, frame_skip = game.obs_type, tuple(env.observation_space.shape), game.frame_skip
        n_actions, meanings = int(env.action_space.n), tuple(game.get_action_meanings())
    finally:
        env.close()
    if obs_type != "pixels":
        raise ProbeError(f"{source} is a memory agent of {GBC_ENV_ID} (obs_type={obs_type!r}); the probe reads "
                         "a pixel agent's layers: pass a checkpoint of scripts/03_train_pixel.py")
    network = getattr(agent, "config", {})
    if tuple(network.get("obs_shape", ())) != shape or network.get("n_actions") != n_actions:
        raise ProbeError(f"{source}: the network takes observations {network.get('obs_shape')} and "
                         f"{network.get('n_actions')} actions, but {GBC_ENV_ID} with {kwargs} gives {list(shape)} and "
                         f"{n_actions}; the checkpoint does not fit the env it names")
    if frame_skip <= SCREEN_LAG_FRAMES:
        raise ProbeError(f"frame_skip {frame_skip}: re-rendering a step needs a state {SCREEN_LAG_FRAMES} frames "
                         "before its screen inside the same step, so frame_skip must be above that")
    return ProbeSetup(GBC_ENV_ID, kwargs, obs_size=shape[1], frame_stack=shape[0], frame_skip=frame_skip,
                         action_meanings=meanings)


# --- Play ------------------------------------------------------------------------------------------------------------

class _StepRecorder:
    """Stands in for the env's `GameBoy.tick`. When armed, it runs an agent step's frames in parts and keeps the
    emulator state SCREEN_LAG_FRAMES frames before the step's last screen (what the emulated render writes into),
    the variables' bytes then, and their bytes in the RAM the last screen is drawn from."""

    def __init__(self, game, indices: np.ndarray):
        self.game, self.indices = game, indices
        self.run_frames = game.tick
        game.tick = self
        self.armed = False
        self.saved: tuple[bytes, np.ndarray, np.ndarray] | None = None

    def __call__(self, frames: int, render: bool) -> None:
        if not self.armed:
            self.run_frames(frames, render)
            return
        self.run_frames(frames - SCREEN_LAG_FRAMES, render)
        state, written = self.game.save_state(), self.game.ram.read()[self.indices]
        if SCREEN_LAG_FRAMES > 1:
            self.run_frames(SCREEN_LAG_FRAMES - 1, render)
        self.saved = (state, written, self.game.ram.read()[self.indices])
        self.run_frames(1, render)


@dataclass
class GBCPlay:
    """Kept play samples: per sample the saved state of each frame of its stack (oldest first) and the bytes."""

    states: list[list[bytes]]
    written: np.ndarray  # (N, F, bytes) the variables' bytes in each frame's saved state
    shown: np.ndarray  # (N, bytes) the variables' bytes the newest frame is drawn from
    env_obs: np.ndarray  # (N, F, S, S) the env's observations
    game: np.ndarray
    step: np.ndarray
    mean_return: float
    episodes: int


def collect_play(agent: nn.Module, setup: ProbeSetup, variables: Sequence[Variable], num_games: int,
                 num_steps: int, keep_every: int, seed: int) -> GBCPlay:
    """Plays `num_games` games in lockstep for `num_steps` agent steps (actions sampled from the policy; a finished
    game restarts) and keeps every `keep_every`-th step of each episode, from step `keep_every` on."""
    frames = setup.frame_stack
    if keep_every < frames:
        raise ProbeError(f"keep_every {keep_every} is below frame_stack {frames}: kept stacks would overlap")
    indices = ram_indices(variables)
    envs = [gym.make(setup.env_id, **setup.env_kwargs) for _ in range(num_games)]
    recorders = [_StepRecorder(env.unwrapped.game, indices) for env in envs]
    rng = np.random.default_rng(seed)
    windows = [deque(maxlen=frames) for _ in envs]
    episode_step = np.zeros(num_games, dtype=np.int64)
    kept: dict[str, list] = {"states": [], "written": [], "shown": [], "obs": [], "game": [], "step": []}
    scores: list[float] = []
    try:
        obs = np.stack([env.reset(seed=seed * 1000 + g)[0] for g, env in enumerate(envs)])
        for t in range(num_steps):
            actions = sample_actions(agent, obs, rng)
            for g, env in enumerate(envs):
                recorder, e = recorders[g], episode_step[g]
                recorder.armed = (e + frames) % keep_every < frames
                obs[g], _, terminated, truncated, info = env.step(int(actions[g]))
                if recorder.armed:
                    windows[g].append(recorder.saved)
                episode_step[g] += 1
                if (e + 1) % keep_every == 0 and not (terminated or truncated):
                    kept["states"].append([w[0] for w in windows[g]])
                    kept["written"].append(np.stack([w[1] for w in windows[g]]))
                    kept["shown"].append(windows[g][-1][2])
                    kept["obs"].append(obs[g].copy())
                    kept["game"].append(g)
                    kept["step"].append(t)
                if terminated or truncated:
                    scores.append(float(info["score"]))
                    obs[g] = env.reset()[0]
                    episode_step[g] = 0
                    windows[g].clear()
    finally:
        for env in envs:
            env.close()
    if len(kept["game"]) < 3:
        raise ProbeError(f"only {len(kept['game'])} play states kept; play more steps or games")
    return GBCPlay(kept["states"], np.stack(kept["written"]), np.stack(kept["shown"]), np.stack(kept["obs"]),
                   np.array(kept["game"]), np.array(kept["step"]), float(np.mean(scores)) if scores else float("nan"),
                   len(scores))


# --- Rendering and sweeps ------------------------------------------------------------------------------------------

def render_stack(renderer: EmulatedRenderer, states: Sequence[bytes], overrides: Sequence[dict[int, bytes]],
                 obs_size: int, variables: Sequence[Variable]) -> tuple[np.ndarray, np.ndarray]:
    """(frame stack (F, S, S) uint8, targets (K,)): each frame drawn by the game from its own saved state with its
    overrides written, as the env shows it; targets from the RAM the newest frame is drawn from."""
    stack = np.empty((len(states), obs_size, obs_size), dtype=np.uint8)
    for k, (state, written) in enumerate(zip(states, overrides)):
        shot = renderer.run(state, written, with_dump=k == len(states) - 1)
        stack[k] = grey_frame(shot.frame, obs_size)
    raw = np.concatenate([shot.dump.read(v.address, v.size) for v in variables], axis=1)
    return stack, decode(raw, variables)[0]


def translated(variables: Sequence[Variable], written: np.ndarray, moves: dict[int, int]) -> list[dict[int, bytes]]:
    """Per frame, the overrides that put variable k (index into `variables`) at `moves[k]` in the newest frame and
    shift it by the same amount in every earlier one (clipped to the variable's range): the translate rule."""
    values = decode(written, variables)  # (F, K)
    out = []
    for frame in values:
        overrides = {}
        for k, value in moves.items():
            v = variables[k]
            overrides[v.address] = v.encode(np.clip(frame[k] + value - values[-1, k], v.low, v.high))
        out.append(overrides)
    return out


def build_probe_data(play: GBCPlay, setup: ProbeSetup, variables: Sequence[Variable], num_bases: int,
                     sweep_count: int, ball_positions: int, seed: int, group_steps: int) -> GameSamples:
    """Play samples (the env's own frames and the recorded targets), plus for `num_bases` of them each of SWEPT
    over `sweep_count` values of its observed range (1st-99th percentile in play) and `ball_positions` joint
    random positions of ball and paddle in their observed box, each rendered by the game. Targets: one column per
    variable; variable: the swept column, -1 for play and the ball grid."""
    names = [v.name for v in variables]
    play_targets = decode(play.shown, variables)
    n_play = len(play_targets)
    rng = np.random.default_rng(seed)
    bases = np.sort(rng.choice(n_play, min(num_bases, n_play), replace=False))
    box = {names.index(n): np.round(np.quantile(play_targets[:, names.index(n)], (0.01, 0.99))).astype(int)
           for n in SWEPT}
    jobs: list[tuple[int, int, int, dict[int, int]]] = []  # (base, kind, swept variable, moves)
    for k, (lo, hi) in box.items():
        values = np.unique(np.round(np.linspace(lo, hi, sweep_count)).astype(int))
        jobs += [(b, KIND_SWEEP, k, {k: int(value)}) for b in bases for value in values]
    jobs += [(b, KIND_BALL_GRID, -1, {k: int(rng.integers(lo, hi + 1)) for k, (lo, hi) in box.items()})
             for b in bases for _ in range(ball_positions)]
    obs = np.empty((len(jobs), *play.env_obs.shape[1:]), dtype=np.uint8)
    targets = np.empty((len(jobs), len(variables)), dtype=np.float32)
    renderer = EmulatedRenderer(get_profile("breakout"))
    try:
        for i, (b, _, _, moves) in enumerate(jobs):
            obs[i], targets[i] = render_stack(renderer, play.states[b], translated(variables, play.written[b], moves),
                                              setup.obs_size, variables)
    finally:
        renderer.close()
    base = np.concatenate([np.arange(n_play), [job[0] for job in jobs]]).astype(np.int64)
    all_targets = np.concatenate([play_targets, targets])
    constants = json.loads(BREAKOUT_SYMBOLS.read_text())["constants"]
    column = {name: all_targets[:, names.index(name)] for name in ("paddle_x", "ball_x", "ball_y", "serve_timer")}
    return GameSamples(
        obs=np.concatenate([play.env_obs, obs]), targets=all_targets,
        kind=np.concatenate([np.full(n_play, KIND_PLAY), [job[1] for job in jobs]]).astype(np.int64),
        kind_names=KIND_NAMES,
        variable=np.concatenate([np.full(n_play, -1), [job[2] for job in jobs]]).astype(np.int64), base=base,
        group=(play.game * 1_000_000 + play.step // group_steps)[base],
        sweep_source={name: "observed" if name in SWEPT else "play only" for name in names},
        in_flight=(column["serve_timer"] == 0) & (column["ball_y"] < constants["PADDLE_Y"]),
        causal_subset=column["paddle_x"] + constants["PADDLE_WIDTH"] / 2
        < column["ball_x"] + constants["BALL_SIZE"] / 2,
        episodes=play.episodes, mean_score=play.mean_return)


def high_low_masks(data: GameSamples, variables: Sequence[Variable], k: int) -> tuple[np.ndarray, np.ndarray]:
    """High and low samples of variable k for its mean difference: among its own sweep for a swept variable, else
    among play states (1 vs 0 for a flag); upper and lower third of its values."""
    value = data.targets[:, k]
    swept = (data.kind == KIND_SWEEP) & (data.variable == k)
    rows = swept if swept.any() else data.kind == KIND_PLAY
    if variables[k].binary:
        return rows & (value > 0.5), rows & (value <= 0.5)
    lo, hi = np.quantile(value[rows], [1 / 3, 2 / 3])
    return (rows & (value > lo), rows & (value <= lo)) if hi <= lo else (rows & (value >= hi), rows & (value <= lo))


def sweep_regions(data: GameSamples, count: int, max_bases: int) -> tuple[np.ndarray, np.ndarray]:
    """Per variable, the fraction of its sweep samples (over at most `max_bases` bases) that changed each pixel of
    the stack against their base's play stack; zero for variables that are not swept."""
    maps = np.zeros((count, *data.obs.shape[2:]), dtype=np.float32)
    counts = np.zeros(count, dtype=np.int64)
    for k in np.unique(data.variable[data.kind == KIND_SWEEP]):
        rows = np.flatnonzero((data.kind == KIND_SWEEP) & (data.variable == k))
        rows = rows[np.isin(data.base[rows], np.unique(data.base[rows])[:max_bases])]
        maps[k] = (data.obs[rows] != data.obs[data.base[rows]]).any(axis=1).mean(axis=0)
        counts[k] = rows.size
    return maps, counts


def screen_perturbations(play: GBCPlay, setup: ProbeSetup, variables: Sequence[Variable], k: int,
                         states: np.ndarray, count: int) -> ScreenPerturbations:
    """Variable k's RAM bytes perturbed in the play samples `states`, as gbc_ram_map perturbs a byte: written into
    each frame's saved state (`count` values over its observed range, 1st-99th percentile of play, shifted in the
    earlier frames by the translate rule; 0 and 1 for a flag), the game's own code draws the screen (160x144),
    diffed against the same frames drawn unchanged; the network's inputs are those screens as the env shows them.
    A variable the game draws only on events (bricks, score, lives) changes nothing here: its map stays empty."""
    variable = variables[k]
    if variable.binary:
        values = np.array([0, 1])
    else:
        lo, hi = np.round(np.quantile(decode(play.shown, variables)[:, k], (0.01, 0.99))).astype(int)
        values = np.unique(np.round(np.linspace(lo, hi, count)).astype(int))
    renderer = EmulatedRenderer(get_profile("breakout"))
    obs, changed, screen = [], [], []
    try:
        for b in states:
            stacks = [[renderer.run(state, overrides, with_dump=False).frame
                       for state, overrides in zip(play.states[b], frame_overrides)]
                      for frame_overrides in [[{}] * len(play.states[b])]
                      + [translated(variables, play.written[b], {k: int(value)}) for value in values]]
            base = np.stack(stacks[0])
            changed.append(np.mean([(np.stack(stack) != base).any(axis=(0, 3)) for stack in stacks[1:]], axis=0))
            obs.append([[grey_frame(frame, setup.obs_size) for frame in stack] for stack in stacks])
            screen.append(base[-1].mean(axis=2).astype(np.uint8))
    finally:
        renderer.close()
    return ScreenPerturbations(obs=np.array(obs, dtype=np.uint8), changed=np.array(changed, dtype=np.float32),
                               screen=np.array(screen))


# --- The adapter ------------------------------------------------------------------------------------------------------

def _family(name: str) -> str:
    if name.startswith("brick_"):
        return "bricks"
    if name in ("score", "lives"):
        return "hud"
    return "ball" if name.startswith("ball_") else "paddle" if name.startswith("paddle_x") else "other"


def game_spec(variables: Sequence[Variable], symbols_path: Path = BREAKOUT_SYMBOLS) -> GameSpec:
    """The variables as step 07's core sees them; the wall laid out BRICK_ROWS x BRICK_COLUMNS as the symbols
    file's constants say (a brick the spec did not keep is a hole in the grid)."""
    constants = json.loads(Path(symbols_path).read_text())["constants"]
    rows, cols = int(constants["BRICK_ROWS"]), int(constants["BRICK_COLUMNS"])
    names = tuple(v.name for v in variables)
    wall = tuple(name if name in names else "" for name in (f"brick_r{r}_c{c}" for r in range(rows)
                                                               for c in range(cols)))
    return GameSpec(names=names, binary=tuple(v.binary for v in variables),
                    addresses={v.name: v.label for v in variables}, families={n: _family(n) for n in names},
                    arrays={"Bricks": ArrayLayout((rows, cols), wall)} if any(wall) else {},
                    key_variables=("ball_x", "ball_y", "paddle_x"), policy_signs={"ball_x": +1, "paddle_x": -1},
                    toward="RIGHT", away="LEFT", causal_subset="paddle_left_of_ball")


class GBCBreakout:
    """Step 07's adapter for pixel agents of GBCBreakout-v0 (agents.probing.game.GameAdapter)."""

    env_id = GBC_ENV_ID
    defaults = DEFAULTS

    def __init__(self) -> None:
        self._variables: list[Variable] | None = None

    @property
    def variables(self) -> list[Variable]:
        if self._variables is None:  # read from the ROM's state spec only when a GBC agent is probed
            self._variables = load_variables()
        return self._variables

    def check_checkpoint(self, agent: nn.Module, checkpoint: dict[str, Any], source: str) -> ProbeSetup:
        return setup_for_gbc_checkpoint(agent, checkpoint, source)

    def spec(self) -> GameSpec:
        return game_spec(self.variables)

    def play(self, agent: nn.Module, setup: ProbeSetup, config: ProbeConfig) -> GBCPlay:
        return collect_play(agent, setup, self.variables, config.num_games, config.num_steps, config.keep_every,
                            config.seed)

    def build_samples(self, play: GBCPlay, setup: ProbeSetup, config: ProbeConfig) -> GameSamples:
        return build_probe_data(play, setup, self.variables, config.num_bases, config.sweep_count,
                                config.ball_positions, config.seed, config.group_steps)

    def high_low_masks(self, samples: GameSamples, k: int) -> tuple[np.ndarray, np.ndarray]:
        return high_low_masks(samples, self.variables, k)

    def screen_regions(self, samples: GameSamples, max_bases: int) -> tuple[np.ndarray, np.ndarray]:
        return sweep_regions(samples, len(self.variables), max_bases)

    def screen_perturbations(self, play: GBCPlay, setup: ProbeSetup, k: int, states: np.ndarray,
                             count: int) -> ScreenPerturbations:
        return screen_perturbations(play, setup, self.variables, k, states, count)


ADAPTER = GBCBreakout()
