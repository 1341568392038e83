/*
 * fuzz_frontend.c — libFuzzer target for the front half of the compiler: parse, lower and run
 * the pass pipeline (with IR verification) on arbitrary bytes. Any crash, sanitizer report or
 * internal error (abort) is a bug: user mistakes must always become diagnostics.
 * Built with -DDLC_FUZZ=ON (clang); the test suite runs it on the repository's .dl files.
 */
#include "frontend/lower.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void compile(const char *src, FILE *sink) {
    arena a = {0};
    diag d;
    diag_init(&d, "fuzz.dl", src);
    d.out = sink;
    ast_file *f = parse_file(src, &a, &d);
    train_config cfg;
    ir_graph *g = f ? lower_file(f, NULL, 0, &a, &d, &cfg) : NULL;
    if (g) {
        ir_verify(g);
        pass_ctx pc = {.g = g, .d = &d, .opt = &cfg.opt, .with_backward = cfg.present};
        int stopped;
        pass_run_pipeline(&pc, NULL, &stopped);
    }
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
