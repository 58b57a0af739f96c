"""The perturbation test for scratch: is a kept byte ever read between two writes?

A generation buffer (Shooter's `wave_column_order`, a shuffled column order drawn at each wave and read only
while the wave is laid out) changes exactly when the game's state does, so a passive recording cannot tell it
from state. Writing into it can: from the frame where the byte got a new value, one emulator replays the
recorded inputs as they were and a second one replays them with a different value written into the byte. A byte
whose perturbed value the game overwrites (back to the unperturbed run's value; the replay runs to the byte's
next recorded change) before any other RAM byte (every CGB WRAM bank and HRAM), VRAM or OAM differs was not read
in between; one whose change spreads or persists was. As OCAtari does for its RAM annotations, the test changes RAM and
watches what follows, here with the recording's own inputs.

`judge_trial` is the rule on the two replays; `EmulatorReplayer` runs the replays for the extractor
(gbc.extract.core decides which bytes and which intervals to try, and what the outcomes mean).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gbc.extract.record import Recording, make_recording_env
from gbc.extract.video import VideoMemory
from gbc.hardware import HRAM_START, RAM_OBS_SIZE, WRAM_BANK_SIZE, WRAM_END, WRAM_START, WRAM_SWITCHED_START

_WRAM_SIZE = WRAM_END - WRAM_START  # the observation's WRAM part

OVERWRITTEN, READ, UNDECIDED = "overwritten", "read", "undecided"


@dataclass(frozen=True)
class TrialRequest:
    """Perturb recording index `index` at the end of frame `start` (where it got its value) by writing `value`,
    and replay the recorded inputs of frames start + 1 .. `end` (its next recorded change, plus a little slack)."""

    index: int
    start: int
    end: int
    value: int


@dataclass(frozen=True)
class TrialOutcome:
    verdict: str  # OVERWRITTEN, READ or UNDECIDED
    frames: int  # frames replayed after the perturbation until the verdict


def judge_trial(perturbed: np.ndarray, reference: np.ndarray, others_differ: np.ndarray) -> TrialOutcome:
    """The rule on one trial. Per replayed frame k (k = 0 is the first frame after the write): the perturbed
    byte's value in the perturbed and the unperturbed run, and whether anything else differs between the runs.

    OVERWRITTEN: the byte is back to the unperturbed run's value on some frame and nothing else differed up to and
    including that frame (a read and an overwrite within one frame would leave its trace on that frame).
    READ: something else differed first (or on the frame it came back). UNDECIDED: neither within the frames."""
    back = np.flatnonzero(np.asarray(perturbed) == np.asarray(reference))
    spread = np.flatnonzero(others_differ)
    first_back = int(back[0]) if len(back) else None
    first_spread = int(spread[0]) if len(spread) else None
    if first_spread is not None and (first_back is None or first_spread <= first_back):
        return TrialOutcome(READ, first_spread + 1)
    if first_back is not None:
        return TrialOutcome(OVERWRITTEN, first_back + 1)
    return TrialOutcome(UNDECIDED, len(perturbed))


class _Machine:
    """One emulator of the replay, and what the game can have changed: WRAM (every bank on CGB), HRAM, VRAM
    (every bank) and OAM, read as zero-copy views where PyBoy allows."""

    def __init__(self, env_id: str, env_kwargs: dict[str, Any], max_episode_frames: int):
        self.env = make_recording_env(env_id, {**env_kwargs, "obs_type": "ram"}, max_episode_frames)
        self.game = self.env.unwrapped.game
        self.video = VideoMemory(self.game.pyboy)
        self.cgb = self.game.ram.cgb
        self._actions = self.game.profile.actions

    def wram(self) -> bytes:
        return self.game.ram.wram_banks().tobytes() if self.cgb else self.game.ram.read()[:_WRAM_SIZE].tobytes()

    def rest(self) -> bytes:
        """HRAM, VRAM and OAM."""
        return self.game.ram.read()[_WRAM_SIZE:].tobytes() + self.video.vram().tobytes() + self.video.oam().tobytes()

    def position(self, index: int) -> tuple[bool, int]:
        """(in WRAM, position in `wram()` or else in `rest()`) of recording index `index` now (a 0xD000 byte of
        the observation: in the bank switched in now)."""
        if index >= RAM_OBS_SIZE:  # banked: bank b's byte sits at b * 4096 + offset
            return True, index - RAM_OBS_SIZE + WRAM_BANK_SIZE
        if index < _WRAM_SIZE:
            if self.cgb and index >= WRAM_BANK_SIZE:
                return True, self.game.ram.switched_bank() * WRAM_BANK_SIZE + index - WRAM_BANK_SIZE
            return True, index
        return False, index - _WRAM_SIZE

    def write(self, index: int, value: int) -> None:
        memory = self.game.pyboy.memory
        if index >= RAM_OBS_SIZE:
            offset = index - RAM_OBS_SIZE
            memory[1 + offset // WRAM_BANK_SIZE, WRAM_SWITCHED_START + offset % WRAM_BANK_SIZE] = value
        elif index < _WRAM_SIZE:
            memory[WRAM_START + index] = value
        else:
            memory[HRAM_START + index - _WRAM_SIZE] = value

    def load(self, state: bytes, held: tuple[str, ...]) -> None:
        self.game.load_state(state, held)

    def step(self, action: int) -> None:
        """One frame with the action's buttons held, as the recording env's step (frame_skip=1) plays it."""
        self.game.hold(self._actions[action])
        self.game.tick(1, False)

    def close(self) -> None:
        self.env.close()


class EmulatorReplayer:
    """Replays a recording's episodes (each from its seeded reset, with the recorded actions) and runs trials.

    One emulator plays forward to each trial's start frame, from its episode's reset or from the nearest state it
    saved before (checking that it sees the recorded RAM, so a replay that went its own way is never judged), and
    saves its state there; two more load that state, one gets the perturbed value, and both replay the recorded
    inputs in lockstep until `judge_trial` can tell."""

    def __init__(self, env_id: str, env_kwargs: dict[str, Any], recording: Recording, seed: int,
                 max_episode_frames: int):
        self.recording = recording
        self._machines = [_Machine(env_id, env_kwargs, max_episode_frames) for _ in range(3)]
        starts = np.flatnonzero(recording.episode_start)
        self._episode_starts = starts
        self._seeds = _episode_seeds(recording, seed, len(starts))
        self._saved: dict[int, tuple[bytes, tuple[str, ...]]] = {}  # frame -> main's state there (and buttons)
        self.emulated_frames = 0

    def run(self, requests: list[TrialRequest], max_frames: int) -> list[TrialOutcome]:
        """Outcomes in the order of `requests`, run in the order of their start frames (one pass through the
        recording). UNDECIDED (0 frames) for those met once this replayer has emulated `max_frames` frames in all,
        and for the later trials of a byte that an earlier one found read or undecided (they cannot change what
        the extractor concludes)."""
        outcomes: list[TrialOutcome | None] = [None] * len(requests)
        order = sorted(range(len(requests)), key=lambda k: (requests[k].start, requests[k].index))
        main, reference, perturbed = self._machines
        frame = -1  # main's frame (-1: main must start from a reset or a saved state)
        settled: set[int] = set()  # indices with an outcome other than OVERWRITTEN
        for k in order:
            request = requests[k]
            if self.emulated_frames >= max_frames or request.index in settled:
                outcomes[k] = TrialOutcome(UNDECIDED, 0)
                settled.add(request.index)
                continue
            episode = int(np.searchsorted(self._episode_starts, request.start, side="right") - 1)
            episode_start = int(self._episode_starts[episode])
            if frame < episode_start or frame > request.start:
                # From the latest state saved in this episode at or before the start (earlier calls' trials), or
                # from the episode's seeded reset.
                saved = [f for f in self._saved if episode_start <= f <= request.start]
                if saved:
                    frame = max(saved)
                    main.load(*self._saved[frame])
                else:
                    frame = episode_start
                    main.env.reset(seed=self._seeds[episode])
            while frame < request.start:
                frame += 1
                main.step(int(self.recording.actions[frame]))
                self.emulated_frames += 1
            if frame not in self._saved:
                if not self._sees_recording(main, frame):
                    outcomes[k] = TrialOutcome(UNDECIDED, 0)
                    settled.add(request.index)
                    continue
                self._saved[frame] = (main.game.save_state(), main.game.held)
            outcomes[k] = self._trial(request, self._saved[frame], reference, perturbed)
            if outcomes[k].verdict != OVERWRITTEN:
                settled.add(request.index)
        return outcomes  # type: ignore[return-value]

    def _sees_recording(self, machine: _Machine, frame: int) -> bool:
        observed = self.recording.columns < RAM_OBS_SIZE
        ram = machine.game.ram.read()
        return bool(np.array_equal(ram[self.recording.columns[observed]], self.recording.values[frame, observed]))

    def _trial(self, request: TrialRequest, state: tuple[bytes, tuple[str, ...]], reference: _Machine,
               perturbed: _Machine) -> TrialOutcome:
        reference.load(*state)
        perturbed.load(*state)
        perturbed.write(request.index, request.value)
        frames = request.end - request.start
        values = np.zeros((2, frames), np.uint8)
        others_differ = np.zeros(frames, bool)
        actions = self.recording.actions
        for k in range(frames):
            action = int(actions[request.start + 1 + k])
            if action < 0:  # the next episode: the replay cannot go on
                return judge_trial(values[0, :k], values[1, :k], others_differ[:k])
            reference.step(action)
            perturbed.step(action)
            self.emulated_frames += 2
            in_wram, position = reference.position(request.index)
            ours, theirs = (perturbed.wram(), reference.wram()) if in_wram else (perturbed.rest(), reference.rest())
            values[0, k], values[1, k] = ours[position], theirs[position]
            others_differ[k] = (ours[:position] != theirs[:position] or ours[position + 1 :] != theirs[position + 1 :]
                                or (perturbed.rest() != reference.rest() if in_wram else
                                    perturbed.wram() != reference.wram()))
            if others_differ[k] or values[0, k] == values[1, k]:
                return judge_trial(values[0, : k + 1], values[1, : k + 1], others_differ[: k + 1])
        return judge_trial(values[0], values[1], others_differ)

    def close(self) -> None:
        for machine in self._machines:
            machine.close()


def _episode_seeds(recording: Recording, seed: int, episodes: int) -> list[int]:
    """The reset seed of every episode: episode i of each policy's share uses seed + i (gbc.extract.record)."""
    seeds: list[int] = []
    for source in recording.sources:
        seeds += [seed + i for i in range(int(source["episodes"]))]
    if len(seeds) != episodes:  # a recording made otherwise: every episode from `seed` on
        seeds = [seed + i for i in range(episodes)]
    return seeds
