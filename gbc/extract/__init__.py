"""The state extractor (step 01): from RAM recorded while a game is played, decide which bytes are the game's
variables, and write them as a state spec that `obs_type="state"` reads.

Its stages, one module each:

1. `record` (with `video`): play an env with a few policies and keep the RAM of every frame (plus, on a Game
   Boy, OAM, VRAM changes, the DMA register and the stack pointer, read fast from PyBoy by `video`, and on CGB
   hardware the WRAM banks that are not switched in).
2. `core`: decide every byte of the recording (constant, screen data, dead stack, frame counter, joypad mirror,
   copies, scratch overwritten before read, or kept) and group the kept ones into features (16-bit words,
   arrays), plus the array elements an index byte points at; `build_spec` makes the spec's JSON. `perturb`
   replays the recording in the emulator for its perturbation test (a byte perturbed after it changed: read
   before the game overwrote it, or not).
3. `spec`: the spec file's format and `StateSpec`, which turns RAM into the state observation (gbc.env uses it).
4. `picture`: a PNG of the decisions, byte by byte.
5. `score`: the spec scored against a ROM's symbols file, the ground truth the extractor never reads.
6. `pipeline`: the stages in order, as scripts/01_extract_state.py runs them, writing the spec and its picture
   (import it as gbc.extract.pipeline: it is not re-exported here, since it plays gbc.baselines' agents and
   gbc.baselines imports gbc, which imports this package).

The names below are the public ones of stages 1-5.
"""

from gbc.extract.core import (
    DROP_REASONS,
    ExtractSettings,
    Extraction,
    Feature,
    RecordingTooShortError,
    build_spec,
    extract,
)
from gbc.extract.picture import draw_decisions
from gbc.extract.record import (
    GameBoyTrace,
    PolicySource,
    Recording,
    RecordingError,
    check_ram_observation_space,
    is_game_boy_env_id,
    record_ram,
)
from gbc.extract.score import ScoreError, bars_met, format_score, score_spec, symbols_path_for
from gbc.extract.spec import (
    FLAT_LAYOUT,
    GAME_BOY_LAYOUT,
    SPEC_FORMAT,
    SPEC_VERSION,
    StateSpec,
    StateSpecError,
    default_spec_path,
    write_spec,
)
from gbc.extract.video import VideoMemory

__all__ = [
    "DROP_REASONS",
    "FLAT_LAYOUT",
    "GAME_BOY_LAYOUT",
    "SPEC_FORMAT",
    "SPEC_VERSION",
    "ExtractSettings",
    "Extraction",
    "Feature",
    "GameBoyTrace",
    "PolicySource",
    "Recording",
    "RecordingError",
    "RecordingTooShortError",
    "ScoreError",
    "StateSpec",
    "StateSpecError",
    "VideoMemory",
    "bars_met",
    "build_spec",
    "check_ram_observation_space",
    "default_spec_path",
    "draw_decisions",
    "extract",
    "format_score",
    "is_game_boy_env_id",
    "record_ram",
    "score_spec",
    "symbols_path_for",
    "write_spec",
]
