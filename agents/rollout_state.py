"""A vector env's state, saved in a training checkpoint so that a resumed run steps its envs exactly as an unbroken
run would: capture_envs / restore_envs, and encode / decode to keep it in a `torch.load(weights_only=True)` file.

A vector env that has `get_state()` / `set_state(state)` (BreakoutVectorEnv, gbc's BatchedGameBoyEnv) saves itself.
A Gymnasium SyncVectorEnv saves each sub-env: the sub-env's own get_state when its unwrapped env has one, else its
plain data attributes (numbers, strings, NumPy arrays, and tuples, lists and dicts of those) and random generator,
and the plain attributes of every wrapper round it. Any other vector env in this process (Gymnasium's native
CartPoleVectorEnv) saves its own plain attributes and random generator. That is all of the state of Gymnasium's
classic-control envs and of its TimeLimit and OrderEnforcing wrappers; an env whose state lives in other objects (an
emulator handle, a deque of frames) needs get_state/set_state for a resumed run to be exact. An AsyncVectorEnv (its
envs live in other processes) or a vector wrapper is not captured (None): the trainer then reseeds its envs on
resume and says so.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AsyncVectorEnv, SyncVectorEnv

PLAIN_SCALARS = (type(None), bool, int, float, str, bytes, np.generic)


def is_plain(value: Any) -> bool:
    """Data that set_state can put back as it was: numbers, strings, non-object NumPy arrays and containers of
    those."""
    if isinstance(value, PLAIN_SCALARS):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype != object
    if isinstance(value, (tuple, list)):
        return all(is_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and is_plain(item) for key, item in value.items())
    return False


def _layers(env: gym.Env | gym.vector.VectorEnv) -> list[Any]:
    """The wrappers from the outside in, then the unwrapped env."""
    layers = [env]
    while isinstance(layers[-1], gym.Wrapper):
        layers.append(layers[-1].env)
    return layers


def _copy(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (tuple, list)):
        return type(value)(_copy(item) for item in value)
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    return value


def env_state(env: gym.Env | gym.vector.VectorEnv) -> dict[str, Any]:
    """One env (a sub-env of a SyncVectorEnv, or a vector env stepped in this process): its unwrapped env's own
    get_state if it has one, else its plain attributes and random generator; and the plain attributes of each
    wrapper."""
    if hasattr(env.unwrapped, "get_state"):
        wrappers = _layers(env)[:-1]
        return {"own": env.unwrapped.get_state(),
                "wrappers": [{k: _copy(v) for k, v in vars(layer).items() if k != "env" and is_plain(v)}
                             for layer in wrappers]}
    layers = _layers(env)
    generator = env.unwrapped._np_random  # None until the env is first seeded
    return {"layers": [{k: _copy(v) for k, v in vars(layer).items() if k != "env" and is_plain(v)} for layer in layers],
            "np_random": None if generator is None else generator.bit_generator.state}


def restore_env(env: gym.Env | gym.vector.VectorEnv, state: dict[str, Any]) -> None:
    """Put back an env_state() of an env made with the same id and settings."""
    layers = _layers(env)
    if "own" in state:
        env.unwrapped.set_state(state["own"])
        saved_layers = state["wrappers"]
        layers = layers[:-1]
    else:
        saved_layers = state["layers"]
        if state["np_random"] is not None:
            env.unwrapped.np_random.bit_generator.state = state["np_random"]
    if len(saved_layers) != len(layers):
        raise ValueError(f"saved env state has {len(saved_layers)} wrapper layers, this env {len(layers)}: restore "
                         "a state saved by the same env id and kwargs")
    for layer, attributes in zip(layers, saved_layers):
        for name, value in attributes.items():
            setattr(layer, name, _copy(value))


def capture_envs(envs: gym.vector.VectorEnv) -> dict[str, Any] | None:
    """The state of every sub-env (see the module docstring), or None for a vector env this cannot capture."""
    if hasattr(envs, "get_state"):
        return {"kind": "own", "num_envs": envs.num_envs, "state": envs.get_state()}
    if isinstance(envs, SyncVectorEnv):
        return {"kind": "sync", "num_envs": envs.num_envs, "envs": [env_state(env) for env in envs.envs],
                "autoreset": envs._autoreset_envs.copy()}  # which sub-envs reset on the next step (NEXT_STEP)
    if isinstance(envs, (AsyncVectorEnv, gym.vector.VectorWrapper)):  # state in other processes, or in the wrapped env
        return None
    return {"kind": "attributes", "num_envs": envs.num_envs, "state": env_state(envs)}


def restore_envs(envs: gym.vector.VectorEnv, state: dict[str, Any]) -> None:
    """Put back a capture_envs() of a vector env made with the same env id, kwargs and num_envs."""
    if state["num_envs"] != envs.num_envs:
        raise ValueError(f"the saved envs are {state['num_envs']}, this vector env has {envs.num_envs}")
    if state["kind"] == "own":
        envs.set_state(state["state"])
        return
    if state["kind"] == "attributes":
        restore_env(envs, state["state"])
        return
    if not isinstance(envs, SyncVectorEnv):
        raise ValueError(f"saved states of SyncVectorEnv sub-envs cannot go into a {type(envs).__name__}")
    for env, saved in zip(envs.envs, state["envs"]):
        restore_env(env, saved)
    envs._autoreset_envs = np.array(state["autoreset"], dtype=np.bool_)


# --- storage in a weights_only checkpoint: NumPy values and bytes become tagged uint8 tensors ------------------------
# (not bytes: torch pickles an empty bytes object as a call that torch.load(weights_only=True) refuses)

NDARRAY_TAG = "__ndarray__"
NUMPY_SCALAR_TAG = "__numpy_scalar__"
BYTES_TAG = "__bytes__"


def _to_tensor(data: bytes) -> torch.Tensor:
    return torch.from_numpy(np.frombuffer(data, dtype=np.uint8).copy())


def encode(value: Any) -> Any:
    """`value` with every NumPy array and scalar and every bytes object replaced by a tagged dict holding a uint8
    tensor (and the dtype and shape), types that torch.load(weights_only=True) reads back; tensors, numbers and
    strings stay as they are."""
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise TypeError("an array of Python objects cannot be stored in a checkpoint")
        return {NDARRAY_TAG: _to_tensor(np.ascontiguousarray(value).tobytes()), "dtype": value.dtype.str,
                "shape": tuple(value.shape)}
    if isinstance(value, np.generic):
        return {NUMPY_SCALAR_TAG: _to_tensor(value.tobytes()), "dtype": value.dtype.str}
    if isinstance(value, bytes):
        return {BYTES_TAG: _to_tensor(value)}
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(encode(item) for item in value)
    return value


def decode(value: Any) -> Any:
    """The inverse of encode."""
    if isinstance(value, dict):
        if NDARRAY_TAG in value:
            data = value[NDARRAY_TAG].numpy().tobytes()
            return np.frombuffer(data, dtype=np.dtype(value["dtype"])).reshape(value["shape"]).copy()
        if NUMPY_SCALAR_TAG in value:
            return np.frombuffer(value[NUMPY_SCALAR_TAG].numpy().tobytes(), dtype=np.dtype(value["dtype"]))[0]
        if BYTES_TAG in value:
            return value[BYTES_TAG].numpy().tobytes()
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(decode(item) for item in value)
    return value
