#!/usr/bin/env bash
# End to end (issue 14 files): data = csv(...). The shipped Iris example trains to >= 90% test
# accuracy in seconds; a CSV with quoted fields, CRLF and ';' trains, with real targets too; the
# path is relative to the .dl file (run from elsewhere); explicit train and test files; the same seed gives an identical report,
# another seed a different one; a group split and a group-aware validation part train. Each
# error in a data file exits 1 with "dlc: error: FILE: line L, column 'C': ..." (or the file and
# what is wrong): a non-number, an empty value, NaN, Inf, a ragged row, a missing column (did you
# mean), a label out of range / not an integer / negative, an unclosed quote, a header without
# rows, an empty or missing file, a column range of the wrong size, too few groups.
#   csv_data.sh DLC REPO_ROOT
set -u
dlc=$(realpath "$1") root=$(realpath "$2")
. "$(dirname "$0")/tally.sh"

# the Iris example, from another directory: the CSV is found beside the model
cd "$tmp"
if "$dlc" --run -q "$root/models/iris_mlp.dl" --report iris.json; then
  acc=$(grep -A3 '"test": {' iris.json | grep '"accuracy"' | tr -dc '0-9.')
  awk -v a="$acc" 'BEGIN { exit !(a >= 0.9) }' && ok || bad "iris test accuracy $acc < 0.9"
else
  bad "iris_mlp.dl did not train"
fi

mkdir d
# 2 features, a label, a group: "id","x, first" (quoted, with the delimiter), x2, label, who
{
  printf 'id;"x; first";x2;label;who\r\n'
  for i in $(seq 0 79); do
    printf '"r%d";%d.5;"%d";%d;p%d\r\n' "$i" $((i % 7)) $((i % 5 - 2)) $(((i % 7 + i % 5) % 2)) $((i % 10))
  done
} >d/train.csv
model() { # model(DATA): a 2-feature classifier trained on DATA
  cat <<DL
param seed = 1
model m {
  input x: f32[2]
  input label: i32[]
  logits = dense(relu(dense(x, 8)), 2)
}
train m {
  data = $1
  loss = cross_entropy(logits, label)
  optimizer = adam(lr = 0.01)
  batch = 8
  epochs = 3
  seed = seed
  validation = 0.2
  metrics = [accuracy]
}
DL
}
model 'csv("d/train.csv", x = ["x; first", "x2"], label = "label", delimiter = ";", test = 0.25)' >q.dl
report() { grep -E '"(train_loss|val_loss|loss|accuracy)"' "$1"; }
"$dlc" --run -q q.dl --report a.json && "$dlc" --run -q q.dl --report b.json &&
  "$dlc" --run -q -D seed=2 q.dl --report c.json || bad "the quoted ';' CSV did not train"
[ -f c.json ] && [ "$(report a.json)" = "$(report b.json)" ] && ok || bad "same seed, different report"
[ -f c.json ] && [ "$(report a.json)" != "$(report c.json)" ] && ok || bad "another seed, the same report"
grep -q '"test": 20' a.json && ok || bad "test = 0.25 of 80 rows: 20 test rows expected"
model 'csv("d/train.csv", x = ["x; first", "x2"], label = "label", delimiter = ";", group = "who", test = 0.3)' >g.dl
"$dlc" --run -q g.dl --report g.json && grep -q '"test": 24' g.json && ok ||
  bad "group split: 3 of 10 groups (24 rows) expected in the test split"
# explicit train and test files: the test split is the whole second file
head -n 61 d/train.csv >d/tr.csv && { head -n 1 d/train.csv; tail -n 20 d/train.csv; } >d/te.csv
model 'csv("d/tr.csv", x = ["x; first", "x2"], label = "label", delimiter = ";", test_file = "d/te.csv")' >t.dl
"$dlc" --run -q t.dl --report t.json && grep -q '"test": 20' t.json && grep -q '"train": 48' t.json && ok ||
  bad "test_file: 60 training rows (48 after validation) and 20 test rows expected"
# real targets: x2 from "x; first"
sed -e 's/input label: i32\[\]/input label: f32[1]/' -e 's/cross_entropy(logits, label)/mse(dense(x, 1), label)/' \
    -e 's/metrics = \[accuracy\]/metrics = [loss]/' \
    -e 's/x = \["x; first", "x2"\], label = "label"/x = range("x; first", "x2"), label = ["x2"]/' q.dl >r.dl
"$dlc" --run -q r.dl && ok || bad "real targets and a column range"

# expect PATTERN FILE-CONTENTS [SETTINGS]: the run fails with exit 1 and the message
expect() {
  printf '%b' "$2" >d/bad.csv
  model "csv(\"d/bad.csv\", x = [\"a\", \"b\"], label = \"label\", test = 0.5${3:-})" >bad.dl
  "$dlc" --run -q bad.dl >out.txt 2>err.txt
  local got=$?
  if [ "$got" = 1 ] && grep -qE -- "$1" err.txt; then ok; else bad "$1 -> exit $got:"; cat err.txt; fi
}
H='a,b,label\n'
expect "bad.csv: line 3, column 'b': 'x1' is not a number" "${H}1,2,0\n3,x1,1\n"
expect "bad.csv: line 2, column 'a': '' is empty" "${H},2,0\n3,4,1\n"
expect "line 3, column 'a': 'nan' is not finite" "${H}1,2,0\nnan,4,1\n"
expect "line 2, column 'b': '-inf' is not finite" "${H}1,-inf,0\n3,4,1\n"
expect "line 3, column 'b': '1e39' is beyond the range of an f32" "${H}1,2,0\n3,1e39,1\n"
expect "bad.csv: line 3: 2 fields, but the header \(line 1\) has 3 columns" "${H}1,2,0\n3,4\n"
expect "bad.csv: no column 'label' \(the label\); did you mean 'lable'\?" "a,b,lable\n1,2,0\n3,4,1\n"
expect "no column 'label' \(the label\); the header \(line 1\) has 3 columns" "a,b,c\n1,2,0\n3,4,1\n"
expect "line 3, column 'label': label '1.5' is not an integer" "${H}1,2,0\n3,4,1.5\n"
expect "line 2, column 'label': label '-1' is out of range" "${H}1,2,-1\n3,4,1\n"
expect "label '2' is out of range \(classes = 2: expected 0 to 1\)" "${H}1,2,0\n3,4,2\n" ", classes = 2"
expect "bad.csv: line 3: a quoted field is not closed" "${H}1,2,0\n\"3,4,1\n"
expect "line 2, field 1: 'x' after a quoted field's closing" "${H}\"1\"x,2,0\n3,4,1\n"
expect "bad.csv: no rows after the header" "${H}"
expect "bad.csv: the file is empty" ""
expect "test = 0.5 of 1 rows leaves the test split empty" "${H}1,2,0\n"
expect "a group split needs at least 2 groups" "a,b,label,g\n1,2,0,x\n3,4,1,x\n" ", group = \"g\""
model 'csv("d/none.csv", x = ["a", "b"], label = "label", test = 0.5)' >none.dl
"$dlc" --run -q none.dl 2>err.txt
[ $? = 1 ] && grep -q "d/none.csv: cannot open" err.txt && ok || { bad "a missing file"; cat err.txt; }
printf 'a,b,c,label\n1,2,3,0\n4,5,6,1\n' >d/wide.csv
model 'csv("d/wide.csv", x = range("a", "c"), label = "label", test = 0.5)' >wide.dl
"$dlc" --run -q wide.dl 2>err.txt
[ $? = 1 ] && grep -q "input 'x' holds 2 reals per sample, but the data file .*d/wide.csv holds samples of 3" err.txt &&
  ok || { bad "a range of 3 columns for f32[2]"; cat err.txt; }
tally_end csv_data
