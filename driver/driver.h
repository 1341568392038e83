/*
 * driver.h — the dlc command line: option parsing (options.c), the front half of the compiler
 * shared by every mode (compile.c), building generated C into a cached shared object and
 * loading it (build.c), inference C from trained weights (inference.c), and the modes (main.c:
 * -o, --emit-c, --dump-after, --run, --gradcheck, --weights).
 * Everything but main.c is the library dlc_driver, which the reference tests link too.
 */
#ifndef DLC_DRIVER_H
#define DLC_DRIVER_H
#include "../frontend/lower.h"
#include "../ir/weights.h"
#include "../passes/pass.h"
#include "../runtime/dlrt.h"

typedef struct dlc_options {
    const char *input;        /* the .dl file */
    const char *output;       /* -o FILE: write generated C */
    const char *dump_after;   /* --dump-after=PASS */
    const char *data_dir;     /* --data DIR */
    const char *report;       /* --report FILE */
    const char *cache_dir;    /* --cache DIR */
    const char *weights;      /* --weights FILE: compile for inference with these weights */
    const char *save_weights; /* --save-weights FILE: with --run, write the trained weights */
    const char *value;        /* --value NAME: with --weights, the model value to compute */
    const char *images;       /* --images DIR: with --run, write the run's images as PNG there */
    const char *samples;      /* --samples FILE: with --run or --weights, write samples as IDX */
    long long samples_count;  /* --samples-count N (0: not given, 1000) */
    int run;                  /* --run */
    int emit_c;               /* --emit-c */
    int gradcheck;            /* --gradcheck */
    int f64;                  /* --f64: double-precision code */
    int quiet;                /* -q */
    int no_fold;              /* --no-fold: with --weights, leave batchnorm unfolded */
    int no_reuse;             /* --no-reuse: memory plan keeps every intermediate apart */
    int mem_report;           /* --mem-report: print the predicted memory and stop */
    int json;                 /* --json: the memory report as JSON */
    long long batch;          /* --batch N: batch size of the memory report (0: the model's) */
    const char *dtype;        /* --dtype: element type of the memory report (NULL: f32) */
    const char *target;       /* --target: target of the memory report (NULL: cpu) */
    long long fit;            /* --fit BYTES: report the largest batch that fits (0: off) */
    int cuda;                 /* --target cuda */
    int check_cuda;           /* --check-cuda: compare the GPU's values with the C backend's */
    int check_numerics;       /* --check-numerics: name the op that made the first NaN or Inf */
    dlc_define defines[64];   /* -D NAME=VALUE */
    int n_defines;            /* entries in defines */
    char define_names[64][64];/* storage for the names in defines */
} dlc_options;

/* Returns 0 to go on, 1 after printing help/version (exit 0), -1 after an error (exit 1). */
int dlc_parse_options(int argc, char **argv, dlc_options *o);

/* The targets a compilation plans memory for (the memplan analysis: one plan each). */
typedef enum dlc_target { DLC_TARGET_C, DLC_TARGET_CUDA, DLC_TARGET_COUNT } dlc_target;

typedef struct dlc_unit {
    arena a;            /* everything the compilation allocated */
    diag d;             /* its diagnostics */
    char *src;          /* source text (malloc'd) */
    ir_graph *g;        /* the graph after the pipeline */
    train_config cfg;   /* the train block */
    int stopped;        /* --dump-after stopped the pipeline and printed */
    sched_funcs sched;  /* the schedule analysis: the step functions' schedules */
    const mem_plan *plan[DLC_TARGET_COUNT]; /* the memplan analysis: the plan of each target
                        the mode generates for (C always; CUDA with --target cuda and
                        --check-cuda; --mem-report: the report's target), else NULL */
} dlc_unit;

/* Parse, lower, run the passes and the analyses (the pass table's training or gradient-check
 * pipeline). Returns 0 on success, 1 after user errors. With
 * for_gradcheck the optimizer update is left out and every parameter's gradient is exposed as
 * a model output (see dlc_gradient_output). dlc_compile reads o->input; dlc_compile_text
 * compiles `text` and names it o->input in diagnostics. */
int dlc_compile(dlc_unit *u, const dlc_options *o, int for_gradcheck);
int dlc_compile_text(dlc_unit *u, const dlc_options *o, const char *text, int for_gradcheck);
void dlc_unit_free(dlc_unit *u);

struct dlrt_weights; /* runtime/dlrt_weights.h */

/* Compile o->input's forward graph for inference (the pass_inference_pipeline) against the
 * weights w, or with w NULL only to list which tensors a weights file holds. The graph's leaves
 * read u->g->weights (w's tensors, with fold_batchnorm's added). */
int dlc_compile_inference(dlc_unit *u, const dlc_options *o, const struct dlrt_weights *w);

/* The tensors of weights file w as the IR's table (ir/weights.h), copied into arena a; its
 * normalize_names[k] is the runtime's name for the statistics of input normalized[k], for the
 * n_normalized inputs the train block normalises. */
ir_weights *dlc_ir_weights(const struct dlrt_weights *w, const char *const *normalized,
                           int n_normalized, arena *a);

/* dlc MODEL --weights FILE: read the weights, compile the inference graph, honour
 * --dump-after, write the inference C (-o, --emit-c). Returns the exit status. */
int dlc_inference(const dlc_options *o);

/* The names of the param and state tensors that inference reads, for --save-weights: compiles
 * the inference graph of o->input into u (freed by the caller). Returns 0, or 1 after errors. */
int dlc_inference_tensors(dlc_unit *u, const dlc_options *o, const char ***names, int *n);

/* The output of model m (generated from u->g compiled for_gradcheck) that holds the gradient of
 * parameter `param`, or NULL when it has none. */
const dlrt_tensor_desc *dlc_gradient_output(const ir_graph *g, const dlrt_model_desc *m,
                                            const char *param);

/* The train block's learning-rate schedule, as the runtime applies it. */
dlrt_schedule dlc_schedule(const train_config *cfg);
dlrt_schedule dlc_opt_schedule(const opt_config *opt); /* one step's optimizer's */

/* Compile C source into a shared object in the cache (or reuse it) and load PREFIX_model. */
const dlrt_model_desc *dlc_build_and_load(const char *c_source, const char *prefix,
                                          const dlc_options *o, void **handle);

/* The compiled-model cache (build.c): its directory (--cache, $DLC_CACHE, $XDG_CACHE_HOME/dlc or
 * ~/.cache/dlc), creating a directory with its parents (0 or -1), and the key hash (FNV-1a of
 * text, chained from h; h = 0 starts a key). The CUDA modules share them (cuda.c). */
const char *dlc_cache_dir(const dlc_options *o, char *buf, size_t n); /* NULL: too long (printed) */
int dlc_mkdir_p(const char *path);
uint64_t dlc_cache_hash(uint64_t h, const char *text);

/* --target cuda (cuda.c): -o / --emit-c write the CUDA program; --check-cuda runs the training
 * and evaluation steps on both backends and compares every stored value. Exit statuses. */
int dlc_cuda_generate(dlc_unit *u, const dlc_options *o);
int dlc_check_cuda(dlc_unit *u, const dlc_options *o);
/* --run --target cuda: m (the C build of u, for its tables) with its step functions running on
 * the GPU; NULL after printing why (no driver, no device, NVRTC). */
const dlrt_model_desc *dlc_cuda_model(dlc_unit *u, const dlrt_model_desc *m, const dlc_options *o);

/* Runs argv[0] (found on PATH) with argv and waits: 0 when it exited with status 0, else -1. */
int dlc_run_command(char *const argv[]);
/* A build step into the cache: runs argv, which writes `tmp` (a name of this process's own),
 * and renames tmp to `path`, so the entry appears whole or not at all (an interrupted build,
 * or another process building the same entry, never leaves or reads a partial file). Returns
 * 0, or -1 with tmp removed. */
int dlc_run_into(char *const argv[], const char *tmp, const char *path);

/* snprintf into buf[n] that refuses to truncate: 0, or -1 after printing "path too long". */
int dlc_path(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Write text to path with dlrt_write_file (atomic; a device or FIFO written in place). Returns
 * 0 or -1 with a message printed. */
int dlc_write_file_atomic(const char *path, const char *text);

/* files.c: refuses (printing why) an output that is one of the run's inputs or another output,
 * by device and inode. Returns 0, or 1 (the exit status). */
int dlc_check_files(const dlc_options *o);

int dlc_gradcheck(dlc_unit *u, const dlc_options *o);

/* samples.c: the names of the param and buffer tensors the train block's samples value reads
 * in u's graph (none without one), in u's arena */
int dlc_sample_names(dlc_unit *u, const char ***names, int *n);
/* names then those of more not among them, in a; *out entries */
const char **dlc_merge_names(arena *a, const char **names, int n, const char *const *more,
                             int n_more, int *out);

/* --check-numerics with --run (numerics.c): binds the loaded model's PREFIX_numerics (handle:
 * its dlopen handle) and the report naming the op at its source line into t; 0, or 1 after an
 * error. */
int dlc_numerics_hook(dlc_unit *u, void *handle, dlrt_train_opts *t);
/* ... binds only the report (both hooks use it) */
void dlc_numerics_report(dlc_unit *u, dlrt_train_opts *t);
/* ... with --target cuda (cuda.c, after dlc_cuda_model): the device's record instead; 0 */
int dlc_cuda_numerics_hook(dlc_unit *u, dlrt_train_opts *t);

/* --mem-report (memreport.c): prints the memory plan's figures; returns the exit status. */
int dlc_mem_report(dlc_unit *u, const dlc_options *o);

/* data = csv(...) (table.c): the runtime's table spec, paths resolved against the folder of
 * `model` (the .dl file; strings in the unit's arena). */
void dlc_table_spec(dlc_unit *u, const char *model, dlrt_table_spec *out);

#endif
