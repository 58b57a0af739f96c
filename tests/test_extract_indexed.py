"""Array elements read through an index byte (gbc.extract.core._indexed_elements, gbc.extract.spec): a ring buffer's
head found with the right base, length and alignment, its element read by the state observation as the last one
written, and an array that changes whole every frame (moving shots) not taken for one, whatever byte moves; on
Snake, the head's cell read from the committed spec and named from the symbols file by step 06."""

import json

import gymnasium as gym
import numpy as np
import pytest

import gbc  # noqa: F401  (registers the Game Boy envs)
from agents.probing.key_variable_games import features_for_env
from gbc.extract.core import build_spec, extract
from gbc.extract.record import Recording
from gbc.extract.spec import FLAT_LAYOUT, StateSpec, StateSpecError
from gbc.hardware import WRAM_START
from gbc.profiles import ROMS_DIR

BASE, SIZE = 0xC000, 0x400
FRAMES = 6000
RING, HEAD = 0xC100, 0xC200  # 256 cells, the head moved then written (a snake's body_x and head_index)
SLOTS, SLOT = 0xC280, 0xC2C0  # 32 two-byte slots, written then the index moved, wrapping at 32
SHOTS, TURN = 0xC300, 0xC310  # 8 shots that all move every frame; a turn counter 0-7 beside them


def at(address: int) -> int:
    return address - BASE


def planted_game() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RAM of FRAMES frames with the three structures above; also the value last written to the ring and to the
    slots on each frame."""
    rng = np.random.default_rng(0)
    ram = np.zeros((FRAMES, SIZE), np.uint8)
    head, slot, turn = 2, 0, 0
    ring_last, slot_last = np.zeros(FRAMES, np.int64), np.zeros(FRAMES, np.int64)
    last_ring = last_slot = 0
    for t in range(FRAMES):
        if t:
            ram[t] = ram[t - 1]
        if t % 4 == 0:  # the snake moves: head first, then its new cell
            head = (head + 1) % 256
            last_ring = int(rng.integers(1, 18))
            ram[t, at(RING) + head] = last_ring
            ram[t, at(HEAD)] = head
        if t % 6 == 0:  # a slot filled, then the index moves on
            last_slot = int(rng.integers(1, 200))
            ram[t, at(SLOTS) + 2 * slot] = last_slot
            slot = (slot + 1) % 32
            ram[t, at(SLOT)] = slot
        ram[t, at(SHOTS):at(SHOTS) + 8] = rng.integers(0, 256, 8)  # every shot moves every frame
        if t % 5 == 0:
            turn = (turn + 1) % 8  # over the shots: by chance, a write at SHOTS + turn on every move
            ram[t, at(TURN)] = turn
        ring_last[t], slot_last[t] = last_ring, last_slot
    return ram, ring_last, slot_last


@pytest.fixture(scope="module")
def planted():
    ram, ring_last, slot_last = planted_game()
    recording = Recording.from_frames(ram, addresses=np.arange(BASE, BASE + SIZE))
    return recording, extract(recording), ram, ring_last, slot_last


def test_a_ring_buffer_head_and_a_slot_index_are_found_and_moving_shots_are_not(planted):
    _, extraction, *_ = planted
    found = {(e.index, e.base, e.stride, e.length, e.offset) for e in extraction.indexed}
    assert found == {(at(HEAD), at(RING), 1, 256, 0),  # moved then written: the element at the index
                     (at(SLOT), at(SLOTS), 2, 32, -1)}  # written then moved: the element before it
    assert all(e.share > 0.9 for e in extraction.indexed)  # below 1 where a cell was written its old value


def test_the_state_observation_reads_the_last_element_written(planted):
    _, extraction, ram, ring_last, slot_last = planted
    spec = StateSpec(build_spec(extraction, env_id="planted", env_kwargs={}, layout=FLAT_LAYOUT, rom=None,
                                recording={}))
    features = len(extraction.features)
    assert spec.size == features + 2 and spec.names[features:] == [e.name for e in extraction.indexed]
    obs = spec.transform(ram)
    for k, e in enumerate(extraction.indexed):
        last = ring_last if e.index == at(HEAD) else slot_last
        expected = (last - e.minimum) / (e.maximum - e.minimum)
        assert np.allclose(obs[8:, features + k], expected[8:]), e.name  # once both have been written


def test_an_indexed_input_outside_the_observation_is_refused(planted):
    recording, extraction, *_ = planted
    data = build_spec(extraction, env_id="planted", env_kwargs={}, layout=FLAT_LAYOUT, rom=None, recording={})
    data["indexed"][0]["base_obs"] = SIZE - 10  # 256 elements from here run past the observation
    with pytest.raises(StateSpecError, match="indexed input"):
        StateSpec(data)
    data.pop("indexed")
    assert StateSpec(data).size == len(extraction.features)


@pytest.mark.skipif(not (ROMS_DIR / "snake" / "snake.gb").is_file(), reason="roms/snake/snake.gb absent: make -C roms")
def test_snake_state_reads_the_head_cell_named_from_the_symbols_file():
    symbols = {v["name"]: v["address"] - WRAM_START
               for v in json.loads((ROMS_DIR / "snake" / "snake.symbols.json").read_text())["variables"]}
    spec = StateSpec.load(ROMS_DIR / "snake" / "snake.state_spec.json", "range")
    env = gym.make("GBCSnake-v0", obs_type="ram")
    ram, _ = env.reset(seed=3)
    rams = []
    for _ in range(300):  # into play: the snake moves every 4-12 frames
        ram, *_ = env.step(int(env.action_space.sample()))
        rams.append(ram)
    env.close()
    rams = np.array(rams)
    head = rams[:, symbols["head_index"]].astype(np.int64)
    values = spec.transform(rams)
    features = features_for_env("GBCSnake-v0", {"obs_type": "state", "state_scaling": "arrays"})
    assert len(features.columns) == len(features.features) == len(spec.names)
    for name in ("body_x", "body_y"):
        k = [f.name for f in features.features].index(f"{name}[head_index]")
        assert features.features[k].kind == "indexed" and features.features[k].symbol == name
        entry = spec.data["indexed"][k - len(spec.data["features"])]
        cell = rams[np.arange(len(rams)), symbols[name] + head]
        assert np.allclose(values[:, k], (cell - entry["min"]) / (entry["max"] - entry["min"]))
    assert len(np.unique(head)) > 3  # the head moved, so the element read moved through the ring
