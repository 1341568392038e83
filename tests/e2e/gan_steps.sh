#!/usr/bin/env bash
# End to end: a train block with two steps (a small GAN on 1,024 MNIST digits).
#  - Generated C, driven directly: the discriminator's step changes the discriminator's
#    parameters and leaves every generator parameter bit for bit as it was (batchnorm's running
#    statistics aside: the generator runs forward in both steps), and the generator's step the
#    other way round; each step keeps its own Adam state (discriminator.dense1.w.exp_avg, ...)
#    and its own scalars (discriminator.lr, generator.step); the steps table names both.
#  - dlc --run: both losses are reported per epoch and for the test split (report: epochs[].steps,
#    test.steps, test.phases), they move as a GAN's do (the discriminator neither wins outright
#    nor loses: its loss stays between 0.05 and 5; the generator's changes from epoch to epoch),
#    and the same seed gives the same run.
#   gan_steps.sh DLC REPO_ROOT
set -eu
dlc=$1 root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
pass=0 fail=0
check() { # check WHAT CONDITION...
  local what=$1; shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what"; fi
}
sed -e 's/^param epochs = 30/param epochs = 3/' -e 's/data = mnist(image = image)/data = mnist(image = image, limit = 1024, test_limit = 512)/' \
    -e 's/dense(z, 256)/dense(z, 32)/; s/dense(h, 512)))/dense(h, 32)))/; s/dense(h, 1024)/dense(h, 64)/' \
    -e 's/dense(image, 512)/dense(image, 32)/; s/dense(h, 256), 0.2)/dense(h, 16), 0.2)/' \
    -e 's/^param noise = 100/param noise = 16/' "$root/models/gan_mnist.dl" >"$tmp/gan.dl"

# --- the step functions, called directly ---
"$dlc" "$tmp/gan.dl" -o "$tmp/gan.c"
cat >"$tmp/main.c" <<'C'
#include "gan.c"
#include <math.h>
#include <stdlib.h>
#include "harness.h"

static const dlrt_model_desc *m;
static float *w, *before;

/* whether any real of the tensors whose name starts with `prefix` (params, or every kind
 * in the weights block when all) changed since `before` */
static int changed(const char *prefix, int all) {
    for (int i = 0; i < m->n_tensors; i++) {
        const dlrt_tensor_desc *t = &m->tensors[i];
        if (strncmp(t->name, prefix, strlen(prefix)) || (t->kind != DLRT_PARAM && !(all && t->kind == DLRT_STATE)))
            continue;
        long long n = 1;
        for (int d = 0; d < t->rank; d++) n *= t->dims[d];
        if (memcmp(w + t->offset, before + t->offset, sizeof(float) * (size_t)n)) return 1;
    }
    return 0;
}

int main(void) {
    m = gan_model();
    w = calloc((size_t)m->weights_count, sizeof(float));
    before = calloc((size_t)m->weights_count, sizeof(float));
    void *arena = calloc((size_t)m->arena_bytes, 1);
    for (int i = 0; i < m->n_tensors; i++) { /* parameters small and varied, state at zero */
        const dlrt_tensor_desc *t = &m->tensors[i];
        long long n = 1;
        for (int d = 0; d < t->rank; d++) n *= t->dims[d];
        for (long long k = 0; t->kind == DLRT_PARAM && k < n; k++)
            w[t->offset + k] = (float)sin((double)(t->offset + k)) * 0.05f;
    }
    static float image[128 * 784];
    for (int i = 0; i < 128 * 784; i++) image[i] = (float)((i * 7) % 11) / 10.0f;
    const void *inputs[1] = {image};
    double scalars[64], loss;
    for (int i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].kind == DLRT_SCALAR)
            scalars[m->tensors[i].index] = strstr(m->tensors[i].name, ".lr") ? 0.01 : 1;
    expect(m->n_steps == 2 && !strcmp(m->steps[0].name, "discriminator") &&
           !strcmp(m->steps[1].name, "generator") && m->train_step == m->steps[0].train,
           "the steps table: discriminator, then generator; train_step is the first");
    expect(find(m, DLRT_SCALAR, "discriminator.lr") && find(m, DLRT_SCALAR, "generator.step"),
           "each step has scalars of its own");
    expect(find(m, DLRT_STATE, "discriminator.dense1.w.exp_avg") &&
           find(m, DLRT_STATE, "generator.dense1.w.exp_avg"), "each step keeps Adam state for its own parameters");
    memcpy(before, w, sizeof(float) * (size_t)m->weights_count);
    m->steps[0].train(w, arena, inputs, 128, scalars, &loss);
    expect(isfinite(loss) && changed("discriminator.", 0), "the discriminator's step trains D");
    expect(!changed("generator.", 1), "the discriminator's step leaves G's parameters and state as they were");
    memcpy(before, w, sizeof(float) * (size_t)m->weights_count);
    m->steps[1].train(w, arena, inputs, 128, scalars, &loss);
    expect(isfinite(loss) && changed("generator.", 0), "the generator's step trains G");
    expect(!changed("discriminator.", 1), "the generator's step leaves D's parameters and state as they were");
    printf("%d failed\n", failures);
    return failures != 0;
}
C
cc -std=c99 -O1 -Wall -Wextra -Werror -I"$root/tests/e2e" -o "$tmp/main" "$tmp/main.c" -lm
check "the step functions update exactly their parameters" "$tmp/main"

# --- a short run ---
data=${DLC_DATA:-$root/data}
"$dlc" --run "$tmp/gan.dl" --data "$data" --report "$tmp/r1.json" >"$tmp/run.log"
cat "$tmp/run.log"
"$dlc" --run "$tmp/gan.dl" --data "$data" --report "$tmp/r2.json" -q >/dev/null
check "progress lines show both steps' losses" grep -q "discriminator_loss .* generator_loss" "$tmp/run.log"
python3 - "$tmp/r1.json" "$tmp/r2.json" <<'PY' || fail=$((fail + 1))
import json, math, sys
r, r2 = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
ok = True
def check(cond, what):
    global ok
    print(("ok: " if cond else "FAIL: ") + what)
    ok &= bool(cond)
d = [e["steps"]["discriminator"]["loss"] for e in r["epochs"]]
g = [e["steps"]["generator"]["loss"] for e in r["epochs"]]
print("discriminator", d, "generator", g)
check(len(d) == 3 and all(map(math.isfinite, d + g)), "every epoch has both steps' losses")
check(all(0.05 < x < 5 for x in d), "the discriminator neither wins outright nor collapses")
check(max(g) - min(g) > 1e-3, "the generator's loss moves")
check(set(r["test"]["steps"]) == {"discriminator", "generator"}, "the test split reports both steps")
check(len(r["test"]["phases"]) == 1 and r["test"]["phases"][0]["steps"] == r["test"]["steps"],
      "one phase, whose test split is the run's")
check([e["steps"] for e in r["epochs"]] == [e["steps"] for e in r2["epochs"]], "the same seed gives the same run")
sys.exit(0 if ok else 1)
PY
pass=$((pass + 1))
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
