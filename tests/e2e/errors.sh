#!/usr/bin/env bash
# User errors outside the language: each must exit with status 1, print a message that names
# the file (or option) and what is wrong, never crash, and leave no partial output behind.
#   errors.sh DLC REPO_ROOT
set -u
dlc=$1 root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
passed=0 failed=0
model="$root/models/mnist_mlp.dl"

# expect STATUS PATTERN -- CMD...: exit status and a line of stderr matching PATTERN
expect() {
  local want=$1 pattern=$2
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" = "$want" ] && grep -qE -- "$pattern" "$tmp/err"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $* -> exit $got (want $want), stderr:"; cat "$tmp/err"
  fi
}

expect 1 "nosuch.dl: cannot open: No such file" -- "$dlc" "$tmp/nosuch.dl"
expect 1 "unknown option '--rnu'; did you mean '--run'" -- "$dlc" --rnu "$model"
expect 1 "dump-after: unknown pass 'autodif'; did you mean 'autodiff'" -- "$dlc" --dump-after=autodif "$model"
expect 1 "-D expects NAME=VALUE" -- "$dlc" -D lr "$model"

# missing data directory: names the path and how to prepare it
expect 1 "$tmp/nodata/mnist.*setup.sh" -- "$dlc" -q --run "$model" -D epochs=1 --data "$tmp/nodata"

# a truncated data file: names the file
mkdir -p "$tmp/bad/mnist"
for f in "${DLC_DATA:-$root/data}"/mnist/*.gz; do cp "$f" "$tmp/bad/mnist/"; done
head -c 1000 "${DLC_DATA:-$root/data}/mnist/train-images-idx3-ubyte.gz" >"$tmp/bad/mnist/train-images-idx3-ubyte.gz"
expect 1 "train-images-idx3-ubyte.gz: " -- "$dlc" -q --run "$model" -D epochs=1 --data "$tmp/bad"

# an unwritable output: an error, and no partial file
expect 1 "$tmp/no/such/dir/model.c: cannot write" -- "$dlc" "$model" -o "$tmp/no/such/dir/model.c"
if ls "$tmp"/no 2>/dev/null | grep -q .; then failed=$((failed + 1)); echo "FAIL: output left behind"; fi

# -o over an existing file with a broken model: the old file is untouched
echo "keep" >"$tmp/keep.c"
printf 'model m {\n  x = \n}\n' >"$tmp/broken.dl"
expect 1 "broken.dl:3:1: error" -- "$dlc" "$tmp/broken.dl" -o "$tmp/keep.c"
if [ "$(cat "$tmp/keep.c")" = "keep" ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: -o clobbered"; fi

# a validation fraction that holds out no sample cannot drive early stopping
cat >"$tmp/tiny_val.dl" <<'DL'
model m {
  input x: f32[1]
  input y: f32[1]
  pred = dense(x, 1)
}
train m {
  data = sine(x = x, y = y, n = 20)
  loss = mse(pred, y)
  validation = 0.01
  early_stopping = val_loss
}
DL
expect 1 "early stopping needs a validation split, but validation = 0.01 holds out no sample of 20" -- \
  "$dlc" -q --run "$tmp/tiny_val.dl"

# an input the dataset does not feed
sed -e 's/sine(x = x, y = y, n = 20)/sine(x = x)/' -e '/validation\|early_stopping/d' "$tmp/tiny_val.dl" >"$tmp/unbound.dl"
expect 1 "input 'y' is not bound to a field of the dataset" -- "$dlc" -q --run "$tmp/unbound.dl"

echo "errors: $passed passed, $failed failed"
[ "$failed" = 0 ]
