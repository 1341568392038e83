/*
 * nvrtc_compiles.c — the CUDA that dlc generates compiles: for each model file given, the
 * training graph's CUDA (every training step of the train block and the eval step, one
 * translation unit, cg_cuda_generate) is compiled by NVRTC,
 * loaded with dlopen as the runtime loads it, for every architecture given (--arch sm_80
 * --arch sm_90). No GPU is needed. A compile error fails with NVRTC's log. With
 * --check-numerics the training step carries --check-numerics's checks (cg_cuda_numerics.c).
 *   nvrtc_compiles [--arch ARCH]... [--check-numerics] MODEL.dl...
 * Exit status 0 when every model compiles for every architecture; 77 (ctest's skip) when
 * NVRTC cannot be loaded at all.
 */
#include "../../codegen/cg_cuda.h"
#include "../../driver/driver.h"
#include "../../runtime/dlrt_cuda.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compile_model(const char *path, const char *const *arch, int n_arch, int numerics) {
    dlc_options o;
    memset(&o, 0, sizeof o);
    o.input = path;
    o.cuda = 1; /* the compilation plans for the CUDA target too */
    o.check_numerics = numerics;
    dlc_unit u;
    if (dlc_compile(&u, &o, 0)) {
        fprintf(stderr, "FAIL %s: does not compile\n", path);
        dlc_unit_free(&u);
        return 1;
    }
    cg_cuda_options co = {.prefix = u.cfg.model ? u.cfg.model : "model", .has_train = u.cfg.present,
                          .check_numerics = numerics};
    const dlrt_cuda_program *p = cg_cuda_generate(u.g, &co, u.plan[DLC_TARGET_CUDA], &u.a);
    int failed = 0;
    for (int i = 0; i < n_arch; i++) {
        char err[65536];
        void *cubin = NULL;
        size_t size = 0;
        if (dlrt_nvrtc_compile(p->source, arch[i], &cubin, &size, NULL, err, sizeof err)) {
            fprintf(stderr, "FAIL %s (%s): %s\n", path, arch[i], err);
            failed = 1;
            continue;
        }
        printf("ok %s %s: ", path, arch[i]);
        for (int k = 0; k < p->n_train; k++)
            printf("%s%d (%s)", k ? " + " : "", p->train[k].n_launches,
                   p->train[k].name ? p->train[k].name : "train_step");
        printf("%s%d (eval_step) launches, %zu bytes of cubin\n", p->n_train ? " + " : "",
               p->eval.n_launches, size);
        free(cubin);
    }
    dlc_unit_free(&u);
    return failed;
}

int main(int argc, char **argv) {
    const char *arch[8];
    int n_arch = 0, failed = 0, models = 0, numerics = 0;
    char err[1024];
    if (dlrt_nvrtc_version(err, sizeof err) < 0) {
        fprintf(stderr, "skipped: %s\n", err);
        return 77;
    }
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--arch") && i + 1 < argc && n_arch < 8) arch[n_arch++] = argv[++i];
        else if (!strcmp(argv[i], "--check-numerics")) numerics = 1;
    if (!n_arch) arch[n_arch++] = "sm_80";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--arch")) {
            i++;
            continue;
        }
        if (!strcmp(argv[i], "--check-numerics")) continue;
        failed += compile_model(argv[i], arch, n_arch, numerics);
        models++;
    }
    printf("%d models, %d failed\n", models, failed);
    return failed ? 1 : 0;
}
