#!/usr/bin/env bash
# bench/setup_peers.sh — installs the benchmark peers that Debian does not package new enough:
# the newest PyTorch and NumPy from PyPI, into bench/.venv (ignored by git). Only bench/ needs
# them; the test suite does not. Re-running it upgrades them.
set -eu
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if ! python3 -m venv --help >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq python3-venv
fi
[ -x "$root/bench/.venv/bin/python" ] || python3 -m venv "$root/bench/.venv"
"$root/bench/.venv/bin/pip" install --upgrade --quiet pip
"$root/bench/.venv/bin/pip" install --upgrade --quiet torch numpy
"$root/bench/.venv/bin/python" -c 'import torch, numpy; print("bench peers: torch", torch.__version__, "numpy", numpy.__version__)'
