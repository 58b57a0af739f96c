"""State spec files (written by scripts/01_extract_state.py, gbc.extract.pipeline) and the `obs_type="state"` observation they define.

A spec lists features; each is one kept RAM byte, or a 16-bit word of two adjacent kept bytes (low byte first).
The observation is one float32 per feature, in [0, 1]:

    value = ram[lo]                      (a byte)      or  ram[lo] + 256 * ram[hi]   (a word)
    value -= 256 if signed and value >= 128            or  65536 if signed and value >= 32768
    obs   = clip((value - min) / (max - min), 0, 1)

With `scaling="arrays"` (what the memory agent trains on: agents/presets.py) each member of an array of n
members is further divided by sqrt(n), so that an array adds the input variance of one feature rather than n: on
GBC Breakout the 108 brick flags at full range swamped the ball and paddle positions in the first layer, and the
agent needed ~5x more steps than on the raw RAM (agents/trained/results/training_gbc.md, "Why the extracted state
learned slower"). `scaling="range"` is the plain formula above (the shipped GBC Breakout memory agent's input).

With `scaling="thermometer"` a feature that is neither a flag nor an array member gets, after its "arrays" input, up
to THERMOMETER_BINS more: its range cut into equal bins (no more bins than the range has integer steps), input k
being clip((value - edge_k) / (edge_k+1 - edge_k), 0, 1), which is 0 below bin k, 1 above it and rises across it, so
the bins add up to the value. A policy that must act at one narrow band of a value (the runner's obstacle a few
pixels ahead, and a bar rather than a block) then reads that band from inputs of its own instead of a slope of one
number: on the runner the memory agent learnt the duck with these inputs and never without them
(agents/trained/results/training_games.md, "The runner's memory agent: thermometer inputs"). `columns[i]` lists the
inputs of feature i.

min and max are the feature's range over the recording (in the signed domain for signed features), so a value
never seen while recording (a faster ball, a higher score) reads as 0 or 1. A byte is signed when its values
sit on both sides of 0 as int8 and span less that way (e.g. -1, 0, 1 stored as 255, 0, 1); a word is signed
when its int16 values have both signs and span less than 4096 (a velocity in 1/256 px per frame).

After the features come the spec's "indexed" inputs, if any: an element of an array read through an index byte,

    value = ram[base_obs + stride * ((ram[index_obs] + offset) % length)]

scaled like a byte feature (a scalar: thermometer bins with "thermometer"). The extractor finds them where a kept
byte moves a write across an array (gbc.extract.core.IndexedElement): the snake's head cell in its ring buffer of
cells is one byte of 256 in each of two arrays, a different byte as the head index moves, so no single feature holds
it and an MLP would have to learn the lookup (agents/trained/results/training_games.md, "Snake: the head's cell").

A feature may read a byte of a CGB WRAM bank (its "bank", 1-7, beside its address; obs index
`gbc.hardware.banked_index(bank, address)`, past the RAM observation): the observation reads it from that bank,
switched in or not (`wram_offsets` says which bytes the env must read; none for a spec without banked features,
which costs nothing extra).

A spec names the ROM it was extracted from (SHA-1) and the RAM layout; a mismatch with the env is an error.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from breakout_py.errors import UserError
from breakout_py.files import write_json
from gbc.hardware import BANKED_OBS_SIZE, RAM_OBS_SIZE, WRAM_BANK_SIZE

SPEC_FORMAT = "gbc.state_spec"
SPEC_VERSION = 1
SPEC_SUFFIX = ".state_spec.json"
GAME_BOY_LAYOUT = "gameboy_wram_hram"
FLAT_LAYOUT = "flat"
STATE_SCALINGS = ("range", "arrays", "thermometer")
THERMOMETER_BINS = 16


class StateSpecError(UserError, ValueError):
    """A spec file that is missing, malformed, or made for another ROM or env."""


def indexed_elements(ram: np.ndarray, index: np.ndarray, base: np.ndarray, stride: np.ndarray, length: np.ndarray,
                     offset: np.ndarray) -> np.ndarray:
    """(..., n) where in `ram` (..., observation) each of n indexed inputs reads its element (the module docstring's
    formula; every argument after `ram` is (n,) observation indices or counts)."""
    return base + stride * ((ram[..., index].astype(np.int64) + offset) % length)


def write_spec(path: Path | str, spec: dict[str, Any]) -> Path:
    """Write a spec (gbc.extract.core.build_spec's dict) to `path` atomically: a full disk leaves the file that
    was there untouched (breakout_py.files)."""
    return write_json(path, spec, indent=1)


def default_spec_path(rom_path: Path) -> Path:
    """Where a ROM's committed spec lives: beside it, e.g. roms/breakout/breakout.state_spec.json."""
    return Path(rom_path).with_suffix(SPEC_SUFFIX)


class StateSpec:
    """A loaded spec: which RAM bytes make the state observation, and how they are scaled."""

    def __init__(self, data: dict[str, Any], path: Path | str = "<spec>", scaling: str = "range"):
        self.path = Path(path)
        self.data = data
        if scaling not in STATE_SCALINGS:
            raise StateSpecError(f"state scaling must be one of {STATE_SCALINGS}, got {scaling!r}")
        self.scaling = scaling
        if not isinstance(data, dict) or data.get("format") != SPEC_FORMAT:
            raise StateSpecError(f"{self.path} is not a state spec (no \"format\": \"{SPEC_FORMAT}\"); write one with "
                                 "scripts/01_extract_state.py")
        if data.get("version") != SPEC_VERSION:
            raise StateSpecError(f"{self.path} has spec version {data.get('version')}, this code reads version "
                                 f"{SPEC_VERSION}; extract it again with scripts/01_extract_state.py")
        try:
            self.layout = str(data["layout"])
            self.observation_size = int(data["observation_size"])
            features = data["features"]
            lo = np.array([f["obs_indices"][0] for f in features], np.int64)
            hi = np.array([f["obs_indices"][1] if len(f["obs_indices"]) == 2 else -1 for f in features], np.int64)
            signed = np.array([bool(f["signed"]) for f in features])
            low = np.array([f["min"] for f in features], np.float64)
            high = np.array([f["max"] for f in features], np.float64)
            groups = [f.get("group") for f in features]
            arrays = {g["name"] for g in data.get("groups", []) if g.get("kind") == "array"}
            indexed = data.get("indexed", [])
            self._index = np.array([e["index_obs"] for e in indexed], np.int64)
            self._base = np.array([e["base_obs"] for e in indexed], np.int64)
            self._stride = np.array([e["stride"] for e in indexed], np.int64)
            self._length = np.array([e["length"] for e in indexed], np.int64)
            self._offset = np.array([e["offset"] for e in indexed], np.int64)
            low = np.concatenate([low, [float(e["min"]) for e in indexed]])
            high = np.concatenate([high, [float(e["max"]) for e in indexed]])
            groups += [None] * len(indexed)
        except (KeyError, TypeError, IndexError, ValueError) as err:
            raise StateSpecError(f"{self.path} is malformed ({type(err).__name__}: {err}); extract it again with "
                                 "scripts/01_extract_state.py") from err
        if not len(features):
            raise StateSpecError(f"{self.path} keeps no byte, so the state observation would be empty")
        limit = BANKED_OBS_SIZE if self.layout == GAME_BOY_LAYOUT else self.observation_size
        if (lo < 0).any() or (lo >= limit).any() or (hi >= limit).any():
            raise StateSpecError(f"{self.path} names observation indices outside 0..{limit - 1}")
        last_element = self._base + self._stride * (self._length - 1)
        if len(indexed) and ((self._index < 0).any() | (self._index >= self.observation_size).any()
                             | (self._base < 0).any() | (last_element >= self.observation_size).any()
                             | (self._stride < 1).any() | (self._length < 1).any()):
            raise StateSpecError(f"{self.path} has an indexed input whose index or elements lie outside the RAM "
                                 f"observation (0..{self.observation_size - 1}); extract it again with "
                                 "scripts/01_extract_state.py")
        # Banked bytes (indices past the RAM observation) are read apart and appended to it, in this order.
        banked = np.unique(np.concatenate([lo, hi])[np.concatenate([lo, hi]) >= self.observation_size])
        self.wram_offsets = banked - RAM_OBS_SIZE + WRAM_BANK_SIZE  # into gbc.memory.RamReader.wram_banks()
        position = {int(index): self.observation_size + k for k, index in enumerate(banked.tolist())}
        lo = np.array([position.get(int(i), int(i)) for i in lo], np.int64)
        hi = np.array([position.get(int(i), int(i)) for i in hi], np.int64)
        if not (high > low).all():
            raise StateSpecError(f"{self.path} has a feature whose max is not above its min")
        self.names = [str(f["name"]) for f in features] + [str(e["name"]) for e in indexed]
        self._lo = lo
        self._hi = np.where(hi >= 0, hi, 0)
        self._hi_weight = np.where(hi >= 0, 256.0, 0.0).astype(np.float32)
        self._wrap_at = np.where(hi >= 0, 32768.0, 128.0).astype(np.float32)
        self._wrap = np.where(signed, np.where(hi >= 0, 65536.0, 256.0), 0.0).astype(np.float32)
        members = {g: groups.count(g) for g in arrays}
        member_count = np.array([members.get(g, 1) for g in groups], np.float64)
        inputs = len(features) + len(indexed)
        if scaling == "thermometer":
            # per feature its "arrays" input, then (not for an array member) one input per bin of its range
            bins = np.clip(np.round(high - low), 1, THERMOMETER_BINS).astype(np.int64)
            bins[(member_count > 1) | (bins == 1)] = 0
            self._source = np.repeat(np.arange(inputs), bins + 1)
            lows, widths, weights = [], [], []
            for k in range(inputs):
                edges = np.linspace(low[k], high[k], bins[k] + 1)
                lows += [low[k], *edges[:-1]]
                widths += [high[k] - low[k], *np.diff(edges)]
                weights += [1.0 / np.sqrt(member_count[k])] + [1.0] * bins[k]
            self._low = np.array(lows, np.float32)
            self._scale = (1.0 / np.array(widths)).astype(np.float32)
            self._weight = np.array(weights, np.float32)
        else:
            self._source = np.arange(inputs)
            self._low = low.astype(np.float32)
            scale = 1.0 / (high - low)
            if scaling == "arrays":
                scale /= np.sqrt(member_count)
            self._scale = scale.astype(np.float32)
            self._weight = None
        self.columns = np.split(np.arange(len(self._source)), np.cumsum(np.bincount(self._source))[:-1])

    @classmethod
    def load(cls, path: Path | str, scaling: str = "range") -> StateSpec:
        path = Path(path)
        if not path.is_file():
            raise StateSpecError(f"no state spec at {path}; write one with `.venv/bin/python scripts/01_extract_state.py"
                                 " --update-committed` (it goes beside the ROM, where obs_type='state' looks; for a "
                                 "ROM: --env-id GBC-v0 --env-kwargs '{\"profile\": \"NAME\"}'), or pass state_spec= "
                                 "the path of one")
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise StateSpecError(f"cannot read state spec {path}: {err}") from err
        return cls(data, path, scaling)

    @property
    def fingerprint(self) -> dict[str, str]:
        """Which observation this spec makes: its path and a SHA-256 of what defines the observation (layout, each
        feature's bytes, bank, sign, range and group, the scaling), not of the evidence beside it. Names are no part
        of it (features and groups are named by address anyway): the same bytes in the same order make the same
        observation, so an agent plays a user's copy of its ROM with no symbols file (run_pipeline.sh
        --hide-symbols). An agent records it when it trains, and evaluation refuses a spec with another digest
        (agents.checkpoint.check_state_spec)."""
        keys = ("obs_indices", "bank", "signed", "min", "max", "group")
        defining = {"layout": self.layout, "observation_size": self.observation_size, "scaling": self.scaling,
                    "features": [{k: f.get(k) for k in keys} for f in self.data["features"]]}
        if self.data.get("indexed"):  # absent from older specs' digests, which stay as they were
            indexed_keys = ("index_obs", "base_obs", "stride", "length", "offset", "min", "max")
            defining["indexed"] = [{k: e.get(k) for k in indexed_keys} for e in self.data["indexed"]]
        digest = hashlib.sha256(json.dumps(defining, sort_keys=True).encode()).hexdigest()
        path = self.path.resolve()
        shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
        return {"path": str(shown), "sha256": digest}

    @property
    def size(self) -> int:
        """The length of the state observation: one input per feature and per indexed element, more with scaling
        "thermometer"."""
        return len(self._source)

    @property
    def rom_sha1(self) -> str | None:
        rom = self.data.get("rom")
        return None if not rom else str(rom.get("sha1", "")).lower()

    def check_game_boy(self, profile_name: str, rom_sha1: str, observation_size: int) -> None:
        """Raise StateSpecError unless this spec was extracted from this ROM's RAM observation."""
        if self.layout != GAME_BOY_LAYOUT or self.observation_size != observation_size:
            raise StateSpecError(
                f"{self.path} was extracted from {self.data.get('env_id')!r} (layout {self.layout!r}, "
                f"{self.observation_size} bytes), not from a Game Boy RAM observation of {observation_size} bytes; "
                "extract a spec for this ROM with scripts/01_extract_state.py"
            )
        if self.rom_sha1 != rom_sha1.lower():
            raise StateSpecError(
                f"{self.path} was extracted from the ROM with SHA-1 {self.rom_sha1}, but profile {profile_name!r} runs "
                f"the ROM with SHA-1 {rom_sha1.lower()}; RAM addresses may have moved. Extract a new spec: "
                f".venv/bin/python scripts/01_extract_state.py --update-committed --env-id GBC-v0 --env-kwargs "
                f"'{{\"profile\": \"{profile_name}\"}}' (GBCBreakout-v0 for our Breakout)"
            )

    def input_of_byte(self, obs_index: int) -> int | None:
        """The input (feature number) that is byte `obs_index` of the RAM observation alone, None if none is."""
        hits = np.flatnonzero((self._lo == obs_index) & (self._hi_weight == 0))
        return int(hits[0]) if len(hits) else None

    def input_of_element(self, base_obs: int, index_obs: int) -> int | None:
        """The indexed input reading array `base_obs` through index byte `index_obs`, None if none does."""
        hits = np.flatnonzero((self._base == base_obs) & (self._index == index_obs))
        return len(self.data["features"]) + int(hits[0]) if len(hits) else None

    def decoder(self, k: int) -> tuple[int, float, float]:
        """(column, low, span) of input k: its value is observation[column] * span + low within its recorded range
        (the column's first input; with "thermometer" the bins after it)."""
        column = int(self.columns[k][0])
        weight = 1.0 if self._weight is None else float(self._weight[column])
        return column, float(self._low[column]), 1.0 / (float(self._scale[column]) * weight)

    @property
    def banked(self) -> bool:
        """Whether some feature reads a CGB WRAM bank (then `transform` needs those bytes too)."""
        return len(self.wram_offsets) > 0

    def transform(self, ram: np.ndarray, wram: np.ndarray | None = None) -> np.ndarray:
        """(..., observation_size) uint8 RAM -> (..., size) float32 in [0, 1] (an array member in [0, 1/sqrt(n)] with
        scaling "arrays" or "thermometer"). A banked spec also takes `wram`,
        (..., len(wram_offsets)): the WRAM bytes at `wram_offsets` (gbc.memory.RamReader.read_wram)."""
        if self.banked:
            if wram is None:
                raise StateSpecError(f"{self.path} reads CGB WRAM banks: pass their bytes (RamReader.read_wram("
                                     "spec.wram_offsets)) beside the RAM observation")
            ram = np.concatenate([ram, wram], axis=-1)
        lo = ram[..., self._lo].astype(np.float32)
        value = lo + ram[..., self._hi].astype(np.float32) * self._hi_weight
        value -= np.where(value >= self._wrap_at, self._wrap, np.float32(0))
        if len(self._index):
            element = indexed_elements(ram, self._index, self._base, self._stride, self._length, self._offset)
            value = np.concatenate([value, np.take_along_axis(ram, element, axis=-1).astype(np.float32)], axis=-1)
        if self._weight is not None:  # thermometer: each feature's value read by each of its bins
            value = value[..., self._source]
        out = (value - self._low) * self._scale
        np.clip(out, 0.0, 1.0, out=out)
        if self._weight is not None:
            out *= self._weight
        return out
