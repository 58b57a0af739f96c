"""Gymnasium env over a profiled Game Boy ROM (`GBCBreakout-v0` is this env with the `breakout` profile)."""

from __future__ import annotations

from typing import Any

import cv2
import gymnasium as gym
import numpy as np
from gymnasium import spaces

from breakout_py.errors import UserError
from gbc.emulator import GameBoy
from gbc.extract.spec import STATE_SCALINGS, StateSpec, StateSpecError, default_spec_path
from gbc.hardware import FRAMES_PER_SECOND, RAM_OBS_SIZE, SCREEN_HEIGHT, SCREEN_WIDTH, ram_obs_index
from gbc.profiles import GameProfile

OBS_TYPES = ("ram", "pixels", "state")


class EnvArgumentError(UserError, ValueError):
    """A keyword argument of the env that it cannot take (training scripts pass them from --env-kwargs)."""


# Without a seed variable in the profile, the reset idles a seeded number of frames (0..this-1) instead.
MAX_SEED_IDLE_FRAMES = 60


def grey_frame(screen: np.ndarray, obs_size: int) -> np.ndarray:
    """A (144, 160, 4) RGBA or (144, 160, 3) RGB screen as the pixel observation shows it: greyscale,
    area-downscaled to obs_size x obs_size uint8 (also used to turn emulated renders into observations)."""
    code = cv2.COLOR_RGBA2GRAY if screen.shape[2] == 4 else cv2.COLOR_RGB2GRAY
    return cv2.resize(cv2.cvtColor(screen, code), (obs_size, obs_size), interpolation=cv2.INTER_AREA)


class GameBoyEnv(gym.Env):
    """A Game Boy game from its first frame of play: reward = score gained, terminated = game over.

    obs_type="ram": the full WRAM (0xC000-0xDFFF) then HRAM (0xFF80-0xFFFE), uint8 (8319,); index of an
    address: `gbc.hardware.ram_obs_index`. obs_type="pixels": the last `frame_stack` screens (one per agent
    step), greyscale, area-downscaled to obs_size x obs_size, uint8 (frame_stack, obs_size, obs_size), oldest first.
    obs_type="state": the RAM bytes a state spec keeps (scripts/01_extract_state.py), float32 in [0, 1], one per
    feature (`gbc.extract.spec` says how bytes, signed and 16-bit values are scaled); `state_spec` is the spec's
    path (or a loaded StateSpec), by default the one beside the ROM (<rom>.state_spec.json); `state_scaling` "range"
    (each feature by its recorded range) or "arrays" (an array's members further divided by sqrt(members): what the
    memory agent trains on, agents/presets.py).
    Each action is held for `frame_skip` frames.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": round(FRAMES_PER_SECOND)}

    def __init__(
        self,
        profile: str | GameProfile,
        obs_type: str = "ram",
        frame_skip: int = 4,
        obs_size: int = 84,
        frame_stack: int = 4,
        render_mode: str | None = None,
        render_scale: int = 3,
        state_spec: str | StateSpec | None = None,
        state_scaling: str = "range",
    ):
        if obs_type not in OBS_TYPES:
            raise EnvArgumentError(f"obs_type must be one of {OBS_TYPES}, got {obs_type!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise EnvArgumentError(f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}")
        positive = {"frame_skip": frame_skip, "obs_size": obs_size, "frame_stack": frame_stack,
                    "render_scale": render_scale}
        for name, value in positive.items():
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise EnvArgumentError(f"{name} must be a positive integer, got {value!r}")
        self.obs_type = obs_type
        self.frame_skip = int(frame_skip)
        self.obs_size = int(obs_size)
        self.frame_stack = int(frame_stack)
        self.render_mode = render_mode
        self.render_scale = render_scale

        if state_spec is not None and obs_type != "state":
            raise EnvArgumentError(f"state_spec is only used with obs_type='state', not {obs_type!r}")
        if state_scaling not in STATE_SCALINGS:
            raise EnvArgumentError(f"state_scaling must be one of {STATE_SCALINGS}, got {state_scaling!r}")
        if state_scaling != "range" and obs_type != "state":
            raise EnvArgumentError(f"state_scaling is only used with obs_type='state', not {obs_type!r}")
        self.state_scaling = state_scaling
        self.game = GameBoy(profile)
        self.profile = self.game.profile
        self.action_space = spaces.Discrete(len(self.profile.actions))
        self.state_spec = None
        if obs_type == "state":
            try:
                self.state_spec = self._load_state_spec(state_spec)
            except Exception:
                self.game.close()
                raise
            self.observation_space = spaces.Box(0.0, 1.0, (self.state_spec.size,), np.float32)
            # what a trainer records and an evaluation checks (agents.checkpoint.check_state_spec)
            self.metadata = {**self.metadata, "state_spec": self.state_spec.fingerprint}
        elif obs_type == "ram":
            self.observation_space = spaces.Box(0, 255, (RAM_OBS_SIZE,), np.uint8)
        else:
            self.observation_space = spaces.Box(0, 255, (self.frame_stack, self.obs_size, self.obs_size), np.uint8)
        self._needs_screen = obs_type == "pixels" or render_mode is not None
        self._frames = np.zeros((self.frame_stack, self.obs_size, self.obs_size), np.uint8)
        self._score = 0
        self._episode_frame = 0
        self._window = None

    def _load_state_spec(self, state_spec: str | StateSpec | None) -> StateSpec:
        if isinstance(state_spec, StateSpec):
            spec = state_spec if state_spec.scaling == self.state_scaling else StateSpec(
                state_spec.data, state_spec.path, self.state_scaling)
        else:
            spec = StateSpec.load(default_spec_path(self.profile.rom_path) if state_spec is None else state_spec,
                                  self.state_scaling)
        spec.check_game_boy(self.profile.name, self.profile.sha1, RAM_OBS_SIZE)
        if spec.banked and not self.game.ram.cgb:
            raise StateSpecError(f"{spec.path} reads CGB WRAM banks 1-7, but this emulator runs DMG hardware, "
                                 "which has none; extract a spec on this hardware with scripts/01_extract_state.py")
        return spec

    def grid_layouts(self) -> list[dict[str, Any]]:
        """The profile's grids (gbc.profiles.Grid) as the memory agent's grid network reads them from this state
        observation (agents.networks.GridAgent): per cell of each grid, the observation column and (low, span) that
        give back its byte (column -1: a byte the spec does not keep, read as 0), the non-zero codes its planes show,
        and per marker the same for its column and row inputs. Config data for a network, so a trained agent keeps
        them and needs neither profile nor spec to run."""
        if self.state_spec is None:
            raise EnvArgumentError(f"grid layouts read the state observation; this env has obs_type={self.obs_type!r}"
                                   ": make it with obs_type='state'")
        if not self.profile.grids:
            raise EnvArgumentError(f"profile {self.profile.name!r} names no grid (gbc.profiles.Grid), so a grid "
                                   "network has nothing to convolve: train the MLP (--network mlp)")
        spec = self.state_spec
        layouts = []
        for grid in self.profile.grids:
            first = ram_obs_index(self.profile.address(grid.array))
            cells = [spec.input_of_byte(first + k) for k in range(grid.width * grid.height)]
            decoders = [spec.decoder(k) if k is not None else (-1, 0.0, 1.0) for k in cells]
            kept = [k for k in cells if k is not None]
            if not kept:
                raise StateSpecError(f"{spec.path} keeps no byte of grid {grid.array!r}: nothing to picture")
            top = max(int(spec.data["features"][k]["max"]) for k in kept)
            markers = [[self._marker_decoder(ref) for ref in marker] for marker in grid.markers]
            layouts.append({"name": grid.array, "height": grid.height, "width": grid.width,
                            "cells": [c for c, _, _ in decoders], "cell_low": [lo for _, lo, _ in decoders],
                            "cell_span": [span for _, _, span in decoders], "codes": list(range(1, top + 1)),
                            "markers": [{"x": x[0], "x_low": x[1], "x_span": x[2],
                                         "y": y[0], "y_low": y[1], "y_span": y[2]} for x, y in markers]})
        return layouts

    def _marker_decoder(self, ref: str) -> tuple[int, float, float]:
        """The decoder (StateSpec.decoder) of a grid marker's input: a variable, or "array[index]"."""
        spec = self.state_spec
        if "[" in ref:
            array, index = ref.removesuffix("]").split("[")
            k = spec.input_of_element(ram_obs_index(self.profile.address(array)),
                                      ram_obs_index(self.profile.address(index)))
        else:
            k = spec.input_of_byte(ram_obs_index(self.profile.address(ref)))
        if k is None:
            raise StateSpecError(f"{spec.path} has no input {ref!r} for a grid marker of profile "
                                 f"{self.profile.name!r}; extract the spec again with scripts/01_extract_state.py")
        return spec.decoder(k)

    def get_action_meanings(self) -> list[str]:
        return list(self.profile.action_names)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._episode_frame = 0
        if self.profile.seed_variable is not None:
            size = self.profile.variables[self.profile.seed_variable].size
            # Never zero: a zero state is a fixed point of xorshift-style generators.
            self.game.restart(seed=int(self.np_random.integers(1, 256**size)))
        else:
            self.game.restart()
            idle = int(self.np_random.integers(0, MAX_SEED_IDLE_FRAMES))
            if idle:
                self.game.tick(idle, self._needs_screen)
                self._episode_frame = idle
        self._score = self.game.score()
        if self.obs_type == "pixels":
            self._frames[:] = self._grey_frame()
        if self.render_mode == "human":
            self.render()
        return self._observation(), self._info()

    def get_state(self) -> dict[str, Any]:
        """Everything the game's future depends on (the emulator's saved state, the buttons held, the env's random
        generator, frame stack, score and frame count), for set_state: an env restored from it steps exactly as
        this one would."""
        return {"emulator": self.game.save_state(), "held": list(self.game.held),
                "np_random": self.np_random.bit_generator.state, "frames": self._frames.copy(),
                "score": self._score, "episode_frame": self._episode_frame}

    def set_state(self, state: dict[str, Any]) -> None:
        """Go back to a get_state() of an env made with the same profile and settings."""
        frames = np.asarray(state["frames"])
        if frames.shape != self._frames.shape:
            raise EnvArgumentError(f"saved frame stack has shape {frames.shape}, this env's is {self._frames.shape}: "
                                   "restore a state saved by an env with the same frame_stack and obs_size")
        self.game.load_state(bytes(state["emulator"]), tuple(state["held"]))
        self.np_random.bit_generator.state = state["np_random"]
        self._frames[:] = frames
        self._score, self._episode_frame = int(state["score"]), int(state["episode_frame"])

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"action must be an integer in [0, {self.action_space.n}), got {action!r}")
        self.game.hold(self.profile.actions[int(action)])
        self.game.tick(self.frame_skip, self._needs_screen)
        self._episode_frame += self.frame_skip
        score = self.game.score()
        reward = float(score - self._score)
        self._score = score
        if self.obs_type == "pixels":
            self._frames[:-1] = self._frames[1:]
            self._frames[-1] = self._grey_frame()
        if self.render_mode == "human":
            self.render()
        return self._observation(), reward, self.game.game_over(), False, self._info()

    def _grey_frame(self) -> np.ndarray:
        return grey_frame(self.game.screen_rgba_view(), self.obs_size)

    def _observation(self) -> np.ndarray:
        if self.obs_type == "ram":
            return self.game.ram.read()
        if self.obs_type == "state":
            if self.state_spec.banked:  # bytes of CGB WRAM banks, read from their bank whichever is switched in
                return self.state_spec.transform(self.game.ram.read(),
                                                 self.game.ram.read_wram(self.state_spec.wram_offsets))
            return self.state_spec.transform(self.game.ram.read())
        return self._frames.copy()

    def _info(self) -> dict[str, Any]:
        info = {"score": self._score, "episode_frame_number": self._episode_frame}
        lives = self.game.lives()
        if lives is not None:
            info["lives"] = lives
        return info

    @property
    def window_closed(self) -> bool:
        """Whether the person closed the render_mode="human" window."""
        return self._window is not None and self._window.closed

    def render(self):
        if self.render_mode == "rgb_array":
            return self.game.screen_rgb()
        if self.render_mode == "human":
            if self._window is None:
                from gbc.window import Window  # pygame only when a window is wanted

                self._window = Window(f"gbc: {self.profile.name}", SCREEN_WIDTH, SCREEN_HEIGHT, self.render_scale)
            self._window.show(self.game.screen_rgb(), fps=FRAMES_PER_SECOND / self.frame_skip)
        return None

    def close(self):
        if self._window is not None:
            self._window.close()
            self._window = None
        self.game.close()
