"""The state extractor (gbc.extract) on a synthetic recording whose every byte's role is known, and its errors."""

import numpy as np
import pytest

from gbc.extract.core import ExtractSettings, RecordingTooShortError, build_spec, extract
from gbc.extract.record import GameBoyTrace, Recording, RecordingError, check_ram_observation_space
from gbc.extract.spec import FLAT_LAYOUT, GAME_BOY_LAYOUT, StateSpec
from gbc.hardware import OAM_SIZE

BASE = 0xC000
FRAMES, EPISODE = 4000, 500
# Synthetic layout (addresses): what each byte does, and what the extractor must decide.
OAM_BLOCK = 0xC000  # 160 bytes copied to OAM every frame (sprite 0: y, x)
FRAME_COUNTER = 0xC0A0
JOYPAD = 0xC0A1
BALL_X, BALL_Y = 0xC0A2, 0xC0A3
SCORE = 0xC0A4  # uint16, carries into 0xC0A5
VELOCITY = 0xC0A6  # int16
TIMER = 0xC0A8
CONSTANT = 0xC0A9
BRICKS = 0xC0B0  # 16 flags, 1 -> 0
QUEUE_TILE = 0xC0E0  # 2 entries: tile values written to VRAM
QUEUE_OFFSET = 0xC0E4  # 2 entries: uint16 tile-map offsets
STACK_TOP = 0xC1F0  # SP at the end of every frame; 0xC1E0-0xC1EF is dead stack
SIZE = 0x200


def synthetic_recording(seed: int = 0, frames: int = FRAMES) -> Recording:
    rng = np.random.default_rng(seed)
    ram = np.zeros((frames, SIZE), np.uint8)
    start = np.zeros(frames, bool)
    start[::EPISODE] = True
    actions = np.repeat(rng.integers(0, 3, frames // 4 + 1), 4)[:frames].astype(np.int16)
    actions[start] = -1
    at = lambda address: address - BASE  # noqa: E731
    x, y, score, velocity, timer = 80, 60, 0, 200, 0
    bricks = np.ones(16, np.uint8)
    queue_tiles, queue_offsets = np.zeros(2, np.uint8), np.zeros(2, np.int64)
    vram_frames, vram_addresses, vram_values = [], [], []
    for t in range(frames):
        if start[t]:
            x, y, score, velocity, timer = 80, 60, 0, 200, 30
            bricks[:] = 1
            queue_tiles[:], queue_offsets[:] = 0, 0
        else:
            x = int(np.clip(x + rng.integers(-2, 3), 8, 150))
            y = int(np.clip(y + rng.integers(-2, 3), 16, 140))
            timer = timer - 1 if timer else (30 if rng.random() < 0.02 else 0)
            if rng.random() < 0.01:
                velocity = -velocity if rng.random() < 0.7 else (256 if velocity > 0 else -256)
            if rng.random() < 0.03 and bricks.any():  # a brick breaks: the queue gets its tile and a score digit
                k = int(rng.choice(np.flatnonzero(bricks)))
                bricks[k] = 0
                score += int(rng.integers(10, 40))
                queue_tiles[:] = [int(rng.choice([0, 2, 3])), 5 + score % 10]
                queue_offsets[:] = [0x80 + k, 0x09]
                for tile, offset in zip(queue_tiles, queue_offsets):
                    vram_frames.append(t)
                    vram_addresses.append(0x9800 + int(offset))
                    vram_values.append(int(tile))
        row = ram[t]
        row[at(OAM_BLOCK)], row[at(OAM_BLOCK) + 1] = y + 16, x + 8
        row[at(FRAME_COUNTER)] = t % 256
        row[at(JOYPAD)] = (0, 0x20, 0x10)[max(int(actions[t]), 0)] if actions[t] >= 0 else 0
        row[at(BALL_X)], row[at(BALL_Y)] = x, y
        row[at(SCORE)], row[at(SCORE) + 1] = score % 256, score // 256
        row[at(VELOCITY)], row[at(VELOCITY) + 1] = velocity % 65536 % 256, (velocity % 65536) // 256
        row[at(TIMER)] = timer
        row[at(CONSTANT)] = 0x42
        row[at(BRICKS) : at(BRICKS) + 16] = bricks
        row[at(QUEUE_TILE) : at(QUEUE_TILE) + 2] = queue_tiles
        for k, offset in enumerate(queue_offsets):
            row[at(QUEUE_OFFSET) + 2 * k], row[at(QUEUE_OFFSET) + 2 * k + 1] = offset % 256, offset // 256
        row[at(STACK_TOP) - 16 : at(STACK_TOP)] = rng.integers(0, 256, 16)
        row[at(STACK_TOP) :] = 0x12
    vram_changed = np.zeros(frames, bool)
    vram_changed[vram_frames] = True
    trace = GameBoyTrace(
        stack_pointer=np.full(frames, STACK_TOP, np.uint16), dma_register=np.full(frames, BASE >> 8, np.uint8),
        oam=ram[:, : OAM_SIZE].copy(), vram_changed=vram_changed, vram_flooded=np.zeros(frames, bool),
        vram_frame=np.array(vram_frames, np.int64), vram_address=np.array(vram_addresses, np.int64),
        vram_bank=np.zeros(len(vram_frames), np.uint8), vram_value=np.array(vram_values, np.uint8),
    )
    return Recording.from_frames(ram, start, actions, addresses=np.arange(BASE, BASE + SIZE), game_boy=trace)


@pytest.fixture(scope="module")
def recording():
    return synthetic_recording()


@pytest.fixture(scope="module")
def extraction(recording):
    return extract(recording)


def decision(extraction, address):
    return extraction.decision(address - BASE)


def test_each_synthetic_byte_is_decided_as_expected(extraction):
    assert decision(extraction, CONSTANT) == "constant"
    assert decision(extraction, OAM_BLOCK) == decision(extraction, OAM_BLOCK + 1) == "oam_dma_source"
    assert decision(extraction, OAM_BLOCK + 2) == "constant"  # never-changing sprite bytes stay constant
    assert decision(extraction, FRAME_COUNTER) == "frame_counter"
    assert decision(extraction, JOYPAD) == "input"
    for address in (BALL_X, BALL_Y, SCORE, SCORE + 1, VELOCITY, VELOCITY + 1, TIMER):
        assert decision(extraction, address) == "kept", hex(address)
    broken = [a for a in range(BRICKS, BRICKS + 16) if decision(extraction, a) != "constant"]
    assert broken and all(decision(extraction, a) == "kept" for a in broken)
    for address in (QUEUE_TILE, QUEUE_TILE + 1, QUEUE_OFFSET, QUEUE_OFFSET + 2):
        assert decision(extraction, address) == "vram_buffer", hex(address)
    assert decision(extraction, QUEUE_OFFSET + 1) == "constant"  # offsets < 256: high byte never changes
    assert all(decision(extraction, a) == "stack" for a in range(STACK_TOP - 16, STACK_TOP))
    assert decision(extraction, STACK_TOP) == "constant"


def test_flags_groups_and_features(extraction):
    assert "timer" in extraction.stats[TIMER - BASE].flags
    assert "frame_counter" in extraction.stats[FRAME_COUNTER - BASE].flags
    words = {g["addresses"][0]: g["word"] for g in extraction.groups if g["kind"] == "word"}
    assert words == {f"{SCORE:#06x}": "carry", f"{VELOCITY:#06x}": "signed"}
    arrays = [g for g in extraction.groups if g["kind"] == "array"]
    assert len(arrays) == 1 and arrays[0]["values"] == [0, 1] and int(arrays[0]["first"], 16) >= BRICKS
    by_address = {f.addresses[0]: f for f in extraction.features}
    velocity = by_address[VELOCITY]
    assert velocity.indices == [VELOCITY - BASE, VELOCITY - BASE + 1] and velocity.signed
    assert velocity.minimum == -256 and velocity.maximum == 256
    assert by_address[SCORE].maximum > 255 and not by_address[SCORE].signed
    assert SCORE + 1 not in by_address  # the high byte is part of the score feature


def test_words_carry_and_unrelated_neighbours_do_not(tmp_path):
    """Runner's layout: a frame timer that counts to 600 and restarts is one word; a velocity's high byte beside an
    on-ground flag, and a column counter beside the gap counter that steps down as it steps up, are not, though
    their high bytes change only with their low bytes by less than 256 (the steps of a carry)."""
    rng = np.random.default_rng(3)
    frames = 6000
    timer_at, velocity_at, column_at = 0, 2, 5  # timer lo/hi; velocity lo/hi, on_ground; column, gap
    ram = np.zeros((frames, 8), np.uint8)
    timer, velocity, on_ground, column, gap = 0, 0, 1, 0, 0
    for t in range(frames):
        if rng.random() < 0.7:  # the timer is paused at times, so it is no frame counter
            timer = (timer + 1) % 600
        if on_ground and rng.random() < 0.05:
            velocity, on_ground = -1024, 0
        elif not on_ground:
            velocity += 64
            if velocity > 1024:
                velocity, on_ground = 0, 1
        if t % 3 == 0:
            column = (column + 1) % 256
            gap = gap - 1 if gap else (20 if rng.random() < 0.3 else 0)
        ram[t] = [timer % 256, timer // 256, velocity % 65536 % 256, (velocity % 65536) // 256, on_ground, column,
                  gap, 0]
    extraction = extract(Recording.from_frames(ram, addresses=np.arange(BASE, BASE + 8)), ExtractSettings())
    words = {g["addresses"][0]: g["word"] for g in extraction.groups if g["kind"] == "word"}
    assert words == {f"{BASE + timer_at:#06x}": "carry"}
    for index in (velocity_at + 1, velocity_at + 2, column_at, column_at + 1):
        assert extraction.decision(index) == "kept" and extraction.stats[index].group is None


def test_spec_round_trip_scales_each_feature(extraction, tmp_path):
    spec_dict = build_spec(extraction, env_id="synthetic", env_kwargs={}, layout=FLAT_LAYOUT, rom=None, recording={})
    spec = StateSpec(spec_dict)
    assert spec.size == len(extraction.features) == len(spec_dict["features"])
    kept = {e["obs_index"] for e in spec_dict["kept"]}
    dropped_reasons = {e["reason"] for e in spec_dict["dropped"]}
    assert {"constant", "oam_dma_source", "vram_buffer", "stack", "frame_counter", "input"} <= dropped_reasons
    assert sum(e.get("count", 1) for e in spec_dict["dropped"]) + len(kept) == SIZE  # every byte decided once
    index = {f["addresses"][0]: f["index"] for f in spec_dict["features"]}
    ball = spec_dict["features"][index[f"{BALL_X:#06x}"]]
    score = spec_dict["features"][index[f"{SCORE:#06x}"]]
    assert score["min"] < 300 < score["max"]
    ram = np.zeros(SIZE, np.uint8)
    velocity = VELOCITY - BASE
    ram[velocity], ram[velocity + 1] = 0x00, 0xFF  # -256: the minimum
    ram[BALL_X - BASE] = ball["min"] + 3
    ram[SCORE - BASE], ram[SCORE - BASE + 1] = 0x2C, 0x01  # 300
    obs = spec.transform(ram)
    assert obs.dtype == np.float32 and obs.shape == (spec.size,)
    assert obs[index[f"{VELOCITY:#06x}"]] == 0.0
    assert obs[index[f"{BALL_X:#06x}"]] == pytest.approx(3 / (ball["max"] - ball["min"]))
    assert obs[index[f"{SCORE:#06x}"]] == pytest.approx((300 - score["min"]) / (score["max"] - score["min"]))
    ram[BALL_X - BASE] = ball["max"] + 1  # beyond the recorded range: clipped
    assert spec.transform(ram)[index[f"{BALL_X:#06x}"]] == 1.0
    batch = spec.transform(np.stack([ram, ram]))
    assert batch.shape == (2, spec.size) and np.array_equal(batch[0], spec.transform(ram))
    assert ((spec.transform(np.full(SIZE, 255, np.uint8)) >= 0) & (spec.transform(np.zeros(SIZE, np.uint8)) <= 1)).all()


def test_too_short_recording_is_a_clear_error(recording):
    with pytest.raises(RecordingTooShortError, match="at least 200 are needed"):
        extract(synthetic_recording(frames=150))
    with pytest.raises(RecordingTooShortError, match="Record more frames"):
        extract(recording, ExtractSettings(min_transitions=10_000))


def test_observation_must_be_a_flat_uint8_vector():
    import gymnasium as gym

    with pytest.raises(RecordingError, match="not a flat uint8 RAM vector"):
        check_ram_observation_space("X-v0", gym.spaces.Box(0, 255, (4, 84, 84), np.uint8))
    with pytest.raises(RecordingError, match="not a flat uint8 RAM vector"):
        check_ram_observation_space("CartPole-v1", gym.spaces.Box(-1, 1, (4,), np.float32))
    assert check_ram_observation_space("ALE", gym.spaces.Box(0, 255, (128,), np.uint8)) == 128


def test_recording_keeps_only_changing_columns():
    recording = synthetic_recording(frames=600)
    assert CONSTANT - BASE not in recording.columns
    full = recording.full(np.array([CONSTANT - BASE, BALL_X - BASE]))
    assert (full[:, 0] == 0x42).all() and len(np.unique(full[:, 1])) > 1


def test_spec_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="not a state spec"):
        StateSpec({"format": "other"})
    with pytest.raises(ValueError, match="no state spec at"):
        StateSpec.load(tmp_path / "missing.json")
    spec_dict = build_spec(extract(synthetic_recording(frames=1200)), env_id="synthetic", env_kwargs={},
                           layout=GAME_BOY_LAYOUT, rom={"sha1": "ab" * 20}, recording={})
    spec = StateSpec(spec_dict)
    with pytest.raises(ValueError, match="not from a Game Boy RAM observation of 8319"):
        spec.check_game_boy("breakout", "ab" * 20, 8319)
    spec_dict["observation_size"] = 8319
    with pytest.raises(ValueError, match="SHA-1 abab.*SHA-1 cdcd"):
        StateSpec(spec_dict).check_game_boy("breakout", "cd" * 20, 8319)
    spec_dict["features"][0]["obs_indices"] = [40000]  # past the RAM observation and the CGB WRAM banks after it
    with pytest.raises(ValueError, match="outside"):
        StateSpec(spec_dict)
