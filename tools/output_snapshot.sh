#!/usr/bin/env bash
# output_snapshot.sh — everything the compiler prints for every model file of the repository, one
# file per (model, mode), so a refactoring can show its output is byte-identical:
#   tools/output_snapshot.sh path/to/dlc OUTDIR
#   diff -r OLD NEW
# Modes: C (--emit-c), C in f64, CUDA (--target cuda --emit-c), the IR after every pass, the memory
# report (table and --json, CPU and CUDA), and with --check-numerics. Models: models/, the
# gradcheck files, the golden cases and the e2e models. Each file holds stdout, stderr and the
# exit status; each model is compiled from its own folder so file names in messages are stable.
set -u
dlc=$(realpath "$1") out=$(mkdir -p "$2" && realpath "$2")
root=$(cd "$(dirname "$0")/.." && pwd)
export DLC_CACHE="${DLC_CACHE:-$(mktemp -d)}"
modes=(
  "c|--emit-c" "c_f64|--emit-c --f64" "cuda|--target cuda --emit-c"
  "numerics_c|--emit-c --check-numerics" "numerics_cuda|--target cuda --emit-c --check-numerics"
  "mem|--mem-report" "mem_json|--mem-report --json" "mem_cuda|--mem-report --target cuda --json"
  "mem_noreuse|--mem-report --no-reuse --json"
  "parse|--dump-after=parse" "lower|--dump-after=lower" "shape|--dump-after=shape"
  "autodiff|--dump-after=autodiff" "optimizer|--dump-after=optimizer" "dce|--dump-after=dce"
)
n=0
for dl in "$root"/models/*.dl "$root"/tests/gradcheck/*.dl "$root"/tests/golden/*/*.dl \
          "$root"/tests/e2e/*.dl; do
  [ -f "$dl" ] || continue
  dir=$(dirname "$dl") name=$(basename "$dl" .dl) rel=${dir#"$root"/}
  dest="$out/${rel//\//_}__$name"
  mkdir -p "$dest"
  for m in "${modes[@]}"; do
    tag=${m%%|*} args=${m#*|}
    ( cd "$dir" && { timeout 60 "$dlc" $args "$name.dl" 2>&1; echo "--- exit $?"; } ) >"$dest/$tag" 2>&1
    n=$((n + 1))
  done
done
# inference: every model beside a weights file, compiled with each weights file there
imodes=("ic|--emit-c" "ic_nofold|--emit-c --no-fold" "ic_f64|--emit-c --f64" "inference|--dump-after=inference"
        "fold_batchnorm|--dump-after=fold_batchnorm" "idce|--dump-after=dce")
for w in $(find "$root/tests" "$root/models" -name '*.dlw' | sort); do
  dir=$(dirname "$w") wname=$(basename "$w")
  for dl in "$dir"/*.dl; do
    name=$(basename "$dl" .dl) rel=${dir#"$root"/}
    dest="$out/${rel//\//_}__${name}__$wname"
    mkdir -p "$dest"
    for m in "${imodes[@]}"; do
      tag=${m%%|*} args=${m#*|}
      ( cd "$dir" && { timeout 60 "$dlc" --weights "$wname" $args "$name.dl" 2>&1; echo "--- exit $?"; } ) >"$dest/$tag" 2>&1
      n=$((n + 1))
    done
  done
done
echo "snapshot: $n outputs in $out"
