"""The PyBoy wrapper's pieces on their own: RAM observation indices, the fast RAM reader on DMG and CGB hardware and
its fallbacks, and game profiles (variables, conditions, JSON files, the registry). Written from a mutation-testing
run of gbc/hardware.py, gbc/memory.py and gbc/profiles.py: each test checks behaviour that a surviving mutant changed."""

import io
import json
import time

import numpy as np
import pytest

from gbc import memory
from gbc.hardware import HRAM_END, HRAM_START, RAM_OBS_SIZE, SVBK, WRAM_BANK_SIZE, WRAM_END, WRAM_START, ram_obs_index
from gbc.memory import RamReader
from gbc.profiles import BREAKOUT_ROM

needs_rom = pytest.mark.skipif(not BREAKOUT_ROM.is_file(), reason="roms/breakout/breakout.gb absent: make -C roms")


# --- gbc.hardware ------------------------------------------------------------------------------------------------


def test_ram_obs_index_numbers_wram_then_hram_without_gaps():
    addresses = [*range(WRAM_START, WRAM_END), *range(HRAM_START, HRAM_END)]
    assert [ram_obs_index(a) for a in addresses] == list(range(RAM_OBS_SIZE))
    assert ram_obs_index(0xDFFF) == 0x1FFF and ram_obs_index(0xFF80) == 0x2000 and ram_obs_index(0xFFFE) == 8318


@pytest.mark.parametrize("address", [0xBFFF, 0xE000, 0xFF7F, 0xFFFF, 0xFF70, 0x8000])
def test_ram_obs_index_rejects_addresses_outside_wram_and_hram_naming_both_ranges(address):
    with pytest.raises(ValueError) as err:
        ram_obs_index(address)
    assert str(err.value) == (
        f"address {address:#06x} is neither in WRAM (0xc000-0xdfff) nor in HRAM (0xff80-0xfffe), "
        "so it is not part of the RAM observation"
    )


# --- gbc.memory ----------------------------------------------------------------------------------------------------


@pytest.fixture
def make_pyboy():
    """PyBoy instances running our ROM (cgb=None: the ROM's header decides, CGB for ours), stopped afterwards."""
    from pyboy import PyBoy

    from gbc.profiles import get_profile

    rom = get_profile("breakout").verify_rom()
    started = []

    def make(cgb=None):
        pyboy = PyBoy(io.BytesIO(rom), window="null", sound_emulated=False, log_level="ERROR", cgb=cgb)
        pyboy.tick(60, False)  # past the boot ROM: the game has written WRAM and HRAM
        started.append(pyboy)
        return pyboy

    yield make
    for pyboy in started:
        pyboy.stop(save=False)


def public_ram(pyboy) -> list[int]:
    return pyboy.memory[WRAM_START:WRAM_END] + pyboy.memory[HRAM_START:HRAM_END]


def fill_every_wram_bank(pyboy, banks: int) -> list[list[int]]:
    """A different byte pattern in every WRAM bank (written through SVBK on a CGB) and in HRAM, so that reading a
    wrong bank or offset shows; the patterns by bank."""
    patterns = [[(bank * 41 + i * 7 + (i >> 8)) & 0xFF for i in range(WRAM_BANK_SIZE)] for bank in range(banks)]
    pyboy.memory[WRAM_START : WRAM_START + WRAM_BANK_SIZE] = patterns[0]
    for bank in range(1, banks):
        if banks > 2:
            pyboy.memory[SVBK] = bank
        pyboy.memory[WRAM_START + WRAM_BANK_SIZE : WRAM_END] = patterns[bank]
    pyboy.memory[HRAM_START:HRAM_END] = [(200 + 3 * i) & 0xFF for i in range(HRAM_END - HRAM_START)]
    return patterns


@needs_rom
def test_fast_reader_on_cgb_hardware_reads_the_wram_bank_svbk_selects(make_pyboy):
    pyboy = make_pyboy(cgb=True)
    patterns = fill_every_wram_bank(pyboy, banks=8)
    reader = RamReader(pyboy)
    assert reader.fast
    for svbk in range(8):
        pyboy.memory[SVBK] = svbk
        obs = reader.read()
        assert obs.dtype == np.uint8 and obs.shape == (RAM_OBS_SIZE,)
        assert obs.tolist() == public_ram(pyboy), f"SVBK={svbk}"
        assert obs[:WRAM_BANK_SIZE].tolist() == patterns[0]
        assert obs[WRAM_BANK_SIZE : 2 * WRAM_BANK_SIZE].tolist() == patterns[svbk or 1]  # 0 selects bank 1 (Pan Docs)
    pyboy.memory[SVBK] = 0xF8 | 5  # the unused high bits of SVBK do not change the bank
    assert reader.read()[WRAM_BANK_SIZE : 2 * WRAM_BANK_SIZE].tolist() == patterns[5]


@needs_rom
def test_fast_reader_on_dmg_hardware_reads_its_two_wram_banks_and_hram(make_pyboy):
    pyboy = make_pyboy(cgb=False)
    fill_every_wram_bank(pyboy, banks=2)
    reader = RamReader(pyboy)
    assert reader.fast
    obs = reader.read()
    assert obs.dtype == np.uint8 and obs.tolist() == public_ram(pyboy)
    pyboy.memory[0xD123] = 0x5A  # a view of the live buffer: later writes show in later reads
    pyboy.memory[0xFFFE] = 0xA5
    again = reader.read()
    assert again[ram_obs_index(0xD123)] == 0x5A and again[ram_obs_index(0xFFFE)] == 0xA5
    assert obs[ram_obs_index(0xD123)] != 0x5A  # ... into a fresh array each time


@needs_rom
def test_public_fallback_reads_the_same_uint8_bytes_without_a_warning(make_pyboy, recwarn):
    pyboy = make_pyboy()
    fill_every_wram_bank(pyboy, banks=8)
    pyboy.memory[SVBK] = 3
    reader = RamReader(pyboy, allow_fast=False)
    assert not reader.fast and len(recwarn) == 0
    obs = reader.read()
    assert obs.dtype == np.uint8 and obs.shape == (RAM_OBS_SIZE,) and obs.tolist() == public_ram(pyboy)


@needs_rom
def test_fast_reader_is_much_faster_than_the_public_memory_api(make_pyboy):
    # The reason the mapped reader exists (gbc/memory.py): measured here ~1 us against ~200 us for the public slices.
    pyboy = make_pyboy()
    fast, public = RamReader(pyboy), RamReader(pyboy, allow_fast=False)

    def best(read):
        times = []
        for _ in range(20):
            start = time.perf_counter()
            read()
            times.append(time.perf_counter() - start)
        return min(times)

    assert 10 * best(fast.read) < best(public.read)


# Each pinned-layout check of `_map_buffers`, failed on purpose by pointing it at a field that holds something else
# (as another PyBoy build would): the reader must fall back to the public API with a warning, never map.
_SHAPE_1 = memory._WRAM_SHAPE_OFFSET + 8  # the unused second dimension of the WRAM slice: shape 0
_STRIDE_0 = memory._WRAM_STRIDE_OFFSET  # the WRAM slice's first stride: 1
_LAYOUT_FAULTS = {
    "object size": ("_RAM_BASICSIZE", memory._RAM_BASICSIZE + 8),
    "WRAM length": ("_WRAM_SHAPE_OFFSET", _STRIDE_0),  # reads 1: not a WRAM size
    "stride": ("_WRAM_STRIDE_OFFSET", _SHAPE_1),  # reads 0
    "null data pointer": ("_WRAM_DATA_OFFSET", _SHAPE_1),  # reads 0
}


@needs_rom
@pytest.mark.parametrize("fault", sorted(_LAYOUT_FAULTS))
def test_a_layout_check_that_fails_falls_back_to_the_public_api_with_a_warning(make_pyboy, monkeypatch, fault):
    pyboy = make_pyboy()
    name, value = _LAYOUT_FAULTS[fault]
    monkeypatch.setattr(memory, name, value)
    with pytest.warns(UserWarning, match=r"^gbc: could not map PyBoy's RAM buffers; using the slower public memory API$"):
        reader = RamReader(pyboy)
    assert not reader.fast
    assert reader.read().tolist() == public_ram(pyboy)


@needs_rom
def test_mapped_bytes_that_disagree_with_the_public_api_are_not_used(make_pyboy, monkeypatch):
    pyboy = make_pyboy()
    pyboy.memory[HRAM_START:HRAM_END] = list(range(1, 128))
    monkeypatch.setattr(memory, "_HRAM_OFFSET", memory._HRAM_OFFSET - 1)  # HRAM one byte off: a wrong layout
    with pytest.warns(UserWarning,
                      match=r"^gbc: PyBoy's RAM layout is not the expected one; using the slower public memory API$"):
        reader = RamReader(pyboy)
    assert not reader.fast
    obs = reader.read()
    assert obs.dtype == np.uint8 and obs.tolist() == public_ram(pyboy)


# --- gbc.profiles ----------------------------------------------------------------------------------------------------

from gbc.hardware import BUTTONS  # noqa: E402
from gbc.profiles import (  # noqa: E402
    _BUILTIN,
    BREAKOUT_SYMBOLS,
    PROFILE_SUFFIX,
    Condition,
    GameProfile,
    ProfileError,
    RomHashMismatchError,
    RomNotFoundError,
    StartStep,
    UnknownProfileError,
    Variable,
    breakout_profile,
    get_profile,
    known_profiles,
    load_profile_file,
    read_symbols,
    require_profile,
)


@pytest.mark.parametrize("size, signed, raw, value", [
    (1, False, 255, 255), (1, True, 127, 127), (1, True, 128, -128), (1, True, 255, -1), (1, True, 0, 0),
    (2, False, 65535, 65535), (2, True, 255, 255), (2, True, 32767, 32767), (2, True, 32768, -32768),
    (2, True, 65310, -226), (3, True, 0x800000, -0x800000), (3, True, 0x7FFFFF, 0x7FFFFF),
])
def test_variable_value_reads_twos_complement_only_for_signed_variables(size, signed, raw, value):
    assert Variable("v", 0xC000, size, signed=signed).value(raw) == value


def test_variable_defaults_to_one_unsigned_byte():
    var = Variable("v", 0xC000)
    assert (var.size, var.description, var.signed) == (1, "", False) and var.value(200) == 200


@pytest.mark.parametrize("op, below, equal, above", [
    ("==", False, True, False), ("!=", True, False, True), ("<", True, False, False),
    ("<=", True, True, False), (">", False, False, True), (">=", False, True, True),
])
def test_condition_operators_compare_the_variable_with_the_value(op, below, equal, above):
    condition = Condition("mode", op, 5)
    assert [condition.holds(4), condition.holds(5), condition.holds(6)] == [below, equal, above]


def test_unknown_condition_operator_lists_the_known_ones():
    with pytest.raises(ProfileError) as err:
        Condition("mode", "=", 1)
    assert str(err.value) == "condition operator '=' is not one of ['!=', '<', '<=', '==', '>', '>=']"


def make_profile(**changes) -> GameProfile:
    """A small valid profile (no ROM needed until verify_rom), with `changes` applied."""
    variables = {n: Variable(n, 0xC000 + i) for i, n in enumerate(("mode", "score", "lives", "seed"))}
    fields = dict(
        name="toy", rom_path=BREAKOUT_ROM, sha1="0" * 40, variables=variables,
        start_sequence=(StartStep(10), StartStep(2, ("start",))),
        in_play=Condition("mode", "==", 1), game_over=Condition("mode", "==", 2), score="score",
        actions=((), ("left",)), action_names=("NOOP", "LEFT"),
    )
    fields.update(changes)
    return GameProfile(**fields)


def test_game_profile_defaults():
    profile = GameProfile(name="toy", rom_path=BREAKOUT_ROM, sha1="0" * 40, variables={"s": Variable("s", 0xC000)},
                          start_sequence=(), in_play=Condition("s", "==", 1), game_over=Condition("s", "==", 2),
                          score="s")
    assert (profile.score_encoding, profile.lives, profile.seed_variable) == ("uint_le", None, None)
    assert (profile.actions, profile.action_names, profile.max_start_frames) == (((),), ("NOOP",), 3000)
    assert (profile.build_hint, dict(profile.constants)) == ("", {})
    assert StartStep(5).buttons == ()


@pytest.mark.parametrize("field", ["in_play", "game_over", "score", "lives", "seed_variable"])
def test_every_variable_a_profile_uses_must_be_defined(field):
    value = Condition("nothing", "==", 1) if field in ("in_play", "game_over") else "nothing"
    with pytest.raises(ProfileError) as err:
        make_profile(**{field: value})
    assert str(err.value) == (
        "profile 'toy' uses variables ['nothing'] that it does not define; defined: ['lives', 'mode', 'score', 'seed']"
    )
    make_profile(lives="lives", seed_variable="seed")  # defined ones are fine


def test_referenced_variables_lists_conditions_score_and_the_optional_ones():
    assert make_profile().referenced_variables() == ["mode", "mode", "score"]
    assert make_profile(lives="lives", seed_variable="seed").referenced_variables() == [
        "mode", "mode", "score", "lives", "seed"]


def test_unknown_buttons_in_actions_or_start_sequence_are_rejected():
    for changes in ({"actions": ((), ("jump",))}, {"start_sequence": (StartStep(3, ("start", "fire")),)}):
        with pytest.raises(ProfileError) as err:
            make_profile(**changes)
        unknown = "['jump']" if "actions" in changes else "['fire']"
        assert str(err.value) == f"profile 'toy': unknown buttons {unknown}; buttons are {BUTTONS}"
    make_profile(actions=tuple((b,) for b in BUTTONS), action_names=BUTTONS)  # every button is fine


def test_actions_and_action_names_must_pair_up():
    with pytest.raises(ProfileError) as err:
        make_profile(action_names=("NOOP",))
    assert str(err.value) == "profile 'toy': 2 actions but 1 action names"


def test_unknown_score_encoding_lists_the_known_ones():
    with pytest.raises(ProfileError) as err:
        make_profile(score_encoding="ascii")
    assert str(err.value) == (
        "profile 'toy': score_encoding 'ascii' is not one of ('uint_le', 'uint_be', 'bcd_le', 'bcd_be')")


def test_address_by_name_and_a_clear_error_for_an_unknown_name():
    profile = make_profile()
    assert [profile.address(n) for n in ("mode", "score", "lives", "seed")] == [0xC000, 0xC001, 0xC002, 0xC003]
    with pytest.raises(ProfileError) as err:
        profile.address("ball")
    assert str(err.value) == "profile 'toy' has no variable 'ball'; it has ['lives', 'mode', 'score', 'seed']"


@pytest.mark.parametrize("encoding, raw, value", [
    ("uint_le", [0x34, 0x12], 0x1234), ("uint_le", [0xFF, 0xFF, 0x01], 0x1FFFF), ("uint_le", [7], 7),
    ("uint_be", [0x12, 0x34], 0x1234), ("uint_be", [0x01, 0x00, 0xFF], 0x100FF),
    ("bcd_le", [0x99, 0x00], 99), ("bcd_le", [0x01, 0x90], 9001), ("bcd_be", [0x90, 0x01], 9001),
    ("bcd_be", [0x12], 12), ("uint_le", [], 0), ("bcd_le", [0x09, 0x10, 0x80], 801009),
])
def test_decode_score_in_every_encoding(encoding, raw, value):
    assert make_profile(score_encoding=encoding).decode_score(raw) == value


@needs_rom
def test_verify_rom_returns_the_bytes_and_accepts_an_upper_case_sha1():
    import hashlib

    data = BREAKOUT_ROM.read_bytes()
    sha1 = hashlib.sha1(data).hexdigest()
    assert make_profile(sha1=sha1).verify_rom() == data
    assert make_profile(sha1=sha1.upper()).verify_rom() == data


@needs_rom
def test_rom_errors_say_what_is_wrong_and_how_to_fix_it(tmp_path):
    import hashlib

    missing = make_profile(rom_path=tmp_path / "gone.gb", build_hint="Build it.")
    with pytest.raises(RomNotFoundError) as err:
        missing.verify_rom()
    assert str(err.value) == f"ROM for profile 'toy' not found at {tmp_path / 'gone.gb'}. Build it."
    actual = hashlib.sha1(BREAKOUT_ROM.read_bytes()).hexdigest()
    with pytest.raises(RomHashMismatchError) as err:
        make_profile(sha1="AB" * 20).verify_rom()
    assert str(err.value) == (
        f"ROM {BREAKOUT_ROM} has SHA-1 {actual}, but profile 'toy' expects {'ab' * 20}. Use the exact ROM the profile "
        "was written for, or update the profile's sha1 (and re-check its addresses) if you changed the ROM on purpose.")


def test_missing_symbols_file_names_it_and_the_build(tmp_path):
    with pytest.raises(RomNotFoundError) as err:
        read_symbols(tmp_path / "x.symbols.json")
    assert str(err.value).startswith(f"symbols file {tmp_path / 'x.symbols.json'} not found. It is built from source")
    assert "make -C roms" in str(err.value)


@needs_rom
def test_breakout_profile_reads_names_types_and_constants_from_the_symbols_file():
    symbols = read_symbols(BREAKOUT_SYMBOLS)
    profile = breakout_profile()
    assert profile.name == "breakout" and profile.rom_path == BREAKOUT_ROM and profile.sha1 == symbols["sha1"]
    assert dict(profile.constants) == {k: int(v) for k, v in symbols["constants"].items()}
    assert sorted(profile.variables) == sorted(v["name"] for v in symbols["variables"])
    for v in symbols["variables"]:
        var = profile.variables[v["name"]]
        assert (var.name, var.address, var.size, var.description) == (
            v["name"], v["address"], v.get("size", 1), v.get("description", ""))
        assert var.signed == v["type"].startswith("int"), v["name"]
    assert profile.variables["ball_dx"].signed and not profile.variables["score"].signed
    assert profile.in_play == Condition("game_state", "==", symbols["constants"]["GAME_STATE_PLAY"])
    assert profile.game_over == Condition("game_state", "==", symbols["constants"]["GAME_STATE_GAME_OVER"])
    assert (profile.score, profile.score_encoding, profile.lives, profile.seed_variable) == (
        "score", "uint_le", "lives", "rng_state")
    assert profile.actions == ((), ("left",), ("right",)) and profile.action_names == ("NOOP", "LEFT", "RIGHT")
    assert profile.start_sequence == (StartStep(120), StartStep(2, ("start",)))
    assert "make -C roms" in profile.build_hint and profile.max_start_frames == 3000


@needs_rom
@pytest.mark.parametrize("constant", ["GAME_STATE_PLAY", "GAME_STATE_GAME_OVER"])
def test_breakout_profile_needs_the_game_state_constants(tmp_path, monkeypatch, constant):
    import gbc.profiles as profiles

    symbols = read_symbols(BREAKOUT_SYMBOLS)
    del symbols["constants"][constant]
    path = tmp_path / "breakout.symbols.json"
    path.write_text(json.dumps(symbols))
    monkeypatch.setattr(profiles, "BREAKOUT_SYMBOLS", path)
    with pytest.raises(ProfileError) as err:
        breakout_profile()
    assert str(err.value) == f"{path} lacks the constant {constant}; rebuild with `make -C roms`"


@needs_rom
def test_breakout_symbols_without_any_constants_are_a_profile_error(tmp_path, monkeypatch):
    import gbc.profiles as profiles

    symbols = read_symbols(BREAKOUT_SYMBOLS)
    del symbols["constants"]
    path = tmp_path / "breakout.symbols.json"
    path.write_text(json.dumps(symbols))
    monkeypatch.setattr(profiles, "BREAKOUT_SYMBOLS", path)
    with pytest.raises(ProfileError, match="lacks the constant GAME_STATE_PLAY"):
        breakout_profile()


@needs_rom
def test_symbols_without_size_description_or_type_read_as_one_unsigned_byte(tmp_path, monkeypatch):
    import gbc.profiles as profiles

    symbols = read_symbols(BREAKOUT_SYMBOLS)
    symbols["variables"].append({"name": "plain", "address": 0xC7F0})
    path = tmp_path / "breakout.symbols.json"
    path.write_text(json.dumps(symbols))
    monkeypatch.setattr(profiles, "BREAKOUT_SYMBOLS", path)
    assert breakout_profile().variables["plain"] == Variable("plain", 0xC7F0, 1, "", False)


def write_profile(folder, file_name="mygame", **changes):
    """folder/<file_name>.profile.json: a minimal user profile (only the required keys unless `changes` add or
    replace some)."""
    name = file_name
    spec = {
        "name": name, "rom": f"{name}.gb", "sha1": "0" * 40,
        "variables": {"mode": {"address": "0xC0A3"}, "score": {"address": 49312, "size": "2"}},
        "score": "score", "start_sequence": [{"frames": 200}, {"frames": 5, "buttons": ["start"]}],
        "in_play": {"variable": "mode", "op": "==", "value": "1"},
        "game_over": {"variable": "mode", "op": ">=", "value": 3},
        "actions": [[], ["left"], ["a", "right"]],
    }
    spec.update(changes)
    path = folder / f"{file_name}{PROFILE_SUFFIX}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec))
    return path


def test_user_profile_file_with_only_the_required_keys_gets_the_defaults(tmp_path):
    path = write_profile(tmp_path)
    profile = load_profile_file(path)
    assert profile.name == "mygame" and profile.rom_path == (tmp_path / "mygame.gb").resolve()
    assert profile.variables == {"mode": Variable("mode", 0xC0A3), "score": Variable("score", 0xC0A0, 2)}
    assert profile.start_sequence == (StartStep(200), StartStep(5, ("start",)))
    assert profile.in_play == Condition("mode", "==", 1) and profile.game_over == Condition("mode", ">=", 3)
    assert (profile.score, profile.score_encoding, profile.lives, profile.seed_variable) == (
        "score", "uint_le", None, None)
    assert profile.actions == ((), ("left",), ("a", "right"))
    assert profile.action_names == ("NOOP", "left", "a+right")
    assert profile.max_start_frames == 3000 and dict(profile.constants) == {}
    assert profile.build_hint == (f"Place the ROM there ({path} expects it; ROMs directly in roms/ or under "
                                  "roms/user/ are git-ignored).")


def test_user_profile_file_optional_keys_are_used(tmp_path):
    path = write_profile(
        tmp_path / "sub", rom="../roms/other.gb", score_encoding="bcd_be", lives="mode", seed_variable="mode",
        action_names=["STAY", "L", "FIRE"], max_start_frames="50",
        variables={"mode": {"address": "0xC0A3", "description": "game mode", "signed": True},
                   "score": {"address": "0XC0A0", "size": 3}},
    )
    profile = load_profile_file(str(path))
    assert profile.rom_path == (tmp_path / "roms" / "other.gb").resolve()
    assert profile.variables["mode"] == Variable("mode", 0xC0A3, 1, "game mode", True)
    assert profile.variables["score"] == Variable("score", 0xC0A0, 3, "", False)
    assert (profile.score_encoding, profile.lives, profile.seed_variable) == ("bcd_be", "mode", "mode")
    assert profile.action_names == ("STAY", "L", "FIRE") and profile.max_start_frames == 50


@pytest.mark.parametrize("bad, message", [
    ({"variables": {"mode": {"address": "C0A3"}, "score": {"address": 1}}},
     "variables.mode.address: expected an integer or a string like '0xC100', got 'C0A3'"),
    ({"variables": {"mode": {"address": 1.5}, "score": {"address": 1}}},
     "variables.mode.address: expected an integer or a string like '0xC100', got 1.5"),
    ({"variables": {"mode": {"address": 1, "size": "two"}, "score": {"address": 1}}},
     "variables.mode.size: expected an integer or a string like '0xC100', got 'two'"),
    ({"in_play": {"variable": "mode", "op": "=="}},
     "in_play: expected {'variable': NAME, 'op': '==', 'value': INT}, got {'variable': 'mode', 'op': '=='}"),
    ({"game_over": ["mode", "==", 1]},
     "game_over: expected {'variable': NAME, 'op': '==', 'value': INT}, got ['mode', '==', 1]"),
    ({"game_over": {"variable": "mode", "op": "==", "value": 1, "extra": 0}}, "game_over: expected {'variable'"),
    ({"in_play": {"variable": "mode", "op": "==", "value": "one"}},
     "in_play: expected an integer or a string like '0xC100', got 'one'"),
])
def test_malformed_user_profile_values_name_the_file_and_the_field(tmp_path, bad, message):
    path = write_profile(tmp_path, **bad)
    with pytest.raises(ProfileError) as err:
        load_profile_file(path)
    assert str(err.value).startswith(f"{path}: {message}")


def test_user_profile_missing_keys_and_files_are_named(tmp_path):
    path = write_profile(tmp_path)
    spec = json.loads(path.read_text())
    for key in ("rom", "actions"):
        del spec[key]
    path.write_text(json.dumps(spec))
    with pytest.raises(ProfileError) as err:
        load_profile_file(path)
    assert str(err.value) == (f"{path} lacks the keys ['rom', 'actions'] "
                              "(see gbc.profiles.load_profile_file for the format)")
    with pytest.raises(UnknownProfileError) as err:
        load_profile_file(tmp_path / "none.profile.json")
    assert str(err.value) == f"profile file {tmp_path / 'none.profile.json'} does not exist"
    path.write_text("{")
    with pytest.raises(ProfileError) as err:
        load_profile_file(path)
    assert str(err.value).startswith(f"{path} is not valid JSON: ")


def test_registry_finds_user_profiles_in_subfolders_by_file_name(tmp_path):
    import gbc.profiles as profiles

    built_in = sorted(profiles._BUILTIN)
    assert "breakout" in built_in and known_profiles(tmp_path / "no such folder") == built_in
    write_profile(tmp_path, "zgame")
    write_profile(tmp_path / "user" / "deep", "agame", name="Called Differently")
    (tmp_path / "notes.json").write_text("{}")
    assert known_profiles(tmp_path) == sorted(["agame", "zgame", *built_in])
    assert get_profile("agame", roms_dir=tmp_path).name == "Called Differently"
    assert get_profile("zgame", roms_dir=tmp_path).rom_path == (tmp_path / "zgame.gb").resolve()
    by_path = str(tmp_path / "zgame.profile.json")  # a string ending in .profile.json is a path
    assert get_profile(by_path, roms_dir=tmp_path / "elsewhere") == load_profile_file(by_path)
    profile = make_profile()
    assert get_profile(profile) is profile


def test_unknown_profile_says_how_to_add_one(tmp_path):
    import gbc.profiles as profiles

    write_profile(tmp_path, "mine")
    with pytest.raises(UnknownProfileError) as err:
        get_profile("tetris", roms_dir=tmp_path)
    assert str(err.value) == (
        f"unknown game profile 'tetris'; known profiles: {sorted(['mine', *profiles._BUILTIN])}. To add one, write "
        f"{tmp_path}/tetris.profile.json (format: gbc.profiles.load_profile_file) beside your ROM")


def test_require_profile_passes_a_profile_through_and_explains_a_missing_one():
    assert require_profile("breakout", "GBC-v0") == "breakout"
    with pytest.raises(ProfileError) as err:
        require_profile(None, "GBC-v0")
    assert str(err.value) == (
        'GBC-v0 runs any profiled Game Boy ROM and needs to be told which: gym.make("GBC-v0", profile="NAME") with NAME '
        f'one of {known_profiles()} or a path to a .profile.json file (GBCBreakout-v0 is GBC-v0 with profile="breakout"; '
        "training scripts: --env-kwargs '{\"profile\": \"NAME\"}'). To add a ROM, write roms/NAME.profile.json "
        "(format: gbc.profiles.load_profile_file)")
