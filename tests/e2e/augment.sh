#!/usr/bin/env bash
# End to end: `augment = [...]` changes the training batches only, reproducibly from the seed.
# A linear classifier on fashion_mnist (standardized, so black is not 0), 2 epochs, 10% held out:
#   1. frozen weights (sgd with lr = 1e-30 leaves every f32 weight as it was): with
#      [shift(3), crop(28, padding = 2), hflip(1)] the training loss differs from the run
#      without augmentation, but every validation and test metric is identical — the
#      validation and test batches are not augmented;
#   2. trained with adam: the zero-strength list [shift(0), crop(28, padding = 0), hflip(0)]
#      gives a report identical to no augmentation, epoch by epoch (the identity, and the
#      augmentation draws disturb no other random stream);
#   3. trained with adam and [shift(2), hflip(0.5)]: two runs give identical reports (the
#      draws come from the seed), different from the run without augmentation; the report
#      lists the augmentation.
#   augment.sh DLC REPO_ROOT
set -eu
dlc=$1 root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
# run_case NAME OPTIMIZER AUGMENT_LIST: writes $tmp/NAME.dl
run_case() {
  cat >"$tmp/$1.dl" <<DL
model lin {
  input image: f32[784]
  input label: i32[]
  logits = dense(image, 10)
}
train lin {
  data = fashion_mnist(image = image, label = label, normalize = standardize)
  loss = cross_entropy(logits, label)
  optimizer = $2
  augment = $3
  batch = 256
  epochs = 2
  seed = 5
  validation = 0.1
  metrics = [accuracy, mse]
}
DL
  "$dlc" --run "$tmp/$1.dl" -q --report "$tmp/$1.json"
}
run_case frozen_none "sgd(lr = 1e-30)" "[]"
run_case frozen_aug "sgd(lr = 1e-30)" "[shift(3), crop(28, padding = 2), hflip(1)]"
run_case none "adam(lr = 0.002)" "[]"
run_case zero "adam(lr = 0.002)" "[shift(0), crop(28, padding = 0), hflip(0)]"
run_case aug "adam(lr = 0.002)" "[shift(2), hflip(0.5)]"
cp "$tmp/aug.json" "$tmp/aug_first.json"
run_case aug "adam(lr = 0.002)" "[shift(2), hflip(0.5)]"
python3 - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
r = {n: json.load(open(f"{d}/{n}.json")) for n in
     ["frozen_none", "frozen_aug", "none", "zero", "aug", "aug_first"]}
passed = failed = 0
def check(ok, what):
    global passed, failed
    print(("ok: " if ok else "FAIL: ") + what)
    passed, failed = passed + ok, failed + (not ok)

def measured(rep):  # everything but the timings and the augmentation list
    ep = [{k: v for k, v in e.items() if k not in ("seconds", "samples_per_sec")} for e in rep["epochs"]]
    return ep, rep["test"]

def held_out(rep):
    return [(e["val_loss"], e["metrics"]["val"]) for e in rep["epochs"]], rep["test"]

a, b = r["frozen_none"], r["frozen_aug"]
check(all(x["train_loss"] != y["train_loss"] for x, y in zip(a["epochs"], b["epochs"])),
      "frozen weights: augmentation changes the training loss")
check(held_out(a) == held_out(b), "frozen weights: validation and test metrics are unchanged")
check(b["augment"] == ["shift(3)", "crop(28, padding = 2)", "hflip(1)"] and a["augment"] == [],
      "the report lists the augmentation")
check(measured(r["zero"]) == measured(r["none"]), "zero strength: the same run as no augmentation")
check(measured(r["aug"]) == measured(r["aug_first"]), "the same seed: the same augmented run")
check(measured(r["aug"]) != measured(r["none"]), "shift(2), hflip(0.5) trains differently")
print(f"{passed} passed, {failed} failed")
sys.exit(failed != 0)
PY
