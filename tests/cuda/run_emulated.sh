#!/usr/bin/env bash
# `--run --target cuda` on the emulated device (DLC_CUDA_EMULATE=1, driver/cuda_device.h): the
# runtime's training loop drives the CUDA program's steps without a GPU, and its test loss and
# metrics agree with the C backend's training of the same model (relative 1e-3: the two differ
# only in rounding, the GEMMs' order of sums).
#   run_emulated.sh DLC MODEL.dl
set -eu
dlc=$1 model=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$dlc" --run -q "$model" --report "$tmp/c.json"
DLC_CUDA_EMULATE=1 "$dlc" --run -q --target cuda "$model" --report "$tmp/cuda.json" 2>"$tmp/err" ||
  { cat "$tmp/err"; echo "FAIL: --run --target cuda on the emulated device"; exit 1; }
cat "$tmp/err"
if grep -q "CUDA device\|CUDA driver" "$tmp/err"; then echo "FAIL: not emulated"; exit 1; fi
python3 - "$tmp/c.json" "$tmp/cuda.json" <<'PY'
import json, math, sys
c, g = (json.load(open(p))["test"] for p in sys.argv[1:3])
pairs = [("loss", c["loss"], g["loss"])] + [(k, v, g["metrics"][k]) for k, v in c["metrics"].items()]
for name, a, b in pairs:
    assert math.isfinite(b) and abs(a - b) <= 1e-3 * abs(a) + 1e-9, (name, a, b)
    print("ok", name, a, b)
PY
