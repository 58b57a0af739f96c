#!/usr/bin/env bash
# Installs everything into a virtual environment (.venv, or $VENV). Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")"
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# requirements.txt pins torch to the CPU build; on a CUDA machine install the CUDA wheel first.
"$VENV/bin/python" -m pip install --quiet -r requirements.txt

# SDCC builds the Game Boy ROMs from source. The built .gb files are committed, so it is optional.
if ! command -v sdcc >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && apt-get install -y -qq sdcc make) || echo "setup.sh: could not install sdcc; the committed ROMs still run"
  else
    echo "setup.sh: sdcc or make not found; install Debian's 'sdcc' and 'make' packages to rebuild the ROMs (the committed ROMs still run)"
  fi
fi
echo "setup.sh: environment ready in $VENV (activate with: source $VENV/bin/activate)"
