"""Step 07's adapter for pixel agents of any Game Boy game with a profile and a committed state spec (`GBCGame`, one
per env id in `ADAPTERS`; see agents.probing.game). No game's variables are named here: they come from the game's
data (state spec, symbols file, profile, step 06's key variables) or are measured on the game itself.

Variables (`load_variables`): the features of the state spec beside the ROM (`<rom>.state_spec.json`, written by
scripts/01_extract_state.py). With a symbols file beside the ROM, a feature is named by the symbol whose bytes hold
it: one variable per scalar symbol, read with the symbol's size and sign (a 16-bit word is one value), one per
element of an array symbol (`name[i]`, i the byte offset, as step 06 names it); a byte no symbol covers, and every
feature without a symbols file, by its address (`0xC0A6`). A feature in a CGB WRAM bank 1-7 is named by bank and
address (`2:0xD018`) and read and written in its own bank, whichever bank the game has switched in (a level ring in
bank 2): the play recorder reads every bank, the emulated render writes `(bank, address)`. Each array (an array
symbol, else a spec array group) becomes an ArrayLayout: a grid when the symbols file gives its shape (the
variable's "shape", else a pair of constants `<P>_ROWS` x `<P>_COLUMNS` or `<P>_HEIGHT` x `<P>_WIDTH` whose
product is its element count), else one row. The spec's indexed inputs (an array element read through an index
byte, e.g. the snake's head cell `body_x[head_index]`) are variables too, read as the state observation reads them and
named `array[index]` from the symbols (`0xC0A5[0xC2A5]` by address, as step 06 writes them); where one lives moves
with its index, so it is never written: it is measured, probed and mapped from play, like a position drawn on events.

Kinds (`Variable.kind`, the report's families), in this order: "array element" (a member of an array) and "flag" (the
spec recorded only 0 and 1) from the spec; "position": it moved both ways from one agent step to the next in play and
what the game draws moves with it (the centroid of the changed pixels shifts at least MIN_PIXELS_PER_UNIT px per unit,
measured below), or, for a variable whose writes change no pixel, where play draws it moves with it
(measure_play_drawing: a snake's food, drawn as a tile when placed; the runner's next obstacle, drawn from the course,
seen once the pixels of the positions drawn at once are left out, the player's sprite jumping over it among them);
"velocity": a signed type (the symbol's C type, else the spec's) that is no position (a speed in sub-pixels moves the
drawing less than that); "counter": it only rose, or only fell, from one agent step to the next in play (scores,
timers); else "value". A sweep's frame stack follows the kind: a position translates the history (the newest frame gets
the value, each earlier frame is shifted by the same amount, clipped to the spec's range), any other kind is set to the
value in every frame.

Which variables are swept is measured (`measure_screen`), not listed: in a few play states each scalar is written,
with SCREEN_TEST_VALUES values over its observed range, into the state saved the profile's screen_lag_frames before
the sample's newest screen, and the game's code draws the result (gbc.emulated_render). It is sweepable when the
screen changed in at least SWEEPABLE_FRACTION of those writes. Variables the game draws only on events (a tile
redrawn when something happens: a grid of tiles, a score, lives) change nothing there, so they vary through play
only, as array elements do (too many to sweep one by one); their mean-difference directions come from play (upper
vs lower third, or 1 vs 0). Such a variable that play shows to be a position (a position drawn on events) is probed
from the samples as they are, where the screen shows it, and held to the R^2 bar like the swept positions; it gets
a screen map against where play draws it (`play_reference`: writing it changes no pixel, so the emulator's map would
be empty) and no predicted causal sign.
Sweeps: each sweepable variable over `sweep_count` values of its observed range in `num_bases` play states, plus
`joint_positions` random joint placements of all sweepable positions in their observed box (the "joint" kind), each
drawn by the game; targets are read from the RAM the newest frame was drawn from. A variable the game draws only in some
states (the runner's height is not drawn while it ducks; a shot's x only while one flies) is swept only in the bases
where its values drew different frames: elsewhere the frames say nothing of the written value, and joint placements use
only the bases where every position drew.

Key variables (the R^2 bar's, the causal check's, the screen maps'): the top KEY_VARIABLES_TOP (agents.probing.game)
of step 06's key_variables.csv (ProbeConfig.key_variables_csv, default artifacts/key_variables/<env>/shipped_memory/)
that are probe variables, matched by address; without that file, the measured on-screen positions. summary.json says
which.

Causal check: the profile's action names give the axis: RIGHT over LEFT (x) or DOWN over UP (y); otherwise the first
two actions other than NOOP, with no predicted direction (only "steering moves the policy more than random
directions"). On an axis, the predicted signs are measured: a position that pressing RIGHT (DOWN) instead of LEFT
(UP) moves up in most test states is the agent's own (pushing it up should favour the other action: -1); every
other position drawn along that axis is a target to follow (+1 when the drawing moves right/down with its value).

Play and frames as the env gives them: while the agent plays (its env kwargs, sampled actions), the env's emulator
saves, for the steps that make a kept sample's frame stack, the state screen_lag_frames before the step's last
frame, the variables then, and the RAM the last frame is drawn from. Re-rendering a play sample from those states
gives the env's observation byte for byte (tested). Stacks never reach back to an episode's reset screen.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import gymnasium as gym
import numpy as np
import torch.nn as nn

import gbc
from agents.probing.game import (KIND_PLAY, ArrayLayout, GameSamples, GameSpec, ProbeConfig, ProbeSetup,
                                 key_variables_of)
from agents.probing.probes import ProbeError, sample_actions
from agents.probing.screen_maps import ScreenPerturbations
from gbc.emulated_render import EmulatedRenderer
from gbc.env import grey_frame
from gbc.extract.spec import default_spec_path, indexed_elements
from gbc.hardware import SCREEN_HEIGHT, SCREEN_WIDTH, WRAM_BANK_SIZE, WRAM_SWITCHED_START, ram_obs_index
from gbc.profiles import GameProfile, get_profile

KIND_SWEEP, KIND_JOINT = 1, 2  # after KIND_PLAY = 0
KIND_NAMES = ("play", "sweep", "joint")
KINDS = ("position", "velocity", "counter", "flag", "array element", "value")
# About 6 minutes of CPU for our first game on this 2-core machine: the emulated render costs about 5 ms a frame, a saved
# state 12 ms. 96 bases and 24 joint placements: with half as many, our first game's small moving object read at R^2
# 0.85-0.89 from 2,066 training samples, 0.92-0.93 from 4,787 (agents/trained/results/probe.md). causal_variables
# None: the key variables.
DEFAULTS = dict(num_games=8, num_steps=600, keep_every=6, num_bases=96, joint_positions=24, causal_variables=None,
                causal_states=48, group_steps=60)
SCREEN_TEST_STATES = 6  # play states each scalar is written into to see whether the game draws it
SCREEN_TEST_VALUES = 5  # values per state, over the variable's observed range
SWEEPABLE_FRACTION = 0.5  # of the writes (a value other than the current one) that must change the screen
MIN_PIXELS_PER_UNIT = 0.25  # a position's drawing moves at least this far per unit of its value
# A position drawn on events is measured from play: up to PLAY_BINS bins of its values, each of at least PLAY_MIN_BIN
# samples, and at least 4 of them; the line through the bins' centroids must explain PLAY_FIT_R2 of their variance,
# the lowest and the highest bin may be left out while PLAY_MIN_LINE_BINS remain (the runner's next obstacle: in the
# bin nearest the player it hides behind the player's sprite, in the farthest it leaves the screen).
PLAY_BINS, PLAY_MIN_BIN, PLAY_FIT_R2, PLAY_MIN_LINE_BINS = 8, 5, 0.9, 5
CONTROL_FRACTION = 0.75  # of test states where toward - away moves a position up: the agent's own
AXES = (("RIGHT", "LEFT", "x"), ("DOWN", "UP", "y"))  # (toward, away, screen axis the pair moves along)


def address_label(bank: int, address: int) -> str:
    """`0xC0A6`, or `2:0xD018` for a byte of CGB WRAM bank 2 (step 06's address column writes the same)."""
    return f"{bank}:0x{address:04X}" if bank else f"0x{address:04X}"


@dataclass(frozen=True)
class Variable:
    """One target: a scalar symbol, one element of an array, or an unnamed byte/word of the state spec."""

    name: str
    address: int
    size: int  # bytes, little-endian
    signed: bool
    binary: bool  # 0/1 (logistic probe)
    low: int  # the range the spec recorded (the type's range for a word the spec kept only in part)
    high: int
    kind: str  # one of KINDS; before play only "array element" and "flag" are final (refine_kinds)
    array: str = ""  # title of its ArrayLayout for an array element
    bank: int = 0  # its CGB WRAM bank (1-7) when it lives in one whichever is switched in; 0: the address as seen
    # an indexed input (gbc.extract.spec): the byte at address + stride * ((RAM[index] + offset) % length)
    index: int | None = None
    stride: int = 1
    length: int = 1
    offset: int = 0

    @property
    def indexed(self) -> bool:
        return self.index is not None

    @property
    def label(self) -> str:
        """Its address as step 06's address column writes it (an indexed input: `0xC0A5[0xC2A5]`)."""
        return f"0x{self.address:04X}[0x{self.index:04X}]" if self.indexed else address_label(self.bank, self.address)

    @property
    def key(self) -> int | tuple[int, int]:
        """Its override key for gbc.emulated_render: the address, or (bank, address)."""
        if self.indexed:  # where it lives moves with its index: it is measured from play, never written
            raise ProbeError(f"{self.name} is read through an index byte: it has no fixed address to write")
        return (self.bank, self.address) if self.bank else self.address

    def encode(self, value: int) -> bytes:
        return (int(value) % (1 << (8 * self.size))).to_bytes(self.size, "little")


@dataclass(frozen=True)
class GameVariables:
    """A game's variables and the grids of its arrays."""

    variables: tuple[Variable, ...]
    arrays: dict[str, ArrayLayout]
    symbols: bool  # named from a symbols file (else by address)


def _symbols_path(profile: GameProfile) -> Path:
    return Path(profile.rom_path).with_suffix(".symbols.json")


def _array_shape(symbol: dict[str, Any], count: int, constants: dict[str, Any]) -> tuple[int, int]:
    """The grid of an array of `count` elements (see the module docstring): (rows, columns)."""
    if symbol.get("shape"):
        rows, cols = symbol["shape"]
        return int(rows), int(cols)
    for rows_suffix, cols_suffix in (("_ROWS", "_COLUMNS"), ("_HEIGHT", "_WIDTH")):
        for name in sorted(constants):
            if name.endswith(rows_suffix):
                cols = constants.get(name[:-len(rows_suffix)] + cols_suffix)
                if cols and int(constants[name]) * int(cols) == count:
                    return int(constants[name]), int(cols)
    return 1, count


def load_variables(profile: str | GameProfile, spec_path: Path | None = None,
                   symbols_path: Path | None = None) -> GameVariables:
    """The spec's features as variables, named, sized and typed from the symbols file when there is one (pass a
    missing path to name them by address); arrays laid out as the module docstring says."""
    profile = get_profile(profile)
    spec_path = Path(spec_path) if spec_path else default_spec_path(profile.rom_path)
    if not spec_path.is_file():
        raise ProbeError(f"{profile.name} has no state spec at {spec_path}; write it with "
                         f"scripts/01_extract_state.py --env-id <its env> --update-committed")
    spec = json.loads(spec_path.read_text())
    symbols_path = _symbols_path(profile) if symbols_path is None else Path(symbols_path)
    symbols = json.loads(symbols_path.read_text()) if symbols_path.is_file() else {"variables": [], "constants": {}}
    owners = sorted(symbols["variables"], key=lambda v: int(v["address"]))  # a banked one says its cgb_wram_bank
    groups = {g["name"]: g for g in spec.get("groups", [])}
    out: list[Variable] = []
    members: dict[str, list[tuple[int, str]]] = {}  # array title -> (element index, name)
    array_symbols: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for f in spec["features"]:
        address, size, bank = int(f["addresses"][0], 16), len(f["addresses"]), int(f.get("bank") or 0)
        low, high, signed = int(f["min"]), int(f["max"]), bool(f["signed"])
        group = groups.get(f.get("group") or "", {})
        label = address_label(bank, address)
        owner = _owner(owners, bank, address)
        if owner is not None and "[" in str(owner["type"]):  # an element of an array symbol
            offset = address - int(owner["address"])
            name, title = f"{owner['name']}[{offset}]", owner["name"]
            array_symbols[title] = owner
        elif owner is None and group.get("kind") == "array":  # an unnamed array the extractor found
            offset = (address - int(group["first"], 16))
            name, title = label, group["name"]
        else:
            title = ""
        if title:
            members.setdefault(title, []).append((offset, name))
            out.append(Variable(name, address, size, signed, (low, high) == (0, 1), low, high, "array element",
                                title, bank))
            continue
        if owner is None:
            out.append(Variable(label, address, size, signed, (low, high) == (0, 1), low, high,
                                "flag" if (low, high) == (0, 1) else "velocity" if signed else "value", bank=bank))
            continue
        if owner["name"] in seen:
            continue
        seen.add(owner["name"])
        size, signed = int(owner["size"]), not str(owner["type"]).startswith("u")
        whole = len(f["addresses"]) == size and signed == bool(f["signed"])  # else the spec's range is not its own
        bits = 8 * size
        if not whole:
            low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        binary = whole and (low, high) == (0, 1)
        out.append(Variable(owner["name"], int(owner["address"]), size, signed, binary, low, high,
                            "flag" if binary else "velocity" if signed else "value", bank=bank))
    out += _indexed_variables(spec, owners)
    arrays = {}
    for title, elements in members.items():
        owner = array_symbols.get(title)
        count = int(owner["size"]) if owner else int(groups[title]["members"])
        rows, cols = _array_shape(owner or {}, count, symbols.get("constants", {}))
        names = [""] * (rows * cols)
        for offset, name in elements:
            if offset < len(names):
                names[offset] = name
        arrays[title] = ArrayLayout((rows, cols), tuple(names))
    return GameVariables(tuple(out), arrays, symbols_path.is_file())


def _owner(owners: Sequence[dict[str, Any]], bank: int, address: int) -> dict[str, Any] | None:
    """The symbol whose bytes hold `address` (of CGB WRAM bank `bank`, 0: as the CPU sees it), None if none."""
    return next((v for v in owners if int(v.get("cgb_wram_bank") or 0) == bank
                 and int(v["address"]) <= address < int(v["address"]) + int(v["size"])), None)


def _indexed_variables(spec: dict[str, Any], owners: Sequence[dict[str, Any]]) -> list[Variable]:
    """The spec's indexed inputs (an array element read through an index byte, e.g. the snake's head cell
    `body_x[head_index]`) as variables, named from the symbols that hold the array and the index when there are."""
    out = []
    for e in spec.get("indexed", []):
        base, index = int(e["base_address"], 16), int(e["index_address"], 16)
        array, index_name = _owner(owners, 0, base), _owner(owners, 0, index)
        name = (f"{array['name']}[{index_name['name']}]" if array and index_name
                else f"0x{base:04X}[0x{index:04X}]")
        low, high = int(e["min"]), int(e["max"])
        out.append(Variable(name, base, 1, False, (low, high) == (0, 1), low, high,
                            "flag" if (low, high) == (0, 1) else "value", index=index, stride=int(e["stride"]),
                            length=int(e["length"]), offset=int(e["offset"])))
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


class VariableBytes:
    """Reads the variables' bytes, in order: a plain address from the RAM as the CPU sees it (the env's RAM
    observation, gbc.hardware.ram_obs_index), a banked one from its own CGB WRAM bank."""

    def __init__(self, variables: Sequence[Variable]):
        places = [(v.bank, v.address + b) for v in variables for b in range(v.size)]
        banked = np.array([bank > 0 for bank, _ in places], dtype=bool)
        self.size = len(places)
        self.plain_at, self.banked_at = np.flatnonzero(~banked), np.flatnonzero(banked)
        self.plain = np.array([ram_obs_index(a) for bank, a in places if not bank], dtype=np.int64)
        self.banked = np.array([bank * WRAM_BANK_SIZE + a - WRAM_SWITCHED_START for bank, a in places if bank],
                               dtype=np.int64)  # into gbc.memory.RamReader.wram_banks(), flattened
        starts = np.cumsum([0] + [v.size for v in variables])[:-1]
        indexed = [(at, v) for at, v in zip(starts, variables) if v.indexed]
        # an indexed input's byte: the element its index byte points at, in the same RAM read (gbc.extract.spec)
        self.indexed_at = np.array([at for at, _ in indexed], dtype=np.int64)
        self.indexed = tuple(np.array(column, dtype=np.int64) for column in zip(
            *[(ram_obs_index(v.index), ram_obs_index(v.address), v.stride, v.length, v.offset) for _, v in indexed]))

    def read(self, ram) -> np.ndarray:
        """(bytes,) uint8 from a gbc.memory.RamReader (or a RamSnapshot of one)."""
        out = np.empty(self.size, dtype=np.uint8)
        plain = ram.read()
        out[self.plain_at] = plain[self.plain]
        if self.banked.size:
            out[self.banked_at] = ram.read_wram(self.banked)
        if self.indexed_at.size:
            out[self.indexed_at] = plain[indexed_elements(plain, *self.indexed)]
        return out


def causal_actions(profile: GameProfile) -> tuple[str, str, str]:
    """(toward, away, axis) of the causal check: RIGHT/LEFT ("x") or DOWN/UP ("y") when the profile names them, else
    the first two actions other than NOOP and axis "" (no predicted direction)."""
    names = profile.action_names
    for toward, away, axis in AXES:
        if toward in names and away in names:
            return toward, away, axis
    others = [name for name in names if name != "NOOP"] or list(names)
    if len(others) < 2:
        raise ProbeError(f"{profile.name} has actions {list(names)}; the causal check compares two of them")
    return others[0], others[1], ""


def setup_for_checkpoint(env_id: str, agent: nn.Module, checkpoint: dict[str, Any],
                         source: str) -> tuple[ProbeSetup, GameProfile]:
    """Checks that the checkpoint is a pixel agent of `env_id` whose network takes that env's frames; the setup and
    the game's profile."""
    if checkpoint.get("env_id") != env_id:
        raise ProbeError(f"{source} was trained on {checkpoint.get('env_id')!r}, not {env_id}")
    kwargs = {k: v for k, v in dict(checkpoint.get("env_kwargs") or {}).items() if k != "render_mode"}
    env = gym.make(env_id, **kwargs)
    try:
        game = env.unwrapped
        obs_type, shape, frame_skip = game.obs_type, tuple(env.observation_space.shape), game.frame_skip
        n_actions, meanings, profile = int(env.action_space.n), tuple(game.get_action_meanings()), game.profile
    finally:
        env.close()
    if obs_type != "pixels":
        raise ProbeError(f"{source} is a memory agent of {env_id} (obs_type={obs_type!r}); the probe reads "
                         "a pixel agent's layers: pass a checkpoint of scripts/03_train_pixel.py")
    network = getattr(agent, "config", {})
    if tuple(network.get("obs_shape", ())) != shape or network.get("n_actions") != n_actions:
        raise ProbeError(f"{source}: the network takes observations {network.get('obs_shape')} and "
                         f"{network.get('n_actions')} actions, but {env_id} with {kwargs} gives {list(shape)} and "
                         f"{n_actions}; the checkpoint does not fit the env it names")
    if frame_skip <= profile.screen_lag_frames:
        raise ProbeError(f"frame_skip {frame_skip}: re-rendering a step needs a state {profile.screen_lag_frames} "
                         "frames before its screen inside the same step, so frame_skip must be above that")
    return ProbeSetup(env_id, kwargs, obs_size=shape[1], frame_stack=shape[0], frame_skip=frame_skip,
                      action_meanings=meanings), profile


# --- Play ------------------------------------------------------------------------------------------------------------

class _StepRecorder:
    """Stands in for the env's `GameBoy.tick`. When armed, it runs an agent step's frames in parts and keeps the
    emulator state `lag` frames before the step's last screen (what the emulated render writes into), the
    variables' bytes then, and their bytes in the RAM the last screen is drawn from."""

    def __init__(self, game, reader: VariableBytes, lag: int):
        self.game, self.reader, self.lag = game, reader, lag
        self.run_frames = game.tick
        game.tick = self
        self.armed = False
        self.saved: tuple[bytes, np.ndarray, np.ndarray] | None = None

    def __call__(self, frames: int, render: bool) -> None:
        if not self.armed:
            self.run_frames(frames, render)
            return
        self.run_frames(frames - self.lag, render)
        state, written = self.game.save_state(), self.reader.read(self.game.ram)
        if self.lag > 1:
            self.run_frames(self.lag - 1, render)
        self.saved = (state, written, self.reader.read(self.game.ram))
        self.run_frames(1, render)


@dataclass
class Measured:
    """What `measure_screen` and `measure_control` found (see the module docstring)."""

    changed: np.ndarray  # (K,) fraction of screen-test writes that changed the screen; nan for untested variables
    slope: np.ndarray  # (K, 2) px per unit the drawing moves along x and y
    kinds: tuple[str, ...]  # per variable, one of KINDS
    controlled: np.ndarray  # (K,) fraction of test states where toward - away moved the variable up
    play_slope: np.ndarray  # (K, 2) px per unit along x and y, measured from play (measure_play_drawing)
    # (144, 160) screen pixels the writes of the positions drawn at once changed: left out when play locates others
    swept_pixels: np.ndarray | None = None

    def sweepable(self) -> np.ndarray:
        return np.nan_to_num(self.changed) >= SWEEPABLE_FRACTION

    def drawn_on_events(self) -> np.ndarray:
        """(K,) positions the game draws on events, measured from play: writing them draws nothing."""
        moved = np.abs(self.play_slope).max(axis=1) >= MIN_PIXELS_PER_UNIT
        return self._positions() & ~self.sweepable() & moved

    def on_screen(self) -> np.ndarray:
        """(K,) the positions the screen shows: drawn at once (swept) or on events (from play)."""
        return self._positions() & self.sweepable() | self.drawn_on_events()

    def _positions(self) -> np.ndarray:
        return np.array([kind == "position" for kind in self.kinds])


@dataclass
class GBCPlay:
    """Kept play samples: per sample the saved state of each frame of its stack (oldest first) and the bytes, and
    what was measured on them."""

    states: list[list[bytes]]
    written: np.ndarray  # (N, F, bytes) the variables' bytes in each frame's saved state
    shown: np.ndarray  # (N, bytes) the variables' bytes the newest frame is drawn from
    env_obs: np.ndarray  # (N, F, S, S) the env's observations
    game: np.ndarray
    step: np.ndarray
    mean_return: float
    episodes: int
    measured: Measured | None = field(default=None)


def collect_play(agent: nn.Module, setup: ProbeSetup, profile: GameProfile, variables: Sequence[Variable],
                 num_games: int, num_steps: int, keep_every: int, seed: int) -> GBCPlay:
    """Plays `num_games` games in lockstep for `num_steps` agent steps (actions sampled from the policy; a finished
    game restarts) and keeps every `keep_every`-th step of each episode, from step `keep_every` on."""
    frames = setup.frame_stack
    if keep_every < frames:
        raise ProbeError(f"keep_every {keep_every} is below frame_stack {frames}: kept stacks would overlap")
    reader = VariableBytes(variables)
    envs = [gym.make(setup.env_id, **setup.env_kwargs) for _ in range(num_games)]
    recorders = [_StepRecorder(env.unwrapped.game, reader, profile.screen_lag_frames) for env in envs]
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


# --- Measuring what the game draws and what the actions move -----------------------------------------------------

def observed_range(play: GBCPlay, variables: Sequence[Variable], k: int) -> tuple[int, int]:
    """The 1st and 99th percentile of variable k in play (0 and 1 for a flag)."""
    if variables[k].binary:
        return 0, 1
    lo, hi = np.round(np.quantile(decode(play.shown, variables)[:, k], (0.01, 0.99))).astype(int)
    return int(lo), int(hi)


def _test_states(play: GBCPlay, count: int) -> np.ndarray:
    return np.unique(np.linspace(0, len(play.states) - 1, min(count, len(play.states))).astype(int))


def _centroid(mask: np.ndarray) -> np.ndarray | None:
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean()]) if xs.size else None


def measure_screen(play: GBCPlay, variables: Sequence[Variable], renderer: EmulatedRenderer,
                   states: int = SCREEN_TEST_STATES, values: int = SCREEN_TEST_VALUES
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per scalar variable: the fraction of writes (a value other than the current one, into the newest frame's
    saved state of `states` play samples) that changed the screen the game draws, the slope (px per unit, along
    x and y) of the centroid of what differs from the per-pixel median of the renders, and the screen pixels any
    of its writes changed ((K, 144, 160) bool); nan/0/none for array elements."""
    changed = np.full(len(variables), np.nan)
    slope = np.zeros((len(variables), 2))
    drawn = np.zeros((len(variables), SCREEN_HEIGHT, SCREEN_WIDTH), bool)
    rows = _test_states(play, states)
    written = decode(play.written[:, -1], variables)
    for k, v in enumerate(variables):
        if v.kind == "array element" or v.indexed:  # an indexed input is measured from play: see measure_play_drawing
            continue
        lo, hi = observed_range(play, variables, k)
        if lo == hi:
            lo, hi = v.low, v.high
        tried = np.unique(np.round(np.linspace(lo, hi, values)).astype(int))
        hits, slopes = [], []
        for b in rows:
            state = play.states[b][-1]
            reference = renderer.run(state, {}, with_dump=False).frame
            frames = [renderer.run(state, {v.key: v.encode(value)}, with_dump=False).frame for value in tried]
            hits += [bool((f != reference).any()) for f, value in zip(frames, tried) if value != written[b, k]]
            for f in frames:
                drawn[k] |= (f != reference).any(axis=2)
            background = np.median(np.stack([reference, *frames]), axis=0)
            centres = [(value, _centroid((f != background).any(axis=2))) for value, f in zip(tried, frames)]
            centres = [(value, c) for value, c in centres if c is not None]
            if len(centres) >= 2 and np.ptp([value for value, _ in centres]) > 0:
                x = np.array([value for value, _ in centres], dtype=float)
                slopes.append([np.polyfit(x, [c[axis] for _, c in centres], 1)[0] for axis in (0, 1)])
        changed[k] = np.mean(hits) if hits else 0.0
        slope[k] = np.mean(slopes, axis=0) if slopes else 0.0
    return changed, slope, drawn


def measure_control(play: GBCPlay, setup: ProbeSetup, profile: GameProfile, variables: Sequence[Variable],
                    toward: str, away: str, states: int = SCREEN_TEST_STATES) -> np.ndarray:
    """Per variable: the fraction of test play states (their newest frame's saved state) in which one agent step
    of `toward` left it higher than one of `away`."""
    buttons = dict(zip(profile.action_names, profile.actions))
    reader = VariableBytes(variables)
    env = gym.make(setup.env_id, **setup.env_kwargs)
    game = env.unwrapped.game
    rows = _test_states(play, states)
    up = np.zeros(len(variables))
    try:
        for b in rows:
            after = []
            for action in (toward, away):
                game.load_state(play.states[b][-1], held=buttons[action])
                game.tick(setup.frame_skip, False)
                after.append(decode(reader.read(game.ram)[None], variables)[0])
            up += after[0] > after[1]
    finally:
        env.close()
    return up / len(rows)


def _observation_pixel_of(size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Per screen row (144) and column (160), the row and column of the (size) observation pixel that covers it."""
    return np.arange(SCREEN_HEIGHT) * size[0] // SCREEN_HEIGHT, np.arange(SCREEN_WIDTH) * size[1] // SCREEN_WIDTH


def play_frames(play: GBCPlay, excluded: np.ndarray | None = None) -> np.ndarray:
    """(N, S, S) float32: the play samples' newest frames (the agent's observations), with the observation pixels
    that cover any screen pixel of `excluded` (144, 160) set to 0."""
    newest = play.env_obs[:, -1].astype(np.float32)
    if excluded is not None and excluded.any():
        size = newest.shape[1:]
        rows, columns = _observation_pixel_of(size)
        covered = np.zeros(size, bool)
        ys, xs = np.nonzero(excluded)
        covered[rows[ys], columns[xs]] = True
        newest[:, covered] = 0
    return newest


def play_drawing_bins(newest: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Play samples binned by a variable's `values` (N,) (up to PLAY_BINS quantile bins) against their `newest` frames
    (N, S, S): per sample its bin (-1 in a bin of fewer than PLAY_MIN_BIN samples), per kept bin the pixels where the
    bin's mean frame differs from the mean of all frames by at least half its largest difference, weighted by that
    difference ((bins, S, S), 0 elsewhere), and the bin's mean value; None with fewer than 4 values or kept bins."""
    if len(np.unique(values)) < 4:
        return None
    overall = newest.mean(0)
    edges = np.unique(np.quantile(values, np.linspace(0, 1, PLAY_BINS + 1)))
    bins = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    kept = np.full(len(values), -1)
    regions, means = [], []
    for b in np.unique(bins):
        members = bins == b
        difference = np.abs(newest[members].mean(0) - overall)
        if members.sum() < PLAY_MIN_BIN or difference.max() <= 0:
            continue
        kept[members] = len(regions)
        regions.append(np.where(difference >= difference.max() / 2, difference, 0))
        means.append(values[members].mean())
    if len(regions) < 4:
        return None
    return kept, np.array(regions), np.array(means)


def play_line_slope(x: np.ndarray, y: np.ndarray) -> float:
    """The slope of a line through the points (x, y), x ascending, that explains PLAY_FIT_R2 of y's variance, 0 if
    none does. The line may leave out the lowest point, the highest or both while PLAY_MIN_LINE_BINS points remain:
    at the ends of its range an object meets the player's sprite or the screen's edge, and that bin's region is
    where something else is drawn."""
    n = len(x)
    for first, last in ((0, n), (1, n), (0, n - 1), (1, n - 1)):
        if last - first < PLAY_MIN_LINE_BINS and (first, last) != (0, n):
            continue
        fit = np.polyfit(x[first:last], y[first:last], 1)
        residual = ((y[first:last] - np.polyval(fit, x[first:last])) ** 2).sum()
        spread = ((y[first:last] - y[first:last].mean()) ** 2).sum()
        if spread > 0 and 1 - residual / spread >= PLAY_FIT_R2:
            return float(fit[0])
    return 0.0


def measure_play_drawing(play: GBCPlay, variables: Sequence[Variable], tested: np.ndarray,
                         excluded: np.ndarray | None = None) -> np.ndarray:
    """Per scalar variable in `tested` (K,) bool: the slope (screen px per unit, along x and y) of where play draws
    it, 0 where no line fits; for variables the game draws on events, whose writes change no pixel.

    The play samples' newest frames (the agent's observations, without the screen pixels `excluded`: where the
    positions drawn at once draw, a sprite that follows the agent's reaction to this one) are binned by the
    variable's value (`play_drawing_bins`); a line (`play_line_slope`) through the centroids of the bins' regions
    against the bins' mean values, per axis. The food of a snake game, drawn as a tile when it is placed, moves its
    bin's centroid a tile per unit; a score or a random seed moves none (tests/test_probe_gbc_game.py)."""
    newest = play_frames(play, excluded)
    size = newest.shape[1:]
    scale = np.array([SCREEN_WIDTH / size[1], SCREEN_HEIGHT / size[0]])
    values = decode(play.shown, variables)
    ys, xs = np.indices(size)
    slope = np.zeros((len(variables), 2))
    for k in np.flatnonzero(tested):
        binned = None if variables[k].kind == "array element" else play_drawing_bins(newest, values[:, k])
        if binned is None:
            continue
        _, regions, x = binned
        centres = np.array([[np.average(xs, weights=r), np.average(ys, weights=r)] for r in regions]) * scale
        slope[k] = [play_line_slope(x, centres[:, axis]) for axis in (0, 1)]
    return slope


def refine_kinds(play: GBCPlay, variables: Sequence[Variable], slope: np.ndarray,
                 play_slope: np.ndarray) -> tuple[str, ...]:
    """Counter, position or value for the variables whose kind the spec left open (see the module docstring);
    `play_slope` (measure_play_drawing) makes a position of a variable whose drawing moves with it in play."""
    if play.written.shape[1] > 1:
        per_frame = decode(play.written.reshape(-1, play.written.shape[-1]), variables).reshape(
            *play.written.shape[:2], -1)
        steps = np.diff(per_frame, axis=1).reshape(-1, len(variables))
    else:
        steps = np.zeros((0, len(variables)))
    kinds = []
    for k, v in enumerate(variables):
        rose, fell = bool((steps[:, k] > 0).any()), bool((steps[:, k] < 0).any())
        if v.kind in ("array element", "flag"):
            kinds.append(v.kind)
        elif (rose and fell and np.abs(slope[k]).max() >= MIN_PIXELS_PER_UNIT) or \
                np.abs(play_slope[k]).max() >= MIN_PIXELS_PER_UNIT:
            kinds.append("position")
        elif v.signed:
            kinds.append("velocity")
        elif rose != fell:
            kinds.append("counter")
        else:
            kinds.append("value")
    return tuple(kinds)


def positions_drawn_at_once(changed: np.ndarray, slope: np.ndarray, drawn: np.ndarray) -> np.ndarray:
    """(144, 160) the screen pixels that the writes of the sweepable variables whose drawing moves with them
    (`measure_screen`'s outputs) changed: where the sprites drawn at once move, not what a game state or a scroll
    redraws, which may be the whole screen."""
    moving = (np.nan_to_num(changed) >= SWEEPABLE_FRACTION) & (np.abs(slope).max(axis=1) >= MIN_PIXELS_PER_UNIT)
    return drawn[moving].any(axis=0)


def measure(play: GBCPlay, setup: ProbeSetup, profile: GameProfile, variables: Sequence[Variable]) -> Measured:
    """Screen test, kinds and the actions' effect (see the module docstring)."""
    renderer = EmulatedRenderer(profile)
    try:
        changed, slope, drawn = measure_screen(play, variables, renderer)
    finally:
        renderer.close()
    toward, away, axis = causal_actions(profile)
    controlled = measure_control(play, setup, profile, variables, toward, away) if axis else np.zeros(len(variables))
    sweepable = np.nan_to_num(changed) >= SWEEPABLE_FRACTION
    swept_pixels = positions_drawn_at_once(changed, slope, drawn)
    play_slope = measure_play_drawing(play, variables, ~sweepable, swept_pixels)
    return Measured(changed, slope, refine_kinds(play, variables, slope, play_slope), controlled, play_slope,
                    swept_pixels)


# --- Rendering and sweeps ------------------------------------------------------------------------------------------

def render_stack(renderer: EmulatedRenderer, states: Sequence[bytes], overrides: Sequence[dict[Any, bytes]],
                 obs_size: int, variables: Sequence[Variable],
                 reader: VariableBytes | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(frame stack (F, S, S) uint8, targets (K,)): each frame drawn by the game from its own saved state with its
    overrides written, as the env shows it; targets from the RAM the newest frame is drawn from (read by `reader`,
    the variables' VariableBytes, made here when None)."""
    reader = VariableBytes(variables) if reader is None else reader
    stack = np.empty((len(states), obs_size, obs_size), dtype=np.uint8)
    for k, (state, written) in enumerate(zip(states, overrides)):
        shot = renderer.run(state, written, with_dump=False, with_ram=k == len(states) - 1)
        stack[k] = grey_frame(shot.frame, obs_size)
    return stack, decode(reader.read(shot.ram)[None], variables)[0]


def stack_overrides(variables: Sequence[Variable], kinds: Sequence[str], written: np.ndarray,
                    moves: dict[int, int]) -> list[dict[Any, bytes]]:
    """Per frame, the overrides that put variable k (index into `variables`) at `moves[k]` in the newest frame: a
    position shifted by the same amount in every earlier frame (clipped to its range), any other kind set to it."""
    values = decode(written, variables)  # (F, K)
    out = []
    for frame in values:
        overrides = {}
        for k, value in moves.items():
            v = variables[k]
            shifted = frame[k] + value - values[-1, k] if kinds[k] == "position" else value
            overrides[v.key] = v.encode(np.clip(shifted, v.low, v.high))
        out.append(overrides)
    return out


def drawn_sweeps(newest: np.ndarray, jobs: Sequence[tuple[int, int, int, dict[int, int]]]) -> np.ndarray:
    """Per sweep job: whether its (base, variable) sweep drew anything, i.e. the newest frames of that sweep's
    values are not all the same (a sweep of one value, where the observed range is one value, is kept). A state in
    which the game does not draw the variable (the runner's height while it ducks, a shot's x with no shot in
    flight) gives frames that say nothing of the written values."""
    groups: dict[tuple[int, int], list[int]] = {}
    for i, (b, _, k, _) in enumerate(jobs):
        groups.setdefault((b, k), []).append(i)
    drawn = np.zeros(len(jobs), dtype=bool)
    for rows in groups.values():
        drawn[rows] = len(rows) == 1 or bool((newest[rows] != newest[rows[0]]).any())
    return drawn


def build_probe_data(play: GBCPlay, setup: ProbeSetup, profile: GameProfile, variables: Sequence[Variable],
                     num_bases: int, sweep_count: int, joint_positions: int, seed: int,
                     group_steps: int) -> GameSamples:
    """Play samples (the env's own frames and the recorded targets), plus for `num_bases` of them each sweepable
    variable over `sweep_count` values of its observed range and `joint_positions` random joint placements of the
    sweepable positions in their observed box, each drawn by the game. A sweep that drew nothing in its base state
    (drawn_sweeps) is left out, and joint placements use only the bases where every position's sweep drew;
    sweep_source says "observed (drawn in n of N states)" when some were left out. Targets: one column per
    variable; variable: the swept column, -1 for play and joint placements."""
    measured = play.measured
    play_targets = decode(play.shown, variables)
    n_play = len(play_targets)
    rng = np.random.default_rng(seed)
    bases = np.sort(rng.choice(n_play, min(num_bases, n_play), replace=False))
    swept = np.flatnonzero(measured.sweepable())
    box = {int(k): observed_range(play, variables, int(k)) for k in swept}
    positions = [k for k in box if measured.kinds[k] == "position"]
    renderer, reader = EmulatedRenderer(profile), VariableBytes(variables)

    def render(jobs: list[tuple[int, int, int, dict[int, int]]]) -> tuple[np.ndarray, np.ndarray]:
        obs = np.empty((len(jobs), *play.env_obs.shape[1:]), dtype=np.uint8)
        targets = np.empty((len(jobs), len(variables)), dtype=np.float32)
        for i, (b, _, _, moves) in enumerate(jobs):
            obs[i], targets[i] = render_stack(renderer, play.states[b],
                                              stack_overrides(variables, measured.kinds, play.written[b], moves),
                                              setup.obs_size, variables, reader)
        return obs, targets

    try:
        jobs: list[tuple[int, int, int, dict[int, int]]] = []  # (base, kind, swept variable, moves)
        for k, (lo, hi) in box.items():
            values = np.unique(np.round(np.linspace(lo, hi, sweep_count)).astype(int))
            jobs += [(b, KIND_SWEEP, k, {k: int(value)}) for b in bases for value in values]
        obs, targets = render(jobs)
        drawn = drawn_sweeps(obs[:, -1], jobs)
        drawn_bases = {k: {b for (b, _, j, _), shown in zip(jobs, drawn) if j == k and shown} for k in box}
        jobs, obs, targets = [job for job, shown in zip(jobs, drawn) if shown], obs[drawn], targets[drawn]
        joint_bases = [b for b in bases if all(b in drawn_bases[k] for k in positions)]
        if positions and joint_bases:
            joint = [(b, KIND_JOINT, -1, {k: int(rng.integers(box[k][0], box[k][1] + 1)) for k in positions})
                     for b in joint_bases for _ in range(joint_positions)]
            joint_obs, joint_targets = render(joint)
            jobs = jobs + joint
            obs, targets = np.concatenate([obs, joint_obs]), np.concatenate([targets, joint_targets])
    finally:
        renderer.close()
    base = np.concatenate([np.arange(n_play), [job[0] for job in jobs]]).astype(np.int64)
    all_targets = np.concatenate([play_targets, targets])
    spec = causal_subset_of(variables, measured, profile)
    subset = np.zeros(len(base), dtype=bool)
    if spec is not None:
        own, followed, _ = spec
        subset = all_targets[:, own] < all_targets[:, followed]
    sources = {v.name: "play only (a position drawn on events)" if on_events else "play only"
               for v, on_events in zip(variables, measured.drawn_on_events())}
    for k in box:
        shown, total = len(drawn_bases[k]), len(bases)
        sources[variables[k].name] = "observed" if shown == total else f"observed (drawn in {shown} of {total} states)"
    return GameSamples(
        obs=np.concatenate([play.env_obs, obs]), targets=all_targets,
        kind=np.concatenate([np.full(n_play, KIND_PLAY), [job[1] for job in jobs]]).astype(np.int64),
        kind_names=KIND_NAMES,
        variable=np.concatenate([np.full(n_play, -1), [job[2] for job in jobs]]).astype(np.int64), base=base,
        group=(play.game * 1_000_000 + play.step // group_steps)[base],
        sweep_source=sources, in_flight=np.ones(len(base), dtype=bool), causal_subset=subset,
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


def screen_perturbations(play: GBCPlay, setup: ProbeSetup, profile: GameProfile, variables: Sequence[Variable],
                         k: int, states: np.ndarray, count: int) -> ScreenPerturbations:
    """Variable k's RAM bytes perturbed in the play samples `states`, as gbc_ram_map perturbs a byte: written into
    each frame's saved state (`count` values over its observed range by its kind's frame-stack rule; 0 and 1 for a
    flag), the game's own code draws the screen (160x144), diffed against the same frames drawn unchanged; the
    network's inputs are those screens as the env shows them. A position the game draws only on events changes
    nothing there: its reference comes from play instead (`play_reference`)."""
    if play.measured.drawn_on_events()[k] or variables[k].indexed:  # nothing to write, or no fixed place to
        return play_reference(play, profile, variables, k, states)
    lo, hi = observed_range(play, variables, k)
    values = np.unique(np.round(np.linspace(lo, hi, count)).astype(int))
    kinds = play.measured.kinds
    renderer = EmulatedRenderer(profile)
    obs, changed, screen = [], [], []
    try:
        for b in states:
            stacks = [[renderer.run(state, overrides, with_dump=False).frame
                       for state, overrides in zip(play.states[b], frame_overrides)]
                      for frame_overrides in [[{}] * len(play.states[b])]
                      + [stack_overrides(variables, kinds, play.written[b], {k: int(value)}) for value in values]]
            base = np.stack(stacks[0])
            changed.append(np.mean([(np.stack(stack) != base).any(axis=(0, 3)) for stack in stacks[1:]], axis=0))
            obs.append([[grey_frame(frame, setup.obs_size) for frame in stack] for stack in stacks])
            screen.append(base[-1].mean(axis=2).astype(np.uint8))
    finally:
        renderer.close()
    return ScreenPerturbations(obs=np.array(obs, dtype=np.uint8), changed=np.array(changed, dtype=np.float32),
                               screen=np.array(screen))


def play_regions(play: GBCPlay, variables: Sequence[Variable], k: int, states: np.ndarray) -> np.ndarray:
    """(B, 144, 160) float32: per state in `states`, 1 on the screen pixels of the region of its value's bin of
    variable k (`play_drawing_bins`: where the mean frame of the samples with such values differs most from all of
    play's, the pixels of the positions drawn at once left out); all 0 for a state in a bin too small to measure, or a
    variable play does not bin."""
    changed = np.zeros((len(states), SCREEN_HEIGHT, SCREEN_WIDTH), np.float32)
    excluded = None if play.measured is None else play.measured.swept_pixels
    binned = None if variables[k].kind == "array element" else play_drawing_bins(
        play_frames(play, excluded), decode(play.shown, variables)[:, k])
    if binned is None:
        return changed
    bins, regions, _ = binned
    rows, columns = _observation_pixel_of(regions.shape[1:])
    on_screen = (regions > 0)[:, rows][:, :, columns]
    for i, b in enumerate(states):
        if bins[b] >= 0:
            changed[i] = on_screen[bins[b]]
    return changed


def play_reference(play: GBCPlay, profile: GameProfile, variables: Sequence[Variable], k: int,
                   states: np.ndarray) -> ScreenPerturbations:
    """The reference of a position drawn on events (writing it changes no pixel, so the emulator's map would be empty):
    per state its network input as played, and where play draws its value (`play_regions`); a state with an empty
    region is left out of the measures."""
    renderer = EmulatedRenderer(profile)
    try:
        screen = [renderer.run(play.states[b][-1], {}, with_dump=False).frame.mean(axis=2).astype(np.uint8)
                  for b in states]
    finally:
        renderer.close()
    return ScreenPerturbations(obs=play.env_obs[states][:, None], changed=play_regions(play, variables, k, states),
                               screen=np.array(screen), reference_source="play")


# --- Key variables and predicted signs -----------------------------------------------------------------------------

def owner_by_address(variables: Sequence[Variable]) -> Callable[[str], str | None]:
    """Step 06's address column (0xC0A6, or 2:0xD018 in CGB WRAM bank 2) -> the probe variable holding that byte."""
    def owner(address: str) -> str | None:
        if "[" in address:  # an indexed input, written as step 06 writes it: 0xC0A5[0xC2A5]
            return next((v.name for v in variables if v.indexed and v.label.lower() == address.lower()), None)
        match = re.match(r"(?:([1-7]):)?0x([0-9A-Fa-f]{4})$", address)
        if match is None:
            return None
        bank, at = int(match.group(1) or 0), int(match.group(2), 16)
        return next((v.name for v in variables if v.bank == bank and v.address <= at < v.address + v.size), None)
    return owner


def causal_subset_of(variables: Sequence[Variable], measured: Measured,
                     profile: GameProfile) -> tuple[int, int, str] | None:
    """(own position, first followed position, subset name) when the causal check has predicted signs."""
    signs = policy_signs(variables, measured, profile)
    own = [variables[k].name for k in range(len(variables)) if signs.get(variables[k].name) == -1]
    followed = [name for name, sign in signs.items() if sign == 1]
    if not own or not followed:
        return None
    names = [v.name for v in variables]
    return names.index(own[0]), names.index(followed[0]), f"{own[0]}_below_{followed[0]}"


def policy_signs(variables: Sequence[Variable], measured: Measured, profile: GameProfile) -> dict[str, int]:
    """The predicted policy sign of each position on the causal actions' axis (see the module docstring)."""
    axis = causal_actions(profile)[2]
    if not axis:
        return {}
    column = "xy".index(axis)
    signs = {}
    for k, v in enumerate(variables):
        if measured.kinds[k] != "position" or not measured.sweepable()[k]:
            continue
        if measured.controlled[k] >= CONTROL_FRACTION:
            signs[v.name] = -1
        elif abs(measured.slope[k, column]) >= MIN_PIXELS_PER_UNIT and \
                abs(measured.slope[k, column]) > abs(measured.slope[k, 1 - column]):
            signs[v.name] = int(np.sign(measured.slope[k, column]))
    return signs


# --- The adapter ------------------------------------------------------------------------------------------------------

class GBCGame:
    """Step 07's adapter for pixel agents of one Game Boy env id (agents.probing.game.GameAdapter); the game's
    profile comes from the checkpoint's env (GBC-v0 takes it from the env kwargs)."""

    defaults = DEFAULTS

    def __init__(self, env_id: str) -> None:
        self.env_id = env_id
        self.profile: GameProfile | None = None
        self.game: GameVariables | None = None

    @property
    def variables(self) -> tuple[Variable, ...]:
        if self.game is None:
            raise ProbeError(f"the {self.env_id} adapter reads its game's variables from the checkpoint's profile: "
                             "call check_checkpoint first")
        return self.game.variables

    def use_profile(self, profile: str | GameProfile) -> None:
        """Read this game's variables (its state spec and symbols file)."""
        self.profile = get_profile(profile)
        self.game = load_variables(self.profile)

    def check_checkpoint(self, agent: nn.Module, checkpoint: dict[str, Any], source: str) -> ProbeSetup:
        setup, profile = setup_for_checkpoint(self.env_id, agent, checkpoint, source)
        self.use_profile(profile)
        return setup

    def spec(self, config: ProbeConfig | None = None, play: GBCPlay | None = None) -> GameSpec:
        """The game's variables; with the play, also what was measured on it (kinds, predicted signs) and the key
        variables (step 06's when its file exists, else the measured positions)."""
        variables = self.variables
        names = tuple(v.name for v in variables)
        toward, away, _ = causal_actions(self.profile)
        kinds = play.measured.kinds if play is not None else tuple(v.kind for v in variables)
        from_step_06 = key_variables_of(config, self.env_id, owner_by_address(variables))
        if from_step_06 is not None:
            keys, source = from_step_06
        elif play is not None:
            keys = tuple(n for n, shown in zip(names, play.measured.on_screen()) if shown)
            source = "the state spec: its variables measured as on-screen positions (no step 06 file)"
        else:
            keys, source = (), "not yet measured"
        # the R^2 bar holds to the on-screen positions among the key variables (a velocity or a counter is probed and
        # reported, but the bar is about positions the screen shows), those drawn on events included
        on_screen = None if play is None else tuple(
            n for n, shown in zip(names, play.measured.on_screen()) if n in keys and shown)
        signs = policy_signs(variables, play.measured, self.profile) if play is not None else {}
        subset = causal_subset_of(variables, play.measured, self.profile) if play is not None else None
        return GameSpec(names=names, binary=tuple(v.binary for v in variables),
                        addresses={v.name: v.label for v in variables}, families=dict(zip(names, kinds)),
                        kinds=dict(zip(names, kinds)), arrays=dict(self.game.arrays), key_variables=keys,
                        policy_signs=signs, toward=toward, away=away, causal_subset=subset[2] if subset else "none",
                        key_source=source, r2_bar_variables=on_screen)

    def play(self, agent: nn.Module, setup: ProbeSetup, config: ProbeConfig) -> GBCPlay:
        play = collect_play(agent, setup, self.profile, self.variables, config.num_games, config.num_steps,
                            config.keep_every, config.seed)
        play.measured = measure(play, setup, self.profile, self.variables)
        return play

    def build_samples(self, play: GBCPlay, setup: ProbeSetup, config: ProbeConfig) -> GameSamples:
        return build_probe_data(play, setup, self.profile, self.variables, config.num_bases, config.sweep_count,
                                config.joint_positions, config.seed, config.group_steps)

    def high_low_masks(self, samples: GameSamples, k: int) -> tuple[np.ndarray, np.ndarray]:
        return high_low_masks(samples, self.variables, k)

    def screen_regions(self, samples: GameSamples, max_bases: int) -> tuple[np.ndarray, np.ndarray]:
        return sweep_regions(samples, len(self.variables), max_bases)

    def screen_perturbations(self, play: GBCPlay, setup: ProbeSetup, k: int, states: np.ndarray,
                             count: int) -> ScreenPerturbations:
        return screen_perturbations(play, setup, self.profile, self.variables, k, states, count)


ADAPTERS = {env_id: GBCGame(env_id) for env_id in (*gbc.GAME_ENV_IDS.values(), gbc.PROFILED_ENV_ID)}
