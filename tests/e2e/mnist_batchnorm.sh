#!/usr/bin/env bash
# End to end: models/mnist_mlp_batchnorm.dl (dense -> batchnorm -> ReLU) trains on MNIST for one
# epoch (-D epochs=1) and reaches >= 96% test accuracy, evaluated with the running statistics.
#   mnist_batchnorm.sh DLC REPO_ROOT
set -eu
dlc=$1 root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
"$dlc" --run "$root/models/mnist_mlp_batchnorm.dl" -D epochs=1 --report "$tmp/report.json"
python3 - "$tmp/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
acc = r["test"]["accuracy"]
assert len(r["epochs"]) == 1, r["epochs"]
print(f"test accuracy {acc:.4f} (need >= 0.96)")
print("1 passed, 0 failed" if acc >= 0.96 else "0 passed, 1 failed")
sys.exit(0 if acc >= 0.96 else 1)
PY
