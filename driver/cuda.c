/*
 * cuda.c — dlc's CUDA modes. `--target cuda -o FILE` writes the program's host C (kernel source
 * embedded, launch tables) and `--emit-c` prints the CUDA source then that host C.
 * `--check-cuda` runs each training step (of a train block with `step` sections, every step in
 * order: three rounds, at the full batch, a smaller last batch, the full batch again) and the
 * evaluation step on the C backend and on the GPU from the same weights and inputs, and
 * compares every stored value node by node, the updated weights and the loss.
 * Compiled modules are cached like the C backend's shared objects (build.c): keyed by the
 * source, the GPU architecture, NVRTC's version and its options.
 */
#include "../codegen/cg_backend.h"
#include "../codegen/cg_c.h"
#include "../codegen/cg_cuda.h"
#include "../passes/memplan.h"
#include "../runtime/dlrt_cuda.h"
#include "cuda_device.h"
#include "driver.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int dlc_cuda_generate(dlc_unit *u, const dlc_options *o) {
    const char *prefix = u->cfg.model ? u->cfg.model : "model";
    cg_cuda_options co = {.prefix = prefix, .has_train = u->cfg.present, .no_reuse = o->no_reuse,
                          .check_numerics = o->check_numerics};
    const dlrt_cuda_program *p = cg_cuda_generate(u->g, &co, u->plan[DLC_TARGET_CUDA], &u->a);
    const char *host = cg_cuda_host_text(p, prefix, &u->a);
    if (o->emit_c) {
        fputs(p->source, stdout);
        fputs("\n/* ---- host side ---- */\n\n", stdout);
        fputs(host, stdout);
    }
    if (o->output && dlc_write_file_atomic(o->output, host)) return 1;
    return 0;
}

/* the module of `source` for `arch`: from the cache, else compiled by NVRTC and cached
 * (malloc'd; NULL after printing why) */
static void *cuda_module(const char *source, const char *arch, const dlc_options *o) {
    char err[65536], dir[3072], path[4096], key[64];
    int version = dlrt_nvrtc_version(err, sizeof err);
    if (version < 0) {
        fprintf(stderr, "dlc: error: %s\n", err);
        return NULL;
    }
    char ver[32];
    snprintf(ver, sizeof ver, "nvrtc %d", version);
    uint64_t h = dlc_cache_hash(0, source);
    h = dlc_cache_hash(h, arch);
    h = dlc_cache_hash(h, ver);
    h = dlc_cache_hash(h, dlrt_nvrtc_options());
    snprintf(key, sizeof key, "%016llx-%s", (unsigned long long)h, arch);
    if (!dlc_cache_dir(o, dir, sizeof dir) || dlc_path(path, sizeof path, "%s/%s.cubin", dir, key))
        return NULL;
    size_t size;
    void *cubin = dlrt_read_file(path, &size, err, sizeof err);
    if (cubin) {
        if (!o->quiet) fprintf(stderr, "dlc: using the cached CUDA module %s\n", path);
        return cubin;
    }
    if (dlrt_nvrtc_compile(source, arch, &cubin, &size, NULL, err, sizeof err)) {
        fprintf(stderr, "dlc: error: %s\n", err);
        return NULL;
    }
    char werr[4096] = "";
    if (dlc_mkdir_p(dir) != 0) snprintf(werr, sizeof werr, "%s: %s", dir, strerror(errno));
    else dlrt_write_file(path, cubin, size, werr, sizeof werr);
    if (werr[0]) fprintf(stderr, "dlc: warning: cannot cache the CUDA module: %s\n", werr);
    else if (!o->quiet)
        fprintf(stderr, "dlc: compiled the CUDA kernels with NVRTC for %s\n", arch);
    return cubin;
}

/* opens the device (NULL after printing why: no driver, no device); *arch gets its sm_XY */
static dlrt_cuda *cuda_open(char *arch, size_t archlen, const dlc_options *o) {
    char err[4096];
    dlrt_cuda *c = dlrt_cuda_open(arch, archlen, err, sizeof err);
    if (!c) fprintf(stderr, "dlc: error: %s\n", err);
    else if (!o->quiet) fprintf(stderr, "dlc: CUDA device %s (%s)\n", dlrt_cuda_device_name(c), arch);
    return c;
}

/* loads program p on device c with its module and the initial weights (-1 after printing why) */
static int cuda_load(dlrt_cuda *c, const char *arch, const dlrt_cuda_program *p,
                     const float *weights, const dlc_options *o) {
    char err[4096];
    void *cubin = cuda_module(p->source, arch, o);
    if (!cubin) return -1;
    int r = dlrt_cuda_load(c, p, cubin, weights, err, sizeof err);
    if (r) fprintf(stderr, "dlc: error: %s\n", err);
    free(cubin);
    return r;
}

/* ---- --check-cuda: the C backend (the reference) against the GPU, value by value ---- */

static const double CHECK_RTOL = 1e-4, CHECK_ATOL = 1e-7; /* see worst_ratio */

typedef struct checker {
    dlc_unit *u;                  /* the compiled model */
    const dlc_options *o;         /* options */
    const dlrt_model_desc *m;     /* the C build (no reuse) */
    dlrt_session s;               /* its weights and arena */
    mem_plan cplan, gplan;        /* the C and CUDA memory plans (no reuse) */
    const dlrt_cuda_program *p;   /* the CUDA program (no reuse) */
    cuda_device dev;              /* the GPU, or its emulation */
    unsigned char *garena;        /* the device arena, read back */
    float *gweights;              /* the device weights, read back */
    float *before;                /* the CPU's weights before the step */
    void *inputs[DLRT_CUDA_MAX_INPUTS]; /* the inputs fed to both */
    int checked, failed;          /* tensors compared op by op (and losses), and those off */
    int chained_checked, chained_failed; /* the same for the whole steps' values */
} checker;

/* How far gpu is from cpu, in tolerances (<= 1 passes): each value may differ by CHECK_RTOL of
 * the larger of its own magnitude and 1% of the tensor's largest, plus CHECK_ATOL (values that
 * are rounding noise around zero, such as gradients that cancel, differ in their noise only).
 * *rel gets the largest plain relative difference, *at the worst value's index. */
static double worst_ratio(const float *cpu, const float *gpu, long long count, double atol,
                          double *rel, long long *at) {
    double maxabs = 0, worst = 0;
    for (long long i = 0; i < count; i++) maxabs = fmax(maxabs, fabs(cpu[i]));
    *at = 0, *rel = 0;
    for (long long i = 0; i < count; i++) {
        double d = fabs((double)gpu[i] - cpu[i]);
        double tol = CHECK_RTOL * fmax(fabs(cpu[i]), 1e-2 * maxabs) + atol;
        double ratio = d / tol;
        if (isnan(gpu[i]) != isnan(cpu[i])) ratio = INFINITY;
        else if (isnan(gpu[i])) ratio = d = 0;
        if (fabs(cpu[i]) > 0) *rel = fmax(*rel, d / fabs(cpu[i]));
        if (ratio > worst) worst = ratio, *at = i;
    }
    return worst;
}

static void compare_atol(checker *k, const char *what, const float *cpu, const float *gpu,
                         long long count, double atol) {
    long long at;
    double rel, w = worst_ratio(cpu, gpu, count, atol, &rel, &at);
    k->checked++;
    int bad = !(w <= 1);
    k->failed += bad;
    if (bad || !k->o->quiet)
        printf("%s %-44s %9lld values  %.3g of the tolerance (max rel diff %.3g)%s\n",
               bad ? "FAIL" : "ok  ", what, count, w, rel,
               bad ? arena_printf(&k->u->a, " at %lld: cpu %.9g, gpu %.9g", at, cpu[at], gpu[at]) : "");
}

static void compare(checker *k, const char *what, const float *cpu, const float *gpu, long long count) {
    compare_atol(k, what, cpu, gpu, count, CHECK_ATOL);
}

/* every stored f32 value of function f (C plan cf, CUDA plan gf) at batch n */
static void compare_nodes(checker *k, const mem_fn_plan *cf, const mem_fn_plan *gf, int n,
                          const char *fn) {
    const ir_graph *g = k->u->g;
    for (int j = 0; j < cf->sched.n; j++) {
        int id = cf->sched.list[j];
        const ir_node *node = ir_get(g, id);
        if (!cf->sched.stored[id] || node->dtype != IR_F32) continue;
        long long count = node->shape.batched ? n * ir_shape_inner(&node->shape) : ir_shape_numel(&node->shape);
        const float *cpu = (const float *)((unsigned char *)k->s.arena + pass_memplan_offset(cf, id));
        const float *gpu = (const float *)(k->garena + pass_memplan_offset(gf, id));
        compare(k, arena_printf(&k->u->a, "%s %%%d %s %s", fn, id, ir_op_names[node->op],
                                ir_shape_str(&k->u->a, &node->shape)), cpu, gpu, count);
    }
}

/* the weights block after a step, tensor by tensor (before: the block before the step). An
 * update may also differ by 1% of the tensor's largest step: the first steps of Adam-like
 * rules divide the gradient by its own magnitude, which turns a gradient's rounding noise into
 * a visible difference where the gradient is about as small as eps. */
static void compare_weights(checker *k, const float *before) {
    for (int i = 0; i < k->m->n_tensors; i++) {
        const dlrt_tensor_desc *t = &k->m->tensors[i];
        if (t->kind != DLRT_PARAM && t->kind != DLRT_STATE && t->kind != DLRT_BUFFER) continue;
        long long count = 1;
        for (int d = 0; d < t->rank; d++) count *= t->dims[d];
        const float *cpu = (const float *)k->s.weights + t->offset;
        double step = 0;
        for (long long j = 0; j < count; j++) step = fmax(step, fabs(cpu[j] - before[t->offset + j]));
        compare_atol(k, arena_printf(&k->u->a, "updated %s", t->name), cpu, k->gweights + t->offset,
                     count, CHECK_ATOL + 1e-2 * step);
    }
}

static void compare_loss(checker *k, const char *fn, double cpu, double gpu) {
    float c = (float)cpu, g = (float)gpu;
    compare(k, arena_printf(&k->u->a, "%s loss", fn), &c, &g, 1);
}

/* inputs for both backends: uniform [0, 1) reals, labels below the class count */
static int make_inputs(checker *k) {
    const ir_graph *g = k->u->g;
    dlrt_rng r;
    dlrt_rng_seed(&r, 12345);
    int i = 0;
    for (int id = 0; id < g->n_nodes && i < DLRT_CUDA_MAX_INPUTS; id++) {
        const ir_node *n = &g->nodes[id];
        if (n->op != IR_OP_input) continue;
        long long count = ir_shape_numel(&n->shape), classes = 2;
        for (int u = 0; u < g->n_nodes; u++)
            if ((g->nodes[u].op == IR_OP_cross_entropy || g->nodes[u].op == IR_OP_nll) && g->nodes[u].in[1] == id)
                classes = ir_get(g, g->nodes[u].in[0])->shape.dims[1];
        k->inputs[i] = malloc(4 * (size_t)count);
        if (!k->inputs[i]) return -1;
        for (long long e = 0; e < count; e++) {
            if (n->dtype == IR_I32) ((int *)k->inputs[i])[e] = (int)(dlrt_rng_next(&r) % (uint64_t)classes);
            else ((float *)k->inputs[i])[e] = (float)dlrt_rng_uniform(&r);
        }
        i++;
    }
    return 0;
}

static int dev_fail(const char *err) {
    fprintf(stderr, "dlc: error: %s\n", err);
    return -1;
}

/* bytes of node id's value at batch n */
static long long value_bytes(const ir_node *node, int n) {
    return 4 * (node->shape.batched ? n * ir_shape_inner(&node->shape) : ir_shape_numel(&node->shape));
}

/* the CPU's stored values of function plan cf, laid out at the CUDA plan gf's offsets */
static void cpu_image(checker *k, const mem_fn_plan *cf, const mem_fn_plan *gf, int n, unsigned char *img) {
    for (int j = 0; j < cf->sched.n; j++) {
        int id = cf->sched.list[j];
        if (!cf->sched.stored[id]) continue;
        memcpy(img + pass_memplan_offset(gf, id), (unsigned char *)k->s.arena + pass_memplan_offset(cf, id),
               (size_t)value_bytes(ir_get(k->u->g, id), n));
    }
}

/* Op by op: every launch group (the launches of one node or fusion group) runs on the CPU's
 * values of its inputs (the CPU's arena after the step, uploaded; the weights before it); its
 * outputs are compared, then overwritten with the CPU's so the next group reads those too.
 * Then the updated weights (computed from the CPU's gradients) are compared. */
static int check_ops(checker *k, int fi, int n, const double *scalars, const char *fn) {
    char err[4096];
    int train = fi != DLRT_CUDA_EVAL;
    const mem_fn_plan *cf = train ? &k->cplan.train[fi] : &k->cplan.eval;
    const mem_fn_plan *gf = train ? &k->gplan.train[fi] : &k->gplan.eval;
    const dlrt_cuda_fn *f = train ? &k->p->train[fi] : &k->p->eval;
    const ir_graph *g = k->u->g;
    memset(k->garena, 0, (size_t)k->p->plan_bytes);
    cpu_image(k, cf, gf, n, k->garena);
    if (k->dev.write_weights(&k->dev, k->before, err, sizeof err) ||
        k->dev.stage(&k->dev, n, (const void *const *)k->inputs, scalars, err, sizeof err) ||
        k->dev.write_arena(&k->dev, 0, k->garena, k->p->plan_bytes, err, sizeof err))
        return dev_fail(err);
    printf("%s at batch %d, op by op:\n", fn, n);
    for (int i = 0, j; i < f->n_launches; i = j) {
        int node = f->launches[i].node, grp = gf->sched.group[node];
        for (j = i; j < f->n_launches && f->launches[j].node == node; j++) continue;
        if (k->dev.run(&k->dev, fi, n, i, j - i, err, sizeof err)) return dev_fail(err);
        for (int q = 0; q < gf->sched.n; q++) {
            int id = gf->sched.list[q];
            if (!gf->sched.stored[id] || (grp < 0 ? id != node : gf->sched.group[id] != grp)) continue;
            const ir_node *x = ir_get(g, id);
            long long bytes = value_bytes(x, n), goff = pass_memplan_offset(gf, id);
            const unsigned char *cpu = (unsigned char *)k->s.arena + pass_memplan_offset(cf, id);
            if (k->dev.read_arena(&k->dev, goff, k->garena + goff, bytes, err, sizeof err) ||
                k->dev.write_arena(&k->dev, goff, cpu, bytes, err, sizeof err))
                return dev_fail(err);
            if (x->dtype == IR_F32)
                compare(k, arena_printf(&k->u->a, "%s %%%d %s %s", fn, id, ir_op_names[x->op],
                                        ir_shape_str(&k->u->a, &x->shape)),
                        (const float *)cpu, (const float *)(k->garena + goff), bytes / 4);
        }
    }
    if (!train) return 0;
    if (k->dev.read_weights(&k->dev, k->gweights, err, sizeof err)) return dev_fail(err);
    compare_weights(k, k->before);
    return 0;
}

/* The whole step as it runs for training (the training step as a CUDA graph), from the same
 * weights and inputs, every stored value compared afterwards: differences here also include
 * rounding noise carried from op to op (through a max-pooling's choice of maximum, a
 * cancellation): reported, not failed, except the loss. */
static int check_chained(checker *k, int fi, int n, double closs, double gloss, const char *fn) {
    char err[1024];
    int train = fi != DLRT_CUDA_EVAL;
    if (k->dev.read_arena(&k->dev, 0, k->garena, k->p->plan_bytes, err, sizeof err) ||
        k->dev.read_weights(&k->dev, k->gweights, err, sizeof err))
        return dev_fail(err);
    int failed = k->failed, checked = k->checked;
    printf("%s at batch %d, the whole step (informational but for the loss):\n", fn, n);
    compare_nodes(k, train ? &k->cplan.train[fi] : &k->cplan.eval,
                  train ? &k->gplan.train[fi] : &k->gplan.eval, n, fn);
    if (train) compare_weights(k, k->before);
    k->chained_failed += k->failed - failed;
    k->chained_checked += k->checked - checked;
    k->failed = failed, k->checked = checked;
    compare_loss(k, fn, closs, gloss);
    return 0;
}

/* The scalars of call `call` (1-based, over every step) of training step fi in round `round`
 * (each step runs once a round, in order): as the runtime's loop sets them, the learning
 * rates the configured ones ("lr"; "NAME.lr" of step NAME), "step" the call and "NAME.step"
 * the calls of step NAME so far. */
static void step_scalars(checker *k, int fi, long long round, long long call, double *scalars) {
    const train_config *cfg = &k->u->cfg;
    dlrt_step_scalars(k->m, cfg->seed, call, cfg->opt.lr, scalars);
    for (int i = 0; i < k->m->n_tensors; i++) {
        const dlrt_tensor_desc *t = &k->m->tensors[i];
        for (int j = 0; t->kind == DLRT_SCALAR && j < cfg->n_steps; j++) {
            size_t len = strlen(cfg->steps[j].name);
            if (strncmp(t->name, cfg->steps[j].name, len) || t->name[len] != '.') continue;
            if (!strcmp(t->name + len + 1, "lr")) scalars[t->index] = cfg->steps[j].opt.lr;
            if (!strcmp(t->name + len + 1, "step")) scalars[t->index] = (double)(j <= fi ? round : round - 1);
        }
    }
}

/* the C build's function fi: its training step fi, or the evaluation step */
static dlrt_train_fn c_function(const dlrt_model_desc *m, int fi) {
    if (fi == DLRT_CUDA_EVAL) return m->eval_step;
    return m->n_steps ? m->steps[fi].train : m->train_step;
}

/* one call of training step fi (call `call` of round `round`, see step_scalars) or of the
 * evaluation step (fi = DLRT_CUDA_EVAL) at batch n, from the CPU's weights: the whole step,
 * then op by op */
static int check_step(checker *k, int fi, long long round, long long call, int n) {
    char err[4096];
    double scalars[DLRT_CUDA_MAX_SCALARS] = {0}, closs, gloss;
    int train = fi != DLRT_CUDA_EVAL;
    const char *step = train ? k->p->train[fi].name : NULL;
    const char *fn = !train ? "eval_step"
                   : step   ? arena_printf(&k->u->a, "train_%s %lld", step, call)
                            : arena_printf(&k->u->a, "train_step %lld", call);
    if (train) step_scalars(k, fi, round, call, scalars);
    memcpy(k->before, k->s.weights, 4 * (size_t)k->p->weights_count);
    if (k->dev.write_weights(&k->dev, k->s.weights, err, sizeof err) ||
        k->dev.step(&k->dev, fi, n, (const void *const *)k->inputs, train ? scalars : NULL, &gloss,
                    err, sizeof err))
        return dev_fail(err);
    c_function(k->m, fi)(k->s.weights, k->s.arena, (const void *const *)k->inputs, n,
                         train ? scalars : NULL, &closs);
    if (check_chained(k, fi, n, closs, gloss, fn)) return -1;
    return check_ops(k, fi, n, train ? scalars : NULL, fn);
}

/* every training step in order, three rounds (the full batch, a smaller last batch, the full
 * batch again: its third use replays the CUDA graph captured at its second), then the
 * evaluation step; 0 or -1 */
static int check_steps(checker *k) {
    int B = k->m->max_batch, small = B > 1 ? B / 2 + 1 : 1, batch[3] = {B, small, B};
    long long call = 0;
    for (int round = 1; round <= 3; round++)
        for (int fi = 0; fi < k->p->n_train; fi++)
            if (check_step(k, fi, round, ++call, batch[round - 1])) return -1;
    return check_step(k, DLRT_CUDA_EVAL, 0, 0, B);
}

/* the C build and the CUDA program of the training graph, both planned without reuse */
static int build_both(checker *k, void **handle) {
    dlc_unit *u = k->u;
    char err[1024];
    cg_c_options co = {.prefix = u->cfg.model, .has_train = 1, .no_reuse = 1};
    k->m = dlc_build_and_load(cg_c_generate(u->g, &co, u->plan[DLC_TARGET_C], &u->a), u->cfg.model, k->o, handle);
    if (!k->m) return -1;
    if (dlrt_session_init(&k->s, k->m, (uint64_t)u->cfg.seed, err, sizeof err)) {
        fprintf(stderr, "dlc: error: %s\n", err);
        return -1;
    }
    k->cplan = *u->plan[DLC_TARGET_C]; /* the two plans of the compilation: C's and CUDA's */
    cg_cuda_options go = {.prefix = u->cfg.model, .has_train = 1, .no_reuse = 1};
    k->p = cg_cuda_generate(u->g, &go, u->plan[DLC_TARGET_CUDA], &u->a);
    k->gplan = *u->plan[DLC_TARGET_CUDA];
    k->garena = malloc((size_t)k->p->plan_bytes + 1);
    k->gweights = malloc(4 * (size_t)k->p->weights_count + 4);
    k->before = malloc(4 * (size_t)k->p->weights_count + 4);
    if (!k->garena || !k->gweights || !k->before || make_inputs(k)) {
        fprintf(stderr, "dlc: error: out of memory\n");
        return -1;
    }
    return 0;
}

/* the GPU as a cuda_device */
static dlrt_cuda *GPU(cuda_device *d) { return d->impl; }
static int gpu_write_weights(cuda_device *d, const float *w, char *err, size_t errlen) {
    return dlrt_cuda_write_weights(GPU(d), w, err, errlen);
}
static int gpu_step(cuda_device *d, int fn, int n, const void *const *inputs,
                    const double *scalars, double *loss, char *err, size_t errlen) {
    return dlrt_cuda_step(GPU(d), fn, n, inputs, scalars, loss, err, errlen);
}
static int gpu_read_arena(cuda_device *d, long long offset, void *dst, long long bytes, char *err,
                          size_t errlen) {
    return dlrt_cuda_read_arena(GPU(d), offset, dst, bytes, err, errlen);
}
static int gpu_read_weights(cuda_device *d, float *dst, char *err, size_t errlen) {
    return dlrt_cuda_read_weights(GPU(d), dst, err, errlen);
}
static void gpu_close(cuda_device *d) { dlrt_cuda_close(GPU(d)); }
static int gpu_stage(cuda_device *d, int n, const void *const *inputs, const double *scalars,
                     char *err, size_t errlen) {
    return dlrt_cuda_stage(GPU(d), n, inputs, scalars, err, errlen);
}
static int gpu_run(cuda_device *d, int fn, int n, int first, int count, char *err, size_t errlen) {
    return dlrt_cuda_run(GPU(d), fn, n, first, count, err, errlen);
}
static int gpu_write_arena(cuda_device *d, long long offset, const void *src, long long bytes,
                           char *err, size_t errlen) {
    return dlrt_cuda_write_arena(GPU(d), offset, src, bytes, err, errlen);
}

/* DLC_CUDA_EMULATE=1 (tests without a GPU): the emulated device (cuda_device.h) */
static int emulated(void) {
    const char *e = getenv("DLC_CUDA_EMULATE");
    return e && *e && strcmp(e, "0");
}

int dlc_check_cuda(dlc_unit *u, const dlc_options *o) {
    if (!u->cfg.present) {
        fprintf(stderr, "dlc: error: %s: --check-cuda needs a train block\n", o->input);
        return 1;
    }
    checker k;
    memset(&k, 0, sizeof k);
    k.u = u, k.o = o;
    void *handle = NULL;
    int status = 1;
    char arch[32];
    dlrt_cuda *gpu = NULL;
    if (!emulated() && !(gpu = cuda_open(arch, sizeof arch, o))) return 1; /* no GPU, no work */
    k.dev = (cuda_device){gpu, gpu_write_weights, gpu_step, gpu_read_arena, gpu_read_weights,
                          gpu_stage, gpu_run, gpu_write_arena, gpu_close};
    int loaded = build_both(&k, &handle) == 0 &&
                 (gpu ? cuda_load(gpu, arch, k.p, k.s.weights, o) == 0
                      : dlc_cuda_emulate_open(&k.dev, k.p, k.s.weights, o) == 0);
    if (loaded) {
        status = check_steps(&k) ? 1 : 0;
        if (status == 0) {
            printf("check-cuda %s%s: op by op %d tensors compared, %d off by more than %g relative "
                   "(+%g); whole steps %d, %d off (informational)\n", o->input, gpu ? "" : " (emulated)",
                   k.checked, k.failed, CHECK_RTOL, CHECK_ATOL, k.chained_checked, k.chained_failed);
            status = k.failed ? 1 : 0;
        }
    }
    if (k.dev.impl) k.dev.close(&k.dev);
    dlrt_session_free(&k.s);
    for (int i = 0; i < DLRT_CUDA_MAX_INPUTS; i++) free(k.inputs[i]);
    free(k.garena);
    free(k.gweights);
    free(k.before);
    return status;
}

/* ---- --run --target cuda: the runtime's training loop with the steps on the GPU ----
 *
 * The runtime (dlrt_train) drives a model descriptor whose step functions take host weights
 * and a host arena. Here they are trampolines into the device: the weights live on the GPU
 * while training steps follow each other, and are brought back to the host block when an
 * evaluation step comes (the runtime reads or changes the host weights only around
 * evaluations: early stopping keeps or restores them, --save-weights writes them). A shadow
 * copy of what the device holds tells whether the host block changed (a restore) and must be
 * uploaded. After every step the pinned outputs (and the loss) are copied into the host arena,
 * where the runtime's metrics read them. A step that fails ends the process with a message:
 * the descriptor's step functions cannot return an error. The device is a cuda_device: the
 * GPU, or with DLC_CUDA_EMULATE=1 the emulation (tests without a GPU). With --check-numerics
 * the runtime reads the device's record after each training step (gpu_numerics). A train
 * block with `step` sections gets the C descriptor's steps table with each step's function
 * replaced by the trampoline of its index (gpu_train_steps: one per index, since the
 * descriptor's function pointers carry no argument to say which step). */

typedef struct gpu_trainer {
    cuda_device dev;             /* the GPU (or its emulation, DLC_CUDA_EMULATE), program loaded */
    const dlrt_cuda_program *p;  /* the program */
    float *shadow;               /* what the device's weights block holds (when !device_newer) */
    int device_newer;            /* training steps ran since the host block was last updated */
    dlrt_model_desc desc;        /* the C descriptor with the trampolines */
    dlrt_step_desc steps[DLRT_CUDA_MAX_STEPS]; /* its steps table (a train block with steps) */
} gpu_trainer;

static gpu_trainer run_state;

static void run_fail(const char *err) {
    fprintf(stderr, "dlc: error: %s\n", err);
    exit(1);
}

static void weights_to_device(gpu_trainer *r, const float *w) {
    char err[1024];
    size_t bytes = 4 * (size_t)r->p->weights_count;
    if (!memcmp(w, r->shadow, bytes)) return;
    if (r->dev.write_weights(&r->dev, w, err, sizeof err)) run_fail(err);
    memcpy(r->shadow, w, bytes);
}

static void after_step(gpu_trainer *r, void *host_arena) {
    char err[1024];
    if (r->p->pinned_bytes > 0 &&
        r->dev.read_arena(&r->dev, 0, host_arena, r->p->pinned_bytes, err, sizeof err))
        run_fail(err);
}

/* training step k on the device */
static void gpu_train(int k, void *weights, void *host_arena, const void *const *inputs, int n,
                      const double *scalars, double *loss) {
    gpu_trainer *r = &run_state;
    char err[4096];
    if (!r->device_newer) weights_to_device(r, weights);
    r->device_newer = 1;
    if (r->dev.step(&r->dev, k, n, inputs, scalars, loss, err, sizeof err)) run_fail(err);
    after_step(r, host_arena);
}

#define GPU_TRAIN_STEP(K)                                                                      \
    static void gpu_train_##K(void *weights, void *host_arena, const void *const *inputs,     \
                              int n, const double *scalars, double *loss) {                   \
        gpu_train(K, weights, host_arena, inputs, n, scalars, loss);                           \
    }
GPU_TRAIN_STEP(0)
GPU_TRAIN_STEP(1)
GPU_TRAIN_STEP(2)
GPU_TRAIN_STEP(3)
GPU_TRAIN_STEP(4)
GPU_TRAIN_STEP(5)
GPU_TRAIN_STEP(6)
GPU_TRAIN_STEP(7)
#undef GPU_TRAIN_STEP

/* the trampoline of each training step index */
static const dlrt_train_fn gpu_train_steps[] = {gpu_train_0, gpu_train_1, gpu_train_2, gpu_train_3,
                                                gpu_train_4, gpu_train_5, gpu_train_6, gpu_train_7};
_Static_assert(sizeof gpu_train_steps / sizeof *gpu_train_steps == DLRT_CUDA_MAX_STEPS,
               "a trampoline per training step");

static void gpu_eval_step(void *weights, void *host_arena, const void *const *inputs, int n,
                          const double *scalars, double *loss) {
    gpu_trainer *r = &run_state;
    char err[4096];
    if (r->device_newer) { /* bring the trained weights home */
        if (r->dev.read_weights(&r->dev, weights, err, sizeof err)) run_fail(err);
        memcpy(r->shadow, weights, 4 * (size_t)r->p->weights_count);
        r->device_newer = 0;
    } else {
        weights_to_device(r, weights);
    }
    if (r->dev.step(&r->dev, DLRT_CUDA_EVAL, n, inputs, scalars, loss, err, sizeof err)) run_fail(err);
    after_step(r, host_arena);
}

/* --check-numerics: resets the device's record (all ones: nothing found) */
static void numerics_reset(gpu_trainer *r) {
    char err[1024];
    unsigned long long none = ~0ULL;
    if (r->dev.write_arena(&r->dev, r->p->numerics_offset, &none, 8, err, sizeof err)) run_fail(err);
}

/* dlrt_train_opts.numerics for the GPU: reads the record of the training step just run
 * (codegen/cg_cuda_numerics.c), resets it; the node id (-1: none) and in *input the input
 * that already held a NaN or an Inf (-1: none) */
static int gpu_numerics(int *input) {
    gpu_trainer *r = &run_state;
    char err[1024];
    unsigned long long key;
    if (r->dev.read_arena(&r->dev, r->p->numerics_offset, &key, 8, err, sizeof err)) run_fail(err);
    *input = -1;
    if (key == ~0ULL) return -1;
    numerics_reset(r);
    unsigned code = (unsigned)(key >> 32) & 0xFFu;
    *input = code == 0xFFu ? -1 : (int)code;
    return (int)(unsigned)(key & 0xFFFFFFFFu);
}

int dlc_cuda_numerics_hook(dlc_unit *u, dlrt_train_opts *t) {
    t->numerics = gpu_numerics;
    dlc_numerics_report(u, t);
    return 0;
}

/* the C descriptor's tables must describe the CUDA program's storage: the same weights
 * layout, inputs and outputs (the plans differ only in workspaces, after the pinned outputs),
 * and its steps the program's training steps, in order */
static int same_layout(const dlrt_model_desc *m, const dlrt_cuda_program *p) {
    if (m->real_size != 4 || m->weights_count != p->weights_count || m->n_inputs != p->n_inputs ||
        m->n_scalars != p->n_scalars || m->max_batch != p->max_batch ||
        p->n_train != (m->n_steps ? m->n_steps : 1))
        return 0;
    for (int k = 0; k < m->n_steps; k++)
        if (!p->train[k].name || strcmp(m->steps[k].name, p->train[k].name)) return 0;
    for (int i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].kind == DLRT_OUTPUT && m->tensors[i].offset >= p->pinned_bytes) return 0;
    return 1;
}

/* the device for r->p with the weights in r->shadow: the GPU, or the emulation (-1: why printed) */
static int trainer_device(gpu_trainer *r, const dlc_options *o) {
    if (emulated()) return dlc_cuda_emulate_open(&r->dev, r->p, r->shadow, o);
    char arch[32];
    dlrt_cuda *gpu = cuda_open(arch, sizeof arch, o);
    if (!gpu) return -1;
    r->dev = (cuda_device){gpu, gpu_write_weights, gpu_step, gpu_read_arena, gpu_read_weights,
                           gpu_stage, gpu_run, gpu_write_arena, gpu_close};
    return cuda_load(gpu, arch, r->p, r->shadow, o);
}

const dlrt_model_desc *dlc_cuda_model(dlc_unit *u, const dlrt_model_desc *m, const dlc_options *o) {
    gpu_trainer *r = &run_state;
    cg_cuda_options go = {.prefix = u->cfg.model, .has_train = 1, .no_reuse = o->no_reuse,
                          .check_numerics = o->check_numerics};
    r->p = cg_cuda_generate(u->g, &go, u->plan[DLC_TARGET_CUDA], &u->a);
    if (!same_layout(m, r->p)) {
        fprintf(stderr, "dlc: internal error: the CUDA program's storage differs from the C "
                        "descriptor's\n");
        return NULL;
    }
    r->shadow = calloc((size_t)r->p->weights_count + 1, 4);
    if (!r->shadow || trainer_device(r, o)) return NULL;
    if (r->p->numerics_offset >= 0) numerics_reset(r);
    r->desc = *m;
    r->desc.arena_bytes = r->p->pinned_bytes > 0 ? r->p->pinned_bytes : 64;
    r->desc.train_step = gpu_train_steps[0];
    r->desc.eval_step = gpu_eval_step;
    for (int k = 0; k < m->n_steps; k++) {
        r->steps[k] = m->steps[k];
        r->steps[k].train = gpu_train_steps[k];
    }
    if (m->n_steps) r->desc.steps = r->steps;
    return &r->desc;
}
