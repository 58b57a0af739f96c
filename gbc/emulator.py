"""The PyBoy wrapper: one emulator running one profiled ROM, booted to the first frame of play."""

from __future__ import annotations

import io
import logging

import numpy as np
from pyboy import PyBoy

from gbc.dump import MemoryDump, dump_pyboy
from gbc.hardware import BUTTONS, LCDC, LCDC_ENABLE
from gbc.memory import RamReader
from gbc.profiles import GameProfile, ProfileError, Variable, get_profile

# Per ROM (keyed by SHA-1, start sequence and in_play): the state saved at the first frame of play and the
# frames from there until the screen shows the playfield. Computed once per process; every later emulator in
# the process restarts by loading it instead of replaying the boot.
_PLAY_STARTS: dict[tuple, tuple[bytes, int]] = {}
# Frames in a row with the LCD on before the screen shows the playfield (PyBoy 2.8.1 draws nothing on the
# first two frames after the LCD is switched on, as the hardware does; measured with roms/breakout).
LCD_SETTLE_FRAMES = 3


class GameBoy:
    """A headless PyBoy for one profile, with named-variable reads and held-button input."""

    def __init__(self, profile: str | GameProfile):
        self.profile = get_profile(profile)
        rom = self.profile.verify_rom()
        # PyBoy logs a warning for every window/sound choice; keep the training console quiet.
        logging.getLogger("pyboy").setLevel(logging.ERROR)
        self.pyboy = PyBoy(io.BytesIO(rom), window="null", sound_emulated=False, log_level="ERROR")
        self.pyboy.set_emulation_speed(0)  # as fast as possible
        self.memory = self.pyboy.memory
        self.ram = RamReader(self.pyboy)
        self._held: tuple[str, ...] = ()
        self._play_state, self._settle_frames = self._boot_to_play()

    # --- state -------------------------------------------------------------------------------------------

    def _boot_to_play(self) -> tuple[bytes, int]:
        """Power on, run the start sequence, and save the first frame on which in_play holds.

        That frame comes before the game draws any random number in play, so a seed written into it decides
        the whole game. Games often switch the LCD off to draw the playfield; the frames from there until the
        LCD has been on for LCD_SETTLE_FRAMES frames are counted, so that a restart can show the playfield.
        """
        key = (self.profile.sha1, self.profile.start_sequence, self.profile.in_play)
        if key in _PLAY_STARTS:
            # PyBoy's saved state leaves out its renderer's window line counter, which every fully rendered frame
            # leaves at the same resting value but a new emulator does not have yet (Runner's window bar would come
            # out a line off after a load_state): render one frame from the play state, as a booted emulator has
            play_state = _PLAY_STARTS[key][0]
            self.load_state(play_state)
            self.pyboy.tick(1, True)
            return _PLAY_STARTS[key]
        lcd_streak = 0
        for step in self.profile.start_sequence:
            self.hold(step.buttons)
            for _ in range(step.frames):
                self.pyboy.tick(1, True)  # rendered: the saved state keeps the screen
                lcd_streak = lcd_streak + 1 if self.lcd_on() else 0
        self.hold(())
        frames, play_state = 0, None
        while play_state is None or lcd_streak < LCD_SETTLE_FRAMES:
            if frames >= self.profile.max_start_frames:
                raise ProfileError(
                    f"profile {self.profile.name!r}: the game did not reach play ({self.profile.in_play}, with the "
                    f"LCD on) within {self.profile.max_start_frames} frames after the start sequence; check "
                    "start_sequence and in_play"
                )
            if play_state is None and self.in_play():
                play_state, frames = self.save_state(), 0
            else:
                self.pyboy.tick(1, True)
                frames += 1
                lcd_streak = lcd_streak + 1 if self.lcd_on() else 0
        _PLAY_STARTS[key] = (play_state, frames)
        return _PLAY_STARTS[key]

    def restart(self, seed: int | None = None) -> None:
        """Back to the first frame of play, with `seed` written into the profile's seed variable, then on to the
        first frame that shows the playfield. Buttons released."""
        self.pyboy.load_state(io.BytesIO(self._play_state))
        self.hold(())
        if seed is not None:
            if self.profile.seed_variable is None:
                raise ProfileError(f"profile {self.profile.name!r} has no seed_variable to write a seed into")
            self.write(self.profile.seed_variable, seed)
        if self._settle_frames:
            self.pyboy.tick(self._settle_frames, True)

    def dump(self) -> MemoryDump:
        """A memory dump (gbc.dump, N = 1) of everything the picture depends on, taken between ticks;
        `gbc.render.render` of it gives the screen of the next tick."""
        return dump_pyboy(self.pyboy, self.profile.sha1)

    def save_state(self) -> bytes:
        buffer = io.BytesIO()
        self.pyboy.save_state(buffer)
        return buffer.getvalue()

    def load_state(self, state: bytes, held: tuple[str, ...] = ()) -> None:
        """Go back to a `save_state()`, holding exactly the buttons `held` (those held when it was saved, for a
        replay that goes on as the original run did)."""
        self.pyboy.load_state(io.BytesIO(state))
        for button in BUTTONS:
            self.pyboy.button_release(button)
        for button in held:
            self.pyboy.button_press(button)
        self._held = tuple(held)

    @property
    def held(self) -> tuple[str, ...]:
        """The buttons held now."""
        return self._held

    # --- time and input ----------------------------------------------------------------------------------

    def hold(self, buttons: tuple[str, ...]) -> None:
        """Keep exactly these buttons pressed from the next frame on."""
        if buttons == self._held:
            return
        for button in self._held:
            if button not in buttons:
                self.pyboy.button_release(button)
        for button in buttons:
            if button not in self._held:
                self.pyboy.button_press(button)
        self._held = buttons

    def tick(self, frames: int, render: bool) -> None:
        """Emulate `frames` frames; with render, the screen buffer holds the last one."""
        self.pyboy.tick(frames, render)

    # --- reads ---------------------------------------------------------------------------------------------

    def _variable(self, name: str) -> Variable:
        try:
            return self.profile.variables[name]
        except KeyError:
            raise ProfileError(
                f"profile {self.profile.name!r} has no variable {name!r}; it has {sorted(self.profile.variables)}"
            ) from None

    def read(self, name: str) -> int:
        """A variable's value, little-endian for multi-byte variables."""
        var = self._variable(name)
        if var.size == 1:
            return self.memory[var.address]
        return int.from_bytes(bytes(self.memory[var.address : var.address + var.size]), "little")

    def read_bytes(self, name: str) -> list[int]:
        var = self._variable(name)
        return self.memory[var.address : var.address + var.size]

    def write(self, name: str, value: int) -> None:
        """Write a variable's value, little-endian."""
        var = self._variable(name)
        self.memory[var.address : var.address + var.size] = list(value.to_bytes(var.size, "little"))

    def score(self) -> int:
        return self.profile.decode_score(self.read_bytes(self.profile.score))

    def lives(self) -> int | None:
        return None if self.profile.lives is None else self.read(self.profile.lives)

    def in_play(self) -> bool:
        return self.profile.in_play.holds(self.read(self.profile.in_play.variable))

    def lcd_on(self) -> bool:
        return bool(self.memory[LCDC] & LCDC_ENABLE)

    def game_over(self) -> bool:
        return self.profile.game_over.holds(self.read(self.profile.game_over.variable))

    def screen_rgb(self) -> np.ndarray:
        """The last rendered frame, (144, 160, 3) uint8, a copy."""
        return self.pyboy.screen.ndarray[:, :, :3].copy()

    def screen_rgba_view(self) -> np.ndarray:
        """The live (144, 160, 4) RGBA screen buffer; copy it to keep it."""
        return self.pyboy.screen.ndarray

    def close(self) -> None:
        self.pyboy.stop(save=False)
