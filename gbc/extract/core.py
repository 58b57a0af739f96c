"""The state extractor: from a recording of RAM, decide which bytes are the game's variables.

`extract(recording)` decides every byte of the RAM observation, in this order (the first rule that applies):

1. `constant`: the byte never changed in the recording.
2. Game Boy only, screen data found without the symbols file:
   - `oam_dma_source`: a byte in the first 160 bytes of a WRAM page that is the OAM DMA source: OAM equals
     that block at the end of most frames (or the DMA register holds the page and OAM equals it sometimes);
   - `vram_buffer`: a byte whose values are written into VRAM: it changes only on frames where VRAM changes
     and its new value is a value written into VRAM, or (with its neighbour, as a 16-bit word) the address or
     tile-map offset of a VRAM byte changed, in that frame or the next. Seeds need >= 2 distinct matched values
     (a brick flag that goes 1 -> 0 as its tile is cleared matches too, with one value only); adjacent bytes
     that match join a seed's cluster, and co-changing bytes between two members of a cluster are taken with
     it (a queue entry whose tile did not change the screen, e.g. a space);
   - `stack`: a byte below the lowest stack pointer seen at the end of a frame: dead stack, what calls left.
3. `frame_counter`: steps by +1 (or -1) on nearly every frame, whatever happens (dropped unless asked).
4. `input`: a function of the action held in the frame or the frame before (a joypad mirror).
5. `after_game_over` (still changes after game over), `duplicate` (a copy of an earlier kept byte).
6. `overwritten_before_read` (Game Boy, with a replayer): the perturbation test of gbc.extract.perturb, for scratch
   that changes exactly when the state does.
7. Otherwise kept. Kept bytes are flagged (`timer`, `signed`) and grouped: 16-bit words (carry or sign
   extension between adjacent bytes) become one feature; runs of flag-like bytes with the same few values
   (e.g. brick flags) form an array group, one feature per byte.

On CGB hardware the recording also holds WRAM banks 1-7 (gbc.extract.record.WramBankRecorder): banked bytes are
decided like the others, kept apart by bank where addresses matter (neighbours, names "2:0xd000").

Nothing here reads a symbols file: the decisions come from the recording (and its replay) alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np

from gbc.extract.perturb import OVERWRITTEN, READ, TrialOutcome, TrialRequest
from gbc.extract.record import Recording, RecordingError
from gbc.extract.spec import SPEC_FORMAT, SPEC_VERSION
from gbc.hardware import OAM_SIZE, PAGE_SIZE, TILE_MAP_STARTS, VRAM_START, WRAM_BANK_SIZE, WRAM_END, WRAM_START

# Bases a 16-bit VRAM pointer in RAM may be relative to: absolute, VRAM start, each tile map.
VRAM_POINTER_BASES = (0, VRAM_START, *TILE_MAP_STARTS)
DROP_REASONS = ("constant", "oam_dma_source", "oam_page_select", "vram_buffer", "stack", "frame_counter", "input",
                "after_game_over", "duplicate", "overwritten_before_read")


class RecordingTooShortError(RecordingError):
    """Too few in-play frame transitions to tell anything apart."""


class Replayer(Protocol):
    """Runs perturbation trials on a recording (gbc.extract.perturb.EmulatorReplayer; tests use their own)."""

    def run(self, requests: list[TrialRequest], max_frames: int) -> list[TrialOutcome]: ...


@dataclass(frozen=True)
class ExtractSettings:
    """Thresholds of the extractor (shares are fractions of the relevant frames or change events)."""

    min_transitions: int = 200
    """frame-to-frame transitions within episodes needed before anything is decided"""
    frame_counter_share: float = 0.95
    """share of all transitions with the same +1/-1 step that makes a frame counter (the others: no change)"""
    timer_step_share: float = 0.9
    """share of a byte's changes that are the same +1/-1 step, for the timer flag"""
    timer_run_share: float = 0.8
    """share of those steps next to another step on the adjacent frame (counting frames, not events)"""
    timer_min_changes: int = 10
    input_consistency: float = 0.98
    """share of frames on which the byte equals the value the held action maps to, for `input`"""
    oam_match_share: float = 0.5
    """share of frames (with any sprite data) on which OAM equals a page's first 160 bytes"""
    dma_register_share: float = 0.5
    """share of frames on which the DMA register holds a page, which then needs only oam_weak_match_share"""
    oam_weak_match_share: float = 0.05
    oam_named_match_share: float = 0.9
    """share of the frames whose DMA register names a page on which OAM equals it (double-buffered pages)"""
    oam_page_select_share: float = 0.95
    """share of frames on which a page-number byte equals the DMA register (or, throughout, the other page)"""
    vram_cooccur_share: float = 0.9
    """share of a byte's changes on frames where VRAM changes (that frame or the next)"""
    vram_match_share: float = 0.9
    """share of a byte's changes whose value (or 16-bit address) matches a VRAM change"""
    vram_seed_changes: int = 3
    vram_seed_values: int = 2
    vram_moving_match_share: float = 0.4
    """a lower match share that is enough when the matched values land on varying VRAM cells (a queue entry)"""
    vram_max_fixed_cell_share: float = 0.5
    """at most this share of the matched changes may land on one same VRAM cell, for the lower match share"""
    vram_moving_max_chance: float = 0.05
    vram_moving_min_changes: int = 20
    vram_many_values: int = 6
    """or this many distinct matched values (a map cell holds a few kinds of tile; a queue entry any tile)"""
    """changes a weak match needs (a few chance matches on varying cells say nothing)"""
    vram_run_reach: int = 2
    vram_run_neighbours: int = 2
    """a weak match needs this many other matching bytes within vram_run_reach bytes"""
    vram_lag_frames: int = 1
    """VBlanks after a byte's change within which its value may reach VRAM"""
    vram_max_chance: float = 0.5
    """largest mean share of the 256 byte values written to VRAM in a byte's change frames (else too easy)"""
    cluster_gap: int = 4
    buffer_run_span: int = 32
    buffer_flag_reach: int = 64
    buffer_flag_frames: int = 2
    buffer_flag_rest_share: float = 0.98
    buffer_flag_min_excursions: int = 5
    """a buffer's length/dirty byte: within reach of it, at rest on this share of frames, away at most
    buffer_flag_frames frames at a time, at least this many times"""
    """longest run of changing bytes between two buffer members that is taken with them"""
    """bytes between members of one VRAM buffer cluster, at most"""
    stack_gap: int = 16
    """unchanging bytes allowed inside the dead stack region"""
    duplicate_min_changes: int = 4
    min_frozen_transitions: int = 20
    """transitions between frames after game over needed before the after-game-over rule applies"""
    after_game_over_changes: int = 1
    """changes after game over (frame and frame before both after it) that make a byte runtime"""
    keep_frame_counters: bool = False
    keep_inputs: bool = False
    overwrite_test: bool = True
    """run the perturbation test for scratch (Game Boy only: it replays the recording in the emulator)"""
    overwrite_max_change_rate: float = 0.002
    """only kept bytes that change at most this often (per transition) are tried"""
    overwrite_trials: int = 3
    overwrite_min_trials: int = 2
    """values held tried per byte (one interval each, the most frequent values first), and trials needed"""
    overwrite_max_interval: int = 3000
    """longest interval between two changes of a byte that a trial replays (frames)"""
    overwrite_slack: int = 2
    """frames replayed past the byte's next recorded change"""
    overwrite_min_unread_frames: int = 30
    """an overwrite sooner than this after the perturbation is a cache recomputed all the time: kept"""
    overwrite_max_frames: int = 300_000
    """emulated frames for the whole test, at most (the bytes left untried are kept)"""
    overwrite_max_bytes: int = 64
    """bytes tried, at most (those whose changes come with the most other kept bytes' first; the rest are kept)"""
    word_subset_share: float = 0.95
    """share of a high byte's changes that coincide with a change of the byte below it"""
    word_carry_share: float = 0.9
    """share of the high byte's changes with |word step| < 256 (a carry or borrow) or to the word's minimum (a
    counter's reset)"""
    word_wrap_share: float = 0.9
    """share of the low byte's wraps (a change by more than 128) that step the high byte as a carry would: +1 when it
    wraps up (0xff -> 0x00), -1 when it wraps down; beside an unrelated byte it wraps alone or against it (Runner's
    velocity high byte and on_ground, its next_column and gap_left)"""
    signed_word_span: int = 4096
    """a word whose values span less than this as int16 (with both signs) is a signed 16-bit value, if also"""
    word_pair_ratio: float = 1.5
    """its distinct (lo, hi) pairs are at most this times the distinct values of its busier byte"""
    array_min_members: int = 4
    array_max_values: int = 4
    array_max_gap: int = 8
    """unchanging bytes (holding one of the array's values) allowed between two array members"""
    indexed_write_share: float = 0.8
    """an index byte: on this share of the frames it changes, a kept byte at base + stride * index changes too (with
    the index's new value, or its old one), the same base throughout (a ring buffer's head, the current slot)"""
    indexed_min_changes: int = 32
    indexed_min_elements: int = 8
    """changes of the index byte, and distinct elements so written, needed (a pointer that moves across an array)"""
    indexed_max_stride: int = 4
    """bytes between consecutive elements tried (1: a byte array; 2-4: arrays of small structs)"""
    indexed_max_other_share: float = 0.25
    """mean share of the array's other elements that change on those frames, at most"""


@dataclass
class ByteStats:
    index: int
    address: int
    minimum: int
    maximum: int
    distinct: int
    changes: int
    change_rate: float
    flags: list[str] = field(default_factory=list)
    reason: str | None = None  # why it is dropped; None: kept
    evidence: dict[str, Any] = field(default_factory=dict)
    group: str | None = None


@dataclass
class Feature:
    """One entry of the state observation: a byte, or a 16-bit word (lo, hi)."""

    name: str
    indices: list[int]  # observation indices, low byte first
    addresses: list[int]
    signed: bool
    minimum: int
    maximum: int
    group: str | None = None
    bank: int = 0  # CGB WRAM bank of a banked byte (0: the RAM observation's own bytes)


@dataclass
class IndexedElement:
    """An element of an array read through an index byte (gbc.extract.spec): the byte at observation index
    base + stride * ((ram[index] + offset) % length), e.g. a snake's head cell in its ring buffer of cells, whose
    head index moves. offset is 0 when the game moves the index and then writes the element, -step when it writes
    and then moves (the element read is the last one written either way)."""

    name: str
    index: int  # observation index of the index byte
    base: int  # observation index of element 0
    stride: int
    length: int
    offset: int
    minimum: int
    maximum: int
    share: float  # share of the index's changes that came with a write at the element read


@dataclass
class Extraction:
    size: int
    addresses: np.ndarray
    frames: int
    episodes: int
    transitions: int
    stats: dict[int, ByteStats]  # changing bytes
    constant: np.ndarray  # (N,) bool
    base: np.ndarray  # (N,) uint8, the value of constant bytes
    features: list[Feature]
    groups: list[dict[str, Any]]
    pages: list[dict[str, Any]]
    stack: dict[str, Any] | None
    settings: ExtractSettings
    banks: np.ndarray | None = None  # (N,) CGB WRAM bank of each index (0: the RAM observation), None: no banks
    wram_banks: dict[str, Any] | None = None  # the recording's bank summary
    observation_size: int | None = None  # leading indices that are the RAM observation (None: all)
    overwrite_test: dict[str, int] | None = None  # what the perturbation test tried (None: not run)
    indexed: list[IndexedElement] = field(default_factory=list)

    def label(self, index: int) -> str:
        return _label(self.addresses, self.banks, index)

    def decision(self, index: int) -> str:
        """'kept' or the drop reason of one observation index."""
        if self.constant[index]:
            return "constant"
        return self.stats[index].reason or "kept"

    @property
    def kept(self) -> list[int]:
        return sorted(i for i, s in self.stats.items() if s.reason is None)


def _play_transitions(recording: Recording) -> np.ndarray:
    """(T,) bool: frame t follows frame t-1 within one episode."""
    play = ~recording.episode_start.copy()
    play[0] = False
    return play


def extract(recording: Recording, settings: ExtractSettings = ExtractSettings(),
            replayer: Replayer | None = None) -> Extraction:
    """Decide every byte (see the module docstring). `replayer` (gbc.extract.perturb.EmulatorReplayer for a Game
    Boy) runs the perturbation test for scratch; without one, no byte is dropped as overwritten before read."""
    play = _play_transitions(recording)
    transitions = int(play.sum())
    if transitions < settings.min_transitions:
        raise RecordingTooShortError(
            f"the recording has {recording.frames} frames in {recording.episodes} episodes, so {transitions} "
            f"frame-to-frame transitions within episodes; at least {settings.min_transitions} are needed to tell "
            "constants, counters and variables apart. Record more frames (--frames) or longer episodes"
        )
    values = recording.values
    columns = recording.columns
    addresses = recording.addresses
    constant = np.ones(recording.size, bool)
    constant[columns] = False

    steps = (values[1:].astype(np.int16) - values[:-1]) & 0xFF  # (T-1, C) step mod 256
    changed = (steps != 0) & play[1:, None]
    change_counts = changed.sum(axis=0)
    stats: dict[int, ByteStats] = {}
    for j, index in enumerate(columns):
        column = values[:, j]
        stats[int(index)] = ByteStats(
            index=int(index), address=int(addresses[index]), minimum=int(column.min()), maximum=int(column.max()),
            distinct=int(np.count_nonzero(np.bincount(column, minlength=256))), changes=int(change_counts[j]),
            change_rate=float(change_counts[j] / transitions),
        )
    pages, stack = [], None
    if recording.game_boy is not None:
        pages = _oam_dma_sources(recording, stats, settings)
        _vram_buffers(recording, stats, play, changed, settings)
        stack = _stack(recording, stats, settings)
    _counters_and_timers(stats, columns, steps, play, settings)
    _inputs(recording, stats, play, settings)
    _after_game_over(recording, stats, changed, settings)
    _duplicates(recording, stats, settings)
    overwrite_test = None
    if replayer is not None and settings.overwrite_test:
        overwrite_test = _overwritten_before_read(recording, stats, changed, play, replayer, settings)
    features, groups = _features_and_groups(recording, stats, constant, play, settings)
    indexed = _indexed_elements(recording, stats, changed, settings)
    return Extraction(
        size=recording.size, addresses=addresses, frames=recording.frames, episodes=recording.episodes,
        transitions=transitions, stats=stats, constant=constant, base=recording.base.copy(), features=features,
        groups=groups, pages=pages, stack=stack, settings=settings, banks=recording.banks,
        wram_banks=recording.wram_banks, observation_size=recording.observation_size, overwrite_test=overwrite_test,
        indexed=indexed,
    )


def _contains(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """np.isin for a sorted unique array, without sorting it again on every call."""
    where = np.minimum(np.searchsorted(sorted_keys, keys), max(0, len(sorted_keys) - 1))
    return (sorted_keys[where] == keys) if len(sorted_keys) else np.zeros(len(keys), bool)


def _drop(stat: ByteStats, reason: str, **evidence: Any) -> None:
    if stat.reason is None:
        stat.reason = reason
        stat.evidence.update(evidence)


# --- screen data -----------------------------------------------------------------------------------------------


def _oam_dma_sources(recording: Recording, stats: dict[int, ByteStats], settings: ExtractSettings) -> list[dict]:
    """WRAM pages whose first 160 bytes are copied to OAM; their changing bytes are dropped."""
    trace = recording.game_boy
    addresses = recording.addresses
    oam = trace.oam
    with_sprites = oam.any(axis=1)
    pages = []
    observed = addresses[: recording.observation_size]  # a DMA reads the bank switched in, as the observation does
    page_starts = np.flatnonzero((observed % PAGE_SIZE == 0) & (observed >= WRAM_START) & (observed < WRAM_END))
    for start in page_starts:
        block = np.arange(start, start + OAM_SIZE)
        changing = [int(i) for i in block if int(i) in stats]
        if not changing:
            continue
        page = int(addresses[start]) // PAGE_SIZE
        equal = (recording.full(block) == oam).all(axis=1) & with_sprites
        match_share = float(equal.sum() / max(1, with_sprites.sum()))
        named = trace.dma_register == page
        register_share = float(np.mean(named))
        # Double buffering: the game DMAs each page on alternate frames; OAM equals the page the register names.
        named_match_share = float(equal[named].sum() / max(1, (named & with_sprites).sum()))
        is_source = match_share >= settings.oam_match_share or (
            register_share >= settings.dma_register_share and match_share >= settings.oam_weak_match_share
        ) or (register_share >= settings.oam_weak_match_share and named_match_share >= settings.oam_named_match_share)
        evidence = {"page": f"{page:#04x}", "oam_match_share": round(match_share, 4),
                    "dma_register_share": round(register_share, 4), "named_match_share": round(named_match_share, 4)}
        if is_source:
            for i in changing:
                _drop(stats[i], "oam_dma_source", **evidence)
        pages.append({**evidence, "oam_dma_source": bool(is_source)})
    _oam_page_selects(recording, stats, [int(p["page"], 16) for p in pages if p["oam_dma_source"]], settings)
    return pages


def _oam_page_selects(recording: Recording, stats: dict[int, ByteStats], source_pages: list[int],
                      settings: ExtractSettings) -> None:
    """With two or more OAM DMA source pages, a byte whose every value is one of those page numbers and that
    follows the DMA register (equal to it, or to the other page, on nearly every frame) says which page is
    written or copied next: screen bookkeeping."""
    if len(source_pages) < 2:
        return
    register = recording.game_boy.dma_register
    pages = np.array(source_pages)
    for j, index in enumerate(recording.columns):
        stat = stats[int(index)]
        if stat.reason is not None:
            continue
        column = recording.column(j)
        if not np.isin(column, pages).all():
            continue
        same = float(np.mean(column == register))
        share = max(same, 1.0 - same)
        if share >= settings.oam_page_select_share:
            _drop(stat, "oam_page_select", pages=[f"{p:#04x}" for p in source_pages],
                  equals_dma_register_share=round(same, 4))


def _stack(recording: Recording, stats: dict[int, ByteStats], settings: ExtractSettings) -> dict | None:
    """Changing bytes of the stack: from `stack_gap` unchanging bytes below the lowest stack pointer seen at the
    end of a frame (dead stack: what returned calls and interrupts left; nothing below SP is live) up to the
    stack's top (live stack: return addresses, saved registers and locals of the calls running at the frame's
    end; they are the main loop's, not variables at fixed addresses). The top is the highest SP seen plus
    `stack_gap` bytes, or the end of the RAM region when that is nearer (crt0 starts the stack at its end)."""
    sp = recording.game_boy.stack_pointer.astype(np.int64)
    addresses = recording.addresses
    lowest, highest = int(sp.min()), int(sp.max())
    summary = {"lowest_sp": f"{lowest:#06x}", "highest_sp": f"{highest:#06x}", "dropped": 0}
    at_sp = np.flatnonzero(addresses[: recording.observation_size] == lowest)
    if not len(at_sp):
        return summary  # SP outside the observed RAM
    dropped, gap, index = [], 0, int(at_sp[0]) - 1
    while index >= 0 and addresses[index] == addresses[index + 1] - 1 and gap <= settings.stack_gap:
        stat = stats.get(index)
        if stat is None:
            gap += 1
        else:
            gap = 0
            if stat.reason is None:
                _drop(stat, "stack", part="dead", lowest_sp=f"{lowest:#06x}")
                dropped.append(index)
        index -= 1
    top = highest + settings.stack_gap
    index = int(at_sp[0])
    while index < len(addresses) and addresses[index] <= top and (
            index == at_sp[0] or addresses[index] == addresses[index - 1] + 1):
        stat = stats.get(index)
        if stat is not None and stat.reason is None:
            _drop(stat, "stack", part="live", lowest_sp=f"{lowest:#06x}", highest_sp=f"{highest:#06x}")
            dropped.append(index)
        index += 1
    if dropped:
        summary.update(dropped=len(dropped), lowest_dropped=f"{int(addresses[min(dropped)]):#06x}",
                       highest_dropped=f"{int(addresses[max(dropped)]):#06x}")
    return summary


def _vram_buffers(recording: Recording, stats: dict[int, ByteStats], play: np.ndarray, changed: np.ndarray,
                  settings: ExtractSettings) -> None:
    trace = recording.game_boy
    frames = recording.frames
    flooded = trace.vram_flooded
    # The VRAM write of a change in frame t shows in frame t or at one of the next `vram_lag_frames` VBlanks (a
    # game whose frame takes longer than one VBlank flushes its queue later), within the episode.
    lags = range(settings.vram_lag_frames + 1)
    within = np.ones((len(lags), frames), bool)  # within[k, t]: frame t + k is in t's episode
    for k in lags[1:]:
        within[k, : frames - k] = within[k - 1, : frames - k] & play[k:]
        within[k, frames - k :] = False
    vram_changed = trace.vram_changed
    cooccur = np.zeros(frames, bool)
    window_flooded = np.zeros(frames, bool)
    for k in lags:
        cooccur[: frames - k] |= vram_changed[k:] & within[k, : frames - k]
        window_flooded[: frames - k] |= flooded[k:] & within[k, : frames - k]
    # Per frame with VRAM changes: which of the 256 values were written (row in `written`, -1 if none).
    change_frames = np.unique(trace.vram_frame)
    row_of = np.full(frames + len(lags), -1, np.int64)
    row_of[change_frames] = np.arange(len(change_frames))
    written = np.zeros((len(change_frames) + 1, 256), bool)  # the extra last row stays empty
    written[row_of[trace.vram_frame], trace.vram_value] = True
    row_of[row_of < 0] = len(change_frames)
    address_keys = np.unique(trace.vram_frame * 0x10000 + trace.vram_address)

    def written_in_window(event_frames: np.ndarray, value: np.ndarray) -> np.ndarray:
        found = np.zeros(len(event_frames), bool)
        for k in lags:
            found |= written[row_of[event_frames + k], value] & within[k, event_frames]
        return found

    def address_in_window(event_frames: np.ndarray, word: np.ndarray) -> np.ndarray:
        found = np.zeros(len(event_frames), bool)
        for base in VRAM_POINTER_BASES:
            address = (word + base) & 0xFFFF
            for k in lags:
                keys = (event_frames + k) * 0x10000 + address
                found |= _contains(address_keys, keys) & within[k, event_frames]
        return found

    order = np.argsort(trace.vram_frame * 256 + trace.vram_value, kind="stable")
    value_keys = (trace.vram_frame * 256 + trace.vram_value)[order]
    value_addresses = trace.vram_address[order]

    def fixed_cell_share(event_frames: np.ndarray, value: np.ndarray) -> float:
        """Largest share of the matched events whose window wrote the byte's value to one same VRAM address."""
        counts: dict[int, int] = {}
        matched = 0
        for frame, byte in zip(event_frames.tolist(), value.tolist()):
            cells: set[int] = set()
            for k in lags:
                if k and not within[k, frame]:
                    break
                key = (frame + k) * 256 + byte
                lo, hi = np.searchsorted(value_keys, [key, key + 1])
                cells.update(value_addresses[lo:hi].tolist())
            matched += bool(cells)
            for cell in cells:
                counts[cell] = counts.get(cell, 0) + 1
        return max(counts.values()) / matched if matched else 1.0

    columns = recording.columns
    position = {int(index): j for j, index in enumerate(columns)}
    evidence: dict[int, dict[str, float]] = {}
    for index, j in position.items():
        events = np.flatnonzero(changed[:, j]) + 1  # frames whose value differs from the frame before
        events = events[~window_flooded[events]]
        if not len(events) or cooccur[events].mean() < settings.vram_cooccur_share:
            continue
        value = recording.values[events, j]
        match = written_in_window(events, value)
        for lo, hi in ((index, index + 1), (index - 1, index)):
            if lo < 0 or hi >= recording.size or recording.addresses[hi] != recording.addresses[lo] + 1:
                continue
            pair = recording.full(np.array([lo, hi]))[events].astype(np.int64)
            match |= address_in_window(events, pair[:, 0] + 256 * pair[:, 1])
        chance = written[row_of[events]].mean(axis=1)
        evidence[index] = {
            "changes": len(events), "cooccur_share": float(cooccur[events].mean()),
            "match_share": float(match.mean()), "matched_values": int(len(np.unique(value[match]))),
            "chance": float(chance.mean()),
        }
        if settings.vram_moving_match_share <= match.mean() < settings.vram_match_share:
            evidence[index]["fixed_cell_share"] = fixed_cell_share(events, value)

    def strong(e: dict[str, float]) -> bool:
        return e["match_share"] >= settings.vram_match_share and e["chance"] <= settings.vram_max_chance

    def moving(e: dict[str, float]) -> bool:
        """Weaker matches that land on varying VRAM cells: a queue entry holds a different cell's tile each time
        (and a tile equal to the one already there leaves no change to match); a map mirror's byte always lands
        on one cell and needs the strong match."""
        varying = (e.get("fixed_cell_share", 1.0) <= settings.vram_max_fixed_cell_share
                   or e["matched_values"] >= settings.vram_many_values)
        return (varying and e["match_share"] >= settings.vram_moving_match_share
                and e["chance"] <= settings.vram_moving_max_chance and e["changes"] >= settings.vram_moving_min_changes)

    # A weak match counts only inside a run of matching bytes (a buffer is an array; a lone score or direction
    # byte whose values happen to be tile numbers is not).
    locations = recording.locations  # bank and address: the same address in another bank is not a neighbour
    address_of = {i: int(locations[i]) for i in evidence}
    matching = {i for i, e in evidence.items() if strong(e) or moving(e)}
    matching_addresses = np.array(sorted(address_of[i] for i in matching), np.int64)
    accepted = {i for i in matching if strong(evidence[i]) or evidence[i]["matched_values"] >= settings.vram_many_values
                or np.count_nonzero(
        np.abs(matching_addresses - address_of[i]) <= settings.vram_run_reach) - 1 >= settings.vram_run_neighbours}

    def matches(e_index: int) -> bool:
        return e_index in accepted

    seeds = {i for i, e in evidence.items() if e["changes"] >= settings.vram_seed_changes and matches(i)
             and e["matched_values"] >= settings.vram_seed_values}
    members = set(seeds)
    grown = True
    while grown:
        grown = False
        member_addresses = np.array(sorted(address_of[i] for i in members)) if members else np.zeros(0, np.int64)
        for i, e in evidence.items():
            if i in members or not matches(i):
                continue
            if len(member_addresses) and np.abs(member_addresses - address_of[i]).min() <= settings.cluster_gap + 1:
                members.add(i)
                grown = True
    member_addresses = np.array(sorted(address_of[i] for i in members)) if members else np.zeros(0, np.int64)
    # Any changing byte between two members is taken with them, even one whose changes left VRAM as it was
    # (a queue entry holding the tile already on screen); address_of covers every changing byte for this.
    address_of = {int(index): int(locations[index]) for index in position}
    filled = set()
    reach = settings.cluster_gap + 1
    for i in position:
        if i in members or not len(member_addresses) or stats[i].reason is not None:
            continue
        below = member_addresses[member_addresses < address_of[i]]
        above = member_addresses[member_addresses > address_of[i]]
        if len(below) and len(above) and address_of[i] - below[-1] <= reach and above[0] - address_of[i] <= reach:
            filled.add(i)
    # A longer unbroken run of changing bytes between two members (queue entries whose tiles were all already
    # on screen) goes with them too.
    index_at = {a: i for i, a in address_of.items()}
    for low, high in zip(member_addresses[:-1], member_addresses[1:]):
        inside = [index_at.get(int(a)) for a in range(int(low) + 1, int(high))]
        if len(inside) <= settings.buffer_run_span and all(i is not None for i in inside):
            filled.update(i for i in inside if stats[i].reason is None)
    for i in members | filled:
        role = "seed" if i in seeds else ("member" if i in members else "between members")
        _drop(stats[i], "vram_buffer", role=role, **{k: round(v, 4) for k, v in evidence.get(i, {}).items()})
    _buffer_bookkeeping(recording, stats, position, members | filled, settings)


def _buffer_bookkeeping(recording: Recording, stats: dict[int, ByteStats], position: dict[int, int],
                        buffer: set[int], settings: ExtractSettings) -> None:
    """A buffer's length or dirty flags: a changing byte next to a VRAM buffer (only constant or buffer bytes
    between them, at most `buffer_flag_reach` bytes away: a buffer may have an unused tail) that rests at one value and leaves it for at most
    `buffer_flag_frames` frames at a time (set while the frame queues, cleared when VBlank copies)."""
    if not buffer:
        return
    addresses = recording.locations
    buffer_addresses = {int(addresses[i]) for i in buffer}
    changing = {int(addresses[i]) for i in position}
    for index, j in position.items():
        stat = stats[index]
        if stat.reason is not None:
            continue
        address = int(addresses[index])
        near = None
        for direction in (-1, 1):
            for step in range(1, settings.buffer_flag_reach + 1):
                other = address + direction * step
                if other in buffer_addresses:
                    near = other
                    break
                if other in changing:  # a changing byte that is not the buffer's lies between
                    break
            if near is not None:
                break
        if near is None:
            continue
        column = recording.column(j)
        rest = int(np.bincount(column, minlength=256).argmax())
        away = np.concatenate([[0], (column != rest).astype(np.int8), [0]])
        edges = np.flatnonzero(np.diff(away))
        runs = edges[1::2] - edges[::2]
        if (len(runs) >= settings.buffer_flag_min_excursions and runs.max() <= settings.buffer_flag_frames
                and float(np.mean(column == rest)) >= settings.buffer_flag_rest_share):
            _drop(stat, "vram_buffer", role="buffer length or flags", buffer_byte=_hex(near), rest_value=rest,
                  rest_share=round(float(np.mean(column == rest)), 4), longest_excursion=int(runs.max()))


# --- behaviour -------------------------------------------------------------------------------------------------


def _counters_and_timers(stats: dict[int, ByteStats], columns: np.ndarray, steps: np.ndarray, play: np.ndarray,
                         settings: ExtractSettings) -> None:
    in_play = play[1:]
    transitions = max(1, int(in_play.sum()))
    for j, index in enumerate(columns):
        stat = stats[int(index)]
        column_steps = steps[:, j]
        for step, direction in ((1, "+1"), (255, "-1")):
            is_step = (column_steps == step) & in_play
            # A VBlank counter pauses only while VBlank interrupts stop (LCD off); it is never set to anything
            # else. A game timer that is reset (a level-up) even once in the recording is state.
            only_steps_or_pauses = not (((column_steps != step) & (column_steps != 0)) & in_play).any()
            if only_steps_or_pauses and is_step.sum() / transitions >= settings.frame_counter_share:
                stat.flags.append("frame_counter")
                if not settings.keep_frame_counters:
                    _drop(stat, "frame_counter", step=direction, share=round(float(is_step.sum() / transitions), 4))
                break
            if stat.changes >= settings.timer_min_changes and is_step.sum() >= settings.timer_step_share * stat.changes:
                neighbour = np.zeros_like(is_step)
                neighbour[1:] |= is_step[:-1]
                neighbour[:-1] |= is_step[1:]
                if (is_step & neighbour).sum() >= settings.timer_run_share * is_step.sum():
                    stat.flags.append("timer")
                    stat.evidence["timer_step"] = direction
                    break


def _inputs(recording: Recording, stats: dict[int, ByteStats], play: np.ndarray, settings: ExtractSettings) -> None:
    """Bytes that are a function of the action held in this frame (lag 0) or the one before (lag 1)."""
    actions = recording.actions.astype(np.int64)
    for lag in (0, 1):
        held = np.full(recording.frames, -1, np.int64)
        if lag == 0:
            held[:] = actions
        else:
            held[1:] = np.where(play[1:], actions[:-1], -1)
        frames = np.flatnonzero(held >= 0)
        acts = np.unique(held[frames])
        if len(acts) < 2 or len(frames) < settings.min_transitions:
            continue
        for j, index in enumerate(recording.columns):
            stat = stats[int(index)]
            if stat.reason is not None or stat.distinct < 2 or "input" in stat.flags:
                continue
            values = recording.column(j)[frames].astype(np.int64)
            table = np.bincount(held[frames] * 256 + values, minlength=(int(acts.max()) + 1) * 256).reshape(-1, 256)
            modes = table.argmax(axis=1)[acts]
            consistency = table.max(axis=1).sum() / len(frames)
            if consistency >= settings.input_consistency and len(np.unique(modes)) >= 2:
                stat.flags.append("input")
                if not settings.keep_inputs:
                    _drop(stat, "input", lag=lag, consistency=round(float(consistency), 4),
                          value_of_action={int(a): int(m) for a, m in zip(acts, modes)})


def _after_game_over(recording: Recording, stats: dict[int, ByteStats], changed: np.ndarray,
                     settings: ExtractSettings) -> None:
    """Bytes that still change after game over, when the game's variables are final: the sound driver playing
    the game-over jingle, and any other runtime bookkeeping (frame counters and input mirrors are named
    before this)."""
    frozen = recording.frozen[1:]
    if frozen.sum() < settings.min_frozen_transitions:
        return
    counts = changed[frozen].sum(axis=0)
    for j, index in enumerate(recording.columns):
        stat = stats[int(index)]
        if stat.reason is None and counts[j] >= settings.after_game_over_changes:
            _drop(stat, "after_game_over", changes_after_game_over=int(counts[j]),
                  frozen_transitions=int(frozen.sum()))


def _duplicates(recording: Recording, stats: dict[int, ByteStats], settings: ExtractSettings) -> None:
    """A kept byte equal to an earlier kept byte on every recorded frame is a copy of it (a generation buffer
    copied into the game's variables, a value cached for drawing): the observation keeps the first one. Only
    bytes with `duplicate_min_changes` changes or more, so that two flags that happened to change together in a
    short recording stay apart."""
    first_of: dict[bytes, int] = {}
    for j, index in enumerate(recording.columns):
        stat = stats[int(index)]
        if stat.reason is not None or stat.changes < settings.duplicate_min_changes:
            continue
        key = recording.column(j).tobytes()
        original = first_of.setdefault(key, int(index))
        if original != int(index):
            _drop(stat, "duplicate", of=_label(recording.addresses, recording.banks, original))


def _overwritten_before_read(recording: Recording, stats: dict[int, ByteStats], changed: np.ndarray,
                             play: np.ndarray, replayer: Replayer, settings: ExtractSettings) -> dict[str, int]:
    """Scratch that changes when the game's state does: a rarely changing kept byte whose value, perturbed right
    after a change, the game overwrites before anything else differs (gbc.extract.perturb), and not at once (a
    byte rewritten within `overwrite_min_unread_frames` is recomputed from other state all the time).
    One trial per value the byte holds (the most frequent first, up to `overwrite_trials`; a value whose interval
    reads the byte, such as an empty cell a snake's head enters, keeps it), each on an interval within one
    episode no longer than `overwrite_max_interval`; at least `overwrite_min_trials`. Every trial must say
    "overwritten" (the replayer skips a byte's later trials once one says otherwise)."""
    episode = np.cumsum(recording.episode_start)
    kept_columns = [j for j, index in enumerate(recording.columns.tolist()) if stats[index].reason is None]
    kept_changing = changed[:, kept_columns].sum(axis=1)  # per transition: how many kept bytes change
    candidates = []
    for j, index in enumerate(recording.columns.tolist()):
        stat = stats[index]
        if stat.reason is None and stat.changes >= 2 and stat.change_rate <= settings.overwrite_max_change_rate:
            # Generation buffers are written while a wave or level is generated, when many variables change at
            # once: the bytes whose changes come in the largest bursts are tried first.
            burst = float(kept_changing[changed[:, j]].mean())
            candidates.append((-burst, index, j))
    plans: dict[int, list[TrialRequest]] = {}
    for _, index, j in sorted(candidates):
        if len(plans) == settings.overwrite_max_bytes:
            break
        frames = np.flatnonzero(changed[:, j]) + 1  # the frames at whose end the byte holds a new value
        column = recording.column(j)
        intervals = [(int(a), int(b)) for a, b in zip(frames[:-1], frames[1:])
                     if episode[a] == episode[b] and b - a <= settings.overwrite_max_interval]
        first_of: dict[int, tuple[int, int]] = {}
        for a, b in intervals:
            first_of.setdefault(int(column[a]), (a, b))
        counts = np.bincount(column, minlength=256)
        held = sorted(first_of, key=lambda v: (-counts[v], v))[: settings.overwrite_trials]
        chosen = [first_of[v] for v in held]
        chosen += [i for i in intervals if i not in chosen][: max(0, settings.overwrite_min_trials - len(chosen))]
        if len(chosen) < settings.overwrite_min_trials:
            continue
        values = np.flatnonzero(counts)
        plans[index] = []
        for a, b in chosen:
            other = values[values != column[a]]  # a value the game itself gives the byte
            value = int(other[np.searchsorted(other, column[a]) % len(other)])
            plans[index].append(TrialRequest(index, a, min(b + settings.overwrite_slack, recording.frames - 1), value))
    requests = [request for plan in plans.values() for request in plan]
    verdicts: dict[int, list[str]] = {index: [] for index in plans}
    unread: dict[int, list[int]] = {index: [] for index in plans}
    for request, outcome in zip(requests, replayer.run(requests, settings.overwrite_max_frames) if requests else []):
        verdict = outcome.verdict
        if verdict == OVERWRITTEN and outcome.frames < settings.overwrite_min_unread_frames:
            # Rewritten within a few frames: the game recomputes it from other state all the time (a cache such as
            # Runner's next_obstacle_kind, rewritten every frame), not a buffer that lies unread until the next
            # time something is generated.
            verdict = "rewritten_at_once"
        verdicts[request.index].append(verdict)
        unread[request.index].append(outcome.frames)
    dropped = 0
    for index, plan in plans.items():
        if len(verdicts[index]) == len(plan) and all(v == OVERWRITTEN for v in verdicts[index]):
            dropped += 1
            _drop(stats[index], "overwritten_before_read", trials=len(plan), unread_frames=unread[index],
                  perturbed_at=[r.start for r in plan], values=[r.value for r in plan])
    return {"bytes_tried": len(plans), "trials": len(requests), "dropped": dropped,
            "kept_as_read": sum(READ in v for v in verdicts.values()),
            "emulated_frames": int(getattr(replayer, "emulated_frames", 0))}


def _signed_bytes(stats: dict[int, ByteStats], columns: np.ndarray, values: np.ndarray) -> None:
    for j, index in enumerate(columns):
        stat = stats[int(index)]
        if stat.reason is not None or stat.group is not None:
            continue
        column = values[:, j]
        high = column >= 128
        if high.any() and (~high).any():
            as_int8 = column.astype(np.int8)
            if int(as_int8.max()) - int(as_int8.min()) < (stat.maximum - stat.minimum) / 2:
                stat.flags.append("signed")


# --- groups and features ---------------------------------------------------------------------------------------


def _word(recording: Recording, lo: int, hi: int, play: np.ndarray, settings: ExtractSettings) -> str | None:
    """'carry' or 'signed' when bytes lo and hi (= lo + 1) act as one 16-bit value, else None.

    carry: the high byte changes only with the low byte, by carries or borrows (|word step| < 256) or by resets to
    the word's minimum (a timer that counts to 600 and starts again), and the low byte's wraps carry into it.
    signed: the int16 values have both signs and a small span, and the high byte is (nearly) a function of the
    low byte (few distinct pairs), as in a velocity; an unrelated byte followed by a small signed byte is not.
    """
    pair = recording.full(np.array([lo, hi])).astype(np.int64)
    hi_changes = (pair[1:, 1] != pair[:-1, 1]) & play[1:]
    if not hi_changes.any():
        return None
    lo_changes = (pair[1:, 0] != pair[:-1, 0]) & play[1:]
    word = pair[:, 0] + 256 * pair[:, 1]
    signed = word - 65536 * (word >= 32768)
    if signed.min() < 0 <= signed.max() and signed.max() - signed.min() < settings.signed_word_span:
        distinct_pairs = len(np.unique(word))
        most = max(len(np.unique(pair[:, 0])), len(np.unique(pair[:, 1])))
        if distinct_pairs <= settings.word_pair_ratio * most:
            return "signed"
    if (hi_changes & lo_changes).sum() < settings.word_subset_share * hi_changes.sum():
        return None
    step = np.abs((word[1:] - word[:-1] + 32768) % 65536 - 32768)
    to_minimum = word[1:] == word[play].min()
    if (hi_changes & ((step < 256) | to_minimum)).sum() < settings.word_carry_share * hi_changes.sum():
        return None
    low_step = pair[1:, 0] - pair[:-1, 0]
    high_step = (pair[1:, 1] - pair[:-1, 1]) % 256
    up, down = lo_changes & (low_step < -128), lo_changes & (low_step > 128)  # 0xff -> 0x00 and back
    carried = (up & (high_step == 1)) | (down & (high_step == 255))
    if carried.sum() < settings.word_wrap_share * (up | down).sum():
        return None
    return "carry"


def _features_and_groups(recording: Recording, stats: dict[int, ByteStats], constant: np.ndarray,
                         play: np.ndarray, settings: ExtractSettings) -> tuple[list[Feature], list[dict]]:
    addresses = recording.addresses
    kept = sorted(i for i, s in stats.items() if s.reason is None)
    kept_set = set(kept)
    groups: list[dict[str, Any]] = []
    words: dict[int, str] = {}  # lo index -> kind
    for lo in kept:
        hi = lo + 1
        if hi in kept_set and lo not in words and (lo - 1) not in words and addresses[hi] == addresses[lo] + 1:
            kind = _word(recording, lo, hi, play, settings)
            if kind is not None:
                words[lo] = kind
    for lo, kind in words.items():
        name = f"word@{_label(addresses, recording.banks, lo)}"
        stats[lo].group = stats[lo + 1].group = name
        for i in (lo, lo + 1):
            stats[i].flags.append("word_lo" if i == lo else "word_hi")
        groups.append({"name": name, "kind": "word", "word": kind, "addresses": [_hex(addresses[lo]),
                       _hex(addresses[lo + 1])], **_bank_entry(recording, lo)})
    _signed_bytes(stats, recording.columns, recording.values)
    # Arrays: runs of flag-like kept bytes with the same few values; unchanging bytes holding one of those
    # values may sit between members (an element that never changed in the recording).
    run: list[int] = []
    run_values: frozenset[int] | None = None

    def close_run():
        if len(run) >= settings.array_min_members:
            name = f"array@{_label(addresses, recording.banks, run[0])}"
            for i in run:
                stats[i].group = name
            groups.append({"name": name, "kind": "array", "values": sorted(run_values),
                           "first": _hex(addresses[run[0]]), "last": _hex(addresses[run[-1]]), "members": len(run),
                           **_bank_entry(recording, run[0])})

    for i in kept:
        stat = stats[i]
        if stat.group is not None or stat.distinct > settings.array_max_values:
            close_run()
            run, run_values = [], None
            continue
        value_set = frozenset(np.unique(recording.full(np.array([i]))[:, 0]).tolist())
        if run and value_set == run_values and _gap_holds(recording, constant, run[-1], i, value_set,
                                                                        settings.array_max_gap):
            run.append(i)
        else:
            close_run()
            run, run_values = [i], value_set
    close_run()

    features = []
    for i in kept:
        stat = stats[i]
        if i - 1 in words:
            continue
        if i in words:
            pair = recording.full(np.array([i, i + 1])).astype(np.int64)
            word = pair[:, 0] + 256 * pair[:, 1]
            signed = words[i] == "signed"
            if signed:
                word = word - 65536 * (word >= 32768)
            features.append(Feature(_label(addresses, recording.banks, i), [i, i + 1],
                                    [int(addresses[i]), int(addresses[i + 1])], signed, int(word.min()),
                                    int(word.max()), stat.group, recording.bank(i)))
            continue
        signed = "signed" in stat.flags
        low, high = stat.minimum, stat.maximum
        if signed:
            column = recording.full(np.array([i]))[:, 0].astype(np.int8)
            low, high = int(column.min()), int(column.max())
        features.append(Feature(_label(addresses, recording.banks, i), [i], [int(addresses[i])], signed, low, high,
                                stat.group, recording.bank(i)))
    return features, groups


def _indexed_elements(recording: Recording, stats: dict[int, ByteStats], changed: np.ndarray,
                      settings: ExtractSettings) -> list[IndexedElement]:
    """Kept bytes that index an array of kept bytes: when the index changes, the byte at base + stride * index
    changes in the same frame, the same base throughout, while the array's other elements mostly do not (an array
    that changes whole every frame, as moving shots, would match any index by chance); settings.indexed_*. Each
    such (index, array) becomes one more input, the element the game last wrote; the array's own bytes stay
    features as they were. Only bytes of the RAM observation (no CGB WRAM bank), whose indices follow addresses."""
    observed = recording.size if recording.observation_size is None else recording.observation_size
    column_of = {int(index): j for j, index in enumerate(recording.columns)}
    kept = [i for i in sorted(stats) if stats[i].reason is None and i < observed and recording.bank(i) == 0]
    indices = [i for i in kept if stats[i].changes >= settings.indexed_min_changes
               and stats[i].distinct >= settings.indexed_min_elements]
    if not indices:
        return []
    targets = np.array(kept, np.int64)
    target_changed = changed[:, [column_of[i] for i in kept]]
    found: list[IndexedElement] = []
    for index in indices:
        stat = stats[index]
        frames = np.flatnonzero(changed[:, column_of[index]])  # transition t: frame t -> t + 1
        frame_changes = target_changed[frames]
        rows, cols = np.nonzero(frame_changes)
        written = targets[cols]
        rows, written = rows[written != index], written[written != index]  # the index's own change is no write
        if len(rows) == 0:
            continue
        column = recording.values[:, column_of[index]].astype(np.int64)
        old, new = column[frames], column[frames + 1]
        step = int(np.bincount(((new - old + 128) & 0xFF)).argmax()) - 128  # the usual move, as int8
        length = 256 if (stat.minimum, stat.maximum) == (0, 256 - 1) else stat.maximum + 1
        candidates = []
        for stride in range(1, settings.indexed_max_stride + 1):
            for offset, value in ((0, new), (-step, old)):
                base = written - stride * value[rows]
                keys = np.sort((base - base.min()) * len(frames) + rows)
                keys = keys[np.r_[True, keys[1:] != keys[:-1]]]  # one hit per (base, frame); np.unique hashes slowly
                hits = np.bincount(keys // len(frames))
                for b in np.flatnonzero(hits >= settings.indexed_write_share * len(frames)) + base.min():
                    elements = np.unique(written[base == b])
                    if len(elements) >= settings.indexed_min_elements:
                        candidates.append((hits[b - base.min()] / len(frames), stride, offset, int(b)))
        taken: list[tuple[int, int]] = []  # (first, last) observation index of each array found for this index
        for share, stride, offset, base in sorted(candidates, key=lambda c: (-c[0], c[1], c[2] != 0, c[3])):
            last = base + stride * (length - 1)
            if base < 0 or last >= observed or any(base <= t_last and t_first <= last for t_first, t_last in taken):
                continue  # outside the RAM observation, or the same array again (a neighbour written with it)
            if np.any(np.diff(recording.addresses[base:last + 1]) != 1):
                continue  # the observation's indices do not follow the addresses there (WRAM to HRAM)
            members = np.isin(targets, np.arange(base, last + 1, stride))
            others = (frame_changes[:, members].sum(axis=1) - 1).clip(0) / max(length - 1, 1)
            if others.mean() > settings.indexed_max_other_share:
                continue
            taken.append((base, last))
            element = (column + offset) % length
            values = recording.full(np.arange(base, last + 1, stride))[np.arange(len(column)), element]
            name = f"{_label(recording.addresses, None, base)}[{_label(recording.addresses, None, index)}]"
            found.append(IndexedElement(name, index, base, stride, length, offset, int(values.min()),
                                        int(values.max()), round(float(share), 4)))
    return [e for e in found if e.maximum > e.minimum]


def _gap_holds(recording: Recording, constant: np.ndarray, previous: int, index: int, values: frozenset,
               max_gap: int) -> bool:
    """Whether every byte strictly between two array members is constant with one of the array's values."""
    between = range(previous + 1, index)
    if len(between) > max_gap:
        return False
    return all(constant[k] and int(recording.base[k]) in values for k in between)


def _hex(address) -> str:
    return f"{int(address):#06x}"


def _bank_entry(recording: Recording, index: int) -> dict[str, int]:
    """{"bank": b} for a byte of CGB WRAM bank b, {} for the RAM observation's (so bank-free specs are unchanged)."""
    bank = recording.bank(index)
    return {"bank": bank} if bank else {}


def _label(addresses: np.ndarray, banks: np.ndarray | None, index: int) -> str:
    """A byte's name without a symbols file: its address, and for a banked CGB WRAM byte its bank ("2:0xd000")."""
    bank = 0 if banks is None else int(banks[index])
    return f"{bank}:{_hex(addresses[index])}" if bank else _hex(addresses[index])


# --- the spec file ---------------------------------------------------------------------------------------------


def _feature_type(feature: Feature) -> str:
    return ("int" if feature.signed else "uint") + ("16" if len(feature.indices) == 2 else "8")


def build_spec(extraction: Extraction, *, env_id: str, env_kwargs: dict[str, Any], layout: str,
               rom: dict[str, Any] | None, recording: dict[str, Any]) -> dict[str, Any]:
    """The JSON-able spec: features (the state observation), every kept byte, every dropped byte and why."""
    addresses = extraction.addresses
    feature_of: dict[int, int] = {}
    features = []
    for k, feature in enumerate(extraction.features):
        for i in feature.indices:
            feature_of[i] = k
        features.append({"index": k, "name": feature.name, "addresses": [_hex(a) for a in feature.addresses],
                         "obs_indices": feature.indices, "type": _feature_type(feature), "signed": feature.signed,
                         "min": feature.minimum, "max": feature.maximum, "group": feature.group,
                         **({"bank": feature.bank} if feature.bank else {})})
    indexed = [{"name": e.name, "index_address": _hex(addresses[e.index]), "base_address": _hex(addresses[e.base]),
                "index_obs": e.index, "base_obs": e.base, "stride": e.stride, "length": e.length, "offset": e.offset,
                "min": e.minimum, "max": e.maximum, "write_share": e.share} for e in extraction.indexed]
    kept, dropped = [], []
    for i in sorted(extraction.stats):
        stat = extraction.stats[i]
        bank = 0 if extraction.banks is None else int(extraction.banks[i])
        entry = {"address": _hex(stat.address), **({"bank": bank} if bank else {}), "obs_index": i,
                 "min": stat.minimum, "max": stat.maximum, "distinct": stat.distinct, "changes": stat.changes,
                 "change_rate": round(stat.change_rate, 6), "flags": stat.flags}
        if stat.reason is None:
            kept.append({**entry, "feature": feature_of[i], "group": stat.group})
        else:
            dropped.append({**entry, "reason": stat.reason, "evidence": _jsonable(stat.evidence)})
    # Constant bytes of the RAM observation, as runs of consecutive addresses (a recorded WRAM bank's constant
    # bytes are counted in "wram_banks").
    observed = extraction.size if extraction.observation_size is None else extraction.observation_size
    constant = np.flatnonzero(extraction.constant[:observed])
    if len(constant):
        breaks = np.flatnonzero((np.diff(constant) != 1) | (np.diff(addresses[constant]) != 1)) + 1
        for run in np.split(constant, breaks):
            values = extraction.base[run]
            entry = {"address": _hex(addresses[run[0]]), "last": _hex(addresses[run[-1]]), "obs_index": int(run[0]),
                     "count": len(run), "reason": "constant"}
            if (values == values[0]).all():
                entry["value"] = int(values[0])
            else:
                entry["values"] = values.tobytes().hex(" ")
            dropped.append(entry)
    dropped.sort(key=lambda e: e["obs_index"])
    reasons = {reason: 0 for reason in DROP_REASONS}
    reasons["constant"] = len(constant)
    for stat in extraction.stats.values():
        if stat.reason is not None:
            reasons[stat.reason] += 1
    return {
        "format": SPEC_FORMAT, "version": SPEC_VERSION,
        "env_id": env_id, "env_kwargs": env_kwargs, "layout": layout, "observation_size": observed,
        "rom": rom,
        "recording": {**recording, "frames": extraction.frames, "episodes": extraction.episodes,
                      "transitions": extraction.transitions},
        "settings": asdict(extraction.settings),
        "summary": {"kept_bytes": len(kept), "features": len(features),
                    **({"indexed": len(indexed)} if indexed else {}), "dropped_bytes": reasons},
        "scaling": "obs = clip((value - min) / (max - min), 0, 1); value = ram[lo] (+ 256 * ram[hi] for 16-bit "
                   "features), as int8/int16 when signed; see gbc/extract/spec.py",
        "features": features,
        **({"indexed": indexed} if indexed else {}),  # a spec without any stays as it was
        "kept": kept,
        "groups": extraction.groups,
        "oam_dma_pages": extraction.pages,
        "stack": extraction.stack,
        **({"wram_banks": {**extraction.wram_banks, "constant_bytes": int(extraction.constant[observed:].sum())
                                                                       - _unrecorded_bytes(extraction)}}
           if extraction.wram_banks is not None else {}),
        **({"overwrite_test": extraction.overwrite_test} if extraction.overwrite_test is not None else {}),
        "dropped": dropped,
    }


def _unrecorded_bytes(extraction: Extraction) -> int:
    """Banked indices of banks that were not recorded (switched in at every frame's end: the observation's)."""
    return len(extraction.wram_banks["switched_in"]) * WRAM_BANK_SIZE


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value

