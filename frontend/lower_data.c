/*
 * lower_data.c — `data = DATASET(INPUT = FIELD, ..., SETTING = VALUE)` in a train block: which
 * dataset, which model input receives which of its fields, and the dataset's settings
 * (normalize for every dataset; n, n_test, low, high, noise for sine). Each dataset has a
 * samples field (fed to the "feature" input) and a target field (class labels or real
 * targets); each binding is checked against the input's element type and size. Setting names
 * take precedence over input names.
 */
#include "lower_internal.h"
#include <string.h>

#define SINE_PI 3.14159265358979323846
enum { SINE_MAX_N = 100000000 }; /* samples per split: 100M keeps x and y under 1 GB */

typedef struct field_info {
    const char *name; /* field name in the language */
    int target;       /* 0: the samples (feature input); 1: the target */
    ir_dtype dtype;   /* element type the bound input must have */
    int64_t size;     /* values per sample the bound input must hold */
    const char *what; /* how the field is described in errors */
} field_info;

typedef struct dataset_info {
    const char *name;          /* in the language */
    const char *runtime;       /* the runtime's name for it */
    field_info fields[2];      /* samples, then target */
    int synthetic;             /* takes the sine settings */
    int64_t image[2];          /* image height and width (0, 0: the samples are no images) */
} dataset_info;

static const dataset_info datasets[] = {
    {"mnist", "mnist", {{"image", 0, IR_F32, 784, "images are 28x28 = 784 f32 values"},
                        {"label", 1, IR_I32, 1, "labels are i32[] class indices"}}, 0, {28, 28}},
    {"fashion_mnist", "fashion-mnist", {{"image", 0, IR_F32, 784, "images are 28x28 = 784 f32 values"},
                                        {"label", 1, IR_I32, 1, "labels are i32[] class indices"}}, 0, {28, 28}},
    {"sine", "sine", {{"x", 0, IR_F32, 1, "x is one f32 value (f32[1])"},
                      {"y", 1, IR_F32, 1, "y is one f32 value (f32[1])"}}, 1, {0, 0}},
};
enum { N_DATASETS = (int)(sizeof datasets / sizeof datasets[0]) };

static const dataset_info *find_dataset(lower_ctx *c, const ast_expr *e) {
    const char *names[N_DATASETS];
    for (int i = 0; i < N_DATASETS; i++) {
        names[i] = datasets[i].name;
        if (strcmp(e->str, names[i]) == 0) return &datasets[i];
    }
    const char *best = diag_closest(e->str, names, N_DATASETS);
    char hint[DIAG_HINT_SIZE];
    diag_error(c->d, e->loc, "unknown dataset '%s'%s", e->str,
               diag_hint(hint, best, " (known: mnist, fashion_mnist, sine)"));
    return NULL;
}

/* normalize = none | standardize | minmax (statistics from the training split only) */
static int lower_normalize(lower_ctx *c, const ast_expr *e, train_config *cfg) {
    static const char *const kinds[] = {"none", "standardize", "minmax"};
    const char *k = lower_eval_symbol(c, e, "a normalization");
    if (!k) return 0;
    for (int i = 0; i < 3; i++)
        if (strcmp(k, kinds[i]) == 0) {
            cfg->normalize = i; /* same order as DLRT_NORM_* */
            return 1;
        }
    const char *best = diag_closest(k, kinds, 3);
    char hint[DIAG_HINT_SIZE];
    diag_error(c->d, e->loc, "unknown normalization '%s'%s", k,
               diag_hint(hint, best, " (known: none, standardize, minmax)"));
    return 0;
}

/* a sine setting; returns -1 when `name` is not one */
static int lower_sine_setting(lower_ctx *c, const char *name, const ast_expr *v, sine_config *s) {
    if (!strcmp(name, "n")) return lower_eval_count(c, v, "sine: n", 1, SINE_MAX_N, &s->n);
    if (!strcmp(name, "n_test"))
        return lower_eval_count(c, v, "sine: n_test", 1, SINE_MAX_N, &s->n_test);
    /* the samples are f32s: low, high and noise must be finite as f32s */
    if (!strcmp(name, "low"))
        return lower_eval_number(c, v, &s->low) && lower_fits_f32(c, v->loc, s->low, "sine: low");
    if (!strcmp(name, "high"))
        return lower_eval_number(c, v, &s->high) && lower_fits_f32(c, v->loc, s->high, "sine: high");
    if (!strcmp(name, "noise")) {
        if (!lower_eval_number(c, v, &s->noise) ||
            !lower_fits_f32(c, v->loc, s->noise, "sine: noise"))
            return 0;
        if (s->noise >= 0) return 1;
        diag_error(c->d, v->loc, "sine: noise must be >= 0, got %g", s->noise);
        return 0;
    }
    return -1;
}

/* binds model input `arg->name` to the dataset field `arg->value` */
static int bind_field(lower_ctx *c, const ast_expr *e, const ast_arg *arg, const dataset_info *ds,
                      train_config *cfg) {
    int node = ir_find_leaf(c->g, IR_OP_input, arg->name);
    if (node < 0) {
        diag_error(c->d, arg->name_loc, "model '%s' has no input '%s'", cfg->model, arg->name);
        return 0;
    }
    const char *field = lower_eval_symbol(c, arg->value, "a dataset field");
    if (!field) return 0;
    const field_info *f = NULL;
    for (int k = 0; k < 2; k++)
        if (strcmp(field, ds->fields[k].name) == 0) f = &ds->fields[k];
    if (!f) {
        const char *names[2] = {ds->fields[0].name, ds->fields[1].name};
        const char *best = diag_closest(field, names, 2);
        if (best)
            diag_error(c->d, arg->value->loc, "%s has no field '%s'; did you mean '%s'?", e->str,
                       field, best);
        else
            diag_error(c->d, arg->value->loc, "%s has no field '%s' (fields: %s, %s)", e->str,
                       field, names[0], names[1]);
        return 0;
    }
    const ir_node *in = ir_get(c->g, node);
    int labels = f->dtype == IR_I32;
    if (in->dtype != f->dtype || ir_shape_inner(&in->shape) != f->size || (labels && in->shape.rank != 1)) {
        diag_error(c->d, arg->name_loc, "input '%s' is %s%s but %s %s", arg->name,
                   in->dtype == IR_I32 ? "i32" : "f32", ir_shape_str(c->a, &in->shape), e->str, f->what);
        return 0;
    }
    if (f->target) cfg->target_input = arg->name;
    else cfg->feature_input = arg->name;
    return 1;
}

static int check_sine(lower_ctx *c, const ast_expr *e, const sine_config *s) {
    if (s->low < s->high) return 1;
    diag_error(c->d, e->loc, "sine: low must be < high, got low = %g, high = %g", s->low, s->high);
    return 0;
}

/* data = mnist(x = image, y = label, normalize = standardize): bind inputs to fields */
int lower_data(lower_ctx *c, const ast_expr *e, train_config *cfg) {
    if (e->kind != AST_CALL) {
        diag_error(c->d, e->loc, "data must name a dataset and bind inputs: mnist(x = image, y = label)");
        return 0;
    }
    const dataset_info *ds = find_dataset(c, e);
    if (!ds) return 0;
    cfg->dataset = ds->runtime;
    cfg->feature_input = cfg->target_input = NULL; /* a later data = ... replaces an earlier one */
    cfg->normalize = 0;
    cfg->image_hw[0] = ds->image[0], cfg->image_hw[1] = ds->image[1];
    cfg->sine = (sine_config){.n = 2048, .n_test = 1024, .low = -SINE_PI, .high = SINE_PI, .noise = 0};
    for (int i = 0; i < e->n_args; i++) {
        const ast_arg *arg = &e->args[i];
        if (!arg->name) {
            diag_error(c->d, arg->value->loc, "bind inputs by name: %s(x = %s, y = %s)", e->str,
                       ds->fields[0].name, ds->fields[1].name);
            return 0;
        }
        int r = strcmp(arg->name, "normalize") == 0 ? lower_normalize(c, arg->value, cfg)
              : ds->synthetic ? lower_sine_setting(c, arg->name, arg->value, &cfg->sine) : -1;
        if (r < 0) r = bind_field(c, e, arg, ds, cfg);
        if (!r) return 0;
    }
    return !ds->synthetic || check_sine(c, e, &cfg->sine);
}
