"""Each screen/runtime/scratch rule of the extractor (gbc.extract.core) on a small synthetic recording that plants
exactly that pattern beside a game variable that must stay kept."""

import numpy as np

from gbc.extract.core import extract
from gbc.extract.record import GameBoyTrace, Recording
from gbc.hardware import OAM_SIZE

BASE, SIZE = 0xC000, 0x400
FRAMES, EPISODE = 3000, 500


def at(address: int) -> int:
    return address - BASE


def record(ram: np.ndarray, *, sp=None, dma=None, oam=None, vram=()) -> Recording:
    """A Game Boy recording of `ram` (FRAMES, SIZE); `vram` lists (frame, address, value) changes."""
    frames = len(ram)
    start = np.zeros(frames, bool)
    start[::EPISODE] = True
    actions = np.where(start, -1, 0).astype(np.int16)
    vram = sorted(vram)
    changed = np.zeros(frames, bool)
    changed[[f for f, _, _ in vram]] = True
    trace = GameBoyTrace(
        stack_pointer=np.full(frames, 0xC3F0, np.uint16) if sp is None else np.asarray(sp, np.uint16),
        dma_register=np.zeros(frames, np.uint8) if dma is None else np.asarray(dma, np.uint8),
        oam=np.zeros((frames, OAM_SIZE), np.uint8) if oam is None else oam,
        vram_changed=changed, vram_flooded=np.zeros(frames, bool),
        vram_frame=np.array([f for f, _, _ in vram], np.int64), vram_address=np.array([a for _, a, _ in vram], np.int64),
        vram_bank=np.zeros(len(vram), np.uint8), vram_value=np.array([v for _, _, v in vram], np.uint8),
    )
    return Recording.from_frames(ram, start, actions, addresses=np.arange(BASE, BASE + SIZE), game_boy=trace)


def game_variable(ram: np.ndarray, address: int, seed: int = 1) -> None:
    """A ball coordinate: a random walk, the game state that every recording below must keep."""
    steps = np.random.default_rng(seed).integers(-2, 3, len(ram))
    ram[:, at(address)] = 60 + np.cumsum(steps) % 80


def test_rotating_shadow_oam_pages_and_the_page_select_byte_are_screen():
    # Three shadow OAM pages used in turn: OAM equals each page on only a third of the frames (below the 50% of
    # a single page), but always on the frames whose DMA register names it. 0xC300 holds the next page.
    rng = np.random.default_rng(0)
    ram = np.zeros((FRAMES, SIZE), np.uint8)
    pages = np.array([0xC0, 0xC1, 0xC2])
    named = pages[np.arange(FRAMES) % 3]
    sprites = rng.integers(1, 200, (FRAMES, 8)).astype(np.uint8)
    for k, page in enumerate(pages):
        ram[named == page, at(page << 8) : at(page << 8) + 8] = sprites[named == page]
    ram[:, at(0xC300)] = pages[(np.arange(FRAMES) + 1) % 3]
    game_variable(ram, 0xC301)
    oam = np.zeros((FRAMES, OAM_SIZE), np.uint8)
    oam[:, :8] = sprites
    extraction = extract(record(ram, dma=named, oam=oam))
    for page in pages:
        assert extraction.decision(at(page << 8)) == "oam_dma_source", hex(page)
    assert extraction.decision(at(0xC300)) == "oam_page_select"
    assert extraction.decision(at(0xC301)) == "kept"


def test_live_stack_above_the_lowest_stack_pointer_is_dropped():
    # SP ends frames anywhere in 0xC3E0-0xC3F0; bytes between there and the stack's top hold return addresses
    # and locals that change from frame to frame.
    rng = np.random.default_rng(0)
    ram = np.zeros((FRAMES, SIZE), np.uint8)
    ram[:, at(0xC3E0) : at(0xC3F8)] = rng.integers(0, 256, (FRAMES, 0x18))
    game_variable(ram, 0xC100)
    sp = rng.integers(0xC3E0, 0xC3F1, FRAMES)
    extraction = extract(record(ram, sp=sp))
    assert all(extraction.decision(at(a)) == "stack" for a in range(0xC3E0, 0xC3F8))
    assert extraction.stats[at(0xC3F4)].evidence["part"] == "live"
    assert extraction.decision(at(0xC100)) == "kept"


def test_generation_buffer_copied_into_the_game_variables_is_a_duplicate():
    # At each wave (every 100 frames) the game draws 4 row kinds into a scratch buffer (0xC200) and copies
    # them into its own variables (0xC100); the copy is kept once.
    rng = np.random.default_rng(0)
    ram = np.zeros((FRAMES, SIZE), np.uint8)
    for wave_start in range(0, FRAMES, 100):
        kinds = rng.integers(0, 8, 4)
        ram[wave_start:, at(0xC100) : at(0xC104)] = kinds
        ram[wave_start:, at(0xC200) : at(0xC204)] = kinds
    game_variable(ram, 0xC110)
    extraction = extract(record(ram))
    changing = [a for a in range(0xC100, 0xC104) if extraction.decision(at(a)) != "constant"]
    assert changing and all(extraction.decision(at(a)) == "kept" for a in changing)
    assert all(extraction.decision(at(a + 0x100)) == "duplicate" for a in changing)
    assert extraction.stats[at(changing[0] + 0x100)].evidence["of"] == f"{changing[0]:#06x}"


def test_a_frame_counter_may_pause_but_a_timer_reset_once_is_state():
    ram = np.zeros((FRAMES, SIZE), np.uint8)
    frames = np.arange(FRAMES)
    paused = np.isin(frames % 500, np.arange(100, 110))  # LCD off for 10 frames: no VBlank interrupt
    ram[:, at(0xC100)] = np.cumsum(~paused) % 256
    level_timer = frames % 500  # + 1 every frame of play, reset once at a level-up within an episode
    level_timer[1200:] = frames[1200:] - 1200
    level_timer[1500:] = frames[1500:] % 500
    ram[:, at(0xC101)] = level_timer % 256
    game_variable(ram, 0xC102)
    extraction = extract(record(ram))
    assert extraction.decision(at(0xC100)) == "frame_counter"
    assert extraction.decision(at(0xC101)) == "kept"


def test_queue_entries_that_often_leave_vram_unchanged_are_screen_but_a_map_mirror_is_kept():
    # A 4-entry tile queue whose tiles land on a different map cell each time; half the queued tiles equal the
    # tile already there, so only half of its changes show as VRAM changes. A map mirror byte (one fixed cell)
    # with the same weak match is the game's own grid, kept.
    rng = np.random.default_rng(0)
    ram = np.zeros((FRAMES, SIZE), np.uint8)
    vram = []
    queue = np.zeros(4, np.uint8)
    mirror = 0
    for t in range(FRAMES):
        if t % EPISODE and rng.random() < 0.2:
            queue = rng.integers(5, 60, 4).astype(np.uint8)
            cells = rng.choice(0x400, 4, replace=False)
            for cell, tile in zip(cells, queue):
                if rng.random() < 0.5:
                    vram.append((t, 0x9800 + int(cell), int(tile)))
        if t % EPISODE and rng.random() < 0.05:
            mirror = int(rng.integers(5, 60))
            if rng.random() < 0.5:
                vram.append((t, 0x9810, mirror))
        ram[t, at(0xC200) : at(0xC204)] = queue
        ram[t, at(0xC100)] = mirror
    game_variable(ram, 0xC101)
    extraction = extract(record(ram, vram=vram))
    assert all(extraction.decision(at(a)) == "vram_buffer" for a in range(0xC200, 0xC204))
    assert extraction.decision(at(0xC100)) == "kept"
    assert extraction.decision(at(0xC101)) == "kept"


def test_a_sound_driver_byte_that_plays_on_after_game_over_is_runtime():
    # The last 60 frames of each episode come after game over: the game's variables are final, the jingle's
    # note timer (0xC100) still counts down. A score (0xC101) that changed at the game over itself stays kept.
    rng = np.random.default_rng(0)
    ram = np.zeros((FRAMES, SIZE), np.uint8)
    after = (np.arange(FRAMES) % EPISODE) >= EPISODE - 60
    ram[after, at(0xC100)] = (np.arange(FRAMES)[after] // 4) % 8  # silent in play, the jingle after game over
    score = np.cumsum(rng.random(FRAMES) < 0.02)
    game_variable(ram, 0xC102)
    for end in range(EPISODE - 60, FRAMES, EPISODE):
        score[end : end + 60] = score[end - 1] + 5  # the last points land on the game-over frame
        ram[end : end + 60, at(0xC102)] = ram[end - 1, at(0xC102)]
    ram[:, at(0xC101)] = score % 256
    recording = record(ram)
    recording.after_game_over = after
    extraction = extract(recording)
    assert extraction.decision(at(0xC100)) == "after_game_over"
    assert extraction.decision(at(0xC101)) == "kept"
    assert extraction.decision(at(0xC102)) == "kept"


def test_queue_entries_between_members_and_the_queue_length_go_with_the_queue():
    # Queue A (0xC200-0xC209): entries 0 and 9 match VRAM writes; entries 1-8 only ever hold tiles already on
    # screen (no VRAM change to match): an unbroken run of changing bytes between two members. Queue B
    # (0xC240-0xC244): entries 0 and 4 match, 1 and 3 never do, 2 is never used (constant): near both members.
    # 0xC260, after an unused tail, is a length: set while the frame queues, 0 once VBlank copied the queue.
    # 0xC1F0 is a game variable near the queues.
    rng = np.random.default_rng(0)
    ram = np.zeros((FRAMES, SIZE), np.uint8)
    vram = []
    for t in range(FRAMES):
        if t % EPISODE and t % 60 == 0:
            tiles = rng.integers(5, 60, 10).astype(np.uint8)
            ram[t:, at(0xC200) : at(0xC20A)] = tiles
            other = rng.integers(60, 120, 4).astype(np.uint8)
            ram[t:, [at(0xC240), at(0xC241), at(0xC243), at(0xC244)]] = other
            ram[t, at(0xC260)] = 10
            for k in (0, 9):
                vram.append((t, 0x9800 + int(rng.integers(0x400)), int(tiles[k])))
            for k in (0, 3):
                vram.append((t, 0x9800 + int(rng.integers(0x400)), int(other[k])))
    game_variable(ram, 0xC1F0)
    extraction = extract(record(ram, vram=vram))
    for address in [*range(0xC200, 0xC20A), 0xC240, 0xC241, 0xC243, 0xC244]:
        assert extraction.decision(at(address)) == "vram_buffer", hex(address)
    assert extraction.stats[at(0xC202)].evidence["role"] == "between members"
    assert extraction.stats[at(0xC241)].evidence["role"] == "between members"
    assert extraction.decision(at(0xC260)) == "vram_buffer"
    assert extraction.stats[at(0xC260)].evidence["role"] == "buffer length or flags"
    assert extraction.decision(at(0xC1F0)) == "kept"
