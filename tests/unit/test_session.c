/*
 * test_session.c — dlrt_session_init initialises the weights block as the tensor table says:
 * parameters from their initializer and the seed, optimizer state from its own initializer
 * (zeros, or a constant such as adagrad's initial_accumulator_value), and it refuses code
 * generated for another ABI version.
 */
#include "dlrt.h"
#include <stdio.h>

static int passed, failed;

static void check(int cond, const char *what) {
    if (cond) passed++;
    else {
        failed++;
        printf("FAIL: %s\n", what);
    }
}

static const dlrt_tensor_desc tensors[] = {
    {"w", DLRT_PARAM, DLRT_F32, 2, 0, {2, 3, 0, 0, 0, 0}, 0, 0, "constant", 0.25, 0, 2, 3},
    {"b", DLRT_PARAM, DLRT_F32, 1, 0, {3, 0, 0, 0, 0, 0}, 16, 0, "uniform", -1, 1, 2, 3},
    {"w.sum", DLRT_STATE, DLRT_F32, 2, 0, {2, 3, 0, 0, 0, 0}, 32, 0, "constant", 0.5, 0, 0, 0},
    {"b.exp_avg", DLRT_STATE, DLRT_F32, 1, 0, {3, 0, 0, 0, 0, 0}, 48, 0, "zeros", 0, 0, 0, 0},
};

static dlrt_model_desc model(int abi) {
    dlrt_model_desc m = {abi, "t", 4, 64, 64, 1, 0, 0, 4, tensors, NULL, NULL, 0, NULL};
    return m;
}

int main(void) {
    dlrt_model_desc m = model(DLRT_ABI_VERSION);
    dlrt_session s;
    char err[256];
    check(dlrt_session_init(&s, &m, 7, err, sizeof err) == 0, "session starts");
    const float *w = s.weights;
    int ok = 1;
    for (int i = 0; i < 6; i++) ok &= w[i] == 0.25f && w[32 + i] == 0.5f;
    check(ok, "constant param and constant state");
    ok = 1;
    for (int i = 0; i < 3; i++) ok &= w[16 + i] >= -1 && w[16 + i] < 1 && w[16 + i] != 0;
    check(ok, "uniform param drawn in its bounds");
    ok = 1;
    for (int i = 0; i < 3; i++) ok &= w[48 + i] == 0;
    check(ok, "zero state");
    dlrt_session_free(&s);
    dlrt_model_desc old = model(DLRT_ABI_VERSION - 1);
    check(dlrt_session_init(&s, &old, 7, err, sizeof err) != 0, "older ABI refused");
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
