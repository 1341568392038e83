/*
 * harness.h — shared by the end-to-end tests that drive generated C directly
 * (batchnorm_modes.sh, dropout_noise.sh): a check counter and a tensor-table lookup. Include it
 * after the generated C file, which brings the ABI types.
 */
#include <stdio.h>
#include <string.h>

static int failures; /* checks that failed so far */

static void expect(int ok, const char *what) {
    printf("%s: %s\n", ok ? "ok" : "FAIL", what);
    failures += !ok;
}

/* the first tensor of `kind` named `name` (any name when NULL), or NULL */
static const dlrt_tensor_desc *find(const dlrt_model_desc *m, int kind, const char *name) {
    for (int i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].kind == kind && (!name || !strcmp(m->tensors[i].name, name)))
            return &m->tensors[i];
    return NULL;
}
