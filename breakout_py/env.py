"""Gymnasium environments over the batched core: `BreakoutEnv` (one game) and `BreakoutVectorEnv` (N games).

Both share `_Games`, which steps N games with frame skip, builds the observations and counts steps for
truncation, so the single env is exactly the batched env with N = 1.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from . import core
from .render import Renderer, colorize
from .window import Window

OBS_TYPES = ("state", "pixels")
# How the "state" observation is scaled. "range": every feature in [0, 1] (or [-1, 1]) as STATE_NAMES describes.
# "arrays": the 108 brick flags are further divided by sqrt(108), so that the wall adds the input variance of one
# feature rather than 108 (what the memory agent trains on, agents/presets.py): at full range the flags swamp the
# ball and paddle in the first layer and PPO needs several times the steps (agents/trained/results/
# training_breakoutpy.md, "Brick flags scaled as one feature"; gbc.extract.spec's "arrays" does the same).
STATE_SCALINGS = ("range", "arrays")
RENDER_MODES = ("human", "rgb_array")
DEFAULT_FRAME_SKIP = 2  # game frames per agent step: 15 decisions per second of game time
DEFAULT_MAX_EPISODE_STEPS = 10_000  # agent steps (20,000 frames, 11 minutes of game time) before truncation
DEFAULT_RENDER_SCALE = 4  # rgb_array frames are the agent's picture enlarged 4 times (336x336 by default)


def _check_positive_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_config(obs_type, obs_size, frame_stack, frame_skip, max_episode_steps, render_mode, render_scale,
                  state_scaling):
    if obs_type not in OBS_TYPES:
        raise ValueError(f"unknown obs_type {obs_type!r}: use one of {OBS_TYPES}")
    if state_scaling not in STATE_SCALINGS:
        raise ValueError(f"unknown state_scaling {state_scaling!r}: use one of {STATE_SCALINGS}")
    if state_scaling != "range" and obs_type != "state":
        raise ValueError(f"state_scaling {state_scaling!r} scales obs_type 'state' only, not {obs_type!r}: drop it")
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ValueError(f"unknown render_mode {render_mode!r}: use None or one of {RENDER_MODES}")
    return (
        _check_positive_int("obs_size", obs_size, minimum=16),
        _check_positive_int("frame_stack", frame_stack),
        _check_positive_int("frame_skip", frame_skip),
        _check_positive_int("max_episode_steps", max_episode_steps),
        _check_positive_int("render_scale", render_scale),
    )


def _restore_array(target: np.ndarray, saved, name: str) -> None:
    """Copy a saved array into `target` in place, refusing one of another shape or dtype (another env config)."""
    saved = np.asarray(saved)
    if saved.shape != target.shape or saved.dtype != target.dtype:
        raise ValueError(
            f"saved {name} has shape {saved.shape} and dtype {saved.dtype}, this env needs {target.shape} and "
            f"{target.dtype}: restore a state saved by an env made with the same num_envs and settings"
        )
    target[...] = saved


def state_scale(state_scaling: str) -> np.ndarray | None:
    """Per-feature factor of the "state" observation over core.state_vector (None: "range", none applied)."""
    if state_scaling == "range":
        return None
    scale = np.ones(core.STATE_DIM, dtype=np.float32)
    scale[core.BRICKS_OFFSET:] /= np.sqrt(len(core.BRICK_NAMES))
    return scale


def observation_space(obs_type: str, obs_size: int, frame_stack: int, state_scaling: str = "range") -> spaces.Box:
    """The observation space of one game."""
    if obs_type == "state":
        scale = state_scale(state_scaling)
        if scale is None:
            return spaces.Box(core.STATE_LOW, core.STATE_HIGH, dtype=np.float32)
        return spaces.Box(core.STATE_LOW * scale, core.STATE_HIGH * scale, dtype=np.float32)
    return spaces.Box(0, 255, shape=(frame_stack, obs_size, obs_size), dtype=np.uint8)


class _Games:
    """N games with frame skip, observations and step counts; shared by the single and the vector env."""

    def __init__(self, num_games, obs_type, obs_size, frame_stack, frame_skip, max_episode_steps,
                 state_scaling="range"):
        self.state = core.GameState.empty(num_games)
        self.state_scale = state_scale(state_scaling)
        self.frame_skip = frame_skip
        self.max_episode_steps = max_episode_steps
        self.renderer = Renderer(obs_size)
        self.steps = np.zeros(num_games, dtype=np.int64)
        # Pixel frames in a ring buffer: slot `newest` holds the latest frame; observations read it oldest first.
        self.frames = (
            np.zeros((num_games, frame_stack, obs_size, obs_size), dtype=np.uint8) if obs_type == "pixels" else None
        )
        self.newest = frame_stack - 1

    def get_state(self) -> dict[str, Any]:
        """Copies of everything the games' future depends on (the game arrays, with their random generators, step
        counts and frame stacks), for set_state."""
        return {"game": {f.name: getattr(self.state, f.name).copy() for f in fields(core.GameState)},
                "steps": self.steps.copy(), "newest": self.newest,
                "frames": None if self.frames is None else self.frames.copy()}

    def set_state(self, state: dict[str, Any]) -> None:
        for f in fields(core.GameState):
            _restore_array(getattr(self.state, f.name), state["game"][f.name], f.name)
        _restore_array(self.steps, state["steps"], "steps")
        if (self.frames is None) != (state["frames"] is None):
            raise ValueError("saved state and this env differ in obs_type (one has pixel frames, the other not): "
                             "restore a state saved by an env with the same obs_type")
        if self.frames is not None:
            _restore_array(self.frames, state["frames"], "frames")
        self.newest = int(state["newest"])

    def reset(self, mask: np.ndarray, seeds: np.ndarray) -> None:
        core.reset_games(self.state, mask, seeds)
        self.steps[mask] = 0
        if self.frames is not None:
            index = np.flatnonzero(mask)
            self.frames[index] = self.renderer.render(self.state.select(index))[:, None]

    def step(self, actions: np.ndarray) -> np.ndarray:
        """Advances every game by one agent step; returns the reward (N,) float64."""
        score_before = self.state.score.copy()
        core.step(self.state, actions, self.frame_skip)
        self.steps += 1
        return (self.state.score - score_before).astype(np.float64)

    def render_latest(self, fresh: np.ndarray | None = None) -> None:
        """Pushes the current frame onto each game's stack; games in `fresh` get a stack of that frame only."""
        if self.frames is None:
            return
        self.newest = (self.newest + 1) % self.frames.shape[1]
        self.renderer.render(self.state, out=self.frames[:, self.newest])
        if fresh is not None and fresh.any():
            self.frames[fresh] = self.frames[fresh, self.newest][:, None]

    def terminated(self) -> np.ndarray:
        return self.state.game_over.copy()

    def truncated(self) -> np.ndarray:
        return (self.steps >= self.max_episode_steps) & ~self.state.game_over

    def observation(self) -> np.ndarray:
        if self.frames is None:
            vectors = core.state_vector(self.state)
            if self.state_scale is not None:
                vectors *= self.state_scale
            return vectors
        stack = self.frames.shape[1]
        oldest_first = (np.arange(1, stack + 1) + self.newest) % stack
        return np.take(self.frames, oldest_first, axis=1)

    def colour_frames(self, scale: int) -> np.ndarray:
        rgb = colorize(self.renderer.render(self.state))
        return np.repeat(np.repeat(rgb, scale, axis=1), scale, axis=2)


class BreakoutEnv(gym.Env):
    """Python Breakout, one game. Actions: 0 NOOP, 1 LEFT, 2 RIGHT; the ball serves by itself.

    obs_type "state": the ideal state (see `breakout_py.STATE_NAMES`); "pixels": the last `frame_stack`
    greyscale frames of obs_size x obs_size, oldest first. Reward: points scored in the step.
    terminated: game over (last ball lost or wall cleared); truncated: `max_episode_steps` agent steps.
    """

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": core.FPS}

    def __init__(
        self,
        obs_type: str = "state",
        obs_size: int = 84,
        frame_stack: int = 4,
        frame_skip: int = DEFAULT_FRAME_SKIP,
        max_episode_steps: int = DEFAULT_MAX_EPISODE_STEPS,
        render_mode: str | None = None,
        render_scale: int = DEFAULT_RENDER_SCALE,
        state_scaling: str = "range",
    ):
        obs_size, frame_stack, frame_skip, max_episode_steps, render_scale = _check_config(
            obs_type, obs_size, frame_stack, frame_skip, max_episode_steps, render_mode, render_scale, state_scaling
        )
        self.obs_type = obs_type
        self.render_mode = render_mode
        self.render_scale = render_scale
        self.observation_space = observation_space(obs_type, obs_size, frame_stack, state_scaling)
        self.action_space = spaces.Discrete(core.NUM_ACTIONS)
        self._games = _Games(1, obs_type, obs_size, frame_stack, frame_skip, max_episode_steps, state_scaling)
        self._all = np.ones(1, dtype=bool)
        self._window = Window(scale=render_scale * 2) if render_mode == "human" else None

    @property
    def game(self) -> core.GameState:
        """The game's state arrays (N = 1), for inspection."""
        return self._games.state

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._games.reset(self._all, self.np_random.integers(0, 1 << 32, size=1))
        if self.render_mode == "human":
            self.render()
        return self._games.observation()[0], self._info()

    def get_state(self) -> dict[str, Any]:
        """Everything the game's future depends on (its state and the env's random generator), for set_state:
        an env restored from it steps exactly as this one would."""
        return {"games": self._games.get_state(), "np_random": self.np_random.bit_generator.state}

    def set_state(self, state: dict[str, Any]) -> None:
        """Go back to a get_state() of an env made with the same settings."""
        self._games.set_state(state["games"])
        self.np_random.bit_generator.state = state["np_random"]

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(
                f"action {action!r} is outside the action space Discrete(3): use 0 (NOOP), 1 (LEFT) or 2 (RIGHT)"
            )
        reward = self._games.step(np.array([int(action)]))
        self._games.render_latest()
        if self.render_mode == "human":
            self.render()
        return (
            self._games.observation()[0],
            float(reward[0]),
            bool(self._games.terminated()[0]),
            bool(self._games.truncated()[0]),
            self._info(),
        )

    def _info(self) -> dict[str, Any]:
        return {"score": int(self._games.state.score[0]), "lives": int(self._games.state.lives[0])}

    def render(self):
        if self.render_mode is None:
            gym.logger.warn("render() called with render_mode=None: pass render_mode='rgb_array' or 'human'")
            return None
        if self.render_mode == "rgb_array":
            return self._games.colour_frames(self.render_scale)[0]
        state = self._games.state
        self._window.show(
            self._games.colour_frames(1)[0],
            caption=f"Python Breakout   score {state.score[0]}   lives {state.lives[0]}",
        )
        return None

    def close(self):
        if self._window is not None:
            self._window.close()


class BreakoutVectorEnv(VectorEnv):
    """N games of Python Breakout stepped together by the NumPy core (no Python loop over games).

    Autoreset mode NEXT_STEP: on the step after a game ends (terminated or truncated), that game returns
    the first observation of a new game with reward 0 and terminated = truncated = False, and its action is
    ignored. info: "score" and "lives" arrays (N,) with Gymnasium's "_score"/"_lives" masks.
    render(): rgb_array gives (N, H, W, 3) colour frames; human shows game 0 in a window.
    """

    metadata = {
        "render_modes": list(RENDER_MODES),
        "render_fps": core.FPS,
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        num_envs: int = 1,
        obs_type: str = "state",
        obs_size: int = 84,
        frame_stack: int = 4,
        frame_skip: int = DEFAULT_FRAME_SKIP,
        max_episode_steps: int = DEFAULT_MAX_EPISODE_STEPS,
        render_mode: str | None = None,
        render_scale: int = DEFAULT_RENDER_SCALE,
        state_scaling: str = "range",
    ):
        self.num_envs = _check_positive_int("num_envs", num_envs)
        obs_size, frame_stack, frame_skip, max_episode_steps, render_scale = _check_config(
            obs_type, obs_size, frame_stack, frame_skip, max_episode_steps, render_mode, render_scale, state_scaling
        )
        self.obs_type = obs_type
        self.render_mode = render_mode
        self.render_scale = render_scale
        self.single_observation_space = observation_space(obs_type, obs_size, frame_stack, state_scaling)
        self.single_action_space = spaces.Discrete(core.NUM_ACTIONS)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._games = _Games(self.num_envs, obs_type, obs_size, frame_stack, frame_skip, max_episode_steps,
                             state_scaling)
        self._autoreset = np.zeros(self.num_envs, dtype=bool)
        self._all = np.ones(self.num_envs, dtype=bool)
        self._window = Window(scale=render_scale * 2) if render_mode == "human" else None

    @property
    def games(self) -> core.GameState:
        """The state arrays of all N games, for inspection."""
        return self._games.state

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._games.reset(self._all, self.np_random.integers(0, 1 << 32, size=self.num_envs))
        self._autoreset[:] = False
        if self.render_mode == "human":
            self.render()
        return self._games.observation(), self._info()

    def get_state(self) -> dict[str, Any]:
        """Everything the games' future depends on (their states, which games restart on the next step, the
        env's random generator), for set_state: an env restored from it steps exactly as this one would."""
        return {"games": self._games.get_state(), "autoreset": self._autoreset.copy(),
                "np_random": self.np_random.bit_generator.state}

    def set_state(self, state: dict[str, Any]) -> None:
        """Go back to a get_state() of an env made with the same num_envs and settings."""
        self._games.set_state(state["games"])
        _restore_array(self._autoreset, state["autoreset"], "autoreset")
        self.np_random.bit_generator.state = state["np_random"]

    def step(self, actions):
        actions = self._check_actions(actions)
        reward = self._games.step(actions)
        restart = self._autoreset
        if restart.any():
            seeds = np.zeros(self.num_envs, dtype=np.int64)
            seeds[restart] = self.np_random.integers(0, 1 << 32, size=int(restart.sum()))
            self._games.reset(restart, seeds)
            reward[restart] = 0.0
        self._games.render_latest(fresh=restart)
        terminated = self._games.terminated()
        truncated = self._games.truncated()
        self._autoreset = terminated | truncated
        if self.render_mode == "human":
            self.render()
        return self._games.observation(), reward, terminated, truncated, self._info()

    def _check_actions(self, actions) -> np.ndarray:
        array = np.asarray(actions)
        if array.shape != (self.num_envs,):
            raise ValueError(
                f"expected {self.num_envs} actions (one per game, shape ({self.num_envs},)), got shape {array.shape}"
            )
        if not np.issubdtype(array.dtype, np.integer):
            raise ValueError(f"actions must be integers 0 (NOOP), 1 (LEFT) or 2 (RIGHT), got dtype {array.dtype}")
        if array.min() < 0 or array.max() >= core.NUM_ACTIONS:
            raise ValueError(
                "actions outside the action space Discrete(3): got values "
                f"{np.unique(array[(array < 0) | (array >= core.NUM_ACTIONS)])}; "
                "use 0 (NOOP), 1 (LEFT) or 2 (RIGHT)"
            )
        return array.astype(np.int64, copy=False)

    def _info(self) -> dict[str, Any]:
        state = self._games.state
        every_game = self._all.copy()
        return {"score": state.score.copy(), "lives": state.lives.copy(), "_score": every_game, "_lives": every_game}

    def render(self):
        if self.render_mode is None:
            gym.logger.warn("render() called with render_mode=None: pass render_mode='rgb_array' or 'human'")
            return None
        if self.render_mode == "rgb_array":
            return self._games.colour_frames(self.render_scale)
        state = self._games.state
        self._window.show(
            colorize(self._games.renderer.render(state.select(0)))[0],
            caption=f"Python Breakout (game 0 of {self.num_envs})   score {state.score[0]}   lives {state.lives[0]}",
        )
        return None

    def close_extras(self, **kwargs):
        if self._window is not None:
            self._window.close()
