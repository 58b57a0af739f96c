"""Step 07's adapter for Python Breakout (`ADAPTER`, see agents.probing.game): states from the agent's own play,
sweeps of each variable, and their screens.

Frame stacks are what the agent saw: every sample keeps the game states of the last `frame_stack` agent steps
(oldest first, the first state repeated at an episode's start, as the env does), and each frame is rendered
from its own state with `breakout_py.Renderer`. A play sample's stack equals the env's observation exactly
(tested). A sweep changes one variable of a play state and rewrites the history with it (`HISTORY_RULES`):

- positions (paddle_x, ball_x, ball_y): the object's recorded path is translated, the same shift in every frame;
- velocities (ball_vx, ball_vy, ball_speed): the ball's earlier positions are retraced from its current position
  backwards along the new velocity (frame_skip frames per agent step, mirrored at the side and top walls), for
  the frames in which that ball was in flight; speed and velocity are kept consistent (ball_speed scales the
  velocity, ball_vx/ball_vy set the speed);
- everything else (lives, score, flags, serve timer, bricks): the new value in every frame.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import gymnasium as gym
import numpy as np
import torch.nn as nn

import breakout_py
from breakout_py import core
from breakout_py.env import DEFAULT_FRAME_SKIP

from agents.probing.game import (KIND_PLAY, ArrayLayout, GameSamples, GameSpec, ProbeConfig, ProbeSetup,
                                 key_variables_of)
from agents.probing.probes import ProbeError, sample_actions
from agents.probing.screen_maps import ScreenPerturbations

VARIABLES = breakout_py.STATE_NAMES
SCALARS = VARIABLES[:core.BRICKS_OFFSET]
BRICKS = VARIABLES[core.BRICKS_OFFSET:]
BINARY = ("hit_orange", "hit_red") + BRICKS  # logistic probes; the rest are quantities (ridge)
POSITIONS = ("paddle_x", "ball_x", "ball_y")
GRID_VARIABLES = ("ball_x", "ball_y", "paddle_x")  # placed jointly at random in the ball grid
VELOCITIES = ("ball_vx", "ball_vy", "ball_speed")
HISTORY_RULES = {name: "translate" if name in POSITIONS else "retrace" if name in VELOCITIES else "set"
                 for name in VARIABLES}
# Variables on a lattice: their sweeps use lattice values (state_from_vector rounds to them anyway).
LATTICE = {"lives": core.START_LIVES, "score": core.MAX_SCORE, "paddle_hits": core.PADDLE_HIT_SPEEDUPS[-1],
           "serve_timer": core.SERVE_DELAY, "hit_orange": 1, "hit_red": 1}


def setup_for_checkpoint(agent: nn.Module, checkpoint: dict[str, Any], source: str) -> ProbeSetup:
    """Checks that the checkpoint is a pixel agent of Python Breakout and returns its frame geometry."""
    env_id = checkpoint.get("env_id")
    if env_id != breakout_py.ENV_ID:
        raise ProbeError(f"{source} was trained on {env_id!r}; this probe renders Python Breakout "
                         f"({breakout_py.ENV_ID}) screens, so it needs a pixel agent of {breakout_py.ENV_ID} "
                         "(scripts/03_train_pixel.py)")
    kwargs = dict(checkpoint.get("env_kwargs") or {})
    if kwargs.get("obs_type") != "pixels":
        raise ProbeError(f"{source} was trained on obs_type={kwargs.get('obs_type')!r}, not pixels: it is a memory "
                         "agent; pass a pixel agent's checkpoint (scripts/03_train_pixel.py)")
    env = gym.make(env_id, **kwargs)
    try:
        shape = tuple(env.observation_space.shape)
        n_actions = int(env.action_space.n)
    finally:
        env.close()
    network = getattr(agent, "config", {})
    if tuple(network.get("obs_shape", ())) != shape or network.get("n_actions") != n_actions:
        raise ProbeError(f"{source}: the network expects observations {network.get('obs_shape')} and "
                         f"{network.get('n_actions')} actions, but {env_id} with {kwargs} gives {list(shape)} and "
                         f"{n_actions}; the checkpoint does not match the env it names")
    return ProbeSetup(env_id, kwargs, obs_size=shape[1], frame_stack=shape[0],
                         frame_skip=int(kwargs.get("frame_skip", DEFAULT_FRAME_SKIP)),
                         action_meanings=tuple(core.ACTION_MEANINGS))


# --- Stacks of states ---------------------------------------------------------------------------------------------

History = list  # list[core.GameState], oldest first, each holding the same N games


def _gather(steps: list[core.GameState], step_idx: np.ndarray, game_idx: np.ndarray) -> core.GameState:
    return core.GameState(**{f.name: np.stack([getattr(s, f.name) for s in steps])[step_idx, game_idx]
                             for f in fields(core.GameState)})


def concat_states(states: list[core.GameState]) -> core.GameState:
    return core.GameState(**{f.name: np.concatenate([getattr(s, f.name) for s in states])
                             for f in fields(core.GameState)})


def concat_histories(histories: list[History]) -> History:
    return [concat_states([h[k] for h in histories]) for k in range(len(histories[0]))]


def take(history: History, index: np.ndarray) -> History:
    return [s.select(np.asarray(index)) for s in history]


def render_stacks(renderer: breakout_py.Renderer, history: History) -> np.ndarray:
    """(N, frame_stack, size, size) uint8: each frame rendered from its own state, oldest first."""
    out = np.empty((history[0].num_games, len(history), renderer.size, renderer.size), dtype=np.uint8)
    for k, state in enumerate(history):
        renderer.render(state, out=out[:, k])
    return out


@dataclass
class PlayData:
    history: History  # the stack of each sample
    game: np.ndarray  # (N,) which parallel game
    step: np.ndarray  # (N,) agent step of the sample
    env_obs: np.ndarray | None  # (N, F, S, S) the env's own observations (kept to check the re-rendering)
    mean_return: float  # mean score of the episodes finished while collecting (nan if none)
    episodes: int

    @property
    def vectors(self) -> np.ndarray:
        return core.state_vector(self.history[-1])


def collect_play(agent: nn.Module, setup: ProbeSetup, num_games: int, num_steps: int, keep_every: int,
                 seed: int, keep_env_obs: bool = False) -> PlayData:
    """Plays `num_games` games for `num_steps` agent steps, actions sampled from the agent's policy, and keeps
    every `keep_every`-th step of each game (game-over states excluded) with the states of its frame stack."""
    kwargs = {k: v for k, v in setup.env_kwargs.items() if k != "render_mode"}
    envs = gym.make_vec(setup.env_id, num_envs=num_games, vectorization_mode="vector_entry_point", **kwargs)
    rng = np.random.default_rng(seed)
    steps: list[core.GameState] = []
    kept_obs: list[np.ndarray] = []
    episode_start = np.zeros(num_games, dtype=np.int64)
    sample_step, sample_game, sample_start = [], [], []
    finished_scores: list[int] = []
    try:
        obs, _ = envs.reset(seed=seed)
        final = np.zeros(num_games, dtype=bool)  # this step's state ends an episode (NEXT_STEP autoreset)
        fresh = np.zeros(num_games, dtype=bool)  # this step's state is the first of a new episode
        for t in range(num_steps):
            state = envs.unwrapped.games
            steps.append(state.copy())
            episode_start[fresh] = t
            keep = ~final & ~state.game_over & (t % keep_every == 0)
            games = np.flatnonzero(keep)
            sample_step += [t] * games.size
            sample_game += games.tolist()
            sample_start += episode_start[games].tolist()
            if keep_env_obs:
                kept_obs.append(obs[games])
            obs, _, terminated, truncated, info = envs.step(sample_actions(agent, obs, rng))
            done = terminated | truncated
            finished_scores += np.asarray(info["score"])[done].tolist()
            fresh, final = final, done
    finally:
        envs.close()
    step_idx = np.asarray(sample_step, dtype=np.int64)
    game_idx = np.asarray(sample_game, dtype=np.int64)
    start_idx = np.asarray(sample_start, dtype=np.int64)
    frames = setup.frame_stack
    history = [_gather(steps, np.maximum(step_idx - (frames - 1 - k), start_idx), game_idx) for k in range(frames)]
    return PlayData(history, game_idx, step_idx, np.concatenate(kept_obs) if keep_env_obs else None,
                    float(np.mean(finished_scores)) if finished_scores else float("nan"), len(finished_scores))


# --- Changing one variable ----------------------------------------------------------------------------------------

def _set_vector_values(state: core.GameState, index: int, values: np.ndarray,
                       couple_velocity: bool = True) -> core.GameState:
    """`state` with ideal-state column `index` set to `values`; every field the column does not drive is kept
    exactly (state_from_vector goes through float32 vectors; only the fields it changes are taken from it)."""
    vec = core.state_vector(state)
    reference = core.state_from_vector(vec)
    new_vec = vec.copy()
    new_vec[:, index] = values
    name = VARIABLES[index]
    if couple_velocity and name in ("ball_vx", "ball_vy"):
        new_vec[:, 5] = np.minimum(np.hypot(new_vec[:, 3], new_vec[:, 4]), 1.0)
    elif couple_velocity and name == "ball_speed":
        ratio = np.divide(values, vec[:, 5], out=np.ones_like(values, dtype=np.float32), where=vec[:, 5] > 0)
        new_vec[:, 3:5] *= ratio[:, None]
    changed = core.state_from_vector(new_vec)
    out = state.copy()
    for f in fields(core.GameState):
        if f.name in ("game_over", "rng_state"):
            continue
        new, ref, dst = getattr(changed, f.name), getattr(reference, f.name), getattr(out, f.name)
        diff = new != ref
        dst[diff] = new[diff]
    return out


def _mirror(v: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Folds positions into [lo, hi] as a ball bouncing between walls at lo and hi would be."""
    period = 2 * (hi - lo)
    u = np.mod(v - lo, period)
    return lo + np.where(u > hi - lo, period - u, u)


def _retrace_ball(history: History, frame_skip: int) -> History:
    """Earlier ball positions from the current one, moving backwards along the current velocity."""
    now = history[-1]
    out = [s.copy() for s in history]
    last = len(history) - 1
    for k, state in enumerate(out[:-1]):
        frames_back = (last - k) * frame_skip
        flying = (now.serve_timer == 0) & (state.serve_timer == 0) & (state.lives == now.lives)
        x = _mirror(now.ball_x - frames_back * now.ball_vx, core.PLAY_LEFT + core.BALL_RADIUS,
                    core.PLAY_RIGHT - core.BALL_RADIUS)
        y = now.ball_y - frames_back * now.ball_vy
        top = core.PLAY_TOP + core.BALL_RADIUS
        y = np.where(y < top, 2 * top - y, y)
        state.ball_x[:] = np.where(flying, x, state.ball_x)
        state.ball_y[:] = np.where(flying, y, state.ball_y)
        for name in ("ball_vx", "ball_vy", "speed"):
            getattr(state, name)[:] = np.where(flying, getattr(now, name), getattr(state, name))
    return out


def set_variable(history: History, name: str, values: np.ndarray, frame_skip: int) -> History:
    """The stacks of `history` with variable `name` at `values` (N,) in the current frame, earlier frames made
    consistent with it by its rule in HISTORY_RULES."""
    index = breakout_py.STATE_INDEX[name]
    values = np.asarray(values, dtype=np.float32)
    rule = HISTORY_RULES[name]
    if rule == "translate":
        delta = values - core.state_vector(history[-1])[:, index]
        lo, hi = core.STATE_LOW[index], core.STATE_HIGH[index]
        return [_set_vector_values(s, index, np.clip(core.state_vector(s)[:, index] + delta, lo, hi))
                for s in history]
    if rule == "retrace":
        current = _set_vector_values(history[-1], index, values)
        return _retrace_ball(history[:-1] + [current], frame_skip)
    return [_set_vector_values(s, index, values) for s in history]


def set_bricks(history: History, bricks: np.ndarray) -> History:
    """The stacks of `history` with the wall `bricks` (N, 6, 18) bool in every frame."""
    out = [s.copy() for s in history]
    for s in out:
        s.bricks[:] = bricks
    return out


def sweep_values(name: str, observed: np.ndarray, count: int, quantiles: tuple[float, float] = (0.01, 0.99)):
    """`count` values spread over the observed range of a variable (its lattice values for discrete ones);
    the whole declared range when play showed a single value. Returns (values, "observed" or "full")."""
    index = breakout_py.STATE_INDEX[name]
    lo, hi = (float(q) for q in np.quantile(observed, quantiles))
    source = "observed"
    if hi - lo < 1e-6:
        lo, hi, source = float(core.STATE_LOW[index]), float(core.STATE_HIGH[index]), "full"
    if name in LATTICE:
        steps = LATTICE[name]
        lattice = np.arange(int(np.floor(lo * steps + 1e-6)), int(np.ceil(hi * steps - 1e-6)) + 1) / steps
        if name == "lives":
            lattice = lattice[lattice > 0]  # no ball left is game over, never shown in play
        pick = np.unique(np.round(np.linspace(0, lattice.size - 1, min(count, lattice.size))).astype(int))
        return lattice[pick].astype(np.float32), source
    return np.linspace(lo, hi, count, dtype=np.float32), source


# --- The whole data set ---------------------------------------------------------------------------------------------

KIND_SWEEP, KIND_BRICK_PATTERN, KIND_BRICK_TOGGLE, KIND_BALL_GRID = 1, 2, 3, 4  # after KIND_PLAY = 0
KIND_NAMES = ("play", "sweep", "brick_pattern", "brick_toggle", "ball_grid")


def build_probe_data(play: PlayData, setup: ProbeSetup, num_bases: int, sweep_count: int,
                     brick_patterns_per_base: int, toggle_bases: int, seed: int, group_steps: int = 64,
                     ball_positions_per_base: int = 0) -> GameSamples:
    """Play samples, plus for `num_bases` of them: each scalar swept over `sweep_count` values (its observed
    range), `brick_patterns_per_base` random walls (each brick present with probability 1/2),
    `ball_positions_per_base` ball positions drawn uniformly from the box of observed (ball_x, ball_y) (the ball's
    path translated there, as a position sweep does), and for `toggle_bases` of them each brick flipped on its own.

    The ball grid is there because a position is read linearly from a place code only where the probe has seen the
    ball: in play the ball crosses some places rarely (fast, near the paddle), and sweeps of one coordinate keep the
    other at the base's value. Targets: the ideal state of each sample's current frame (breakout_py.STATE_NAMES);
    variable: the swept or toggled column, -1 for play, brick patterns and the ball grid."""
    rng = np.random.default_rng(seed)
    renderer = breakout_py.Renderer(setup.obs_size)
    n_play = play.history[0].num_games
    if n_play < 3:
        raise ProbeError(f"only {n_play} play states collected; play more steps or games")
    play_vec = play.vectors
    bases = np.sort(rng.choice(n_play, min(num_bases, n_play), replace=False))
    histories, kinds, variables, base_rows = [play.history], [np.full(n_play, KIND_PLAY)], [np.full(n_play, -1)], \
        [np.arange(n_play)]
    sources = {}
    base_history = take(play.history, bases)
    for name in SCALARS:
        index = breakout_py.STATE_INDEX[name]
        values, sources[name] = sweep_values(name, play_vec[:, index], sweep_count)
        for value in values:
            histories.append(set_variable(base_history, name, np.full(bases.size, value), setup.frame_skip))
            kinds.append(np.full(bases.size, KIND_SWEEP))
            variables.append(np.full(bases.size, index))
            base_rows.append(bases)
    for _ in range(brick_patterns_per_base):
        walls = rng.random((bases.size, core.BRICK_ROWS, core.BRICK_COLS)) < 0.5
        histories.append(set_bricks(base_history, walls))
        kinds.append(np.full(bases.size, KIND_BRICK_PATTERN))
        variables.append(np.full(bases.size, -1))
        base_rows.append(bases)
    if ball_positions_per_base > 0:
        box = [np.quantile(play_vec[:, breakout_py.STATE_INDEX[name]], (0.01, 0.99)) for name in GRID_VARIABLES]
        for _ in range(ball_positions_per_base):
            moved = base_history
            for name, (lo, hi) in zip(GRID_VARIABLES, box):
                moved = set_variable(moved, name, rng.uniform(lo, hi, bases.size), setup.frame_skip)
            histories.append(moved)
            kinds.append(np.full(bases.size, KIND_BALL_GRID))
            variables.append(np.full(bases.size, -1))
            base_rows.append(bases)
    toggled = bases[:toggle_bases]
    toggle_history = take(play.history, toggled)
    for b, name in enumerate(BRICKS):
        walls = toggle_history[-1].bricks.copy()
        row, col = divmod(b, core.BRICK_COLS)
        walls[:, row, col] = ~walls[:, row, col]
        histories.append(set_bricks(toggle_history, walls))
        kinds.append(np.full(toggled.size, KIND_BRICK_TOGGLE))
        variables.append(np.full(toggled.size, breakout_py.STATE_INDEX[name]))
        base_rows.append(toggled)
    history = concat_histories(histories)
    base = np.concatenate(base_rows)
    group = (play.game * 1_000_000 + play.step // group_steps)[base]
    for name in SCALARS:
        sources.setdefault(name, "observed")
    for name in BRICKS:
        sources[name] = "full"
    targets = core.state_vector(history[-1])
    index = breakout_py.STATE_INDEX
    return GameSamples(obs=render_stacks(renderer, history), targets=targets, kind=np.concatenate(kinds),
                       kind_names=KIND_NAMES, variable=np.concatenate(variables), base=base, group=group,
                       sweep_source=sources,
                       in_flight=(targets[:, index["serve_timer"]] == 0) & (targets[:, index["ball_y"]] < 0.95),
                       causal_subset=targets[:, index["paddle_x"]] < targets[:, index["ball_x"]],
                       episodes=play.episodes, mean_score=play.mean_return)


def high_low_masks(data: GameSamples, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Samples with a high and a low value of `name`, among those in which only it varied (its sweep, or the
    random walls for a brick): the upper and lower third of its sweep values, or present/absent."""
    index = breakout_py.STATE_INDEX[name]
    value = data.targets[:, index]
    if name in BRICKS:
        rows = (data.kind == KIND_BRICK_PATTERN) | ((data.kind == KIND_BRICK_TOGGLE) & (data.variable == index))
        return rows & (value > 0.5), rows & (value <= 0.5)
    rows = (data.kind == KIND_SWEEP) & (data.variable == index)
    if not rows.any():
        return rows, rows
    lo, hi = np.quantile(value[rows], [1 / 3, 2 / 3])
    if hi <= lo:  # two values only
        return rows & (value > lo), rows & (value <= lo)
    return rows & (value >= hi), rows & (value <= lo)


def screen_regions(data: GameSamples, max_bases: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Per variable, the fraction of its perturbations (sweep values, or brick toggles) that changed each pixel of
    the stack (any frame), over at most `max_bases` base states: (120, S, S) float32, and the perturbation count."""
    size = data.obs.shape[-1]
    maps = np.zeros((len(VARIABLES), size, size), dtype=np.float32)
    counts = np.zeros(len(VARIABLES), dtype=np.int64)
    for index in range(len(VARIABLES)):
        rows = np.flatnonzero(((data.kind == KIND_SWEEP) | (data.kind == KIND_BRICK_TOGGLE))
                              & (data.variable == index))
        keep = np.isin(data.base[rows], np.unique(data.base[rows])[:max_bases])
        rows = rows[keep]
        if rows.size == 0:
            continue
        changed = (data.obs[rows] != data.obs[data.base[rows]]).any(axis=1)
        maps[index] = changed.mean(axis=0)
        counts[index] = rows.size
    return maps, counts


def screen_perturbations(play: PlayData, setup: ProbeSetup, name: str, states: np.ndarray,
                         count: int) -> ScreenPerturbations:
    """Variable `name` perturbed in the play samples `states`: set to each of its `count` sweep values (0 and 1 for
    a flag or brick) with the history rewritten by its rule, as the sweeps do; the network's inputs rendered at the
    agent's frame size, the screen at the game's own size (core.SCREEN_SIZE), diffed against the state's."""
    index = breakout_py.STATE_INDEX[name]
    values = np.array([0.0, 1.0], dtype=np.float32) if name in BINARY else \
        sweep_values(name, play.vectors[:, index], count)[0]
    history = take(play.history, states)
    network, screen = breakout_py.Renderer(setup.obs_size), breakout_py.Renderer(core.SCREEN_SIZE)
    base_screen = render_stacks(screen, history)
    obs = [render_stacks(network, history)]
    changed = np.zeros((len(states), core.SCREEN_SIZE, core.SCREEN_SIZE), dtype=np.float32)
    for value in values:
        moved = set_variable(history, name, np.full(len(states), value), setup.frame_skip)
        obs.append(render_stacks(network, moved))
        changed += (render_stacks(screen, moved) != base_screen).any(axis=1)
    return ScreenPerturbations(obs=np.stack(obs, axis=1), changed=changed / len(values), screen=base_screen[:, -1])


# --- The adapter ------------------------------------------------------------------------------------------------------

def _family(name: str) -> str:
    if name in BRICKS:
        return "bricks"
    if name in ("score", "lives"):
        return "hud"
    return "ball" if name.startswith("ball_") else "paddle" if name == "paddle_x" else "other"


def _kind(name: str) -> str:
    """The variable's kind in the Game Boy adapter's terms (agents.probing.gbc_game), for the cross-game report."""
    if name in BRICKS:
        return "array element"
    if name in ("hit_orange", "hit_red"):
        return "flag"
    if name in ("lives", "score", "paddle_hits", "serve_timer"):
        return "counter"
    return "position" if name in POSITIONS else "velocity" if name in VELOCITIES else "value"


SPEC = GameSpec(
    names=VARIABLES, binary=tuple(name in BINARY for name in VARIABLES),
    addresses={name: f"state[{i}]" for i, name in enumerate(VARIABLES)},
    families={name: _family(name) for name in VARIABLES}, kinds={name: _kind(name) for name in VARIABLES},
    arrays={"Bricks": ArrayLayout((core.BRICK_ROWS, core.BRICK_COLS), BRICKS)},
    key_variables=("ball_x", "ball_y", "paddle_x"), key_source="the on-screen positions (no step 06 file)",
    # A ball further right should draw the paddle right; a paddle further right should send it back left.
    policy_signs={"ball_x": +1, "paddle_x": -1}, toward="RIGHT", away="LEFT", causal_subset="paddle_left_of_ball")
OWNER = {address: name for name, address in SPEC.addresses.items()}  # step 06's address column -> variable


class PythonBreakout:
    """Step 07's adapter for pixel agents of BreakoutPy-v0 (agents.probing.game.GameAdapter)."""

    env_id = breakout_py.ENV_ID
    # 240 bases and 64 joint placements: with half as many the ball's height was read at R^2 0.875, with these 0.918
    # (agents/trained/results/probe.md), for about 3 more minutes of probing.
    defaults = dict(num_games=32, num_steps=1600, keep_every=16, num_bases=240, joint_positions=64,
                    causal_variables=SCALARS, causal_states=64, group_steps=64)

    def check_checkpoint(self, agent: nn.Module, checkpoint: dict[str, Any], source: str) -> ProbeSetup:
        return setup_for_checkpoint(agent, checkpoint, source)

    def spec(self, config: ProbeConfig | None = None, play: PlayData | None = None) -> GameSpec:
        """The game's variables; the key variables are step 06's top ones when its file exists (the R^2 bar holds
        to the positions among them), else the three positions."""
        from_step_06 = key_variables_of(config, self.env_id, OWNER.get)
        if from_step_06 is None:
            return SPEC
        keys, source = from_step_06
        return replace(SPEC, key_variables=keys, key_source=source,
                       r2_bar_variables=tuple(name for name in keys if name in POSITIONS))

    def play(self, agent: nn.Module, setup: ProbeSetup, config: ProbeConfig) -> PlayData:
        return collect_play(agent, setup, config.num_games, config.num_steps, config.keep_every, config.seed)

    def build_samples(self, play: PlayData, setup: ProbeSetup, config: ProbeConfig) -> GameSamples:
        return build_probe_data(play, setup, config.num_bases, config.sweep_count, config.brick_patterns,
                                config.toggle_bases, config.seed, config.group_steps, config.joint_positions)

    def high_low_masks(self, samples: GameSamples, k: int) -> tuple[np.ndarray, np.ndarray]:
        return high_low_masks(samples, VARIABLES[k])

    def screen_regions(self, samples: GameSamples, max_bases: int) -> tuple[np.ndarray, np.ndarray]:
        return screen_regions(samples, max_bases)

    def screen_perturbations(self, play: PlayData, setup: ProbeSetup, k: int, states: np.ndarray,
                             count: int) -> ScreenPerturbations:
        return screen_perturbations(play, setup, VARIABLES[k], states, count)


ADAPTER = PythonBreakout()
