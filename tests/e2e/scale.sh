#!/usr/bin/env bash
# Big inputs (docs/language.md, "Limits"): each either compiles or exits with status 1 and an
# error that states the limit, quickly, without a crash, within 4 GB of address space: a chain
# of 10^6 terms in a model, in a param and under --dump-after=parse, 10^5 nested parentheses,
# 10^6 unary minus signs, a 100,000-layer model (-o and --mem-report), and 100,000 statements
# with an error each (the first 100 are shown); a 10,000-layer model compiles. The timeout is generous so that slow machines do not flake (here each case takes
# well under a second but the 10,000 layers, about 3 s).
#   scale.sh DLC
set -u
dlc=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
# ASan reserves terabytes of address space for its shadow memory: no ulimit -v under it
limit_vm=1
if grep -q __asan_init "$dlc"; then limit_vm=0; fi

# expect STATUS PATTERN -- ARGS...: dlc's exit status and a line of stderr matching PATTERN
# (an empty PATTERN: nothing on stderr), and not much of it
expect() {
  local want=$1 pattern=$2
  shift 3
  local start=$SECONDS
  ( if [ "$limit_vm" = 1 ]; then ulimit -v 4000000; fi
    exec timeout 60 "$dlc" "$@" ) >"$tmp/out" 2>"$tmp/err"
  local got=$?
  local bytes
  bytes=$(wc -c <"$tmp/err")
  local said=1
  if [ -n "$pattern" ]; then grep -qE -- "$pattern" "$tmp/err" || said=0
  elif [ "$bytes" != 0 ]; then said=0; fi
  if [ "$got" = "$want" ] && [ "$said" = 1 ] && [ "$bytes" -lt "${max_stderr:-4096}" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: dlc $* -> exit $got (want $want), $bytes bytes of stderr:"; head -c 600 "$tmp/err"
  fi
  echo "  $((SECONDS - start)) s: dlc $*"
}

# a model whose output is an expression of $2 terms "x + x + ..."
chain() {
  awk -v n="$2" 'BEGIN { printf "model m {\n  input x: f32[4]\n  y = x";
                         for (i = 1; i < n; i++) printf " + x"; printf "\n}\n" }' >"$1"
}
chain "$tmp/chain.dl" 1000000
chain "$tmp/chain1000.dl" 1000
awk 'BEGIN { printf "param p = 1"; for (i = 1; i < 1000000; i++) printf " * 1";
             printf "\nmodel m {\n  input x: f32[4]\n  y = x * p\n}\n" }' >"$tmp/param.dl"
awk 'BEGIN { printf "model m {\n  input x: f32[4]\n  y = ";
             for (i = 0; i < 100000; i++) printf "("; printf "x";
             for (i = 0; i < 100000; i++) printf ")"; printf "\n}\n" }' >"$tmp/parens.dl"
awk 'BEGIN { printf "model m {\n  input x: f32[4]\n  y = ";
             for (i = 0; i < 1000000; i++) printf "- "; printf "x\n}\n" }' >"$tmp/minus.dl"
# N dense layers, trained (forward, backward and update are planned)
layers() {
  awk -v n="$2" 'BEGIN {
    print "model m {\n  input image: f32[784]\n  input label: i32[]\n  h = image"
    for (i = 0; i < n; i++) print "  h = relu(dense(h, 8))"
    print "  logits = dense(h, 10)\n}\ntrain m {"
    print "  data = mnist(image = image, label = label)\n  loss = cross_entropy(logits, label)"
    print "  optimizer = sgd(lr = 0.1)\n  batch = 8\n  epochs = 1\n}" }' >"$1"
}
layers "$tmp/l100000.dl" 100000
awk 'BEGIN { printf "model m {\n  input x: f32[4]\n";
             for (i = 0; i < 100000; i++) printf "  h = y\n"; printf "}\n" }' >"$tmp/errors.dl"
layers "$tmp/l10000.dl" 10000

deep="chain.dl:3:4007: error: expression is nested too deeply: more than 1000 levels"
expect 1 "$deep" -- "$tmp/chain.dl" -o "$tmp/chain.c"
expect 1 "$deep" -- --dump-after=parse "$tmp/chain.dl"
expect 1 "param.dl:1:4011: error: expression is nested too deeply: more than 1000" -- "$tmp/param.dl"
expect 1 "parens.dl:3:262: error: brackets are nested too deeply: more than 256 open" -- "$tmp/parens.dl"
expect 1 "minus.dl:3:[0-9]+: error: expression is nested too deeply: more than 10000 operators" -- "$tmp/minus.dl"
large="l100000.dl:[0-9]+:3: error: model 'm' is too large: more than 60000 operations"
expect 1 "$large" -- "$tmp/l100000.dl" -o "$tmp/l100000.c"
expect 1 "$large" -- --mem-report "$tmp/l100000.dl"
max_stderr=65536 expect 1 "errors.dl: error: too many errors; only the first 100 are shown" -- \
  "$tmp/errors.dl"
expect 0 "" -- "$tmp/chain1000.dl" -o "$tmp/chain1000.c"
expect 0 "" -- "$tmp/l10000.dl" -o "$tmp/l10000.c"
for f in chain l100000; do
  if [ -e "$tmp/$f.c" ]; then failed=$((failed + 1)); echo "FAIL: $f.c was written"; fi
done
for f in chain1000 l10000; do
  if ! grep -q "^static void m_eval_step(" "$tmp/$f.c" 2>/dev/null; then
    failed=$((failed + 1)); echo "FAIL: $f.c has no step function"
  fi
done
echo "scale: $passed passed, $failed failed"
[ "$failed" = 0 ]
