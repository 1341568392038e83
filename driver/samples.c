/*
 * samples.c — the tensors a train block's `samples = sample(VALUE, ...)` reads, for
 * --samples: the params and buffers (batchnorm's running statistics) its value depends on in
 * the compiled graph. --run --save-weights adds them to the weights file (beside what the
 * inference graph reads), and `dlc MODEL --weights FILE --samples OUT` needs each of them in
 * FILE (runtime/dlrt_samples.c).
 */
#include "driver.h"
#include <string.h>

int dlc_sample_names(dlc_unit *u, const char ***names, int *n) {
    const ir_graph *g = u->g;
    const samples_config *sc = &u->cfg.samples;
    *names = arena_alloc(&u->a, sizeof(char *) * (size_t)(g->n_nodes + 1));
    *n = 0;
    if (!sc->present || sc->output < 0 || sc->output >= g->n_outputs) return 0;
    char *reach = arena_alloc(&u->a, (size_t)g->n_nodes + 1);
    reach[g->outputs[sc->output]] = 1;
    for (int id = g->n_nodes - 1; id >= 0; id--) {
        if (!reach[id]) continue;
        const ir_node *node = ir_get(g, id);
        if (ir_op_in_weights(node->op) && node->name) (*names)[(*n)++] = node->name;
        for (int k = 0; k < node->n_in; k++) reach[node->in[k]] = 1;
    }
    return 0;
}

const char **dlc_merge_names(arena *a, const char **names, int n, const char *const *more,
                             int n_more, int *out) {
    const char **all = arena_alloc(a, sizeof(char *) * (size_t)(n + n_more + 1));
    for (int i = 0; i < n; i++) all[i] = names[i];
    *out = n;
    for (int j = 0; j < n_more; j++) {
        int seen = 0;
        for (int i = 0; i < *out && !seen; i++) seen = !strcmp(all[i], more[j]);
        if (!seen) all[(*out)++] = more[j];
    }
    return all;
}
