"""The memory agent's key variables (step 06), probing a pixel agent's layers (step 07) and reporting what they
hold (step 08).

The game-independent core, which names no game's variables:
- `probes`: layers found by traversal, activations, ridge and logistic probes, splits by block, unit correlations,
  function vectors (probe weights, mean differences, random directions) and steering.
- `game`: `ProbeConfig` (every field of a run, documented at the field) and the interface a game supplies
  (`GameAdapter`, `GameSpec`, `GameSamples`, `ProbeSetup`).
- `pipeline`: step 07 on any game through its adapter (`run_game_probe`): probes against the random-weights and
  raw-pixel controls, unit labels, function vectors, screen regions, examples; finding the agent and its folder.
- `causal`: the causal check (steering along function vectors, random directions of the same norm as control).
- `bars`: the bar rule (R^2 above the random-weights control, every variable scored, causal success) and one
  short line per bar.
- `labels`: which variable labels a unit or a conv channel (a threshold, a margin over the random-weights network,
  a target that varies on the test split).
- `outputs`: writes everything step 08 reads (tables, npz, summary.json), through breakout_py.files.
- `screen_maps`: function-vector screen maps (a variable's direction mapped onto the screen through the network)
  against the game's perturbation map of the variable: top-k IoU, pointing game, their files.

One adapter per game family, and which env each probes:
- `python_breakout`: Python Breakout (BreakoutPy-v0): play, sweeps with consistent frame histories, renders.
- `gbc_game`: any Game Boy game's pixel agent (every GBC env id): variables from its state spec and symbols file,
  what is swept, kinds and predicted signs measured on the game, key variables from step 06; frames drawn by the
  game's own code.
- `games`: the adapter of each env id and `run_probe`, step 07 on the game of a checkpoint.

Step 06, apart from the probe: `key_variables` (game-independent: permutation importance of each input of a memory
agent with bootstrap intervals, gradient x input, the score of the top ones, the files) and `key_variable_games`
(each env's features named from its symbols file, held-out play of the agent, the run).

Also apart: `gbc_ram_map` (which screen pixels each RAM byte of our GBC ROM drives), `report` (step 08: figures and
one self-contained HTML report from the files step 07 wrote), and for scripts/run_pipeline.sh `game_runs` (a game
named on its command line: env id, folder, which shipped agents each step needs) and `games_report` (the cross-game
games.csv and games.html).

Imports go one way, with no circle: screen_maps on probes; game on probes and screen_maps; causal on game; pipeline
on causal, labels and screen_maps; bars on probes; outputs on pipeline, bars, labels and screen_maps; report on bars;
games_report on game_runs; the adapters on game, probes and screen_maps; games on the adapters and pipeline. The core
never imports an adapter; only games and the scripts know them.
"""
