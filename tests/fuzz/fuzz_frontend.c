/*
 * fuzz_frontend.c — libFuzzer target for the front half of the compiler: the training variant
 * of the pass table (parse, lower, the passes with IR verification, the schedule and a C memory
 * plan) on arbitrary bytes. Any crash, sanitizer report or
 * internal error (abort) is a bug: user mistakes must always become diagnostics.
 * Built with -DDLC_FUZZ=ON (clang); the test suite runs it on the repository's .dl files.
 */
#include "codegen/cg_backend.h"
#include "frontend/lower.h"
#include "passes/pass.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* one compilation: what the front end's hooks read (as driver/compile.c's) */
typedef struct fuzz_job {
    const char *src;
    arena *a;
    diag *d;
    train_config cfg;
} fuzz_job;

static int fuzz_parse(pass_ctx *c) {
    fuzz_job *j = c->user;
    c->ast = parse_file(j->src, j->a, j->d);
    return c->ast != NULL;
}

static int fuzz_lower(pass_ctx *c) {
    fuzz_job *j = c->user;
    c->g = lower_file(c->ast, NULL, 0, j->a, j->d, &j->cfg, NULL);
    if (!c->g) return 0;
    c->opt = &j->cfg.opt;
    c->with_backward = c->plan_train = j->cfg.present;
    return 1;
}

static void fuzz_dump(const pass_ctx *c, FILE *out) { (void)c, (void)out; }

static const pass_frontend fuzz_frontend = {fuzz_parse, fuzz_lower, fuzz_dump};

static void compile(const char *src, FILE *sink) {
    arena a = {0};
    diag d;
    diag_init(&d, "fuzz.dl", src);
    d.out = sink;
    fuzz_job j = {.src = src, .a = &a, .d = &d};
    pass_ctx pc = {.front = &fuzz_frontend, .user = &j, .d = &d, .a = &a, .analyse = 1,
                   .n_plans = 1, .target = {"cpu"}};
    cg_c_backend.mem_options(0, 1, &pc.mem[0]);
    int stopped;
    pass_run_pipeline(&pc, PASS_TRAIN, NULL, sink, &stopped);
    arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static FILE *sink;
    if (!sink) sink = fopen("/dev/null", "w");
    char *src = malloc(size + 1);
    if (!src) return 0;
    memcpy(src, data, size);
    src[size] = 0;
    if (strlen(src) == size) compile(src, sink); /* the driver rejects NUL bytes before parsing */
    free(src);
    return 0;
}
