"""The memory dump format (gbc.dump): dumps of a running PyBoy, files, and the errors for bad dumps."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

warnings.filterwarnings("ignore", message="Using SDL2 binaries from pysdl2-dll")

from gbc.dump import (  # noqa: E402
    BCPS,
    FIELDS,
    OCPS,
    DumpError,
    MemoryDump,
    Recorder,
    concatenate,
    dump_pyboy,
    empty_dumps,
    load_dumps,
    load_recording,
    save_dumps,
)
from gbc.emulated_render import new_pyboy  # noqa: E402
from gbc.emulator import GameBoy  # noqa: E402
from gbc.hardware import LCDC, LCDC_ENABLE, SVBK  # noqa: E402
from gbc.profiles import get_profile  # noqa: E402

# PyBoy 2.8.1 starts every CGB palette as these RGB555 words (pyboy/core/lcd.py); our ROM writes its own.
PYBOY_INITIAL_PALETTE = (0x1CE7, 0x1E19, 0x7E31, 0x217B)


@pytest.fixture(scope="module")
def game():
    gb = GameBoy("breakout")
    gb.restart(seed=5)
    gb.tick(30, True)
    yield gb
    gb.close()


def test_dump_of_a_running_game(game):
    d = game.dump()
    assert len(d) == 1 and d.model[0] == 1 and d.cgb_mode[0] and not d.lcd_first_frame[0]
    assert d.rom_sha1[0] == game.profile.sha1 and d.frame[0] == game.pyboy.frame_count
    assert d.register(LCDC)[0] & LCDC_ENABLE
    for name in ("ball_x", "ball_y", "paddle_x", "score", "lives", "game_state"):
        var = game.profile.variables[name]
        assert int.from_bytes(d.read(var.address, var.size)[0].tobytes(), "little") == game.read(name), name
    assert np.array_equal(d.read(game.profile.address("shadow_oam"), 160)[0], np.array(game.read_bytes("shadow_oam")))
    words = d.bg_palette_ram[0, 0::2].astype(int) | (d.bg_palette_ram[0, 1::2].astype(int) << 8)
    assert tuple(words[:4]) != PYBOY_INITIAL_PALETTE  # the ROM's palettes, read through BCPS/BCPD
    assert d.vram[0, 1].any()  # CGB attributes in bank 1


def test_dumping_leaves_the_emulator_alone():
    """Two games, one dumped before every frame: the same RAM, screens and palette index registers."""
    games = [GameBoy("breakout") for _ in range(2)]
    try:
        for gb in games:
            gb.restart(seed=9)
        index_registers = [(gb.memory[BCPS], gb.memory[OCPS]) for gb in games]
        for _ in range(40):
            games[0].dump()
            for gb in games:
                gb.hold(("right",))
                gb.tick(1, True)
        assert np.array_equal(games[0].ram.read(), games[1].ram.read())
        assert np.array_equal(games[0].screen_rgb(), games[1].screen_rgb())
        assert [(gb.memory[BCPS], gb.memory[OCPS]) for gb in games] == index_registers
    finally:
        for gb in games:
            gb.close()


def test_dmg_dump_has_no_colour_parts():
    pyboy = new_pyboy(get_profile("breakout").verify_rom(), "DMG")
    try:
        pyboy.tick(200, False)
        d = dump_pyboy(pyboy)
    finally:
        pyboy.stop(save=False)
    assert d.model[0] == 0 and not d.cgb_mode[0]
    assert not d.vram[0, 1].any() and not d.wram[0, 2:].any()
    assert not d.bg_palette_ram.any() and not d.obj_palette_ram.any()
    assert d.vram[0, 0].any() and d.wram[0, :2].any()
    assert np.array_equal(d.dmg_colors[0, 0], [[255, 255, 255], [153, 153, 153], [85, 85, 85], [0, 0, 0]])


def test_save_and_load_round_trip(tmp_path, game):
    recorder = Recorder(game.pyboy, game.profile.sha1)
    for _ in range(3):
        recorder.step()
    recording = recorder.recording()
    path = save_dumps(tmp_path / "three.npz", recording.dumps, recording.screens, recording.scanline_registers)
    loaded = load_recording(path, model="CGB", rom_sha1=game.profile.sha1)
    for name in FIELDS:
        assert np.array_equal(getattr(loaded.dumps, name), getattr(recording.dumps, name)), name
    assert np.array_equal(loaded.screens, recording.screens)
    assert np.array_equal(loaded.scanline_registers, recording.scanline_registers)
    single = save_dumps(tmp_path / "one.npz", recording.dumps[1])
    one = load_recording(single)
    assert len(one.dumps) == 1 and one.screens is None and np.array_equal(one.dumps.vram, recording.dumps.vram[1:2])
    assert len(concatenate([one.dumps, loaded.dumps])) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.npz", "three.npz"]  # no temp files left


def test_read_follows_the_bank_registers():
    d = empty_dumps(2, "CGB")
    d.wram[0, 3, 0x10] = 33
    d.wram[1, 1, 0x10] = 11
    d.io[0, SVBK - 0xFF00] = 3
    d.io[1, SVBK - 0xFF00] = 0  # bank 0 selects bank 1
    assert d.read(0xD010)[:, 0].tolist() == [33, 11]


def _arrays(d: MemoryDump) -> dict:
    return {name: getattr(d, name) for name in FIELDS}


def _write_raw(path, arrays: dict, **extra) -> None:
    np.savez(path, format=np.array("gbc-memory-dump"), version=np.array(1), **arrays, **extra)


def test_bad_dumps_give_clear_errors(tmp_path):
    good = _arrays(empty_dumps(2, "CGB"))

    missing = dict(good)
    del missing["oam"]
    _write_raw(tmp_path / "missing.npz", missing)
    with pytest.raises(DumpError, match=r"lacks the regions \['oam'\]"):
        load_dumps(tmp_path / "missing.npz")

    short = dict(good, vram=good["vram"][:, :, :8000])
    _write_raw(tmp_path / "short.npz", short)
    with pytest.raises(DumpError, match=r"region 'vram' has shape \(2, 2, 8000\), expected \(N, 2, 8192\)"):
        load_dumps(tmp_path / "short.npz")

    wrong_type = dict(good, oam=good["oam"].astype(np.int16))
    _write_raw(tmp_path / "type.npz", wrong_type)
    with pytest.raises(DumpError, match="region 'oam' has dtype int16, expected uint8"):
        load_dumps(tmp_path / "type.npz")

    uneven = dict(good, hram=good["hram"][:1])
    _write_raw(tmp_path / "uneven.npz", uneven)
    with pytest.raises(DumpError, match="region 'hram' holds 1 dumps but 'vram' holds 2"):
        load_dumps(tmp_path / "uneven.npz")

    save_dumps(tmp_path / "cgb.npz", empty_dumps(1, "CGB"))
    with pytest.raises(DumpError, match="dump 0 is a CGB dump, expected DMG"):
        load_dumps(tmp_path / "cgb.npz", model="DMG")
    with pytest.raises(DumpError, match="comes from the ROM with SHA-1 \\(unknown\\)"):
        load_dumps(tmp_path / "cgb.npz", rom_sha1="ab" * 20)

    colour_dmg = dict(_arrays(empty_dumps(1, "DMG")), cgb_mode=np.array([True]))
    with pytest.raises(DumpError, match="DMG dump with cgb_mode set"):
        MemoryDump(**colour_dmg)
    bad_model = dict(_arrays(empty_dumps(1, "DMG")), model=np.array([7], np.uint8))
    with pytest.raises(DumpError, match="has model 7"):
        MemoryDump(**bad_model)

    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(DumpError, match="is not a gbc-memory-dump file"):
        load_dumps(tmp_path / "other.npz")
    (tmp_path / "garbage.npz").write_bytes(b"not a zip")
    with pytest.raises(DumpError, match="is not a readable .npz dump file"):
        load_dumps(tmp_path / "garbage.npz")
    np.savez(tmp_path / "future.npz", format=np.array("gbc-memory-dump"), version=np.array(99), **good)
    with pytest.raises(DumpError, match="format version 99"):
        load_dumps(tmp_path / "future.npz")
    with pytest.raises(DumpError, match="does not exist"):
        load_dumps(tmp_path / "nowhere.npz")
    with pytest.raises(DumpError, match="end in .npz"):
        save_dumps(tmp_path / "x.bin", empty_dumps(1))
    with pytest.raises(DumpError, match="screens must be uint8"):
        save_dumps(tmp_path / "x.npz", empty_dumps(2), screens=np.zeros((1, 144, 160, 3), np.uint8))
