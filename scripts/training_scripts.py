"""Import the numbered scripts (their names are not valid module names) for the tools and tests that run them:
bench_train.py and tune.py reuse each training script's Args defaults and main() rather than repeating them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPTS = Path(__file__).resolve().parent
SCRIPT_OF = {"memory": "02_train_memory.py", "pixel": "03_train_pixel.py"}


def load_script(file_name: str, module_name: str | None = None) -> ModuleType:
    """Import scripts/<file_name> afresh as a module (registered in sys.modules: dataclasses look it up there)."""
    module_name = module_name or "script_" + file_name.removesuffix(".py")
    spec = importlib.util.spec_from_file_location(module_name, SCRIPTS / file_name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def load_training_script(agent: str) -> ModuleType:
    """The module of 02_train_memory.py (agent "memory") or 03_train_pixel.py ("pixel"), imported once."""
    if agent not in SCRIPT_OF:
        raise ValueError(f"unknown agent {agent!r}; choose from {sorted(SCRIPT_OF)}")
    module_name = "script_" + SCRIPT_OF[agent].removesuffix(".py")
    return sys.modules.get(module_name) or load_script(SCRIPT_OF[agent], module_name)
