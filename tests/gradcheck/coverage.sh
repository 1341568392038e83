#!/usr/bin/env bash
# Every differentiable op in ir/ops.def must appear in the lowered IR of at least one
# gradient-check model in this folder, so no op's backward rule goes unchecked.
#   coverage.sh DLC OPS_DEF GRADCHECK_DIR
set -u
dlc=$1 ops=$2 dir=$3
seen=$(for f in "$dir"/*.dl; do "$dlc" --dump-after=lower "$f" || exit 1; done |
       sed -n 's/^  %[0-9]* = \([a-z_0-9]*\).*/\1/p' | sort -u)
missing=0 covered=0
# rows are OP(name, inputs, flags, shape, grad, attrs, cuda): the differentiable ones say DIFF
for op in $(sed -n 's/^OP(\([a-z_0-9]*\),.*, *DIFF, .*/\1/p' "$ops"); do
  if grep -qx "$op" <<<"$seen"; then covered=$((covered + 1)); else
    echo "no gradient check covers op '$op'"; missing=$((missing + 1)); fi
done
echo "gradcheck coverage: $covered passed, $missing failed"
[ "$missing" = 0 ] && [ "$covered" -gt 0 ]
