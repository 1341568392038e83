/*
 * cuda_device.h — what --check-cuda and --run run a CUDA program on: the GPU (dlrt_cuda)
 * or, for tests on machines without one, an emulation (cuda_emulate.c: the same kernel source
 * compiled for the CPU by the C++ compiler, each kernel run as one block of one thread, the
 * GEMMs done on the host), so the generated kernels' indexing, offsets and launch tables can
 * be checked against the C backend anywhere. The emulation says nothing about concurrency or
 * CUDA's math library.
 */
#ifndef DLC_CUDA_DEVICE_H
#define DLC_CUDA_DEVICE_H
#include "../runtime/dlrt_cuda.h"
#include "driver.h"

/* `fn` picks a function of the program as dlrt_cuda_step's does: training step k (0 .. n_train
 * - 1) or DLRT_CUDA_EVAL. */
typedef struct cuda_device cuda_device;
struct cuda_device {
    void *impl; /* dlrt_cuda, or the emulation's state */
    int (*write_weights)(cuda_device *d, const float *w, char *err, size_t errlen);
    int (*step)(cuda_device *d, int fn, int n, const void *const *inputs, const double *scalars,
                double *loss, char *err, size_t errlen);
    int (*read_arena)(cuda_device *d, long long offset, void *dst, long long bytes, char *err,
                      size_t errlen);
    int (*read_weights)(cuda_device *d, float *dst, char *err, size_t errlen);
    /* op by op: stage a step's inputs, run some launches, write into the arena */
    int (*stage)(cuda_device *d, int n, const void *const *inputs, const double *scalars, char *err,
                 size_t errlen);
    int (*run)(cuda_device *d, int fn, int n, int first, int count, char *err, size_t errlen);
    int (*write_arena)(cuda_device *d, long long offset, const void *src, long long bytes, char *err,
                       size_t errlen);
    void (*close)(cuda_device *d);
};

/* The emulated device for program p with initial weights; -1 after printing why (no C++
 * compiler, a compile error). */
int dlc_cuda_emulate_open(cuda_device *d, const dlrt_cuda_program *p, const float *weights,
                      const dlc_options *o);

#endif
