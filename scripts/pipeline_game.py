"""The helper of scripts/run_pipeline.sh: what to run for a game, the scripted player's reference score, and the
cross-game report.

    .venv/bin/python scripts/pipeline_game.py plan --game pong       # writes <out-root>/GBCPong-v0/game.json and
                                                                     # prints the plan as shell assignments
    .venv/bin/python scripts/pipeline_game.py games                  # the games --all-games runs, one per line
    .venv/bin/python scripts/pipeline_game.py scripted --game pong   # <out-root>/GBCPong-v0/scripted.json
    .venv/bin/python scripts/pipeline_game.py report                 # <out-root>/games.csv and games.html
    .venv/bin/python scripts/pipeline_game.py plan --game pong --hide-symbols   # as a user's ROM, in
                                                                     # <out-root>/GBCPong-v0-hidden-symbols/
    .venv/bin/python scripts/pipeline_game.py compare-hidden --game pong        # its top key variables against
                                                                     # the symbols run's, by address

--game: breakout-py (Python Breakout), a GBC game's profile name (breakout, snake, pong, runner, shooter) or a
user's .profile.json. The work is agents.probing.game_runs' and agents.probing.games_report's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import tyro

from agents.probing.game_runs import (
    HIDDEN_COMPARISON_FILE,
    SCRIPTED_FILE,
    all_games,
    compare_hidden,
    hidden_symbols_target,
    plan_for_shell,
    resolve_game,
    scripted_reference,
)
from agents.probing.games_report import write_games_report
from breakout_py.errors import UserError, run_script


@dataclass
class Args:
    action: tyro.conf.Positional[Literal["plan", "games", "scripted", "report", "compare-hidden"]]
    """plan: one game's steps; games: every game's name; scripted: the scripted player's games; report: the
    cross-game table; compare-hidden: a --hide-symbols run's top key variables against the symbols run's"""
    game: str = ""
    """the game (plan, scripted)"""
    out_root: str = "artifacts/pipeline"
    """the pipeline's output folder: each game's folder is under it, and the cross-game report in it"""
    episodes: int = 10
    """games the scripted player plays (scripted)"""
    hide_symbols: bool = False
    """plan: run our GBC game as a user's ROM, its ROM copied without the symbols file (gbc/user_rom.py)"""


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
        print(plan_for_shell(args.game, args.out_root, args.hide_symbols))
        return
    if args.action == "compare-hidden":
        result = compare_hidden(args.game, args.out_root)
        names = [row["symbol"] or row["addresses"] for row in result["hidden_top"]]
        print(f"symbols hidden: {result['overlap']} of the top {result['top']} key variables by address are the "
              f"symbols run's (same order: {result['same_order']}); by name afterwards: {', '.join(names)}; wrote "
              f"{Path(args.out_root) / hidden_symbols_target(args.game, args.out_root).folder / HIDDEN_COMPARISON_FILE}")
        return
    out = Path(args.out_root) / resolve_game(args.game).folder / SCRIPTED_FILE
    result = scripted_reference(args.game, args.episodes, out)
    print(f"scripted player {result['agent']}: mean score {result['mean_score']:.1f} over {result['episodes']} games "
          f"({result['seconds']:.0f} s); wrote {out}")


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
