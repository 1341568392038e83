#!/usr/bin/env bash
# `--run --target cuda` on the emulated device (DLC_CUDA_EMULATE=1, driver/cuda_device.h): the
# runtime's training loop drives the CUDA program's steps without a GPU, and its test loss and
# metrics agree with the C backend's training of the same model (relative 1e-3: the two differ
# only in rounding, the GEMMs' order of sums). A train block with steps: each step's loss too,
# per epoch and for the test split (report: epochs[].steps, test.steps), so every step ran its
# own function on the device.
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
runs = [json.load(open(p)) for p in sys.argv[1:3]]
c, g = (r["test"] for r in runs)
pairs = [("loss", c["loss"], g["loss"])] + [(k, v, g["metrics"][k]) for k, v in c["metrics"].items()]
pairs += [("test " + k, v["loss"], g["steps"][k]["loss"]) for k, v in (c.get("steps") or {}).items()]
for e, (ce, ge) in enumerate(zip(*(r["epochs"] for r in runs))):
    pairs += [("epoch %d %s" % (e + 1, k), v["loss"], ge["steps"][k]["loss"])
              for k, v in (ce.get("steps") or {}).items()]
assert len(runs[0]["epochs"]) == len(runs[1]["epochs"]) > 0
for name, a, b in pairs:
    assert math.isfinite(b) and abs(a - b) <= 1e-3 * abs(a) + 1e-9, (name, a, b)
    print("ok", name, a, b)
PY
