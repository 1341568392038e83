#!/usr/bin/env bash
# End to end: models/mnist_mlp_regularized.dl (dropout, label smoothing, early stopping on the
# validation accuracy) stops before its 30 epochs, restores the best epoch's weights, and
# reaches >= 98.0% MNIST test accuracy with them; the report holds the validation curve.
#   mnist_regularized.sh DLC REPO_ROOT
set -eu
dlc=$1 root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
"$dlc" --run "$root/models/mnist_mlp_regularized.dl" --report "$tmp/report.json" | tee "$tmp/out.txt"
grep -q "^early stopping: val_accuracy has not improved for 3 epochs; restored the weights of epoch" "$tmp/out.txt"
python3 - "$tmp/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
es, epochs = r["early_stopping"], r["epochs"]
vals = es["values"]
assert es["monitor"] == "val_accuracy" and es["mode"] == "max" and es["patience"] == 3, es
assert len(vals) == len(epochs) == es["stopped_epoch"] < r["epochs_planned"] == 30, es
assert vals == [e["val_accuracy"] for e in epochs], vals
best = es["best_epoch"]
assert vals[best - 1] == max(vals) == es["best"] and es["stopped_epoch"] == best + 3, es
assert es["weights_restored"] is True and abs(es["restored_value"] - es["best"]) < 1e-9, es
# label smoothing 0.1 over 10 classes puts a floor under the loss: -(0.91 log p + 0.01 sum log q)
# is at least about 0.5 nats even for a perfect classifier
assert all(e["train_loss"] > 0.45 for e in epochs), [e["train_loss"] for e in epochs]
acc = r["test"]["accuracy"]
print(f"stopped after epoch {es['stopped_epoch']}, best epoch {best} "
      f"(val_accuracy {es['best']:.4f}); test accuracy {acc:.4f} (need >= 0.980)")
print("1 passed, 0 failed" if acc >= 0.980 else "0 passed, 1 failed")
sys.exit(0 if acc >= 0.980 else 1)
PY
