#!/usr/bin/env bash
# End to end: models/mnist_mlp.dl trains on MNIST and reaches >= 97.8% test accuracy within
# its 5 epochs; the report has every field the README promises; the bytes the run allocated
# for the model equal what `dlc --mem-report` predicted.
#   mnist_mlp.sh DLC REPO_ROOT
set -eu
dlc=$1 root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
"$dlc" --run "$root/models/mnist_mlp.dl" --report "$tmp/report.json"
"$dlc" --mem-report --json "$root/models/mnist_mlp.dl" >"$tmp/plan.json"
python3 - "$tmp/report.json" "$tmp/plan.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
plan = json.load(open(sys.argv[2]))
assert r["memory"]["total"] == plan["total_planned"], (r["memory"], plan)
print(f"allocated {r['memory']['total']} bytes for the model, as planned")
acc = r["test"]["accuracy"]
assert len(r["epochs"]) == 5, r["epochs"]
for e in r["epochs"]:
    assert e["train_loss"] > 0 and e["val_loss"] > 0 and 0 < e["val_accuracy"] <= 1, e
assert r["train"]["samples_per_sec"] > 0 and r["test"]["loss"] > 0
print(f"test accuracy {acc:.4f} (need >= 0.978)")
print("1 passed, 0 failed" if acc >= 0.978 else "0 passed, 1 failed")
sys.exit(0 if acc >= 0.978 else 1)
PY
