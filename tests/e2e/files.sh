#!/usr/bin/env bash
# The files a run reads and writes (docs/cli.md, "Files"): a FIFO, a device or an oversized
# file is refused as a model, weights or data file without hanging; an output that is one of
# the run's inputs (or another output) is refused; an existing output that is not a regular
# file is written in place, never replaced; write errors on outputs and on standard output are
# errors; temporaries never clobber a user's file; weights with a NUL in a tensor name are
# refused; and the messages for --run=yes, -o '' and images of the wrong size.
# Every error: exit status 1, the message, the user's files unchanged, no temporary left.
#   files.sh DLC REPO_ROOT
set -u
dlc=$(realpath "$1") root=$(realpath "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
passed=0 failed=0
cd "$tmp"
cp "$root/tests/golden/inference/tiny.dl" "$root/tests/golden/inference/tiny.dlw" .
mkdir keep && cp tiny.dl tiny.dlw keep/

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# no temporary of dlc's writer left anywhere under the test directory
no_temps() { [ -z "$(find . -name '.dlc-*.tmp' -o -name '*.tmp.*' 2>/dev/null)" ]; }

# expect PATTERN -- CMD...: exit 1 within 20 s, stderr matching PATTERN, tiny.dl and tiny.dlw
# unchanged, no temporary left
expect() {
  local pattern=$1
  shift 2
  timeout 20 "$@" >stdout.txt 2>stderr.txt </dev/null
  local got=$?
  if [ "$got" = 1 ] && grep -qE -- "$pattern" stderr.txt && cmp -s tiny.dl keep/tiny.dl &&
     cmp -s tiny.dlw keep/tiny.dlw && no_temps; then
    ok
  else
    bad "$* -> exit $got, stderr:"; cat stderr.txt
  fi
  cp keep/tiny.dl keep/tiny.dlw . # each case on the originals, whatever the last one did
}

# ---- inputs that would hang or grow without bound ----
mkfifo fifo.dl
expect "fifo.dl: is a FIFO; a model source must be a regular file" -- "$dlc" fifo.dl -o out.c
expect "/dev/zero: is a character device; a model source must be a regular file" -- "$dlc" /dev/zero
expect "/dev/urandom: is a character device; a weights file must be a regular file" -- \
  "$dlc" tiny.dl --weights /dev/urandom -o out.c
mkfifo fifo.dlw
expect "fifo.dlw: is a FIFO; a weights file must be a regular file" -- "$dlc" tiny.dl --weights fifo.dlw
truncate -s 17M big.dl
expect "big.dl: 17825792 bytes is over the 16 MiB limit for a model source" -- "$dlc" big.dl
mkdir -p fifodata/mnist && mkfifo fifodata/mnist/train-images-idx3-ubyte.gz
expect "train-images-idx3-ubyte.gz: is a FIFO; a data file must be a regular file" -- \
  "$dlc" -q --run "$root/models/mnist_mlp.dl" --data fifodata
[ -z "$(ls out.c 2>/dev/null)" ] && ok || bad "out.c written by a failed run"

# ---- outputs that would destroy inputs ----
expect "-o tiny.dl would overwrite the model file tiny.dl, an input of this run" -- \
  "$dlc" tiny.dl -o tiny.dl
expect "-o ./tiny.dl would overwrite the model file tiny.dl" -- "$dlc" tiny.dl -o ./tiny.dl
ln -s tiny.dl link.dl
expect "-o link.dl would overwrite the model file tiny.dl" -- "$dlc" tiny.dl -o link.dl
expect "--save-weights tiny.dl would overwrite the model file tiny.dl" -- \
  "$dlc" -q --run tiny.dl --save-weights tiny.dl
expect "--report tiny.dl would overwrite the model file tiny.dl" -- \
  "$dlc" -q --run tiny.dl --report tiny.dl
expect "-o tiny.dlw would overwrite --weights tiny.dlw, an input of this run" -- \
  "$dlc" tiny.dl --weights tiny.dlw -o tiny.dlw
expect "--save-weights ./r.json and --report r.json name the same file" -- \
  "$dlc" -q --run tiny.dl --report r.json --save-weights ./r.json
[ -z "$(ls r.json 2>/dev/null)" ] && ok || bad "r.json written by a refused run"

# ---- existing outputs that are not regular files: written in place, never replaced ----
# as root, private device nodes (so a dlc that replaced them could never harm the real ones)
full=/dev/full
[ "$(id -u)" = 0 ] && mknod full c 1 7 2>/dev/null && full=$tmp/full
expect "$full: cannot write: No space left on device" -- "$dlc" tiny.dl -o "$full"
[ -c "$full" ] && ok || bad "$full is no longer a character device"
"$dlc" tiny.dl -o ref.c && ok || bad "-o ref.c"
if [ "$(id -u)" = 0 ] && mknod null c 1 3 2>/dev/null; then
  if "$dlc" tiny.dl -o null && "$dlc" -q --run tiny.dl --report null --save-weights null &&
     [ -c null ]; then ok; else bad "-o null replaced the device node: $(ls -l null)"; fi
else
  echo "note: not root (or no mknod): the private /dev/null case is skipped"
fi
mkfifo out.fifo
timeout 20 cat out.fifo >from_fifo.c &
reader=$!
if timeout 20 "$dlc" tiny.dl -o out.fifo && wait $reader && [ -p out.fifo ] &&
   cmp -s from_fifo.c ref.c; then ok; else bad "-o FIFO: not written in place"; fi

# ---- standard output that cannot be written (redirections never replace the device) ----
expect "dlc: error: standard output: No space left on device" -- \
  sh -c '"$1" tiny.dl --emit-c >/dev/full' sh "$dlc"
expect "dlc: error: standard output: No space left on device" -- \
  sh -c '"$1" tiny.dl --mem-report >/dev/full' sh "$dlc"
expect "dlc: error: standard output: No space left on device" -- \
  sh -c '"$1" tiny.dl --dump-after=shape >/dev/full' sh "$dlc"
expect "dlc: error: standard output: Bad file descriptor" -- \
  sh -c '"$1" tiny.dl --emit-c >&-' sh "$dlc"
expect "dlc: error: standard output: Bad file descriptor" -- \
  sh -c '"$1" tiny.dl --mem-report >&-' sh "$dlc"

# ---- temporaries: a user's NAME.tmp is not touched; the longest path is written safely ----
echo "mine" >r.json.tmp && cp r.json.tmp keep/
if "$dlc" -q --run tiny.dl --report r.json && cmp -s r.json.tmp keep/r.json.tmp &&
   grep -q '"model": "tiny"' r.json && no_temps; then ok; else bad "--report r.json with r.json.tmp"; fi
long=$tmp/long
while [ $((4095 - ${#long} - 1)) -gt 250 ]; do long=$long/$(printf 'd%.0s' $(seq 200)); done
mkdir -p "$long"
file=$long/$(printf 'f%.0s' $(seq $((4095 - ${#long} - 1))))
echo "keep" >"$file"
expect "broken.dl:[0-9]+:[0-9]+: error" -- sh -c 'printf "model\n" >broken.dl; "$1" broken.dl -o "$2"' sh "$dlc" "$file"
[ "$(cat "$file")" = keep ] && ok || bad "4095-character -o clobbered by a failed run"
if [ ${#file} = 4095 ] && "$dlc" tiny.dl -o "$file" && cmp -s "$file" ref.c && no_temps; then ok
else bad "-o with a 4095-character path (${#file})"; fi

# ---- weights files: a tensor name with an embedded NUL (and a valid checksum) ----
python3 - tiny.dlw nul.dlw <<'PY'
import sys, zlib
b = bytearray(open(sys.argv[1], "rb").read()[:-4])
at = b.index(b"dense2.b")
assert int.from_bytes(b[at - 4:at], "little") == 8
b[at - 4:at + 8] = (11).to_bytes(4, "little") + b"dense2.b\0xy"
open(sys.argv[2], "wb").write(bytes(b) + zlib.crc32(bytes(b)).to_bytes(4, "little"))
PY
echo keep >out.c && cp out.c keep/out.c
expect "nul.dlw: the name of tensor [0-9]+ of [0-9]+ \('dense2.b' then a NUL byte\) contains a NUL byte" -- \
  "$dlc" tiny.dl --weights nul.dlw -o out.c
cmp -s out.c keep/out.c && ok || bad "out.c changed by a refused weights file"

# ---- messages ----
expect "option '--run' takes no value \(got '--run=yes'\)" -- "$dlc" --run=yes tiny.dl
expect "option '-o' needs a file name, got an empty one" -- "$dlc" tiny.dl -o ''
expect "option '--report' needs a file name" -- "$dlc" --run tiny.dl --report=
mkdir -p odd/mnist
python3 - odd/mnist <<'PY'
import gzip, struct, sys
n = 16
for split in ("train", "t10k"):
    with gzip.open(f"{sys.argv[1]}/{split}-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">BBBBIII", 0, 0, 8, 3, n, 28, 27) + bytes(n * 28 * 27))
    with gzip.open(f"{sys.argv[1]}/{split}-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">BBBBI", 0, 0, 8, 1, n) + bytes(n))
PY
expect "input 'image' holds 784 reals per sample, but the data file odd/mnist/train-images-idx3-ubyte.gz holds samples of 1x28x27 \(756 reals\)" -- \
  "$dlc" -q --run "$root/models/mnist_mlp.dl" --data odd

echo "files: $passed passed, $failed failed"
[ "$failed" = 0 ]
