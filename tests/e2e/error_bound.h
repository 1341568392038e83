/*
 * error_bound.h — a model's inference graph evaluated in double together with a bound, per
 * value, on how far ANY f32 evaluation of that graph may lie from it (tests/e2e/error_bound.c
 * derives each op's bound). The inference checks (check_inference.c, compare_inference.c) hold
 * the generated C's outputs to these bounds instead of one machine's observed difference, so
 * they pass whichever kernels OpenBLAS picks for the CPU (or the generated C's built-in GEMM)
 * and still catch a wrong value: a bug moves outputs by far more than rounding can.
 */
#ifndef DLC_TEST_ERROR_BOUND_H
#define DLC_TEST_ERROR_BOUND_H
#include "../../ir/ir.h"
#include "../../ir/weights.h"
#include <stddef.h>
#include <stdint.h>

/* The graph's output for n samples: value[k * cols + j] (double, as exact as double gets) and
 * bound[k * cols + j] >= |f32 result - value| for any summation order, with or without fused
 * multiply-adds. x: n raw samples (what PREFIX_predict takes; the graph's normalize applies
 * the training statistics). w: the tensors the graph's leaves read (g->weights). cols:
 * set to the output's elements per sample. Returns 0, or -1 with err naming an op the bound
 * does not cover. */
int eb_evaluate(const ir_graph *g, const ir_weights *w, const float *x, int64_t n,
                double *value, double *bound, long long *cols, char *err, size_t errlen);

/* Elements per sample of the graph's (first) output. */
long long eb_output_size(const ir_graph *g);

#endif
