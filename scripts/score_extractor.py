"""Score a state spec against its ROM's symbols file (the ground truth the extractor never reads).

    .venv/bin/python scripts/score_extractor.py                                  # the committed Breakout spec
    .venv/bin/python scripts/score_extractor.py --spec /tmp/x.state_spec.json --symbols roms/breakout/breakout.symbols.json

Prints, per symbols-file variable, how many bytes were kept and why the others were dropped; recall over the
`state` bytes that changed in the recording; the `screen` and `runtime` bytes kept; the `state` bytes that never
changed (and so could not be found); then one JSON line with the figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tyro

from breakout_py.errors import run_script
from breakout_py.files import json_line
from gbc.extract.score import ScoreError, bars_met, format_score, load_json, score_spec, symbols_path_for
from gbc.extract.spec import default_spec_path
from gbc.profiles import BREAKOUT_ROM, ROMS_DIR

REPO = ROMS_DIR.parent


@dataclass
class Args:
    spec: str = str(default_spec_path(BREAKOUT_ROM).relative_to(REPO))
    """the state spec to score (scripts/01_extract_state.py writes one)"""
    symbols: str | None = None
    """the ROM's symbols file; default: <rom>.symbols.json beside the spec or the spec's ROM"""


def main(args: Args) -> dict:
    spec_path = Path(args.spec)
    spec = load_json(spec_path)
    symbols_path = Path(args.symbols) if args.symbols else symbols_path_for(spec, spec_path, REPO)
    if symbols_path is None:
        raise ScoreError(f"no symbols file for {spec_path} (its ROM: {spec.get('rom')}); pass --symbols PATH")
    result = score_spec(spec, load_json(symbols_path))
    print(f"score of {spec_path} against {symbols_path}:")
    print(format_score(result))
    summary = {k: result[k] for k in ("state_recall", "state_bytes_changed", "screen_bytes_kept",
                                      "runtime_bytes_kept", "scratch_bytes_kept", "runtime_scratch_share", "kept_bytes",
                                      "state_variables_kept", "state_variables")}
    summary.update(state_variables_never_changed=result["state_variables_never_changed"], bars_met=bars_met(result))
    print(json_line(summary))
    return result


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
