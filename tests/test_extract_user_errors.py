"""User errors of step 01 and of what it reads: a typo in a profile names the nearest known key; 01 picks a
scripted player by the profile's name only (never because the variables happen to be called ball_x and
paddle_x); an unknown env id or a bad env kwarg is one UserError line."""

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


def test_unknown_env_id_and_bad_env_kwargs_are_user_errors():
    from breakout_py.errors import UserError
    from gbc.env import GameBoyEnv
    from gbc.extract.pipeline import env_profile

    with pytest.raises(RecordingError, match="unknown env id 'Foo-v0'.*GBCBreakout-v0"):
        env_profile("Foo-v0", {})
    with pytest.raises(UserError, match="obs_type must be one of"):
        GameBoyEnv("breakout", obs_type="rgb")
    with pytest.raises(UserError, match="frame_skip must be a positive integer"):
        GameBoyEnv("breakout", frame_skip=0)
