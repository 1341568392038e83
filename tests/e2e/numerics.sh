#!/usr/bin/env bash
# End to end: --check-numerics names the op that made the first NaN or Inf, at its line, with
# the caret (tests/e2e/numerics.dl, line 11 `r = sqrt(h)`):
#   1. sqrt of a ReLU: the division in sqrt's gradient (backward pass) makes an Inf in step 1
#      from finite inputs, while the loss is finite: exit status 1, the error at 11:7 names
#      div, the backward pass and sqrt; the report has "diverged" with step 1, the (finite)
#      loss and the node;
#   2. the same line as log(h - 100): the forward log of a negative value makes a NaN; with
#      the check the error names log at 11:7, the forward pass, finite inputs; without it the
#      run stops on the NaN loss of step 1 and names no op;
#   3. with --target cuda, on the emulated device (DLC_CUDA_EMULATE=1: no GPU needed), the
#      device's record gives the C backend's messages for 1 and 2 word for word (op, node,
#      line, caret, input);
#   4. a model whose step stays finite (sqrt(h + 1)) trains to the end with the check, on both
#      targets: no false alarm.
#   numerics.sh DLC REPO_ROOT
set -eu
dlc=$1 root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
model="$root/tests/e2e/numerics.dl"
cp "$model" "$tmp/root.dl"
expect_fail() { # LOG ARGS...: runs dlc, wants exit status 1, keeps stderr in LOG
    local log=$1 status=0
    shift
    "$dlc" "$@" 2>"$log" || status=$?
    cat "$log"
    [ "$status" -eq 1 ] || { echo "FAIL: exit status $status, want 1: $*"; exit 1; }
}
expect_fail "$tmp/a.err" --run "$tmp/root.dl" -q --check-numerics --report "$tmp/a.json"
grep -q "^$tmp/root.dl:11:7: error: --check-numerics: div (node %[0-9]*) in the backward pass (a gradient), from sqrt, made the first NaN or Inf of training step 1 (epoch 1)$" "$tmp/a.err"
grep -q "^  r = sqrt(h)$" "$tmp/a.err"
grep -q "^      ^~~~$" "$tmp/a.err"
grep -q "note: every input of div was finite: the first NaN or Inf comes from this op" "$tmp/a.err"
grep -q "error: training stopped: --check-numerics found a NaN or an Inf at epoch 1, step 1" "$tmp/a.err"
python3 - "$tmp/a.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["diverged"]
assert d["epoch"] == 1 and d["step"] == 1 and isinstance(d["loss"], float), d
assert isinstance(d["node"], int), d
PY
sed 's/^  r = sqrt(h)$/  r = log(h - 100)/' "$model" >"$tmp/log.dl"
expect_fail "$tmp/b.err" --run "$tmp/log.dl" -q --check-numerics
grep -q "^$tmp/log.dl:11:7: error: --check-numerics: log (node %[0-9]*) in the forward pass, from log, made the first NaN or Inf of training step 1 (epoch 1)$" "$tmp/b.err"
grep -q "note: every input of log was finite" "$tmp/b.err"
expect_fail "$tmp/c.err" --run "$tmp/log.dl" -q
grep -q "error: training diverged: the loss is not finite (NaN) at epoch 1, step 1" "$tmp/c.err"
if grep -q "check-numerics" "$tmp/c.err"; then echo "FAIL: a run without the check named an op"; exit 1; fi
for case in a:root b:log; do # the same messages, word for word (op, node, line, caret, input)
  log=$tmp/${case%%:*}-cuda.err
  DLC_CUDA_EMULATE=1 expect_fail "$log" --run "$tmp/${case#*:}.dl" -q --check-numerics --target cuda
  diff "$tmp/${case%%:*}.err" "$log" ||
    { echo "FAIL: --target cuda reports otherwise than the C backend (${case#*:}.dl)"; exit 1; }
done
sed 's/^  r = sqrt(h)$/  r = sqrt(h + 1)/' "$model" >"$tmp/fine.dl"
"$dlc" --run "$tmp/fine.dl" -q --check-numerics
DLC_CUDA_EMULATE=1 "$dlc" --run "$tmp/fine.dl" -q --check-numerics --target cuda
echo "4 passed, 0 failed"
