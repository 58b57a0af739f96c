"""Register writes made while a frame is drawn, by any code (here a main loop with no interrupts), are found in
the ROM by the disassembly (gbc.sm83), recorded at the line they happen (gbc.dump.Recorder) and drawn equal to
PyBoy's screen, on tiny hand-assembled ROMs; and on the Runner, whose status bar is switched mid-frame."""

from pathlib import Path

import numpy as np
import pytest

from gbc.dump import BCPD, BGP, Recorder, Recording, empty_dumps, first_line_drawn_after
from gbc.emulated_render import new_pyboy, record_episode
from gbc.render import check_recording, render, render_recorded
from gbc.sm83 import code_addresses, register_writes

REPO = Path(__file__).resolve().parent.parent
LOGO = slice(0x104, 0x134)  # the Nintendo logo the boot ROM checks: copied from our Breakout ROM
MAIN = 0x150


def assemble(parts: list) -> bytes:
    """Code placed at MAIN: an int is a byte, a str a label here, ("jr", label) and ("call", label) jump to one."""
    sizes = {"jr": 2, "call": 3}
    labels, address = {}, MAIN
    for part in parts:
        if isinstance(part, str):
            labels[part] = address
        else:
            address += sizes[part[0]] if isinstance(part, tuple) else 1
    code = bytearray()
    for part in parts:
        if isinstance(part, tuple):
            op, label = part
            target = labels[label]
            jump = [0x18, (target - MAIN - len(code) - 2) & 0xFF] if op == "jr" else [0xCD, target & 0xFF, target >> 8]
            code += bytes(jump)
        elif isinstance(part, int):
            code.append(part)
    return bytes(code)


def cartridge(code: bytes, cgb: bool) -> bytes:
    """A 32 KiB ROM-only cartridge: entry `nop; jp MAIN`, `code` at MAIN, a valid header."""
    rom = bytearray(0x8000)
    rom[0x100:0x104] = bytes([0x00, 0xC3]) + MAIN.to_bytes(2, "little")
    rom[LOGO] = (REPO / "roms/breakout/breakout.gb").read_bytes()[LOGO]
    rom[0x134:0x13A] = b"RASTER"
    rom[0x143] = 0x80 if cgb else 0x00
    rom[0x14D] = -sum(rom[0x134:0x14D]) - (0x14D - 0x134) & 0xFF
    rom[MAIN : MAIN + len(code)] = code
    return bytes(rom)


def wait_ly(line: int) -> list:
    return [0x06, line, ("call", "wait_ly")]


WAIT_HBLANK = [0xF0, 0x41, 0xE6, 0x03, 0x20, 0xFA]  # ldh a,(STAT); and 3; jr nz,-6


def palette_write(cgb: bool, how: str, value: int) -> list:
    """Code writing BGP = value (DMG), or CGB background colour 0 of palette 0 = value (BCPS then two BCPD bytes),
    with `how`: "ldh" (E0 nn), "a16" (EA nn FF) or "c" (E2, C = the register)."""
    register = BCPD if cgb else BGP

    def store(byte: int) -> list:
        load = [0x3E, byte]
        if how == "ldh":
            return load + [0xE0, register & 0xFF]
        if how == "a16":
            return load + [0xEA, *register.to_bytes(2, "little")]
        return load + [0x0E, register & 0xFF, 0xE2]

    if not cgb:
        return store(value)
    return [0x3E, 0x80, 0xE0, 0x68] + store(value & 0xFF) + store(value >> 8)  # BCPS: index 0, auto-increment


def mid_frame_rom(cgb: bool) -> bytes:
    """A main loop (interrupts off) that changes the palette on lines 64 (mode 2/3), 96 (in HBlank: drawn from
    97) and 120, each with another store instruction, and restores it in VBlank."""
    first, second, third, frame = (0x1B, 0xE4, 0x93, 0xE4) if not cgb else (0x001F, 0x7C00, 0x03E0, 0x7FFF)
    code = assemble([
        0xF3,  # di
        "loop",
        *wait_ly(64), *palette_write(cgb, "ldh", first),
        *wait_ly(96), *WAIT_HBLANK, *palette_write(cgb, "a16", second),
        0x21, 0xE0, 0x47,  # ld hl,0x47E0: the operand looks like `ldh (BGP),a`
        *wait_ly(120), *palette_write(cgb, "c", third),
        *wait_ly(144), *palette_write(cgb, "ldh", frame),
        ("jr", "loop"),
        0xE0, 0x40,  # data after the jump: never run
        "wait_ly", 0xF0, 0x44, 0xB8, 0x20, 0xFB, 0xC9,  # ldh a,(LY); cp b; jr nz,-5; ret
    ])
    return cartridge(code, cgb)


def test_the_disassembly_finds_the_write_instructions_and_not_operand_or_data_bytes():
    rom = mid_frame_rom(cgb=False)
    writes = register_writes(rom, frozenset({BGP, 0xFF40}))
    code = code_addresses(rom)
    operand = rom.index(bytes([0x21, 0xE0, 0x47])) + 1  # E0 47 inside `ld hl,0x47E0`
    data = rom.index(bytes([0xE0, 0x40, 0xF0]))  # E0 40 after `jr loop`
    assert operand not in code and operand - 1 in code and data not in code
    linear = [i for i in range(len(rom) - 1) if rom[i] == 0xE0 and rom[i + 1] in (0x40, 0x47)]
    assert operand in linear and data in linear  # what a linear scan would hook
    assert [(w.opcode, w.register) for w in writes] == [(0xE0, BGP), (0xEA, BGP), (0xE2, None), (0xE0, BGP)]
    assert all(rom[w.address] == w.opcode for w in writes)
    wait = max(code)  # the last instruction: `ret` of the subroutine reached only by `call`
    assert rom[wait] == 0xC9


def test_code_in_a_switchable_bank_is_followed_only_without_a_mapper():
    rom = bytearray(cartridge(bytes([0xCD, 0x00, 0x40, 0x18, 0xFE]), cgb=False))  # call 0x4000; jr -2 (forever)
    rom[0x4000:0x4003] = bytes([0xE0, 0x47, 0xC9])  # ldh (BGP),a; ret
    assert [w.address for w in register_writes(bytes(rom), frozenset({BGP}))] == [0x4000]  # 32 KiB: one bank
    banked = bytes(rom) + bytes(0x8000)  # 64 KiB: which bank is at 0x4000 is not known before it runs
    assert register_writes(banked, frozenset({BGP})) == []


def _record(rom: bytes, model: str, frames: int):
    pyboy = new_pyboy(rom, model)
    try:
        recorder = Recorder(pyboy)
        for _ in range(frames):
            recorder.step()
        return recorder.recording()
    finally:
        pyboy.stop(save=False)


@pytest.mark.parametrize("model", ["DMG", "CGB"])
def test_main_loop_palette_writes_mid_frame_are_drawn_at_their_line(model):
    recording = _record(mid_frame_rom(cgb=model == "CGB"), model, 200)  # the boot ROM, then 40-odd frames
    lines = recording.raster_lines
    looping = np.flatnonzero((lines >= 0).any(axis=1))
    assert len(looping) > 30
    assert (lines[looping[1:], :3] == (64, 97, 120)).all()  # the frame the loop starts in may begin mid-way
    checks = check_recording(recording)
    assert [c.index for c in checks if not c.equal] == []
    split = recording.screens[looping[-1]]
    assert not (split[63] == split[64]).all() and not (split[96] == split[97]).all()  # the writes do show


def test_a_write_shows_from_its_line_in_modes_2_and_3_and_from_the_next_in_hblank():
    assert [first_line_drawn_after(ly, mode) for ly, mode in ((10, 2), (10, 3), (10, 0), (143, 0), (150, 1))] == [
        10, 10, 11, 144, 144]


def test_a_difference_next_to_a_segments_first_line_is_named_a_write_at_the_line_edge(palette_split):
    dumps, raster = palette_split  # from line 100: BGP reversed
    drawn = render_recorded(Recording(dumps, **raster), np.arange(1))
    other = render(empty_dumps(1, model="DMG"))[0]  # the LCD off: a blank line
    causes = []
    for row in (99, 100, 50):
        screens = drawn.copy()
        screens[0, row] = other[row]
        causes.append(check_recording(Recording(dumps, screens, **raster))[0].cause)
    assert causes == ["write_at_line_edge", "write_at_line_edge", "unexplained"]


def test_every_runner_frame_is_drawn_equal_including_the_first_of_play_and_the_lcd_switched_off():
    recording = record_episode("runner", "DMG", 0, max_play_frames=60, rest_frames=0)  # CGB: results/render.md
    checks = check_recording(recording)
    assert [c.index for c in checks if not c.equal] == []
    play = np.flatnonzero((recording.raster_lines >= 0).any(axis=1))
    assert len(play) > 30  # the status bar's split is a segment on the frames of play
