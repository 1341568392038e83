#!/usr/bin/env bash
# End to end (issue 14 files): data = npy(x = "x.npy", y = "y.npy", ...) and
# npz("d.npz", x = "features", ...). Fixtures come from npy_fixtures.py (standard library only).
# f4, f8 (NPY version 2), i8, u1 and i4 arrays train, with a test split, a group split and a
# stratified one, from stored and deflated archives; npy and npz of the same arrays give the
# same report; paths are relative to the .dl file. Each error exits 1 naming the file (and
# the array) and what is wrong: bad magic, no descr, big-endian, complex and text dtypes, Fortran
# order, NaN and Inf (with the element), float labels, labels out of range, a row-count
# mismatch, data cut short, a missing array (did you mean), not an archive, a missing file, and
# features of the wrong size for the input.
#   npy_data.sh DLC REPO_ROOT
set -u
dlc=$(realpath "$1") root=$(realpath "$2")
. "$(dirname "$0")/tally.sh"
mkdir "$tmp/d"
python3 "$root/tests/e2e/npy_fixtures.py" "$tmp/d" || { echo "FAIL: fixtures"; exit 1; }
cd "$tmp"
model() { # model(DATA) > FILE: a 3-feature classifier
  cat <<DL
model m {
  input x: f32[3]
  input y: i32[]
  logits = dense(relu(dense(x, 8)), 2)
}
train m {
  data = $1
  loss = cross_entropy(logits, y)
  optimizer = adam(lr = 0.01)
  batch = 16
  epochs = 3
  seed = 2
  validation = 0.2
  metrics = [accuracy]
}
DL
}
report() { grep -E '"(train_loss|val_loss|loss|accuracy|test)"' "$1"; }
run() { # run NAME DATA: trains, writes NAME.json
  model "$2" >"$1.dl"
  "$dlc" --run -q "$1.dl" --report "$1.json" 2>"$1.err" && ok || { bad "$2 did not train"; cat "$1.err"; }
}
run a 'npy(x = "d/x.npy", y = "d/y.npy", test = 0.25)'
run b 'npz("d/d.npz", x = "features", y = "labels", test = 0.25)'
run c 'npz("d/dc.npz", x = "features", y = "labels", test = 0.25, stratify = 1)'
run e 'npy(x = "d/x64.npy", y = "d/y1.npy", group = "d/g.npy", test = 0.25, normalize = minmax)'
run f 'npz("d/d.npz", x = "features", y = "labels", group = "person", test = 0.25)'
run t 'npz("d/d.npz", x = "features", y = "labels", test_file = "d/dc.npz")'
grep -q '"test": 120' t.json && ok || bad "test_file: the 120 rows of the second archive expected"
[ "$(report a.json)" = "$(report b.json)" ] && ok || bad "npy and npz of the same arrays differ"
grep -q '"test": 30' a.json && ok || bad "test = 0.25 of 120 rows: 30 test rows expected"
grep -q '"test": 30' f.json && ok || bad "group split: 3 of 12 groups (30 rows) expected"
mkdir -p sub && cp a.dl sub/ && sed -i 's|"d/|"../d/|g' sub/a.dl
"$dlc" --run -q sub/a.dl --report s.json && [ "$(report a.json)" = "$(report s.json)" ] && ok ||
  bad "a path relative to the .dl file"

# expect PATTERN DATA: the run fails with exit 1 and the message
expect() {
  model "$2" >bad.dl
  "$dlc" --run -q bad.dl >out.txt 2>err.txt
  local got=$?
  if [ "$got" = 1 ] && grep -qE -- "$1" err.txt; then ok; else bad "$1 -> exit $got:"; cat err.txt; fi
}
Y='y = "d/y.npy", test = 0.5'
expect 'd/bad_magic.npy: not an NPY array' "npy(x = \"d/bad_magic.npy\", $Y)"
expect "d/no_descr.npy: bad NPY header: no 'descr'" "npy(x = \"d/no_descr.npy\", $Y)"
expect "d/big_endian.npy: unsupported dtype '>f4'" "npy(x = \"d/big_endian.npy\", $Y)"
expect "d/complex.npy: unsupported dtype '<c8'" "npy(x = \"d/complex.npy\", $Y)"
expect "d/text.npy: unsupported dtype '<U5'" "npy(x = \"d/text.npy\", $Y)"
expect 'd/fortran.npy: fortran_order arrays are not supported' "npy(x = \"d/fortran.npy\", $Y)"
expect 'd/nan.npy: element \[2, 1\] is NaN' "npy(x = \"d/nan.npy\", $Y)"
expect 'd/inf.npy: element \[13, 1\] is Inf' "npy(x = \"d/inf.npy\", $Y)"
expect 'd/cut.npy: the data is cut short' "npy(x = \"d/cut.npy\", $Y)"
expect 'd/yfloat.npy: class labels need an integer dtype' 'npy(x = "d/x.npy", y = "d/yfloat.npy", test = 0.5)'
expect 'd/yneg.npy: label -1 at \[5\] is out of range' 'npy(x = "d/x.npy", y = "d/yneg.npy", test = 0.5)'
expect 'd/y3.npy: label 3 at \[9\] is out of range \(classes = 2: expected 0 to 1\)' \
  'npy(x = "d/x.npy", y = "d/y3.npy", test = 0.5, classes = 2)'
expect 'd/short.npy: 119 rows, but d/x.npy has 120' 'npy(x = "d/x.npy", y = "d/short.npy", test = 0.5)'
expect "d/d.npz: no array 'lables'; did you mean 'labels'\? \(arrays: features, labels, person\)" \
  'npz("d/d.npz", x = "features", y = "lables", test = 0.5)'
expect "d/d.npz: array 'features': groups are one integer per row" \
  'npz("d/d.npz", x = "features", y = "labels", group = "features", test = 0.5)'
expect 'd/not.npz: not an .npz archive' 'npz("d/not.npz", x = "features", y = "labels", test = 0.5)'
expect 'd/none.npy: cannot open' "npy(x = \"d/none.npy\", $Y)"
expect "input 'x' holds 3 reals per sample, but the data file .*d/x4.npy holds samples of 4" \
  "npy(x = \"d/x4.npy\", $Y)"
tally_end npy_data
