/*
 * dlrt_cuda.h — the CUDA runtime: runs a dlrt_cuda_program (dlrt_cuda_program.h) on the GPU.
 * CUDA is loaded at run time with dlopen (libcuda.so.1, libnvrtc, libcublas): nothing links
 * against it, so the same dlc binary runs on machines without CUDA and says so clearly.
 *
 * One device, its primary context, one stream and one cuBLAS handle; the program's arena and
 * weights are two device allocations made once. A step copies its inputs and scalars into the
 * arena's staging area, runs the function's launch table (each training step captured once per
 * batch size as a CUDA graph and replayed) and reads back the function's loss. Nothing is
 * allocated per step. Functions are picked by `fn`: training step k of the program (0 ..
 * n_train - 1, in the train block's order), or DLRT_CUDA_EVAL. Errors are returned as messages (err, errlen); functions return 0 or -1.
 */
#ifndef DLRT_CUDA_H
#define DLRT_CUDA_H
#include "dlrt_cuda_program.h"
#include <stddef.h>

/* Compiles CUDA C `source` with NVRTC for `arch` ("sm_80", "sm_90", ...; NULL: the device's)
 * into a cubin (malloc'd, *size bytes). Needs only libnvrtc. On a compile error the message
 * holds NVRTC's log. *version gets NVRTC's version as major * 1000 + minor * 10 when not NULL. */
int dlrt_nvrtc_compile(const char *source, const char *arch, void **cubin, size_t *size,
                       int *version, char *err, size_t errlen);
/* The NVRTC options every compile uses (for cache keys), as one string. */
const char *dlrt_nvrtc_options(void);
/* NVRTC's version (major * 1000 + minor * 10), or -1 with err set when it cannot be loaded. */
int dlrt_nvrtc_version(char *err, size_t errlen);

typedef struct dlrt_cuda dlrt_cuda;

/* Loads the driver and picks device 0: "no CUDA driver (libcuda.so.1 not found)" or
 * "no CUDA device" when there is none. *arch gets its "sm_XY". */
dlrt_cuda *dlrt_cuda_open(char *arch, size_t archlen, char *err, size_t errlen);
void dlrt_cuda_close(dlrt_cuda *c);
/* The device's name, for messages. */
const char *dlrt_cuda_device_name(const dlrt_cuda *c);

/* Loads program p with its compiled module (a cubin from dlrt_nvrtc_compile), allocates its
 * arena and weights, and uploads the initial weights (weights_count floats). */
int dlrt_cuda_load(dlrt_cuda *c, const dlrt_cuda_program *p, const void *cubin,
                   const float *weights, char *err, size_t errlen);

/* Runs one step of function fn (a training step, as a CUDA graph when graphs are on, or
 * DLRT_CUDA_EVAL) at batch n, with host inputs (one per program input) and scalars (n_scalars
 * doubles; NULL: zeros); *loss gets the function's loss (0 without one). */
int dlrt_cuda_step(dlrt_cuda *c, int fn, int n, const void *const *inputs,
                   const double *scalars, double *loss, char *err, size_t errlen);
/* Uses CUDA graphs for the training steps (default on). */
void dlrt_cuda_use_graphs(dlrt_cuda *c, int on);

/* Checking op by op (dlc --check-cuda): copy the inputs and scalars of a step at batch n into
 * the arena's staging area; run launches [first, first + count) of function fn directly (no
 * graph) and wait for them. */
int dlrt_cuda_stage(dlrt_cuda *c, int n, const void *const *inputs, const double *scalars,
                    char *err, size_t errlen);
int dlrt_cuda_run(dlrt_cuda *c, int fn, int n, int first, int count, char *err, size_t errlen);
int dlrt_cuda_write_arena(dlrt_cuda *c, long long offset, const void *src, long long bytes,
                          char *err, size_t errlen);

/* Copies between the host and the device's arena / weights (bytes from offset). */
int dlrt_cuda_read_arena(dlrt_cuda *c, long long offset, void *dst, long long bytes, char *err,
                         size_t errlen);
int dlrt_cuda_read_weights(dlrt_cuda *c, float *dst, char *err, size_t errlen);
int dlrt_cuda_write_weights(dlrt_cuda *c, const float *src, char *err, size_t errlen);

#endif
