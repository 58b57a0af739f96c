"""The helper of scripts/run_pipeline.sh: what to run for a game, the scripted player's reference score, and the
cross-game report.

    .venv/bin/python scripts/pipeline_game.py plan --game pong       # writes <out-root>/GBCPong-v0/game.json and
                                                                     # prints the plan as shell assignments
    .venv/bin/python scripts/pipeline_game.py games                  # the games --all-games runs, one per line
    .venv/bin/python scripts/pipeline_game.py scripted --game pong   # <out-root>/GBCPong-v0/scripted.json
    .venv/bin/python scripts/pipeline_game.py report                 # <out-root>/games.csv and games.html

--game: breakout-py (Python Breakout), a GBC game's profile name (breakout, snake, pong, runner, shooter) or a
user's .profile.json. The work is agents.probing.game_runs' and agents.probing.games_report's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import tyro

from agents.probing.game_runs import SCRIPTED_FILE, all_games, plan_for_shell, resolve_game, scripted_reference
from agents.probing.games_report import write_games_report
from breakout_py.errors import UserError, run_script


@dataclass
class Args:
    action: tyro.conf.Positional[Literal["plan", "games", "scripted", "report"]]
    """plan: one game's steps; games: every game's name; scripted: the scripted player's games; report: the
    cross-game table"""
    game: str = ""
    """the game (plan, scripted)"""
    out_root: str = "artifacts/pipeline"
    """the pipeline's output folder: each game's folder is under it, and the cross-game report in it"""
    episodes: int = 10
    """games the scripted player plays (scripted)"""


def main(args: Args) -> None:
    if args.action == "games":
        print("\n".join(all_games()))
        return
    if args.action == "report":
        written = write_games_report(args.out_root)
        print(f"wrote {written['csv']} and {written['html']}")
        return
    if not args.game:
        raise UserError(f"{args.action} needs --game NAME: one of {all_games()} or a .profile.json path")
    if args.action == "plan":
        print(plan_for_shell(args.game, args.out_root))
        return
    out = Path(args.out_root) / resolve_game(args.game).folder / SCRIPTED_FILE
    result = scripted_reference(args.game, args.episodes, out)
    print(f"scripted player {result['agent']}: mean score {result['mean_score']:.1f} over {result['episodes']} games "
          f"({result['seconds']:.0f} s); wrote {out}")


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
