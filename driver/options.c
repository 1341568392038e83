/*
 * options.c — command-line parsing for dlc. Every bad option is an error that names it;
 * unknown options get a "did you mean". The --dump-after names (help and check) are the pass
 * table's (passes/pipeline.c).
 */
#include "driver.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the help before and after the --dump-after names, which come from the pass table */
static const char usage_head[] =
    "usage: dlc [options] MODEL.dl\n"
    "\n"
    "  -o FILE            write the model as C (training step, evaluation, tables)\n"
    "  --run              compile now (clang, cached by content) and train, then test once\n"
    "  --emit-c           print the generated C to standard output\n"
    "  --dump-after=PASS  print the IR after PASS and stop; PASS is one of\n";
static const char usage_tail[] =
    "  --weights FILE     compile the forward graph for inference with the trained weights of\n"
    "                     FILE embedded (with -o / --emit-c: one self-contained C file)\n"
    "  --value NAME       with --weights: compute the model value NAME (an embedding, a\n"
    "                     hidden layer) instead of the model's last value\n"
    "  --no-fold          with --weights: keep each batchnorm instead of folding it into the\n"
    "                     layer before it (docs/cli.md)\n"
    "  --save-weights FILE  with --run: write the trained weights to FILE\n"
    "  --images DIR       with --run: write the images the run makes (images = [grid(...)])\n"
    "                     as PNG files into DIR, after the test split (and every N epochs)\n"
    "  --samples FILE     with --run: after the test split, write samples of the train block's\n"
    "                     `samples = sample(...)` value as u8 IDX images; with --weights W and\n"
    "                     no --run: the same samples from saved weights, without training\n"
    "  --samples-count N  with --samples: how many (default 1000)\n"
    "  --mem-report       print the memory training will take, planned before anything runs\n"
    "                     (docs/cli.md); with --batch N, --dtype f32|f16|bf16|f64,\n"
    "                     --target cpu|cuda, --json, or --fit BYTES (the largest batch that\n"
    "                     fits; BYTES may end in K, M, G (powers of 1024) or KB, MB, GB)\n"
    "  --no-reuse         plan memory without reuse: every intermediate keeps its own bytes\n"
    "  --check-numerics   test every value the training step computes for NaN and Inf; the\n"
    "                     first one stops the run, naming the op and its line (slower,\n"
    "                     docs/cli.md)\n"
    "  -D NAME=VALUE      override `param NAME` of the file\n"
    "  --data DIR         data directory (default: $DLC_DATA, else the build's data/)\n"
    "  --report FILE      with --run: write the run's measurements as JSON\n"
    "  --cache DIR        compiled-model cache (default: $DLC_CACHE, else ~/.cache/dlc)\n"
    "  --gradcheck        check every parameter gradient against finite differences (f64)\n"
    "  --f64              generate double-precision code\n"
    "  -q, --quiet        print only errors and final results\n"
    "  -h, --help         this help; --version prints the version\n"
    /* CUDA (driver/cuda.c) */
    "  --target cpu|cuda  C for the CPU (default) or CUDA: with --run, train on the GPU; with\n"
    "                     -o / --emit-c, write the CUDA kernels and launch tables (docs/cuda.md)\n"
    "  --check-cuda       run the training and evaluation steps on the C backend and on the\n"
    "                     GPU from the same weights and inputs; compare every stored value\n";

enum { HELP_INDENT = 21, HELP_WIDTH = 88 };

/* the names --dump-after takes in variant v, in the table's order (at most max) */
static int pass_names(pass_variant v, const char **names, int max) {
    int n = 0;
    for (int i = 0; i < pass_table_len && n < max; i++)
        if (pass_in_variant(&pass_table[i], v) && pass_table[i].dump) names[n++] = pass_table[i].name;
    return n;
}

/* variant v's --dump-after names, `before` the first and `after` the last, filled into lines of
 * the help's second column */
static void print_pass_names(FILE *out, pass_variant v, const char *before, const char *after) {
    const char *names[64];
    int n = pass_names(v, names, 64), col = HELP_WIDTH;
    for (int i = 0; i < n; i++) {
        char word[64];
        snprintf(word, sizeof word, "%s%s%s", i ? "" : before, names[i], i + 1 < n ? "," : after);
        int len = (int)strlen(word);
        if (col + 1 + len > HELP_WIDTH) {
            fprintf(out, "%s%*s%s", i ? "\n" : "", HELP_INDENT, "", word);
            col = HELP_INDENT + len;
        } else {
            fprintf(out, " %s", word);
            col += 1 + len;
        }
    }
    fputc('\n', out);
}

static void print_usage(FILE *out) {
    fputs(usage_head, out);
    print_pass_names(out, PASS_TRAIN, "", "");
    print_pass_names(out, PASS_INFERENCE, "(with --weights: ", ")");
    fputs(usage_tail, out);
}

static const char *const long_opts[] = {"--run", "--emit-c", "--dump-after", "--data", "--report",
                                        "--cache", "--gradcheck", "--f64", "--quiet", "--help",
                                        "--version", "--weights", "--save-weights", "--no-fold", "--value",
                                        "--mem-report", "--no-reuse", "--json", "--batch",
                                        "--dtype", "--target", "--fit", "--check-cuda",
                                        "--check-numerics", "--images", "--samples",
                                        "--samples-count"};

static int bad_option(const char *arg) {
    char name[64];
    snprintf(name, sizeof name, "%s", arg);
    char *eq = strchr(name, '=');
    if (eq) *eq = 0;
    const char *best = diag_closest(name, long_opts, (int)(sizeof long_opts / sizeof *long_opts));
    if (eq && best && !strcmp(best, name)) { /* options that take values matched before */
        fprintf(stderr, "dlc: error: option '%s' takes no value (got '%s')\n", name, arg);
        return -1;
    }
    char hint[DIAG_HINT_SIZE];
    fprintf(stderr, "dlc: error: unknown option '%s'%s\n", name, diag_hint(hint, best, ""));
    return -1;
}

/* value of "--opt=V" or the next argument of "--opt V" */
static const char *value_of(int argc, char **argv, int *i, const char *opt) {
    size_t n = strlen(opt);
    if (strncmp(argv[*i], opt, n) == 0 && argv[*i][n] == '=') return argv[*i] + n + 1;
    if (*i + 1 < argc) return argv[++*i];
    fprintf(stderr, "dlc: error: option '%s' needs a value\n", opt);
    return NULL;
}

/* a file or directory option's value: an empty name is an error naming the option */
static const char *path_of(int argc, char **argv, int *i, const char *opt) {
    const char *v = value_of(argc, argv, i, opt);
    if (v && !v[0]) {
        fprintf(stderr, "dlc: error: option '%s' needs a file name, got an empty one\n", opt);
        return NULL;
    }
    return v;
}

static int matches(const char *arg, const char *opt) {
    size_t n = strlen(opt);
    return strncmp(arg, opt, n) == 0 && (arg[n] == 0 || arg[n] == '=');
}

static int add_define(dlc_options *o, const char *text) {
    const char *eq = text ? strchr(text, '=') : NULL;
    if (!eq || eq == text || !eq[1]) {
        fprintf(stderr, "dlc: error: -D expects NAME=VALUE, got '%s'\n", text ? text : "");
        return -1;
    }
    if (o->n_defines == 64) {
        fprintf(stderr, "dlc: error: too many -D options (at most 64)\n");
        return -1;
    }
    int k = o->n_defines++;
    size_t max = sizeof o->define_names[0] - 1;
    size_t n = (size_t)(eq - text) < max ? (size_t)(eq - text) : max;
    memcpy(o->define_names[k], text, n);
    o->define_names[k][n] = 0;
    o->defines[k] = (dlc_define){o->define_names[k], eq + 1};
    return 0;
}

/* a positive count, or bytes with an optional unit: K M G (1024^k, also KiB MiB GiB), KB MB GB
 * (1000^k), B */
static int parse_size(const char *opt, const char *text, int units, long long *out) {
    static const char *const names[] = {"", "B", "K", "KiB", "M", "MiB", "G", "GiB", "KB", "MB", "GB"};
    static const long long scale[] = {1, 1, 1LL << 10, 1LL << 10, 1LL << 20, 1LL << 20, 1LL << 30,
                                      1LL << 30, 1000, 1000000, 1000000000};
    if (!text) return -1;
    char *end;
    long long v = strtoll(text, &end, 10);
    for (int i = 0; end != text && v > 0 && i < (units ? 11 : 1); i++)
        if (!strcmp(end, names[i]) && v <= (1LL << 50) / scale[i]) {
            *out = v * scale[i];
            return 0;
        }
    fprintf(stderr, "dlc: error: %s expects a positive %s, got '%s'\n", opt,
            units ? "size in bytes (e.g. 8G, 512MB, 1000000)" : "integer", text);
    return -1;
}

/* --target cuda trains (--run), writes the program (-o, --emit-c), checks it (--check-cuda) or
 * reports its memory (--mem-report), in f32 and for training graphs; --target cpu is the C
 * backend (the default) */
static int check_cuda_options(dlc_options *o) {
    static const char *const targets[] = {"cpu", "cuda"};
    if (o->target && strcmp(o->target, "cpu") && strcmp(o->target, "cuda")) {
        char hint[DIAG_HINT_SIZE];
        fprintf(stderr, "dlc: error: --target: unknown target '%s'%s (cpu, cuda)\n", o->target,
                diag_hint(hint, diag_closest(o->target, targets, 2), ""));
        return -1;
    }
    o->cuda = o->check_cuda || (o->target && !strcmp(o->target, "cuda"));
    const char *clash = o->weights ? "--weights" : o->gradcheck ? "--gradcheck" : o->f64 ? "--f64" : NULL;
    if (o->cuda && !o->mem_report && clash) {
        fprintf(stderr, "dlc: error: --target cuda cannot be combined with %s\n", clash);
        return -1;
    }
    return 0;
}

static int parse_one(int argc, char **argv, int *i, dlc_options *o) {
    const char *a = argv[*i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) { print_usage(stdout); return 1; }
    if (!strcmp(a, "--version")) { puts("dlc 0.1.0"); return 1; }
    if (!strcmp(a, "--run")) { o->run = 1; return 0; }
    if (!strcmp(a, "--emit-c")) { o->emit_c = 1; return 0; }
    if (!strcmp(a, "--gradcheck")) { o->gradcheck = 1; o->f64 = 1; return 0; }
    if (!strcmp(a, "--f64")) { o->f64 = 1; return 0; }
    if (!strcmp(a, "--no-fold")) { o->no_fold = 1; return 0; }
    if (!strcmp(a, "--no-reuse")) { o->no_reuse = 1; return 0; }
    if (!strcmp(a, "--check-numerics")) { o->check_numerics = 1; return 0; }
    if (!strcmp(a, "--mem-report")) { o->mem_report = 1; return 0; }
    if (!strcmp(a, "--json")) { o->json = 1; return 0; }
    if (matches(a, "--batch")) return parse_size("--batch", value_of(argc, argv, i, "--batch"), 0, &o->batch);
    if (matches(a, "--fit")) return parse_size("--fit", value_of(argc, argv, i, "--fit"), 1, &o->fit);
    if (matches(a, "--dtype")) return (o->dtype = value_of(argc, argv, i, "--dtype")) ? 0 : -1;
    if (matches(a, "--target")) return (o->target = value_of(argc, argv, i, "--target")) ? 0 : -1;
    if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) { o->quiet = 1; return 0; }
    if (!strcmp(a, "-o")) return (o->output = path_of(argc, argv, i, "-o")) ? 0 : -1;
    if (!strncmp(a, "-D", 2)) return add_define(o, a[2] ? a + 2 : (*i + 1 < argc ? argv[++*i] : NULL));
    if (matches(a, "--dump-after")) return (o->dump_after = value_of(argc, argv, i, "--dump-after")) ? 0 : -1;
    if (matches(a, "--data")) return (o->data_dir = path_of(argc, argv, i, "--data")) ? 0 : -1;
    if (matches(a, "--report")) return (o->report = path_of(argc, argv, i, "--report")) ? 0 : -1;
    if (matches(a, "--cache")) return (o->cache_dir = path_of(argc, argv, i, "--cache")) ? 0 : -1;
    if (matches(a, "--weights")) return (o->weights = path_of(argc, argv, i, "--weights")) ? 0 : -1;
    if (matches(a, "--value")) return (o->value = value_of(argc, argv, i, "--value")) ? 0 : -1;
    if (matches(a, "--save-weights"))
        return (o->save_weights = path_of(argc, argv, i, "--save-weights")) ? 0 : -1;
    if (matches(a, "--images")) return (o->images = path_of(argc, argv, i, "--images")) ? 0 : -1;
    if (matches(a, "--samples-count"))
        return parse_size("--samples-count", value_of(argc, argv, i, "--samples-count"), 0,
                          &o->samples_count);
    if (matches(a, "--samples")) return (o->samples = path_of(argc, argv, i, "--samples")) ? 0 : -1;
    if (!strcmp(a, "--check-cuda")) { o->check_cuda = o->cuda = 1; return 0; }
    if (a[0] == '-' && a[1]) return bad_option(a);
    if (!a[0]) {
        fprintf(stderr, "dlc: error: the input file name is empty\n");
        return -1;
    }
    if (o->input) {
        fprintf(stderr, "dlc: error: more than one input file ('%s' and '%s')\n", o->input, a);
        return -1;
    }
    o->input = a;
    return 0;
}

/* the dumpable entries of the pass table in the compilation's pipeline: the training one (and
 * gradient checks', which has the same names), or with --weights the inference one */
static int check_dump_pass(const char *p, pass_variant v) {
    const char *names[64];
    int n = pass_names(v, names, 64), inference = v == PASS_INFERENCE;
    for (int i = 0; i < n; i++)
        if (!strcmp(p, names[i])) return 0;
    if (!inference && pass_find(p, PASS_INFERENCE)) {
        fprintf(stderr, "dlc: error: --dump-after=%s needs --weights FILE\n", p);
        return -1;
    }
    const char *best = diag_closest(p, names, n);
    char hint[DIAG_HINT_SIZE];
    fprintf(stderr, "dlc: error: --dump-after: unknown pass '%s'%s (passes%s:", p,
            diag_hint(hint, best, ""),
            inference ? " with --weights" : "");
    for (int i = 0; i < n; i++) fprintf(stderr, "%s %s", i ? "," : "", names[i]);
    fprintf(stderr, ")\n");
    return -1;
}

/* --samples: after --run, or from --weights without training (nothing else then) */
static int check_samples_options(const dlc_options *o) {
    if (o->samples_count && !o->samples) {
        fprintf(stderr, "dlc: error: --samples-count needs --samples\n");
        return -1;
    }
    if (o->samples_count > DLRT_MAX_SAMPLES) {
        fprintf(stderr, "dlc: error: --samples-count must be in [1, %d], got %lld\n",
                DLRT_MAX_SAMPLES, o->samples_count);
        return -1;
    }
    if (!o->samples || o->run) return 0;
    if (!o->weights) {
        fprintf(stderr, "dlc: error: --samples needs --run (samples of the trained model) or "
                        "--weights FILE (samples of saved weights)\n");
        return -1;
    }
    const char *clash = o->output ? "-o" : o->emit_c ? "--emit-c" : o->value ? "--value"
                      : o->no_fold ? "--no-fold" : o->dump_after ? "--dump-after" : NULL;
    if (clash) {
        fprintf(stderr, "dlc: error: --weights with --samples writes samples and cannot be "
                        "combined with %s\n", clash);
        return -1;
    }
    return 0;
}

/* --weights compiles for inference: no training, gradients or double precision */
static int check_weights_options(const dlc_options *o) {
    if (o->samples && check_samples_options(o)) return -1;
    if (o->samples_count && !o->samples) return check_samples_options(o);
    const char *clash = o->run ? "--run" : o->gradcheck ? "--gradcheck" : o->f64 ? "--f64" : NULL;
    if (o->weights && clash) {
        fprintf(stderr, "dlc: error: --weights compiles for inference and cannot be combined "
                        "with %s\n", clash);
        return -1;
    }
    const char *needs = o->no_fold ? "--no-fold" : o->value ? "--value" : NULL;
    if (needs && !o->weights) {
        fprintf(stderr, "dlc: error: %s needs --weights\n", needs);
        return -1;
    }
    if (o->save_weights && !o->run) {
        fprintf(stderr, "dlc: error: --save-weights needs --run\n");
        return -1;
    }
    if (o->images && !o->run) {
        fprintf(stderr, "dlc: error: --images needs --run\n");
        return -1;
    }
    return 0;
}

/* --batch, --dtype, --json and --fit shape the memory report, which only reports (--target
 * also picks the code generated: check_cuda_options) */
static int check_report_options(const dlc_options *o) {
    const char *needs = o->batch ? "--batch" : o->dtype ? "--dtype"
                      : o->json ? "--json" : o->fit ? "--fit" : NULL;
    if (needs && !o->mem_report) {
        fprintf(stderr, "dlc: error: %s needs --mem-report\n", needs);
        return -1;
    }
    const char *clash = o->run ? "--run" : o->output ? "-o" : o->emit_c ? "--emit-c"
                      : o->weights ? "--weights" : o->gradcheck ? "--gradcheck"
                      : o->dump_after ? "--dump-after" : NULL;
    if (o->mem_report && clash) {
        fprintf(stderr, "dlc: error: --mem-report only reports and cannot be combined with %s\n",
                clash);
        return -1;
    }
    if (o->fit && o->batch) {
        fprintf(stderr, "dlc: error: --fit finds the batch size itself and cannot be combined "
                        "with --batch\n");
        return -1;
    }
    return 0;
}

int dlc_parse_options(int argc, char **argv, dlc_options *o) {
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        int r = parse_one(argc, argv, &i, o);
        if (r) return r;
    }
    if (!o->input) {
        fprintf(stderr, "dlc: error: no input file\n");
        print_usage(stderr);
        return -1;
    }
    if (check_weights_options(o) || check_report_options(o) || check_cuda_options(o)) return -1;
    pass_variant v = o->weights && !o->samples ? PASS_INFERENCE : o->gradcheck ? PASS_GRADCHECK : PASS_TRAIN;
    if (o->dump_after && check_dump_pass(o->dump_after, v)) return -1;
    if (o->report && !o->run) {
        fprintf(stderr, "dlc: error: --report needs --run\n");
        return -1;
    }
    return 0;
}
