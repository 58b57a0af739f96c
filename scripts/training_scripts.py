"""Import the numbered training scripts (their names are not valid module names) for the tools that run them:
bench_train.py and tune.py reuse each script's Args defaults and main() rather than repeating them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPTS = Path(__file__).resolve().parent
SCRIPT_OF = {"memory": "02_train_memory.py", "pixel": "03_train_pixel.py"}


def load_training_script(agent: str) -> ModuleType:
    """The module of 02_train_memory.py (agent "memory") or 03_train_pixel.py ("pixel")."""
    if agent not in SCRIPT_OF:
        raise ValueError(f"unknown agent {agent!r}; choose from {sorted(SCRIPT_OF)}")
    module_name = "script_" + SCRIPT_OF[agent].removesuffix(".py")
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, SCRIPTS / SCRIPT_OF[agent])
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module
