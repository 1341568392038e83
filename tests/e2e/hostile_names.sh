#!/usr/bin/env bash
# Names that are hostile to C (tests/e2e/hostile_names.dl: "*/", "/*", trigraphs "??/" and
# "??=", quotes, backslashes, a tab, UTF-8) reach generated comments and string literals
# escaped, so every file dlc generates for the model compiles strictly: the training C
# (check_c_compiles.sh: built-in GEMM, cblas, OpenMP), the CUDA program's host C (kernel source
# as a string literal), and the inference C with trained weights; and the model trains (--run)
# and its weights round-trip through --save-weights / --weights under those names.
#   hostile_names.sh DLC REPO_ROOT
set -eu
dlc=$1 root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
model="$root/tests/e2e/hostile_names.dl"
strict="cc -std=c99 -Wall -Wextra -Werror"
"$root/tests/check_c_compiles.sh" "$dlc" "$model" >/dev/null
"$dlc" --target cuda "$model" -o "$tmp/host.c"
$strict -I"$root/runtime" -c "$tmp/host.c" -o "$tmp/host.o"
grep -q 'a\*\\\\/ b/\\\\\* c' "$tmp/host.c" # the kernel source's comments are escaped too
"$dlc" --run -q "$model" --save-weights "$tmp/w.dlw" >/dev/null
"$dlc" "$model" --weights "$tmp/w.dlw" -o "$tmp/infer.c"
$strict -c "$tmp/infer.c" -o "$tmp/infer.o"
echo "1 passed, 0 failed"
