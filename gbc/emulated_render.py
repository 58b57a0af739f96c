"""Emulated render: the frame a game draws itself for chosen values of its variables.

From a saved PyBoy state and overrides (by variable name from the game's profile, or by address), write the
values, let the game's own code run until the screen shows them, and return that frame:

    frame = render_with_overrides(state, {"ball_x": 40})             # (144, 160, 3) uint8
    frames = EmulatedRenderer("breakout").render_many(state, [{"ball_x": x} for x in range(16, 140, 8)])

How many frames, for our ROM (roms/breakout/breakout.c, `main`): a state saved between two PyBoy ticks stands at
the start of a frame, where the game is halted waiting for LY = 0. In the first frame after the write, the game's
logic runs (from LY = 0, while the PPU draws the old OAM and VRAM): it reads the written values, moves the ball
one step from there and writes the sprites into `shadow_oam` and tile changes into a queue; the VBlank that ends
the frame copies them into OAM and VRAM. The second frame is drawn from them. So the screen shows the values
`SCREEN_LAG_FRAMES` = 2 frames after the write (the first frame still shows the state before), and what it shows
is the game's own next step from them (e.g. the ball at ball_x + its velocity); `EmulatedFrame.values` holds the
variables as they were when the shown frame was drawn. Another ROM says its own lag in its profile
(`screen_lag_frames`), which `EmulatedRenderer` takes by default.

A key `(bank, address)` writes a CGB WRAM bank's bytes (bank 1-7, 0xD000-0xDFFF) whichever bank the game has
switched in (a level kept in bank 2, say); a plain address writes what the CPU sees there.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence, Union

import numpy as np
from pyboy import PyBoy

from breakout_py.errors import UserError
from gbc.dump import MODELS, MemoryDump, Recorder, Recording, dump_pyboy
from gbc.hardware import CGB_WRAM_BANKS, WRAM_END, WRAM_SWITCHED_START
from gbc.memory import RamReader, RamSnapshot
from gbc.profiles import DEFAULT_SCREEN_LAG_FRAMES, GameProfile, ProfileError, get_profile

SCREEN_LAG_FRAMES = DEFAULT_SCREEN_LAG_FRAMES  # Breakout's, measured as above; a profile may say another
# PyBoy 2.8.1's state starts with: version, boot ROM enabled, KEY0, KEY1, double speed, CGB (pyboy/core/mb.py).
_STATE_CGB_BYTE = 5
_STATE_VERSION = 29
WRITABLE_START = 0x8000  # below is ROM (https://gbdev.io/pandocs/Memory_Map.html)
ADDRESS_END = 0x10000

Value = Union[int, bytes, Sequence[int]]
Key = Union[str, int, tuple[int, int]]  # a profile variable's name, an address, or (CGB WRAM bank, address)


class OverrideError(UserError, ValueError):
    """An override that names no variable, lies outside writable memory or does not fit."""


@dataclass
class EmulatedFrame:
    """One emulated render: the screen, the dump the screen was drawn from, and the overridden variables' values
    at that point (keyed as the overrides were; unsigned, little-endian)."""

    frame: np.ndarray  # (144, 160, 3) uint8
    dump: MemoryDump | None  # N = 1, taken at the start of the shown frame (None when not asked for)
    values: dict[Key, int]
    frames_run: int
    ram: RamSnapshot | None = None  # WRAM and HRAM at the dump's moment (None when not asked for)


def state_model(state: bytes) -> str:
    """The model ("DMG" or "CGB") of the emulator that saved a PyBoy 2.8.1 state."""
    if len(state) <= _STATE_CGB_BYTE:
        raise OverrideError(f"a PyBoy state has more than {_STATE_CGB_BYTE + 1} bytes; got {len(state)}")
    if state[0] != _STATE_VERSION:
        raise OverrideError(
            f"the state has PyBoy state version {state[0]}, PyBoy 2.8.1 writes {_STATE_VERSION}; "
            "save it with this PyBoy"
        )
    return MODELS[int(bool(state[_STATE_CGB_BYTE]))]


class EmulatedRenderer:
    """Renders states with overrides on headless PyBoys of one profile (one emulator per model, made on demand)."""

    def __init__(self, profile: str | GameProfile = "breakout", frames: int | None = None):
        self.profile = get_profile(profile)
        self._rom = self.profile.verify_rom()
        frames = self.profile.screen_lag_frames if frames is None else frames  # the game's own lag by default
        if frames < 1:
            raise ValueError(f"frames must be >= 1, got {frames}")
        self.frames = frames
        self._emulators: dict[str, PyBoy] = {}
        self._readers: dict[str, RamReader] = {}

    def _emulator(self, model: str, state: bytes) -> PyBoy:
        """The emulator of `model`; a new one first runs `state` once. Measured on the runner's ducking state: a
        fresh PyBoy's first frames after load_state differ from the env's in 267 pixels of rows 128-134 (the HUD),
        while every later load draws them as the env does, whatever state came before."""
        if model not in self._emulators:
            pyboy = new_pyboy(self._rom, model)
            pyboy.load_state(io.BytesIO(state))
            pyboy.tick(self.frames, True)
            self._emulators[model] = pyboy
            self._readers[model] = RamReader(pyboy)
        return self._emulators[model]

    def resolve(self, overrides: Mapping[Key, Value]) -> list[tuple[Key, int, int, bytes]]:
        """(key, bank, address, bytes) for each override; names come from the profile, ints are addresses (bank 0:
        whatever the CPU sees), (bank, address) pairs a CGB WRAM bank's bytes."""
        writes = []
        for key, value in overrides.items():
            bank = 0
            if isinstance(key, tuple):
                if (len(key) != 2 or not all(isinstance(part, (int, np.integer)) for part in key)
                        or not 1 <= key[0] < CGB_WRAM_BANKS):
                    raise OverrideError(f"override {key!r}: a banked key is (bank 1-{CGB_WRAM_BANKS - 1}, address), "
                                        "both ints, e.g. (2, 0xD018)")
                bank, address = int(key[0]), int(key[1])
                data = _encode(key, value, None)
                if not (WRAM_SWITCHED_START <= address and address + len(data) <= WRAM_END):
                    raise OverrideError(f"override {key!r} writes {address:#06x}-{address + len(data) - 1:#06x}: a CGB "
                                        f"WRAM bank lies at {WRAM_SWITCHED_START:#06x}-{WRAM_END - 1:#06x}")
                writes.append((key, bank, address, data))
                continue
            if isinstance(key, str):
                var = self.profile.variables.get(key)
                if var is None:
                    raise OverrideError(
                        f"profile {self.profile.name!r} has no variable {key!r}; it has "
                        f"{sorted(self.profile.variables)} (or give an address as an int)"
                    )
                address, size = var.address, var.size
            elif isinstance(key, (int, np.integer)):
                address, size = int(key), None
            else:
                raise OverrideError(f"override keys are variable names or int addresses, got {key!r}")
            data = _encode(key, value, size)
            if not (WRITABLE_START <= address and address + len(data) <= ADDRESS_END):
                raise OverrideError(
                    f"override {key!r} writes {address:#06x}-{address + len(data) - 1:#06x}: only 0x8000-0xFFFF is "
                    "writable (below is ROM)"
                )
            writes.append((key, bank, address, data))
        return writes

    def run(
        self, state: bytes, overrides: Mapping[Key, Value], frames: int | None = None, with_dump: bool = True,
        with_ram: bool = False,
    ) -> EmulatedFrame:
        """Loads `state`, writes the overrides, runs `frames` frames (default: this renderer's) and returns the
        last one, with the dump it was drawn from when `with_dump`, and the RAM alone when `with_ram` (a fraction
        of a millisecond, where a dump takes several)."""
        frames = self.frames if frames is None else frames
        if frames < 1:
            raise ValueError(f"frames must be >= 1, got {frames}")
        writes = self.resolve(overrides)
        model = state_model(state)
        if model != "CGB" and any(bank for _, bank, _, _ in writes):
            raise OverrideError("a banked override (bank, address) needs a CGB state; this state was saved by a DMG")
        try:
            pyboy = self._emulator(model, state)
            pyboy.load_state(io.BytesIO(state))
        except Exception as err:  # PyBoy raises its own exceptions (and others) for a truncated or foreign state
            raise OverrideError(f"PyBoy could not load the state ({type(err).__name__}: {err})") from err
        for _, bank, address, data in writes:
            if bank:  # PyBoy writes a banked WRAM byte one at a time
                for i, byte in enumerate(data):
                    pyboy.memory[bank, address + i] = byte
            else:
                pyboy.memory[address : address + len(data)] = list(data)
        if frames > 1:
            pyboy.tick(frames - 1, False)
        dump = dump_pyboy(pyboy, self.profile.sha1) if with_dump else None
        ram = self._readers[model].snapshot() if with_ram else None
        values = {key: int.from_bytes(bytes([pyboy.memory[bank, a + i] for i in range(len(d))] if bank else
                                            pyboy.memory[a : a + len(d)]), "little") for key, bank, a, d in writes}
        pyboy.tick(1, True)
        return EmulatedFrame(pyboy.screen.ndarray[:, :, :3].copy(), dump, values, frames, ram)

    def render(self, state: bytes, overrides: Mapping[Key, Value], frames: int | None = None) -> np.ndarray:
        """The screen (144, 160, 3) uint8 that the game shows `frames` frames after the overrides are written."""
        return self.run(state, overrides, frames, with_dump=False).frame

    def render_many(
        self, state: bytes, overrides: Sequence[Mapping[Key, Value]], frames: int | None = None
    ) -> np.ndarray:
        """One frame per overrides dict, all from the same state: (K, 144, 160, 3) uint8."""
        return np.stack([self.render(state, o, frames) for o in overrides])

    def close(self) -> None:
        for pyboy in self._emulators.values():
            pyboy.stop(save=False)
        self._emulators.clear()
        self._readers.clear()


def _encode(key, value: Value, size: int | None) -> bytes:
    if isinstance(value, (int, np.integer)):
        size = size or 1
        value = int(value)
        if not -(1 << (8 * size - 1)) <= value < 1 << (8 * size):
            raise OverrideError(f"override {key!r}: {value} does not fit in {size} byte(s)")
        return (value % (1 << (8 * size))).to_bytes(size, "little")
    try:
        data = bytes(value)
    except (TypeError, ValueError):
        raise OverrideError(f"override {key!r}: {value!r} is neither an int nor bytes (values 0-255)") from None
    if size is not None and len(data) != size:
        raise OverrideError(f"override {key!r}: {len(data)} bytes given for a {size}-byte variable")
    if not data:
        raise OverrideError(f"override {key!r}: no bytes given")
    return data


def new_pyboy(rom: bytes, model: str) -> PyBoy:
    """A headless PyBoy of `model` ("DMG" or "CGB") at power-on, running its own boot ROM, as fast as it can."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    logging.getLogger("pyboy").setLevel(logging.ERROR)
    pyboy = PyBoy(io.BytesIO(rom), window="null", sound_emulated=False, log_level="ERROR", cgb=model == "CGB")
    pyboy.set_emulation_speed(0)
    return pyboy


def _read(pyboy: PyBoy, profile: GameProfile, name: str) -> int:
    var = profile.variables[name]
    return int.from_bytes(bytes(pyboy.memory[var.address : var.address + var.size]), "little")


def record_episode(
    profile: str | GameProfile = "breakout",
    model: str = "CGB",
    seed: int = 0,
    frame_skip: int = 4,
    max_play_frames: int = 5000,
    rest_frames: int = 30,
    before_frame: Callable[[int, PyBoy], None] | None = None,
) -> Recording:
    """A recorded episode, every frame: from power-on (the emulator's boot ROM animation) through the profile's
    start sequence (title screen), a game played with random actions (each held `frame_skip` frames, drawn from
    `seed`, which also seeds the game as the env does) until game over or `max_play_frames`, `rest_frames` on the
    game-over screen, then START (held 2 frames; our ROM returns to the title) and `rest_frames` more.
    `before_frame(k, pyboy)` is called before frame k is dumped and run (e.g. to save states)."""
    profile = get_profile(profile)
    pyboy = new_pyboy(profile.verify_rom(), model)
    recorder = Recorder(pyboy, profile.sha1)
    rng = np.random.default_rng(seed)

    def step(buttons: Sequence[str] = ()) -> None:
        if before_frame is not None:
            before_frame(len(recorder), pyboy)
        recorder.step(buttons)

    try:
        for start in profile.start_sequence:
            for _ in range(start.frames):
                step(start.buttons)
        waited = 0
        while not profile.in_play.holds(_read(pyboy, profile, profile.in_play.variable)):
            if waited >= profile.max_start_frames:
                raise ProfileError(f"profile {profile.name!r}: no play within {waited} frames of the start sequence")
            step()
            waited += 1
        if profile.seed_variable is not None:
            var = profile.variables[profile.seed_variable]
            seed_value = int(rng.integers(1, 256**var.size))
            pyboy.memory[var.address : var.address + var.size] = list(seed_value.to_bytes(var.size, "little"))
        played = 0
        game_over = profile.game_over
        while played < max_play_frames and not game_over.holds(_read(pyboy, profile, game_over.variable)):
            action = profile.actions[int(rng.integers(len(profile.actions)))]
            for _ in range(frame_skip):
                step(action)
            played += frame_skip
        for buttons, frames in (((), rest_frames), (("start",), 2), ((), rest_frames)):
            for _ in range(frames):
                step(buttons)
    finally:
        pyboy.stop(save=False)
    return recorder.recording()


_RENDERERS: dict[str, EmulatedRenderer] = {}


def render_with_overrides(
    state: bytes, overrides: Mapping[Key, Value], profile: str = "breakout", frames: int | None = None
) -> np.ndarray:
    """The frame (144, 160, 3) uint8 the game shows after `overrides` are written into `state` (see module doc);
    emulators are kept per profile for the next call."""
    if profile not in _RENDERERS:
        _RENDERERS[profile] = EmulatedRenderer(profile)
    return _RENDERERS[profile].render(state, overrides, frames)


__all__ = [
    "SCREEN_LAG_FRAMES",
    "EmulatedFrame",
    "EmulatedRenderer",
    "OverrideError",
    "ProfileError",
    "new_pyboy",
    "record_episode",
    "render_with_overrides",
    "state_model",
]
