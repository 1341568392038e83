/*
 * gradcheck.c — `dlc --gradcheck FILE`: checks every parameter gradient that autodiff builds
 * against central finite differences of the loss, in double precision, on random inputs.
 * The model is compiled without the optimizer update and with each gradient exposed as an
 * output. For up to 24 entries per parameter the criterion is torch.autograd.gradcheck's,
 * with its defaults: step 1e-6 and |analytic - numeric| <= atol + rtol * |numeric| with
 * atol = 1e-5, rtol = 1e-3. The report also gives the largest relative error seen. The loss
 * differentiated is the evaluation step's, with batchnorm on the batch's statistics (the
 * training-mode function, whose gradient autodiff builds; dropout and noise stay off; samples
 * draw the same values in every evaluation). A stop_gradient is held at its values of the
 * unperturbed evaluation while the differences are taken (cg_c_options.hold_stops), so the
 * check compares autodiff with the derivative of the function whose stopped paths are constant.
 */
#include "../codegen/cg_c.h"
#include "driver.h"
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { GC_SAMPLES = 24 };
static const double GC_STEP = 1e-6, GC_ATOL = 1e-5, GC_RTOL = 1e-3;

typedef struct gc_result {
    double worst_ratio; /* max |a - n| / (atol + rtol |n|); <= 1 passes */
    double worst_rel;   /* max |a - n| / max(|a|, |n|) over entries not both ~0 */
} gc_result;

/* classes for a label input: the width of the scores it is compared with */
static long long label_classes(const ir_graph *g, int input) {
    for (int id = 0; id < g->n_nodes; id++)
        if ((g->nodes[id].op == IR_OP_cross_entropy || g->nodes[id].op == IR_OP_nll) &&
            g->nodes[id].in[1] == input)
            return ir_get(g, g->nodes[id].in[0])->shape.dims[1];
    return 2;
}

static void *random_input(const ir_graph *g, int id, dlrt_rng *r) {
    const ir_node *n = ir_get(g, id);
    long long count = ir_shape_numel(&n->shape);
    if (n->dtype == IR_I32) {
        int *v = malloc(sizeof(int) * (size_t)count);
        long long classes = label_classes(g, id);
        for (long long i = 0; v && i < count; i++) v[i] = (int)(dlrt_rng_next(r) % (uint64_t)classes);
        return v;
    }
    double *v = malloc(sizeof(double) * (size_t)count);
    for (long long i = 0; v && i < count; i++) v[i] = dlrt_rng_normal(r);
    return v;
}

static double loss_at(const dlrt_session *s, const void *const *inputs) {
    double loss;
    s->model->eval_step(s->weights, s->arena, inputs, s->model->max_batch, NULL, &loss);
    return loss;
}

/* worst errors over sampled entries of one parameter */
static gc_result check_param(dlrt_session *s, const void *const *inputs, const dlrt_tensor_desc *p,
                             const double *grad, dlrt_rng *r) {
    long long count = 1;
    for (int i = 0; i < p->rank; i++) count *= p->dims[i];
    double *w = (double *)s->weights + p->offset;
    gc_result res = {0, 0};
    for (int k = 0; k < GC_SAMPLES && k < count; k++) {
        long long j = count <= GC_SAMPLES ? k : (long long)(dlrt_rng_next(r) % (uint64_t)count);
        double keep = w[j];
        w[j] = keep + GC_STEP;
        double up = loss_at(s, inputs);
        w[j] = keep - GC_STEP;
        double down = loss_at(s, inputs);
        w[j] = keep;
        double numeric = (up - down) / (2 * GC_STEP), a = grad[j];
        res.worst_ratio = fmax(res.worst_ratio, fabs(a - numeric) / (GC_ATOL + GC_RTOL * fabs(numeric)));
        if (fabs(a) > 1e-9 || fabs(numeric) > 1e-9)
            res.worst_rel = fmax(res.worst_rel, fabs(a - numeric) / fmax(fabs(a), fabs(numeric)));
    }
    return res;
}

static int check_all(dlc_unit *u, dlrt_session *s, const void *const *inputs, void (*hold)(int)) {
    const ir_graph *g = u->g;
    dlrt_rng r;
    dlrt_rng_seed(&r, 12345);
    loss_at(s, inputs); /* analytic gradients land in the arena; stop_gradient records */
    if (hold) hold(1);  /* the differences see each stopped path held at those values */
    int failed = 0, checked = 0;
    for (int id = 0; id < g->n_nodes; id++) {
        const ir_node *p = &g->nodes[id];
        if (p->op != IR_OP_param) continue;
        const dlrt_tensor_desc *od = dlc_gradient_output(g, s->model, p->name);
        if (!od) continue;
        const dlrt_tensor_desc *pd = dlrt_find_tensor(s->model, DLRT_PARAM, p->name);
        long long count = 1;
        for (int i = 0; i < pd->rank; i++) count *= pd->dims[i];
        double *grad = malloc(sizeof(double) * (size_t)count);
        memcpy(grad, (char *)s->arena + od->offset, sizeof(double) * (size_t)count);
        gc_result res = check_param(s, inputs, pd, grad, &r);
        free(grad);
        int ok = res.worst_ratio <= 1;
        printf("gradcheck %-24s max rel error %.2e  tolerance used %.2g%%  %s\n", p->name,
               res.worst_rel, 100 * res.worst_ratio, ok ? "ok" : "FAIL");
        failed += !ok;
        checked++;
    }
    printf("%d parameters checked, %d failed\n", checked, failed);
    return failed || !checked ? 1 : 0;
}

int dlc_gradcheck(dlc_unit *u, const dlc_options *o) {
    if (u->g->loss < 0) {
        fprintf(stderr, "dlc: error: %s: --gradcheck needs a train block with a loss\n", o->input);
        return 1;
    }
    cg_c_options co = {.prefix = u->cfg.model, .f64 = 1, .has_train = 0, .batch_stats = 1,
                       .hold_stops = 1};
    const char *src = cg_c_generate(u->g, &co, u->plan[DLC_TARGET_C], &u->a);
    void *handle = NULL;
    const dlrt_model_desc *m = dlc_build_and_load(src, u->cfg.model, o, &handle);
    if (!m) return 1;
    dlrt_session s;
    char err[512];
    if (dlrt_session_init(&s, m, (uint64_t)u->cfg.seed, err, sizeof err)) {
        fprintf(stderr, "dlc: error: %s\n", err);
        return 1;
    }
    const void *inputs[64] = {0};
    dlrt_rng r;
    dlrt_rng_seed(&r, (uint64_t)u->cfg.seed + 7);
    for (int id = 0; id < u->g->n_nodes; id++)
        if (u->g->nodes[id].op == IR_OP_input)
            inputs[dlrt_find_tensor(m, DLRT_INPUT, u->g->nodes[id].name)->index] =
                random_input(u->g, id, &r);
    void (*hold)(int) = NULL; /* only with a stop_gradient */
    *(void **)&hold = dlsym(handle, arena_printf(&u->a, "%s_hold", u->cfg.model));
    int status = check_all(u, &s, inputs, hold);
    for (int i = 0; i < 64; i++) free((void *)inputs[i]);
    dlrt_session_free(&s);
    return status;
}
