#!/usr/bin/env bash
# Weights files that cannot be used: a missing, cut-short, corrupt or foreign file and a tensor
# of the wrong dtype are errors (exit 1) naming the file and what is wrong; the output file is
# not written (one that existed is left as it was) and no temporary file stays behind. Saving
# to an unwritable place fails the same way; bad option combinations are refused. The good
# path: the tiny model saves, loads and its inference C compiles.
#   inference_errors.sh DLC REPO_ROOT
set -u
dlc=$(realpath "$1") root=$(realpath "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
passed=0 failed=0
cp "$root/tests/golden/inference/tiny.dl" "$root/tests/golden/inference/tiny.dlw" "$tmp/"
cd "$tmp"
echo "keep" >out.c

# expect PATTERN -- CMD...: exit status 1, a line of stderr matching PATTERN, out.c untouched
# and no temporary file left
expect() {
  local pattern=$1
  shift 2
  "$@" >stdout.txt 2>stderr.txt
  local got=$?
  if [ "$got" = 1 ] && grep -qE -- "$pattern" stderr.txt && [ "$(cat out.c)" = keep ] &&
     [ -z "$(ls -A | grep '\.tmp')" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $* -> exit $got, stderr:"; cat stderr.txt; ls
  fi
}

size=$(stat -c %s tiny.dlw)
head -c 100 tiny.dlw >cut.dlw
expect "cut.dlw: truncated in the tensor table" -- "$dlc" tiny.dl --weights cut.dlw -o out.c
head -c $((size - 6)) tiny.dlw >short.dlw
expect "short.dlw: truncated: the tensor table needs $size bytes, the file has $((size - 6))" -- \
  "$dlc" tiny.dl --weights short.dlw -o out.c
cp tiny.dlw magic.dlw && printf 'XLCW' | dd of=magic.dlw conv=notrunc status=none
expect "magic.dlw: not a dlc weights file \(bad magic\)" -- "$dlc" tiny.dl --weights magic.dlw -o out.c
cp tiny.dlw flipped.dlw && printf '\x55' | dd of=flipped.dlw bs=1 seek=$((size - 12)) conv=notrunc status=none
expect "flipped.dlw: checksum mismatch \(stored [0-9a-f]{8}, computed [0-9a-f]{8}\): the file is corrupt" -- \
  "$dlc" tiny.dl --weights flipped.dlw -o out.c
expect "nosuch.dlw: cannot open: No such file" -- "$dlc" tiny.dl --weights nosuch.dlw -o out.c
expect "tiny.dl: not a dlc weights file \(bad magic\)" -- "$dlc" tiny.dl --weights tiny.dl -o out.c

# a well-formed file whose dense2.b is i32: the tensor and both dtypes are named
python3 - tiny.dlw i32.dlw <<'PY'
import sys, zlib
b = bytearray(open(sys.argv[1], "rb").read()[:-4])
at = b.index(b"dense2.b") + len(b"dense2.b")
b[at:at + 4] = (1).to_bytes(4, "little")
open(sys.argv[2], "wb").write(bytes(b) + zlib.crc32(bytes(b)).to_bytes(4, "little"))
PY
expect "i32.dlw: tensor 'dense2.b' has dtype i32; the model needs f32\[1\]" -- \
  "$dlc" tiny.dl --weights i32.dlw -o out.c

# saving: an unwritable place is an error naming it, after training; nothing is left
expect "nodir/w.dlw: cannot write" -- "$dlc" -q --run tiny.dl --save-weights nodir/w.dlw
# option combinations
expect "--save-weights needs --run" -- "$dlc" tiny.dl --save-weights w.dlw
expect "--weights compiles for inference and cannot be combined with --run" -- \
  "$dlc" --run tiny.dl --weights tiny.dlw
expect "--weights compiles for inference and cannot be combined with --gradcheck" -- \
  "$dlc" --gradcheck tiny.dl --weights tiny.dlw
expect "--dump-after=inference needs --weights FILE" -- "$dlc" tiny.dl --dump-after=inference
expect "unknown option '--weight'; did you mean '--weights'" -- "$dlc" tiny.dl --weight tiny.dlw
expect "--no-fold needs --weights" -- "$dlc" tiny.dl --no-fold -o out.c
expect "--dump-after=fold_batchnorm needs --weights FILE" -- "$dlc" tiny.dl --dump-after=fold_batchnorm
expect "unknown option '--nofold'; did you mean '--no-fold'" -- "$dlc" tiny.dl --weights tiny.dlw --nofold

# the good path: save, load, compile strictly
if "$dlc" -q --run tiny.dl --save-weights w.dlw && "$dlc" tiny.dl --weights w.dlw -o w.c &&
   cc -std=c99 -Wall -Wextra -Werror -c w.c -o w.o && cmp -s w.dlw tiny.dlw; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
  echo "FAIL: save and load of tiny.dl (or the saved file differs from tiny.dlw)"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
