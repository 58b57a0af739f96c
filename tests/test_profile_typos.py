"""A user's profile JSON with a typo is rejected naming the nearest known key, and 01 picks a scripted player by the
profile's name only (never because the variables happen to be called ball_x and paddle_x)."""

import hashlib
import json
import re
import shutil

import pytest

from gbc.extract.pipeline import ExtractionJob, policy_sources
from gbc.extract.record import RecordingError
from gbc.profiles import BREAKOUT_ROM, ProfileError, get_profile, load_profile_file
from test_gbc_profiles import user_profile_spec


@pytest.fixture
def write_profile(tmp_path):
    rom = tmp_path / "mygame.gb"
    shutil.copyfile(BREAKOUT_ROM, rom)
    sha1 = hashlib.sha1(rom.read_bytes()).hexdigest()

    def write(edit) -> "Path":
        spec = user_profile_spec("mygame.gb", sha1)
        edit(spec)
        path = tmp_path / "mygame.profile.json"
        path.write_text(json.dumps(spec))
        return path

    return write


def rename(mapping: dict, old: str, new: str) -> None:
    mapping[new] = mapping.pop(old)


@pytest.mark.parametrize("edit, where, nearest", [
    (lambda s: rename(s["variables"]["lives"], "address", "adress"), "variables.lives", "address"),
    (lambda s: rename(s["start_sequence"][0], "frames", "frame"), "start_sequence[0]", "frames"),
    (lambda s: rename(s, "score_encoding", "score_encodng"), "", "score_encoding"),
    (lambda s: rename(s, "seed_variable", "seed_varible"), "", "seed_variable"),
    (lambda s: rename(s["in_play"], "variable", "varaible"), "in_play", "variable"),
])
def test_a_typo_names_the_nearest_known_key(write_profile, edit, where, nearest):
    path = write_profile(edit)
    with pytest.raises(ProfileError, match=f"{re.escape(where)}.*did you mean {nearest!r}"):
        load_profile_file(path)


def test_variables_named_like_breakouts_do_not_choose_breakouts_player(write_profile):
    profile = load_profile_file(write_profile(lambda s: None))
    assert {"ball_x", "paddle_x"} <= set(profile.variables)
    job = ExtractionJob(env_id="GBC-v0", env_kwargs={"profile": str(profile.name)})
    assert [s.name for s in policy_sources(job, profile)] == ["random"]
    with pytest.raises(RecordingError, match="no scripted player"):
        policy_sources(ExtractionJob(env_id="GBC-v0", policies=("scripted",)), profile)
    assert [s.name for s in policy_sources(ExtractionJob(), get_profile("breakout"))] == ["random", "follow_ball"]
