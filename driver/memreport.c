/*
 * memreport.c — `dlc --mem-report MODEL.dl`: the memory the model will take, predicted from the
 * memory plan before anything runs (passes/memplan.h), as a table or JSON (--json), for a batch
 * size (--batch), an element type (--dtype f32|f16|bf16|f64) and a target (--target cpu|cuda);
 * `--fit BYTES` finds the largest batch whose plan fits.
 *
 * Rows: the weights block (parameters, model buffers, optimizer state), the batch input
 * buffers, early stopping's copy of the weights, and the arena, broken down at its peak step
 * (saved activations, gradients, outputs, other transients, workspaces, and fragmentation:
 * arena bytes not live at the peak). For the CPU the total is exactly what `dlc --run`
 * allocates for the model (its --report's "memory"). For CUDA the figures are device memory:
 * the plan made with the CUDA backend's workspaces (conv columns over the whole batch, and
 * cuBLAS's workspace for every GEMM, codegen/cg_cuda.c), the device arena's staging of the
 * inputs, the weights block, and an allowance for the CUDA context (CUDA_CONTEXT_ALLOWANCE).
 */
#include "../codegen/cg_backend.h"
#include "../codegen/cg_c.h"
#include "../codegen/cg_cuda.h"
#include "../passes/memplan.h"
#include "driver.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What creating a CUDA context and loading cuBLAS takes on the device, as nvidia-smi counts
 * it: an allowance, not derived from the model (driver and GPU dependent) */
#define CUDA_CONTEXT_ALLOWANCE (512LL << 20)

typedef struct mem_figures {
    const char *function;       /* "training step" or "evaluation step": the larger plan */
    int64_t params, buffers, state;         /* the weights block by kind, in bytes */
    int64_t weights;                        /* the weights block as allocated */
    int64_t inputs;                         /* batch input buffers */
    int64_t es_copy;                        /* early stopping's copy of the weights */
    int64_t by_class[MEM_CLASS_COUNT];      /* live at the arena's peak, by class */
    int64_t fragmentation;                  /* arena bytes not live at the peak */
    int64_t arena, arena_no_reuse;          /* the arena, planned and without reuse */
    int64_t cublas;                         /* cuda: cuBLAS's workspace per GEMM (a part of
                                               the workspaces, not added again) */
    int64_t context;                        /* cuda: the context allowance */
    int64_t total, total_no_reuse;          /* everything */
} mem_figures;

/* what the runtime's allocator is asked for: 64-byte multiples, at least 64 */
static int64_t allocated(int64_t bytes) { return ((bytes > 0 ? bytes : 1) + 63) & ~63LL; }

static int64_t input_bytes(const ir_graph *g, const mem_plan *p) {
    int64_t total = 0;
    for (int id = 0; id < g->n_nodes; id++) {
        const ir_node *n = &g->nodes[id];
        if (n->op != IR_OP_input) continue;
        int64_t numel = n->shape.batched ? p->batch * ir_shape_inner(&n->shape) : ir_shape_numel(&n->shape);
        total += numel * (n->dtype == IR_I32 ? 4 : p->real_bytes);
    }
    return total;
}

/* the device's figures: the arena is cuMemAlloc'd with the inputs' staging after the plan,
 * the weights block as it is; early stopping's copy stays on the host */
static void cuda_figures(const dlc_unit *u, const mem_plan *p, mem_figures *f) {
    int64_t device_arena = cg_cuda_arena_bytes(u->g, p->arena_bytes, p->batch);
    int64_t plan_arena = cg_cuda_arena_bytes(u->g, 0, p->batch);
    f->weights = p->weights_count * p->real_bytes;
    f->inputs = plan_arena; /* the staging and scalars: what follows the plan */
    f->arena = device_arena - plan_arena;
    f->arena_no_reuse = cg_cuda_arena_bytes(u->g, p->arena_no_reuse, p->batch) - plan_arena;
    f->es_copy = 0;
    f->cublas = CG_CUDA_CUBLAS_WORKSPACE;
    f->context = CUDA_CONTEXT_ALLOWANCE;
}

static void compute(const dlc_unit *u, const mem_plan *p, int cuda, mem_figures *f) {
    memset(f, 0, sizeof *f);
    const mem_fn_plan *big = &p->eval;
    for (int k = 0; k < p->n_train; k++)
        if (p->train[k].bytes >= big->bytes) big = &p->train[k];
    f->function = big == &p->eval ? "evaluation step" : "training step";
    f->params = p->params * p->real_bytes;
    f->buffers = p->buffers * p->real_bytes;
    f->state = p->state * p->real_bytes;
    f->weights = allocated(p->weights_count * p->real_bytes);
    f->inputs = input_bytes(u->g, p);
    f->es_copy = u->cfg.present && u->cfg.early_stop.enabled ? p->weights_count * p->real_bytes : 0;
    for (int c = 0; c < MEM_CLASS_COUNT; c++) f->by_class[c] = big->live_by_class[c];
    f->arena = allocated(p->arena_bytes);
    f->arena_no_reuse = allocated(p->arena_no_reuse);
    if (cuda) cuda_figures(u, p, f);
    f->fragmentation = f->arena - big->peak_live;
    int64_t fixed = f->weights + f->inputs + f->es_copy + f->context;
    f->total = fixed + f->arena;
    f->total_no_reuse = fixed + f->arena_no_reuse;
}

/* ---- options ---- */

typedef struct report_setup {
    int real_bytes;   /* from --dtype */
    const char *dtype;/* its name */
    int cuda;         /* --target cuda */
} report_setup;

static int setup(const dlc_options *o, report_setup *r) {
    static const char *const dtypes[] = {"f32", "f16", "bf16", "f64"};
    static const int bytes[] = {4, 2, 2, 8};
    static const char *const targets[] = {"cpu", "cuda"};
    r->dtype = o->dtype ? o->dtype : "f32";
    r->real_bytes = 0;
    for (int i = 0; i < 4; i++)
        if (!strcmp(r->dtype, dtypes[i])) r->real_bytes = bytes[i];
    char hint[DIAG_HINT_SIZE];
    if (!r->real_bytes) {
        fprintf(stderr, "dlc: error: --dtype: unknown element type '%s'%s (f32, f16, bf16, f64)\n",
                r->dtype, diag_hint(hint, diag_closest(r->dtype, dtypes, 4), ""));
        return -1;
    }
    const char *t = o->target ? o->target : "cpu";
    if (strcmp(t, "cpu") && strcmp(t, "cuda")) {
        fprintf(stderr, "dlc: error: --target: unknown target '%s'%s (cpu, cuda)\n", t,
                diag_hint(hint, diag_closest(t, targets, 2), ""));
        return -1;
    }
    r->cuda = !strcmp(t, "cuda");
    return 0;
}

/* --fit: the plan at another batch, over the compilation's schedules (the same options as the
 * report's plan, which the memplan analysis made: driver/compile.c) */
static void plan_at(const dlc_unit *u, const dlc_options *o, const report_setup *r, int64_t batch,
                    arena *a, mem_plan *p) {
    mem_options mo;
    (r->cuda ? &cg_cuda_backend : &cg_c_backend)->mem_options(0, !o->no_reuse, &mo);
    mo.batch = batch;
    mo.real_bytes = r->real_bytes;
    pass_memplan_build(u->g, &u->sched, &mo, a, p);
}

/* ---- printing ---- */

static void print_row(const char *what, int64_t bytes) {
    printf("  %-34s %16lld B %12.2f MiB\n", what, (long long)bytes, (double)bytes / (1 << 20));
}

static void print_table(const dlc_unit *u, const dlc_options *o, const report_setup *r,
                        const mem_plan *p, const mem_figures *f) {
    printf("memory plan of model '%s' (%s): %s, batch %lld, %s, target %s%s\n", u->cfg.model,
           o->input, f->function, (long long)p->batch, r->dtype, r->cuda ? "cuda" : "cpu",
           o->no_reuse ? ", no reuse" : "");
    print_row("parameters", f->params);
    print_row("model buffers (running statistics)", f->buffers);
    print_row("optimizer state", f->state);
    print_row("input batches", f->inputs);
    if (f->es_copy) print_row("early stopping's best weights", f->es_copy);
    printf("  arena, at its peak:\n");
    static const mem_class order[] = {MEM_SAVED, MEM_GRADIENT, MEM_OUTPUT, MEM_TRANSIENT,
                                      MEM_WORKSPACE};
    static const char *const label[] = {"  saved activations", "  gradients", "  outputs and loss",
                                        "  peak transient", "  workspaces"};
    for (int i = 0; i < 5; i++) print_row(label[i], f->by_class[order[i]]);
    print_row("  fragmentation and alignment", f->fragmentation + (f->weights - f->params - f->buffers - f->state));
    if (r->cuda)
        printf("  (the workspaces give cuBLAS %lld bytes for every GEMM; the input batches are\n"
               "  the device arena's staging of the inputs and the step's scalars)\n",
               (long long)f->cublas);
    if (r->cuda) print_row("CUDA context (allowance)", f->context);
    print_row("total planned", f->total);
    print_row("total without reuse", f->total_no_reuse);
    if (f->total_no_reuse > 0)
        printf("  reuse saves %.1f%% (arena %lld B planned, %lld B without reuse)\n",
               100.0 * (double)(f->total_no_reuse - f->total) / (double)f->total_no_reuse,
               (long long)f->arena, (long long)f->arena_no_reuse);
}

static void print_json(const dlc_unit *u, const report_setup *r, const mem_plan *p,
                       const mem_figures *f) {
    const struct { const char *key; int64_t bytes; } rows[] = {
        {"parameters", f->params}, {"buffers", f->buffers}, {"optimizer_state", f->state},
        {"weights", f->weights}, {"inputs", f->inputs}, {"early_stopping_copy", f->es_copy},
        {"saved_activations", f->by_class[MEM_SAVED]}, {"gradients", f->by_class[MEM_GRADIENT]},
        {"outputs", f->by_class[MEM_OUTPUT]}, {"peak_transient", f->by_class[MEM_TRANSIENT]},
        {"workspaces", f->by_class[MEM_WORKSPACE]}, {"fragmentation", f->fragmentation},
        {"arena", f->arena}, {"arena_no_reuse", f->arena_no_reuse},
        {"cublas_workspace", f->cublas}, {"cuda_context", f->context},
        {"total_planned", f->total}, {"total_no_reuse", f->total_no_reuse}};
    int n = (int)(sizeof rows / sizeof rows[0]);
    printf("{\n  \"model\": \"%s\",\n  \"function\": \"%s\",\n  \"batch\": %lld,\n"
           "  \"dtype\": \"%s\",\n  \"target\": \"%s\",\n",
           u->cfg.model, f->function, (long long)p->batch, r->dtype, r->cuda ? "cuda" : "cpu");
    for (int i = 0; i < n; i++)
        printf("  \"%s\": %lld%s\n", rows[i].key, (long long)rows[i].bytes, i + 1 < n ? "," : "");
    printf("}\n");
}

/* ---- --fit ---- */

/* the total at `batch`, or INT64_MAX when a tensor would pass the element limit there */
static int64_t total_at(const dlc_unit *u, const dlc_options *o, const report_setup *r,
                        int64_t batch) {
    if (!ir_batch_fits(u->g, batch)) return INT64_MAX;
    arena a = {0};
    mem_plan p;
    mem_figures f;
    plan_at(u, o, r, batch, &a, &p);
    compute(u, &p, r->cuda, &f);
    arena_free(&a);
    return f.total;
}

enum { MAX_FIT_BATCH = 1 << 30 };

/* the largest batch whose total fits in o->fit bytes, or 0. Totals grow with the batch; the
 * placement can make them dip locally, so after the binary search the FIT_WINDOW batches above
 * the answer are tried too. */
enum { FIT_WINDOW = 32 };
static int64_t largest_fit(const dlc_unit *u, const dlc_options *o, const report_setup *r) {
    if (total_at(u, o, r, 1) > o->fit) return 0;
    int64_t lo = 1, hi = 2; /* total(lo) fits; find hi that does not */
    while (hi <= MAX_FIT_BATCH && total_at(u, o, r, hi) <= o->fit) lo = hi, hi *= 2;
    if (hi > MAX_FIT_BATCH) return MAX_FIT_BATCH;
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (total_at(u, o, r, mid) <= o->fit) lo = mid;
        else hi = mid;
    }
    for (int64_t b = lo + FIT_WINDOW; b > lo; b--)
        if (b <= MAX_FIT_BATCH && total_at(u, o, r, b) <= o->fit) return b;
    return lo;
}

/* "would need N" (bytes), or what keeps batch N from having a plan */
static const char *next_text(int64_t next, char buf[64]) {
    if (next < 0) return "would give a tensor of more than " IR_MAX_ELEMENTS_TEXT " elements";
    snprintf(buf, 64, "would need %lld", (long long)next);
    return buf;
}

static int report_fit(const dlc_unit *u, const dlc_options *o, const report_setup *r) {
    int64_t b = largest_fit(u, o, r);
    if (b == 0) {
        fprintf(stderr, "dlc: error: --fit %lld: even batch 1 needs %lld bytes (%s, %s)\n",
                (long long)o->fit, (long long)total_at(u, o, r, 1), r->dtype,
                r->cuda ? "cuda" : "cpu");
        return 1;
    }
    int64_t need = total_at(u, o, r, b), next = total_at(u, o, r, b + 1);
    if (next == INT64_MAX) next = -1; /* past the element limit: no plan */
    char buf[64];
    if (o->json)
        printf("{\n  \"model\": \"%s\",\n  \"fit_bytes\": %lld,\n  \"batch\": %lld,\n"
               "  \"total_planned\": %lld,\n  \"next_batch_total\": %lld\n}\n",
               u->cfg.model, (long long)o->fit, (long long)b, (long long)need, (long long)next);
    else
        printf("largest batch of model '%s' that fits in %lld bytes (%s, target %s): %lld "
               "(plans %lld bytes; batch %lld %s)\n",
               u->cfg.model, (long long)o->fit, r->dtype, r->cuda ? "cuda" : "cpu", (long long)b,
               (long long)need, (long long)(b + 1), next_text(next, buf));
    return 0;
}

int dlc_mem_report(dlc_unit *u, const dlc_options *o) {
    report_setup r;
    if (setup(o, &r)) return 1;
    if (o->fit > 0) return report_fit(u, o, &r);
    if (o->batch && !ir_batch_fits(u->g, o->batch)) {
        fprintf(stderr, "dlc: error: --batch %lld: %s\n", (long long)o->batch, o->batch > IR_MAX_DIM
                ? "the batch is at most 2147483647 (an int in the generated code)"
                : "a tensor would hold more than " IR_MAX_ELEMENTS_TEXT " elements; a tensor may "
                  "hold at most " IR_MAX_ELEMENTS_TEXT);
        return 1;
    }
    const mem_plan *p = u->plan[r.cuda ? DLC_TARGET_CUDA : DLC_TARGET_C];
    mem_figures f;
    compute(u, p, r.cuda, &f);
    if (o->json) print_json(u, &r, p, &f);
    else print_table(u, o, &r, p, &f);
    return 0;
}
