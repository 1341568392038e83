#!/usr/bin/env bash
# arch_gate_test.sh — the architecture gate's own test (ctest arch_gate.self): builds small
# fixture trees in a temporary folder and checks that a clean tree passes (printing the median
# and p90) and that each rule fires on its fixture, naming the offender: a file over 800 lines,
# a function over 60 lines, a p90 over 30, each layer rule, a folder include cycle, an exported
# name without its folder's prefix; and that a
# file-scope macro invocation (ELOSS(x) before a function) is measured as the function after it,
# and that without Universal Ctags the gate exits 2.
set -euo pipefail
GATE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/arch_gate.py"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0

# a static function NAME whose definition spans N lines (N >= 3); EXPORT=1: not static
func() {
  local name=$1 n=$2 i
  if [ "${EXPORT:-0}" = 1 ]; then echo "int $name(int x) {"; else echo "static int $name(int x) {"; fi
  for ((i = 0; i < n - 3; i++)); do echo "    x += $i;"; done
  echo "    return x;"
  echo "}"
}

# a clean tree: small files and functions, includes that follow the layers
clean_tree() {
  local t=$1
  mkdir -p "$t"/{frontend,ir,passes,codegen,runtime,driver,support}
  echo '/* ir.h */' > "$t/ir/ir.h"
  echo '/* arena.h */' > "$t/support/arena.h"
  printf '#include "../support/arena.h"\n' > "$t/ir/ir_util.h"
  printf '#include "../ir/ir.h"\n#include "../runtime/dlrt_abi.h"\n' > "$t/passes/pass.h"
  printf '#include "../runtime/dlrt_cuda_program.h"\n#include "cg.h"\n' > "$t/codegen/cg_internal.h"
  echo '/* cg.h */' > "$t/codegen/cg.h"
  echo '/* dlrt_abi.h */' > "$t/runtime/dlrt_abi.h"
  echo '/* dlrt_cuda_program.h */' > "$t/runtime/dlrt_cuda_program.h"
  echo '/* dlrt_weights.h */' > "$t/runtime/dlrt_weights.h"
  printf '#include "../codegen/cg.h"\n#include "../passes/pass.h"\n#include "../runtime/dlrt_weights.h"\n' \
    > "$t/driver/compile.c"
  printf '#include "../ir/ir.h"\n' > "$t/frontend/lower.c"
  { func a 8; func b 12; func c 30; } >> "$t/frontend/lower.c"
  { func d 60; for f in e f g h i j k; do func $f 3; done; } >> "$t/driver/compile.c"
}

# expect CASE RC PATTERN...: the gate on $TMP/CASE exits RC and prints every PATTERN
expect() {
  local name=$1 want=$2 out rc=0
  shift 2
  out=$(python3 "$GATE" "$TMP/$name" 2>&1) || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "FAIL $name: exit $rc, expected $want"; echo "$out"; failures=$((failures + 1)); return
  fi
  local p
  for p in "$@"; do
    if ! grep -qF -- "$p" <<<"$out"; then
      echo "FAIL $name: output lacks '$p'"; echo "$out"; failures=$((failures + 1)); return
    fi
  done
  echo "ok   $name"
}

clean_tree "$TMP/clean"
expect clean 0 "arch_gate: function lines: median 3, p90 30" "arch_gate: ok"

clean_tree "$TMP/long_file"
for ((i = 0; i < 801; i++)); do echo "/* $i */"; done > "$TMP/long_file/support/big.h"
expect long_file 1 "support/big.h: 801 lines (limit 800)"

clean_tree "$TMP/long_function"
func too_long 61 >> "$TMP/long_function/ir/ir.c"
expect long_function 1 "ir/ir.c:1: function too_long is 61 lines (limit 60)"

clean_tree "$TMP/p90"
for i in 1 2 3; do func "mid$i" 31; done > "$TMP/p90/passes/p.c"
expect p90 1 "function-length p90 is 31 lines (limit 30)"

clean_tree "$TMP/layers"
printf '#include "../runtime/dlrt_weights.h"\n' > "$TMP/layers/passes/fold.c"
printf '/* cg */\n#include "../runtime/dlrt_weights.h"\n' > "$TMP/layers/codegen/cg.c"
printf '#include "../codegen/cg_internal.h"\n' > "$TMP/layers/driver/cuda.c"
printf '#include "../passes/pass.h"\n' > "$TMP/layers/frontend/lower.h"
expect layers 1 \
  'codegen/cg.c:2: includes "../runtime/dlrt_weights.h": passes/ and codegen/ include no runtime header' \
  'passes/fold.c:1: includes "../runtime/dlrt_weights.h"' \
  'driver/cuda.c:1: includes "../codegen/cg_internal.h": driver/ includes no codegen *_internal.h' \
  'frontend/lower.h:1: includes "../passes/pass.h": the frontend includes no passes/ header' \
  "arch_gate: 4 violations"

clean_tree "$TMP/cycle"
printf '#include "../passes/pass.h"\n' >> "$TMP/cycle/support/arena.h"
expect cycle 1 "include cycle between folders ir, passes, support: " \
  "ir -> support (ir/ir_util.h:1)" "passes -> ir (passes/pass.h:1)" \
  "support -> passes (support/arena.h:2)"

clean_tree "$TMP/macro"
{ echo '#define ELOSS(n) static int n##_loss(int x) { return x; }'
  echo 'ELOSS(mse)'; func after_macro 61; } > "$TMP/macro/codegen/ops.c"
expect macro 1 "macro invocations not counted: ELOSS" \
  "codegen/ops.c:3: function after_macro is 61 lines (limit 60)"

clean_tree "$TMP/prefix"
{ EXPORT=1 func ir_fine 3; EXPORT=1 func shape_rule 3; } > "$TMP/prefix/ir/shape.c"
{ EXPORT=1 func dlc_main_loop 3; EXPORT=1 func main 3; echo 'int counter = 1;'; } > "$TMP/prefix/driver/main.c"
expect prefix 1 "ir/shape.c:4: exported shape_rule lacks its folder's prefix (ir_)" \
  "driver/main.c:7: exported counter lacks its folder's prefix (dlc_)" "arch_gate: 2 violations"

# without Universal Ctags the gate refuses to judge (exit 2) instead of passing
rc=0; out=$(CTAGS=/nonexistent/ctags python3 "$GATE" "$TMP/clean" 2>&1) || rc=$?
if [ "$rc" = 2 ] && grep -qF "universal-ctags" <<<"$out"; then echo "ok   no_ctags"
else echo "FAIL no_ctags: exit $rc"; echo "$out"; failures=$((failures + 1)); fi

if [ "$failures" -ne 0 ]; then echo "arch_gate_test: $failures failure(s)"; exit 1; fi
echo "arch_gate_test: all cases pass"
