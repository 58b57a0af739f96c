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

# Debian packages, all optional: SDCC and make rebuild the Game Boy ROMs (the built .gb files are committed);
# Chromium runs the HTML report's headless browser test (tests/test_report.py skips, saying so, without it).
missing=()
command -v sdcc >/dev/null 2>&1 || missing+=(sdcc)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null) \
      || echo "setup.sh: could not install ${missing[*]}; the committed ROMs still run, the browser test skips"
  else
    echo "setup.sh: ${missing[*]} not found; install Debian's '${missing[*]}' packages to rebuild the ROMs / run the browser test"
  fi
fi
echo "setup.sh: environment ready in $VENV (activate with: source $VENV/bin/activate)"
