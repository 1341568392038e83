#!/usr/bin/env bash
# End to end, kept short: a CNN of models/ trains one epoch (-D epochs=1) on its dataset and
# reaches a stated test accuracy; its full run is recorded in bench/RESULTS.md. The bytes the
# run allocated for the model equal what `dlc --mem-report` predicted.
#   models/mnist_cnn.dl   conv2d, max pooling, flatten, dense; >= 97.5% (about 40 s on 2 cores)
#   models/fashion_cnn.dl the same with 'same' padding, batchnorm, dropout and horizontal flips;
#                         >= 88% on Fashion-MNIST (about 80 s on 2 cores)
#   cnn_one_epoch.sh DLC REPO_ROOT MODEL MIN_ACCURACY
set -eu
dlc=$1 root=$2 model=$3 min=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
"$dlc" --run "$root/models/$model.dl" -D epochs=1 --report "$tmp/report.json"
"$dlc" --mem-report --json "$root/models/$model.dl" >"$tmp/plan.json"
python3 - "$tmp/report.json" "$min" "$tmp/plan.json" <<'PY'
import json, sys
r, need, plan = json.load(open(sys.argv[1])), float(sys.argv[2]), json.load(open(sys.argv[3]))
assert r["memory"]["total"] == plan["total_planned"], (r["memory"], plan)
print(f"allocated {r['memory']['total']} bytes for the model, as planned")
acc = r["test"]["accuracy"]
assert len(r["epochs"]) == 1, r["epochs"]
print(f"test accuracy {acc:.4f} after 1 epoch (need >= {need})")
print("1 passed, 0 failed" if acc >= need else "0 passed, 1 failed")
sys.exit(0 if acc >= need else 1)
PY
