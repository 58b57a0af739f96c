"""Recordings for the state extractor: the RAM observation of every frame over many episodes.

A `Recording` keeps only the bytes that ever change (columns) plus one row of every byte's first value, so
100,000 frames of 8 KiB of Game Boy RAM take a few MB instead of 830. When the env is a Game Boy, it also keeps,
per frame, what finding screen data needs: OAM, the DMA register, the stack pointer, and every VRAM byte that
changed since the frame before (address, bank, new value). On CGB hardware it also sees WRAM banks 1-7
(`WramBankRecorder`): the RAM observation shows only the bank switched in at a frame's end, so a game's data in
another bank (switched in only while the game works on it) would never be seen to change. Banked bytes get the
indices after the observation's (`gbc.hardware.banked_index`) and are decided like any other byte.

`record_ram()` drives any Gymnasium env whose observation is a flat uint8 RAM vector (or a `GameBoyEnv`, whose RAM
it reads directly) with a list of policies, one RAM vector per env step (Game Boy envs are made with
frame_skip=1, so a step is one frame) and each policy decision held for `action_repeat` steps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import gymnasium as gym
import numpy as np

from breakout_py.errors import UserError
from gbc.extract.video import VideoMemory
from gbc.hardware import (
    BANKED_OBS_SIZE,
    CGB_WRAM_BANKS,
    HRAM_START,
    OAM_SIZE,
    RAM_OBS_SIZE,
    VRAM_BANK_SIZE,
    VRAM_START,
    WRAM_BANK_SIZE,
    WRAM_END,
    WRAM_START,
    WRAM_SWITCHED_START,
    banked_location,
)
from gbc.memory import RamReader

# Frames whose VRAM changed in more bytes than this (a full redraw) store no VRAM changes and are left out of the
# VRAM matching: they would match anything and would cost memory.
MAX_VRAM_CHANGES_PER_FRAME = 1024
CHUNK_FRAMES = 4096
# Frames recorded after each game over (about one second: a game-over jingle, the text drawn at game over).
FRAMES_AFTER_GAME_OVER = 60


class RecordingError(UserError, ValueError):
    """An env or a recording that the extractor cannot work with."""


class Policy(Protocol):
    def act(self, observation: np.ndarray) -> int: ...


@dataclass
class PolicySource:
    """One kind of play: `make(seed)` builds a fresh policy per episode; `env_kwargs` override the recording env's
    (e.g. the obs_type a trained agent needs); each decision is held for `action_repeat` steps."""

    name: str
    make: Callable[[int], Policy]
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    action_repeat: int = 4


@dataclass
class GameBoyTrace:
    """Per-frame Game Boy hardware state beside the RAM (T frames, E VRAM byte changes)."""

    stack_pointer: np.ndarray  # (T,) uint16, SP when the frame ended
    dma_register: np.ndarray  # (T,) uint8, the OAM DMA register (source page of the last DMA)
    oam: np.ndarray  # (T, 160) uint8
    vram_changed: np.ndarray  # (T,) bool: some VRAM byte differs from the frame before (never on episode starts)
    vram_flooded: np.ndarray  # (T,) bool: more than MAX_VRAM_CHANGES_PER_FRAME bytes changed (changes not stored)
    vram_frame: np.ndarray  # (E,) int64
    vram_address: np.ndarray  # (E,) int64, 0x8000-0x9FFF
    vram_bank: np.ndarray  # (E,) uint8
    vram_value: np.ndarray  # (E,) uint8, the new value


@dataclass
class Recording:
    """T frames of an N-byte RAM observation, stored as the columns that change."""

    base: np.ndarray  # (N,) uint8: every byte on frame 0; bytes outside `columns` never differ from it
    columns: np.ndarray  # (C,) int64: observation indices of the bytes that differ from `base` on some frame
    values: np.ndarray  # (T, C) uint8
    episode_start: np.ndarray  # (T,) bool: the frame right after a reset (its change from the frame before is not play)
    actions: np.ndarray  # (T,) int16: the action held during the frame, -1 on episode starts
    addresses: np.ndarray  # (N,) int64: the address of each observation index
    game_boy: GameBoyTrace | None = None
    sources: list[dict[str, Any]] = field(default_factory=list)
    after_game_over: np.ndarray | None = None  # (T,) bool: a frame after its episode's game over (None: none)
    banks: np.ndarray | None = None  # (N,) uint8: the CGB WRAM bank of each index (0: the RAM observation's own)
    wram_banks: dict[str, Any] | None = None  # which banks were recorded, which were the observation's (CGB only)
    _by_column: np.ndarray | None = field(default=None, repr=False, compare=False)  # values.T, made on first use

    @property
    def frames(self) -> int:
        return len(self.episode_start)

    @property
    def size(self) -> int:
        return len(self.base)

    @property
    def episodes(self) -> int:
        return int(self.episode_start.sum())

    @property
    def observation_size(self) -> int:
        """How many leading indices are the env's RAM observation (the rest: banked WRAM bytes)."""
        return self.size if self.banks is None else int(np.count_nonzero(self.banks == 0))

    def bank(self, index: int) -> int:
        """The CGB WRAM bank of an index, 0 for the RAM observation's bytes."""
        return 0 if self.banks is None else int(self.banks[index])

    @property
    def locations(self) -> np.ndarray:
        """(N,) int64 keys that tell bytes apart by bank and address (bank * 0x10000 + address): adjacent bytes of
        one bank are adjacent keys; the same address in two banks is not the same byte."""
        if self.banks is None:
            return self.addresses
        return self.addresses + 0x10000 * self.banks.astype(np.int64)

    @classmethod
    def from_frames(cls, frames: np.ndarray, episode_start: np.ndarray | None = None,
                    actions: np.ndarray | None = None, addresses: np.ndarray | None = None,
                    game_boy: GameBoyTrace | None = None, banks: np.ndarray | None = None) -> Recording:
        """A recording from a full (T, N) uint8 array (tests, small envs). Default: one episode, no actions."""
        frames = np.asarray(frames)
        if frames.ndim != 2 or frames.dtype != np.uint8:
            raise RecordingError(f"frames must be a (T, N) uint8 array, got {frames.dtype} {frames.shape}")
        count = len(frames)
        if episode_start is None:
            episode_start = np.zeros(count, bool)
            episode_start[:1] = True
        if actions is None:
            actions = np.where(episode_start, -1, 0).astype(np.int16)
        columns = np.flatnonzero((frames != frames[:1]).any(axis=0)) if count else np.zeros(0, np.int64)
        return cls(
            base=frames[0].copy() if count else np.zeros(frames.shape[1], np.uint8),
            columns=columns.astype(np.int64),
            values=np.ascontiguousarray(frames[:, columns]),
            episode_start=np.asarray(episode_start, bool),
            actions=np.asarray(actions, np.int16),
            addresses=np.arange(frames.shape[1], dtype=np.int64) if addresses is None else np.asarray(addresses),
            game_boy=game_boy, banks=None if banks is None else np.asarray(banks, np.uint8),
        )

    @property
    def frozen(self) -> np.ndarray:
        """(T,) bool: frame t and frame t-1 both come after their episode's game over, when the game's own
        variables no longer change (the first frame after game over still shows the game's last writes)."""
        after = np.zeros(self.frames, bool) if self.after_game_over is None else self.after_game_over
        frozen = after.copy()
        frozen[1:] &= after[:-1]
        frozen[0] = False
        return frozen

    def column(self, j: int) -> np.ndarray:
        """(T,) uint8, a contiguous view: the values of changing column j (reading a column of `values`, which is
        stored frame by frame, strides through memory; the extractor reads columns thousands of times)."""
        if self._by_column is None or self._by_column.shape != self.values.T.shape:
            self._by_column = np.ascontiguousarray(self.values.T)
        return self._by_column[j]

    def full(self, indices: np.ndarray) -> np.ndarray:
        """(T, len(indices)) uint8: the recorded values of any bytes, changing or not."""
        indices = np.asarray(indices, np.int64)
        where = np.searchsorted(self.columns, indices)
        present = (where < len(self.columns)) & (self.columns[np.minimum(where, len(self.columns) - 1)] == indices)
        out = np.empty((len(indices), self.frames), np.uint8)
        for k, (index, j, found) in enumerate(zip(indices.tolist(), where.tolist(), present.tolist())):
            out[k] = self.column(j) if found else self.base[index]
        return out.T


def game_boy_addresses(banked: bool = False) -> np.ndarray:
    """Address of each index of the Game Boy RAM observation (WRAM then HRAM, as gbc.hardware.ram_obs_index),
    then, when `banked`, of CGB WRAM banks 1-7 (gbc.hardware.banked_index)."""
    wram = np.arange(WRAM_START, WRAM_END)
    parts = [wram, np.arange(HRAM_START, HRAM_START + RAM_OBS_SIZE - len(wram))]
    if banked:
        parts.append(np.tile(np.arange(WRAM_SWITCHED_START, WRAM_END), CGB_WRAM_BANKS - 1))
    return np.concatenate(parts).astype(np.int64)


def game_boy_banks() -> np.ndarray:
    """(BANKED_OBS_SIZE,) uint8: the WRAM bank of each index of a banked recording (0: the RAM observation)."""
    banks = np.zeros(BANKED_OBS_SIZE, np.uint8)
    banks[RAM_OBS_SIZE:] = [banked_location(i)[0] for i in range(RAM_OBS_SIZE, BANKED_OBS_SIZE, WRAM_BANK_SIZE)
                            for _ in range(WRAM_BANK_SIZE)]
    return banks


class WramBankRecorder:
    """The changes of CGB WRAM banks 1-7 frame by frame, read from PyBoy's WRAM array (all eight banks).

    The bank switched in at a frame's end is what the RAM observation shows, so it is not compared that frame
    (its stack changes every frame); a bank that is switched in at the end of every frame is the observation's
    and is not recorded at all. Per frame, the other banks are compared with the frame before as one block of
    bytes (a few microseconds) and only the bytes that changed are kept."""

    def __init__(self, reader: RamReader):
        self._reader = reader
        self._previous = reader.wram_banks()[1:].copy()  # (7, 4096) banks 1-7 as last compared
        self._initial = self._previous.copy()
        self._previous_bytes: tuple[int, bytes] | None = None  # (switched bank, the other banks' bytes)
        self._switched: list[int] = []
        self._changes: list[tuple[int, int, np.ndarray, np.ndarray]] = []  # (frame, bank, offsets, values)

    def attach(self, reader: RamReader) -> None:
        self._reader = reader

    def add(self, frame: int) -> None:
        switched = self._reader.switched_bank()
        self._switched.append(switched)
        others = self._reader.wram_banks()[1:]
        # Compare the banks other than the switched one as one block (index switched - 1 left out).
        now = others[:switched - 1].tobytes() + others[switched:].tobytes()
        if self._previous_bytes is not None and self._previous_bytes == (switched, now):
            return
        for bank in range(1, CGB_WRAM_BANKS):
            if bank == switched:
                continue
            where = np.flatnonzero(others[bank - 1] != self._previous[bank - 1])
            if len(where):
                values = others[bank - 1, where]
                self._changes.append((frame, bank, where, values))
                self._previous[bank - 1, where] = values
        self._previous_bytes = (switched, now)

    def finish(self, frames: int, view: Callable[[np.ndarray, np.ndarray], np.ndarray],
               view_base: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """(base of the 7 banks' bytes (28672,), the banked indices that change (K,), their values (T, K), a
        summary). `view(frames, offsets)`: the observation's 0xD000 bytes at those offsets on those frames (for the
        frames where a recorded bank was the one switched in); `view_base`: those 4096 bytes on frame 0."""
        switched = np.array(self._switched, np.uint8)
        in_view = [b for b in range(1, CGB_WRAM_BANKS) if (switched == b).all()]
        recorded = [b for b in range(1, CGB_WRAM_BANKS) if b not in in_view]
        base = self._initial.copy()
        if len(switched):
            base[switched[0] - 1] = view_base  # the bank switched in on frame 0 holds what the observation shows
        columns, blocks = [], []
        for bank in recorded:
            events = [(f, o, v) for f, b, o, v in self._changes if b == bank]
            shown = np.flatnonzero(switched == bank)
            event_frames = np.concatenate([np.full(len(o), f, np.int64) for f, o, _ in events] or [np.zeros(0, np.int64)])
            event_offsets = np.concatenate([o for _, o, _ in events] or [np.zeros(0, np.int64)])
            event_values = np.concatenate([v for _, _, v in events] or [np.zeros(0, np.uint8)])
            offsets = set(event_offsets.tolist())
            if len(shown):
                offsets.update(np.flatnonzero((view(shown, np.arange(WRAM_BANK_SIZE)) != base[bank - 1]).any(axis=0))
                               .tolist())
            offsets = np.array(sorted(offsets), np.int64)
            if not len(offsets):
                continue
            values = np.empty((frames, len(offsets)), np.uint8)
            every_frame = np.arange(frames)
            for k, offset in enumerate(offsets.tolist()):  # each change holds until the next one
                mine = event_offsets == offset
                last = np.searchsorted(event_frames[mine], every_frame, side="right") - 1
                values[:, k] = np.where(last >= 0, event_values[mine][np.maximum(last, 0)], base[bank - 1, offset])
            if len(shown):
                values[shown] = view(shown, offsets)
            changing = (values != values[:1]).any(axis=0)
            columns.append(RAM_OBS_SIZE + (bank - 1) * WRAM_BANK_SIZE + offsets[changing])
            blocks.append(values[:, changing])
        flat_base = base.reshape(-1)
        columns_all = np.concatenate(columns) if columns else np.zeros(0, np.int64)
        values_all = np.concatenate(blocks, axis=1) if blocks else np.zeros((frames, 0), np.uint8)
        if frames:  # the recording's base is frame 0
            flat_base[columns_all - RAM_OBS_SIZE] = values_all[0]
        summary = {"recorded": recorded, "switched_in": in_view, "changing_bytes": int(len(columns_all))}
        return flat_base, columns_all, values_all, summary


class RamRecorder:
    """Collects frames in chunks and keeps, per chunk, only the columns that change within it."""

    def __init__(self, size: int, video: VideoMemory | None = None, chunk_frames: int = CHUNK_FRAMES,
                 banks: WramBankRecorder | None = None):
        self._size = size
        self._video = video  # None without a Game Boy
        self._banks = banks  # None without CGB WRAM banks
        self._chunk = np.empty((chunk_frames, size), np.uint8)
        self._filled = 0
        self._chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (first row, columns, values)
        self._episode_start: list[bool] = []
        self._actions: list[int] = []
        self._after_game_over: list[bool] = []
        if video is not None:
            self._sp: list[int] = []
            self._dma: list[int] = []
            self._oam: list[np.ndarray] = []
            self._vram_changed: list[bool] = []
            self._vram_flooded: list[bool] = []
            self._vram_changes: list[tuple[int, np.ndarray, np.ndarray]] = []  # (frame, flat index, values)
            self._previous_vram: np.ndarray | None = None

    @property
    def frames(self) -> int:
        return len(self._episode_start)

    @property
    def size(self) -> int:
        return self._size

    def attach(self, video: VideoMemory, ram: RamReader | None = None) -> None:
        """Read the Game Boy state from another emulator from now on (the next frame must start an episode)."""
        self._video = video
        self._previous_vram = None
        if self._banks is not None and ram is not None:
            self._banks.attach(ram)

    def add(self, ram: np.ndarray, action: int, episode_start: bool, after_game_over: bool = False) -> None:
        if ram.shape != (self._size,):
            raise RecordingError(f"RAM observation of shape {ram.shape}, expected ({self._size},)")
        self._chunk[self._filled] = ram
        self._filled += 1
        if self._filled == len(self._chunk):
            self._flush()
        frame = len(self._episode_start)
        self._episode_start.append(episode_start)
        self._actions.append(-1 if episode_start else action)
        self._after_game_over.append(after_game_over)
        if self._video is not None:
            self._add_video(frame, episode_start)
        if self._banks is not None:
            self._banks.add(frame)

    def _add_video(self, frame: int, episode_start: bool) -> None:
        video = self._video
        self._sp.append(video.stack_pointer())
        self._dma.append(video.dma_register())
        self._oam.append(video.oam().copy())
        vram = video.vram().reshape(-1)
        changed, flooded = False, False
        if not episode_start and self._previous_vram is not None:
            where = np.flatnonzero(vram != self._previous_vram)
            changed = len(where) > 0
            flooded = len(where) > MAX_VRAM_CHANGES_PER_FRAME
            if changed and not flooded:
                self._vram_changes.append((frame, where, vram[where]))
        self._vram_changed.append(changed)
        self._vram_flooded.append(flooded)
        self._previous_vram = vram

    def _flush(self) -> None:
        block = self._chunk[: self._filled]
        columns = np.flatnonzero((block != block[:1]).any(axis=0))
        self._chunks.append((block[0].copy(), columns, np.ascontiguousarray(block[:, columns])))
        self._filled = 0

    def finish(self, addresses: np.ndarray, sources: list[dict[str, Any]] | None = None) -> Recording:
        if self._filled:
            self._flush()
        if not self._chunks:
            raise RecordingError("the recording is empty: no frame was recorded")
        base = self._chunks[0][0]
        changing = np.zeros(self._size, bool)
        for first, columns, _ in self._chunks:
            changing[columns] = True
            changing |= first != base
        columns = np.flatnonzero(changing)
        values = np.empty((self.frames, len(columns)), np.uint8)
        row = 0
        for first, chunk_columns, chunk_values in self._chunks:
            rows = len(chunk_values)
            values[row : row + rows] = first[columns]
            inside = np.searchsorted(columns, chunk_columns)
            values[row : row + rows, inside] = chunk_values
            row += rows
        trace = None
        if self._video is not None:
            trace = self._finish_video()
        banks, wram_banks = None, None
        if self._banks is not None:
            base, columns, values, wram_banks = self._finish_banks(base, columns.astype(np.int64), values)
            addresses, banks = game_boy_addresses(banked=True), game_boy_banks()
        return Recording(base=base, columns=columns.astype(np.int64), values=values,
                         episode_start=np.array(self._episode_start, bool),
                         actions=np.array(self._actions, np.int16), addresses=addresses, game_boy=trace,
                         sources=list(sources or []), after_game_over=np.array(self._after_game_over, bool),
                         banks=banks, wram_banks=wram_banks)

    def _finish_banks(self, base: np.ndarray, columns: np.ndarray, values: np.ndarray):
        """The observation's columns followed by the banked ones."""
        view_start = WRAM_SWITCHED_START - WRAM_START

        def view(frames: np.ndarray, offsets: np.ndarray) -> np.ndarray:
            indices = view_start + np.asarray(offsets)
            where = np.searchsorted(columns, indices)
            present = (where < len(columns)) & (columns[np.minimum(where, len(columns) - 1)] == indices)
            out = np.broadcast_to(base[indices], (len(frames), len(indices))).copy()
            out[:, present] = values[np.ix_(frames, where[present])]
            return out

        banked_base, banked_columns, banked_values, summary = self._banks.finish(
            self.frames, view, base[view_start : view_start + WRAM_BANK_SIZE])
        return (np.concatenate([base, banked_base]), np.concatenate([columns, banked_columns]),
                np.concatenate([values, banked_values], axis=1), summary)

    def _finish_video(self) -> GameBoyTrace:
        if self._vram_changes:
            frames = np.concatenate([np.full(len(w), f, np.int64) for f, w, _ in self._vram_changes])
            flat = np.concatenate([w for _, w, _ in self._vram_changes]).astype(np.int64)
            values = np.concatenate([v for _, _, v in self._vram_changes]).astype(np.uint8)
        else:
            frames, flat, values = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.uint8)
        return GameBoyTrace(
            stack_pointer=np.array(self._sp, np.uint16), dma_register=np.array(self._dma, np.uint8),
            oam=np.stack(self._oam) if self._oam else np.zeros((0, OAM_SIZE), np.uint8),
            vram_changed=np.array(self._vram_changed, bool), vram_flooded=np.array(self._vram_flooded, bool),
            vram_frame=frames, vram_address=VRAM_START + flat % VRAM_BANK_SIZE,
            vram_bank=(flat // VRAM_BANK_SIZE).astype(np.uint8), vram_value=values,
        )


def is_game_boy_env_id(env_id: str) -> bool:
    """Whether `env_id` is one of this package's Game Boy envs (so RAM, VRAM and OAM come from PyBoy)."""
    try:
        entry_point = gym.spec(env_id).entry_point
    except gym.error.Error:
        return False
    module = entry_point.split(":")[0] if isinstance(entry_point, str) else getattr(entry_point, "__module__", "")
    return module == "gbc" or module.startswith("gbc.")


def check_ram_observation_space(env_id: str, space: gym.Space) -> int:
    """The RAM size, or a RecordingError naming the fix when the observation is not a flat uint8 vector."""
    if not (isinstance(space, gym.spaces.Box) and space.dtype == np.uint8 and len(space.shape) == 1):
        raise RecordingError(
            f"{env_id}'s observation space is {space}, not a flat uint8 RAM vector; the extractor reads RAM. Pass "
            "env kwargs that make the env return its RAM (ALE: {\"obs_type\": \"ram\"}), or a Game Boy env id"
        )
    return int(space.shape[0])


def check_env_id(env_id: str) -> None:
    """A RecordingError naming the fix when Gymnasium does not know `env_id`."""
    try:
        gym.spec(env_id)
    except gym.error.Error as err:
        ours = sorted(k for k in gym.registry if is_game_boy_env_id(k))
        raise RecordingError(f"unknown env id {env_id!r} ({err}); Game Boy envs: {ours} (GBC-v0 with "
                             "--env-kwargs '{\"profile\": \"NAME\"}' for your own ROM), or any registered "
                             "Gymnasium id whose observation is RAM (ALE/Breakout-v5 with ale_py)") from None


def make_recording_env(env_id: str, env_kwargs: dict[str, Any], max_episode_steps: int) -> gym.Env:
    """The env to record from; Game Boy envs step one frame at a time (frame_skip=1)."""
    check_env_id(env_id)
    kwargs = dict(env_kwargs)
    if is_game_boy_env_id(env_id):
        kwargs["frame_skip"] = 1
    try:
        return gym.make(env_id, max_episode_steps=max_episode_steps, **kwargs)
    except gym.error.Error as err:
        raise RecordingError(f"cannot make env {env_id!r} with {kwargs}: {err}") from err


def record_ram(env_id: str, env_kwargs: dict[str, Any], sources: list[PolicySource], frames: int, seed: int = 0,
           max_episode_frames: int = 20_000, progress: Callable[[str], None] | None = None,
           frames_after_game_over: int = FRAMES_AFTER_GAME_OVER) -> Recording:
    """Record `frames` RAM vectors in all, split evenly over `sources`; episode i of a source uses seed + i
    (env reset and policy). Episodes longer than `max_episode_frames` are cut (and the next one starts). After a
    game over, `frames_after_game_over` more frames with no button held belong to the episode (flagged
    `after_game_over`): the game-over screen reaches VRAM, and what still changes is not the game's state."""
    if frames < 2 or not sources:
        raise RecordingError(f"need at least 2 frames and one policy, got frames={frames}, {len(sources)} policies")
    shares = [frames // len(sources) + (i < frames % len(sources)) for i in range(len(sources))]
    game_boy = is_game_boy_env_id(env_id)  # a gbc.env.GameBoyEnv: RAM, VRAM and OAM come from its PyBoy
    recorder: RamRecorder | None = None
    summaries = []
    addresses = None
    for source, share in zip(sources, shares):
        env = make_recording_env(env_id, {**env_kwargs, **source.env_kwargs}, max_episode_frames)
        if game_boy:
            game = env.unwrapped.game
            size, read_ram = RAM_OBS_SIZE, (lambda obs, g=game: g.ram.read())
            if env.unwrapped.obs_type == "ram":
                read_ram = lambda obs: obs  # noqa: E731  (the observation already is a fresh RAM copy)
        else:
            size, read_ram = check_ram_observation_space(env_id, env.observation_space), (lambda obs: obs)
        if recorder is None:
            banks = WramBankRecorder(game.ram) if game_boy and game.ram.cgb else None
            recorder = RamRecorder(size, VideoMemory(game.pyboy) if game_boy else None, banks=banks)
            addresses = game_boy_addresses() if game_boy else np.arange(size, dtype=np.int64)
        elif recorder.size != size:
            raise RecordingError(f"policy {source.name!r} changes the env's RAM layout; use the same env for all")
        elif game_boy:
            recorder.attach(VideoMemory(game.pyboy), game.ram)
        start, recorded, episodes, episode = time.perf_counter(), 0, 0, 0
        while recorded < share:
            episode_seed = seed + episode
            obs, _ = env.reset(seed=episode_seed)
            policy = source.make(episode_seed)
            recorder.add(read_ram(obs), -1, True)
            recorded += 1
            action, steps = 0, 0
            while recorded < share:
                if steps % source.action_repeat == 0:
                    action = int(policy.act(obs))
                obs, _, terminated, truncated, _ = env.step(action)
                recorder.add(read_ram(obs), action, False)
                recorded += 1
                steps += 1
                if terminated:
                    for _ in range(min(frames_after_game_over, share - recorded)):
                        obs, *_ = env.step(0)
                        recorder.add(read_ram(obs), 0, False, after_game_over=True)
                        recorded += 1
                if terminated or truncated:
                    break
            episodes += 1
            episode += 1
        env.close()
        summaries.append({"policy": source.name, "frames": recorded, "episodes": episodes,
                          "seeds": [seed, seed + episodes - 1], "action_repeat": source.action_repeat,
                          "env_kwargs": source.env_kwargs, "seconds": round(time.perf_counter() - start, 2)})
        if progress is not None:
            progress(f"recorded {recorded} frames, {episodes} episodes of {source.name} play "
                     f"in {summaries[-1]['seconds']} s")
    return recorder.finish(addresses, summaries)
