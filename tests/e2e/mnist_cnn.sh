#!/usr/bin/env bash
# End to end, kept short: models/mnist_cnn.dl (conv2d, max pooling, flatten, dense) with its
# images declared f32[1, 28, 28] trains one epoch on MNIST (-D epochs=1, about 40 s on 2 cores)
# and reaches >= 97.5% test accuracy. Its full run (8 epochs) is recorded in bench/RESULTS.md.
#   mnist_cnn.sh DLC REPO_ROOT
set -eu
dlc=$1 root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
"$dlc" --run "$root/models/mnist_cnn.dl" -D epochs=1 --report "$tmp/report.json"
python3 - "$tmp/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
acc = r["test"]["accuracy"]
assert len(r["epochs"]) == 1, r["epochs"]
print(f"test accuracy {acc:.4f} after 1 epoch (need >= 0.975)")
print("1 passed, 0 failed" if acc >= 0.975 else "0 passed, 1 failed")
sys.exit(0 if acc >= 0.975 else 1)
PY
