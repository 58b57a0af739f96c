"""Two rules of the state extractor, each on a small planted pattern: CGB WRAM banks recorded beside the RAM
observation (a byte that changes only in a bank that is never switched in at a frame's end is found, kept, named
bank:address, scored by bank and read from its bank by the state observation), and the perturbation test for
scratch (a buffer written at each "wave" and never read is dropped as overwritten before read; the wave counter,
which is read, stays)."""

import numpy as np
import pytest

from gbc.extract.core import ExtractSettings, build_spec, extract
from gbc.extract.perturb import OVERWRITTEN, READ, UNDECIDED, TrialOutcome, TrialRequest, judge_trial
from gbc.extract.record import RamRecorder, Recording, WramBankRecorder
from gbc.extract.score import score_spec
from gbc.extract.spec import GAME_BOY_LAYOUT, SPEC_FORMAT, SPEC_VERSION, StateSpec, StateSpecError
from gbc.hardware import RAM_OBS_SIZE, WRAM_BANK_SIZE, WRAM_START, banked_index

FRAMES, EPISODE = 2000, 500


class FakeBanks:
    """What WramBankRecorder reads of a CGB emulator: eight 4 KiB WRAM banks and the bank switched in."""

    def __init__(self):
        self.banks = np.zeros((8, WRAM_BANK_SIZE), np.uint8)
        self.switched = 1

    def wram_banks(self) -> np.ndarray:
        return self.banks

    def switched_bank(self) -> int:
        return self.switched


def banked_recording() -> tuple[Recording, int]:
    """A CGB game that writes a level byte at 0xD010 of bank 2 (switching bank 2 in only while it writes) and a
    ball byte in bank 0; the RAM observation shows bank 1 at 0xD000, which holds a stack that changes."""
    banks = FakeBanks()
    recorder = RamRecorder(RAM_OBS_SIZE, banks=WramBankRecorder(banks))
    rng = np.random.default_rng(0)
    ball = 0xC010 - WRAM_START
    for frame in range(FRAMES):
        if frame % 7 == 0:
            banks.banks[2, 0x10] = rng.integers(0, 3)  # written with bank 2 switched in, bank 1 back by frame's end
        banks.banks[0, ball] = 60 + frame % 40
        banks.banks[1, 0xFF0] = frame % 256  # in the observation's bank: a stack byte, seen there
        ram = np.zeros(RAM_OBS_SIZE, np.uint8)
        ram[:WRAM_BANK_SIZE] = banks.banks[0]
        ram[WRAM_BANK_SIZE : 2 * WRAM_BANK_SIZE] = banks.banks[banks.switched]
        recorder.add(ram, 0, frame % EPISODE == 0)
    return recorder.finish(np.arange(RAM_OBS_SIZE)), banked_index(2, 0xD010)


def test_a_byte_changing_only_in_a_bank_never_switched_in_is_recorded_and_kept():
    recording, level = banked_recording()
    assert recording.wram_banks == {"recorded": [2, 3, 4, 5, 6, 7], "switched_in": [1], "changing_bytes": 1}
    assert level in recording.columns.tolist() and recording.bank(level) == 2
    # Bank 1 is the observation's own 0xD000-0xDFFF: its stack byte is recorded once, as the observation's.
    assert banked_index(1, 0xDFF0) not in recording.columns.tolist()
    extraction = extract(recording)
    assert extraction.decision(level) == "kept"
    feature = next(f for f in extraction.features if level in f.indices)
    assert feature.name == "2:0xd010" and feature.bank == 2
    spec = build_spec(extraction, env_id="GBCTest-v0", env_kwargs={}, layout=GAME_BOY_LAYOUT, rom=None,
                      recording={})
    entry = next(e for e in spec["kept"] if e["obs_index"] == level)
    assert entry["address"] == "0xd010" and entry["bank"] == 2
    assert spec["observation_size"] == RAM_OBS_SIZE and spec["wram_banks"]["recorded"] == [2, 3, 4, 5, 6, 7]
    assert StateSpec(spec).wram_offsets.tolist() == [2 * WRAM_BANK_SIZE + 0x10]  # the env reads it from bank 2
    symbols = {"variables": [{"name": "level", "address": 0xD010, "size": 1, "kind": "state", "cgb_wram_bank": 2},
                             {"name": "stack_byte", "address": 0xDFF0, "size": 1, "kind": "runtime"}]}
    score = score_spec(spec, symbols)
    assert score["state_bytes_kept"] == 1 and score["state_recall"] == 1.0  # compared in bank 2, not in bank 1


def spec_with(features: list[dict]) -> dict:
    return {"format": SPEC_FORMAT, "version": SPEC_VERSION, "layout": GAME_BOY_LAYOUT,
            "observation_size": RAM_OBS_SIZE, "features": features}


def test_the_state_observation_reads_a_banked_byte_from_its_bank():
    level = banked_index(2, 0xD010)
    spec = StateSpec(spec_with([
        {"name": "0xc010", "obs_indices": [0x10], "signed": False, "min": 0, "max": 100},
        {"name": "2:0xd010", "obs_indices": [level], "signed": False, "min": 0, "max": 2, "bank": 2},
    ]))
    assert spec.banked and spec.wram_offsets.tolist() == [2 * WRAM_BANK_SIZE + 0x10]
    ram = np.zeros(RAM_OBS_SIZE, np.uint8)
    ram[0x10], ram[0x1010] = 50, 7  # 0xD010 of the bank switched in (bank 1) must not be read
    assert spec.transform(ram, np.array([2], np.uint8)).tolist() == [0.5, 1.0]
    with pytest.raises(StateSpecError, match="CGB WRAM banks"):
        spec.transform(ram)
    unbanked = StateSpec(spec_with([{"name": "0xc010", "obs_indices": [0x10], "signed": False, "min": 0, "max": 100}]))
    assert not unbanked.banked and unbanked.transform(ram).tolist() == [0.5]


def test_gbc_runner_state_observation_sees_column_ring_change_in_bank_2():
    gym = pytest.importorskip("gymnasium")
    import gbc  # noqa: F401  (registers the envs)

    env = gym.make("GBCRunner-v0", obs_type="state")
    game = env.unwrapped
    spec = game.state_spec
    ring = [k for k, f in enumerate(spec.data["features"]) if f.get("bank") == 2]
    assert len(ring) >= 16, "the committed Runner spec keeps column_ring (bank 2)"
    obs, _ = env.reset(seed=0)
    seen = set()
    for step in range(150):
        obs, *_ = env.step(step % 2)
        memory = game.game.pyboy.memory
        for k in ring:
            feature = spec.data["features"][k]
            raw = memory[2, int(feature["addresses"][0], 16)]
            assert obs[k] == pytest.approx(min(1, max(0, (raw - feature["min"]) / (feature["max"] - feature["min"]))))
        seen.add(tuple(obs[ring].tolist()))
    env.close()
    assert game.game.ram.switched_bank() == 1  # bank 2 is not the one the RAM observation shows
    assert len(seen) > 5  # the ring changes during play


# --- the perturbation test ---------------------------------------------------------------------------------------


def test_judge_trial_tells_overwritten_read_and_undecided_apart():
    differ_never = np.zeros(6, bool)
    back_at_4 = (np.array([9, 9, 9, 9, 2, 2]), np.array([1, 1, 1, 1, 2, 2]))
    assert judge_trial(*back_at_4, differ_never) == TrialOutcome(OVERWRITTEN, 5)
    spread_at_2 = np.array([False, False, True, True, True, True])
    assert judge_trial(*back_at_4, spread_at_2) == TrialOutcome(READ, 3)
    same_frame = np.array([False, False, False, False, True, True])  # read and overwritten within one frame
    assert judge_trial(*back_at_4, same_frame).verdict == READ
    assert judge_trial(np.full(6, 9), np.full(6, 1), differ_never) == TrialOutcome(UNDECIDED, 6)


class WaveGame:
    """A tiny game run frame by frame on a byte array: every WAVE frames it draws a column order into ORDER
    (written whole, from a seeded draw, never read again) and steps the wave counter; every frame a display byte
    copies the wave counter (so the wave is read) and a ball moves."""

    WAVE, ORDER, DISPLAY, BALL = 0x20, 0x40, 0x60, 0x10
    LENGTH = 120

    def step(self, ram: np.ndarray, frame: int) -> None:
        if frame % self.LENGTH == 0:
            ram[self.WAVE] = (ram[self.WAVE] + 1) % 8
            ram[self.ORDER : self.ORDER + 8] = np.random.default_rng(frame).permutation(8)
        ram[self.DISPLAY] = ram[self.WAVE] * 3
        ram[self.BALL] = (frame * 5) % 150

    def recording(self) -> Recording:
        ram = np.zeros(0x100, np.uint8)
        frames = np.zeros((FRAMES, 0x100), np.uint8)
        for frame in range(FRAMES):
            self.step(ram, frame)
            frames[frame] = ram
        start = np.zeros(FRAMES, bool)
        start[0] = True
        return Recording.from_frames(frames, start)


class WaveReplayer:
    """Replays WaveGame from a recorded frame, once as recorded and once with the byte perturbed."""

    def __init__(self, game: WaveGame, recording: Recording):
        self.game, self.recording = game, recording
        self.emulated_frames = 0

    def run(self, requests: list[TrialRequest], max_frames: int) -> list[TrialOutcome]:
        outcomes = []
        for request in requests:
            reference = self.recording.full(np.arange(self.recording.size))[request.start].copy()
            perturbed = reference.copy()
            perturbed[request.index] = request.value
            traces = ([], [], [])
            for frame in range(request.start + 1, request.end + 1):
                self.game.step(reference, frame)
                self.game.step(perturbed, frame)
                self.emulated_frames += 2
                traces[0].append(perturbed[request.index])
                traces[1].append(reference[request.index])
                others = np.flatnonzero(perturbed != reference)
                traces[2].append(bool(len(others[others != request.index])))
            outcomes.append(judge_trial(*map(np.array, traces)))
        return outcomes


def test_a_buffer_written_at_each_wave_and_never_read_is_dropped_but_the_read_wave_counter_stays():
    game = WaveGame()
    recording = game.recording()
    passive = extract(recording)
    order = range(game.ORDER, game.ORDER + 8)
    assert all(passive.decision(i) == "kept" for i in order)  # a passive recording cannot tell
    settings = ExtractSettings(overwrite_max_change_rate=0.01)  # waves every 120 frames in this short recording
    extraction = extract(recording, settings, WaveReplayer(game, recording))
    dropped = [i for i in order if extraction.decision(i) == "overwritten_before_read"]
    assert len(dropped) >= 6, [extraction.stats[i].evidence for i in order]
    evidence = extraction.stats[dropped[0]].evidence
    assert evidence["trials"] >= 2 and all(n > 100 for n in evidence["unread_frames"])
    assert extraction.decision(game.WAVE) == "kept" and extraction.decision(game.BALL) == "kept"
    # The display byte is rewritten from the wave every frame: a cache of other state, recomputed at once, kept
    # (a generation buffer lies unread until the next wave).
    assert extraction.decision(game.DISPLAY) == "kept"
    assert extraction.overwrite_test["dropped"] == len(dropped)
    # Off, the test drops nothing.
    off = extract(recording, ExtractSettings(overwrite_max_change_rate=0.01, overwrite_test=False),
                  WaveReplayer(game, recording))
    assert all(off.decision(i) == "kept" for i in order)
