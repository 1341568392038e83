/*
 * lower_data.c — `data = DATASET(INPUT = FIELD, ..., SETTING = VALUE)` in a train block: which
 * dataset, which model input receives which of its fields, and the dataset's settings
 * (normalize for every dataset; n, n_test, low, high, noise for sine). Each dataset has a
 * samples field (fed to the "feature" input) and a target field (class labels or real
 * targets); each binding is checked against the input's element type and size. Setting names
 * take precedence over input names, except that `classes`, `limit` and `test_limit` written
 * with a field's name are bindings (as before those settings existed).
 * `pairs(DATASET(SETTINGS), INPUT = FIELD, ..., same_share = 0.5, per_epoch = N, test_count = N)` and
 * `triplets(...)` wrap a labelled dataset: their fields are the tuple's samples (first, second,
 * same; anchor, positive, negative), drawn by the runtime's sampler (runtime/dlrt_pairs.h).
 */
#include "lower_internal.h"
#include <math.h>
#include <string.h>

#define SINE_PI 3.14159265358979323846
enum { SINE_MAX_N = 100000000 }; /* samples per split: 100M keeps x and y under 1 GB */
enum { DATA_MAX_LIMIT = 100000000, DATA_N_CLASSES = 10 }; /* limits; mnist's classes */

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
    const char *names[N_DATASETS + 3] = {[N_DATASETS] = "csv", "npy", "npz"}; /* + the files */
    for (int i = 0; i < N_DATASETS; i++) {
        names[i] = datasets[i].name;
        if (strcmp(e->str, names[i]) == 0) return &datasets[i];
    }
    const char *best = diag_closest(e->str, names, N_DATASETS + 3);
    char hint[DIAG_HINT_SIZE];
    diag_error(c->d, e->loc, "unknown dataset '%s'%s", e->str,
               diag_hint(hint, best, " (known: mnist, fashion_mnist, sine; files: csv, npy, npz)"));
    return NULL;
}

/* normalize = standardize(per_feature = 1): the settings of a normalization call */
static int lower_normalize_settings(lower_ctx *c, const ast_expr *e, train_config *cfg) {
    static const char *const known[] = {"per_feature"};
    for (int i = 0; i < e->n_args; i++) {
        const ast_arg *arg = &e->args[i];
        if (!arg->name) {
            diag_error(c->d, arg->value->loc, "%s: settings are named: %s(per_feature = 1)",
                       e->str, e->str);
            return 0;
        }
        if (strcmp(arg->name, "per_feature") != 0) {
            char hint[DIAG_HINT_SIZE];
            diag_error(c->d, arg->name_loc, "%s: unknown setting '%s'%s", e->str, arg->name,
                       diag_hint(hint, diag_closest(arg->name, known, 1), " (known: per_feature)"));
            return 0;
        }
        double v;
        if (!lower_eval_number(c, arg->value, &v)) return 0;
        if (v != 0 && v != 1) {
            diag_error(c->d, arg->value->loc, "%s: per_feature must be 0 or 1, got %s", e->str,
                       lower_num_text(c, v));
            return 0;
        }
        cfg->normalize_per_feature = v == 1;
    }
    return 1;
}

/* normalize = none | standardize | minmax, or standardize(per_feature = 1) and
 * minmax(per_feature = 1) (statistics from the training split only) */
static int lower_normalize(lower_ctx *c, const ast_expr *e, train_config *cfg) {
    static const char *const kinds[] = {"none", "standardize", "minmax"};
    const int call = e->kind == AST_CALL;
    const char *k = call ? e->str : lower_eval_symbol(c, e, "a normalization");
    if (!k) return 0;
    cfg->normalize_per_feature = 0;
    for (int i = 0; i < 3; i++)
        if (strcmp(k, kinds[i]) == 0) {
            cfg->normalize = i; /* same order as DLRT_NORM_* */
            if (call && i == 0) break;
            return !call || lower_normalize_settings(c, e, cfg);
        }
    if (call && strcmp(k, "none") == 0) {
        diag_error(c->d, e->loc, "normalize: none takes no settings; write normalize = none");
        return 0;
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

/* classes = [0, 1, 2]: distinct classes of the dataset, into a mask */
int lower_classes(lower_ctx *c, const ast_expr *e, const char *ds, unsigned *mask) {
    if (e->kind != AST_LIST || e->n_args == 0) {
        diag_error(c->d, e->loc, "classes must be a non-empty list of class indices, e.g. "
                   "classes = [0, 1, 2]");
        return 0;
    }
    *mask = 0;
    for (int i = 0; i < e->n_args; i++) {
        const ast_expr *v = e->args[i].value;
        double k;
        if (!lower_eval_number(c, v, &k)) return 0;
        if (k != floor(k) || k < 0 || k >= DATA_N_CLASSES) {
            diag_error(c->d, v->loc, "%s has no class %s (its classes are 0 to %d)", ds,
                       lower_num_text(c, k), DATA_N_CLASSES - 1);
            return 0;
        }
        if (*mask >> (int)k & 1u) {
            diag_error(c->d, v->loc, "class %d is listed twice", (int)k);
            return 0;
        }
        *mask |= 1u << (int)k;
    }
    return 1;
}

/* a setting of every dataset, or of the labelled ones; -1 when `arg` is not one */
static int lower_dataset_setting(lower_ctx *c, const dataset_info *ds, const ast_arg *arg,
                                 train_config *cfg) {
    const char *name = arg->name;
    const ast_expr *v = arg->value;
    if (!strcmp(name, "normalize")) return lower_normalize(c, v, cfg);
    if (ds->synthetic) return lower_sine_setting(c, name, v, &cfg->sine);
    if (v->kind == AST_NAME && (!strcmp(v->str, ds->fields[0].name) || !strcmp(v->str, ds->fields[1].name)))
        return -1; /* `limit = label`: binds an input named limit */
    if (!strcmp(name, "classes")) return lower_classes(c, v, ds->name, &cfg->classes);
    if (!strcmp(name, "limit"))
        return lower_eval_count(c, v, "limit", 1, DATA_MAX_LIMIT, &cfg->limit);
    if (!strcmp(name, "test_limit"))
        return lower_eval_count(c, v, "test_limit", 1, DATA_MAX_LIMIT, &cfg->test_limit);
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

/* the binding's defaults: a later data = ... replaces an earlier one */
static void start_data(train_config *cfg, const dataset_info *ds) {
    cfg->dataset = ds->runtime;
    cfg->feature_input = cfg->target_input = NULL;
    cfg->normalize = cfg->normalize_per_feature = 0;
    cfg->classes = 0, cfg->limit = cfg->test_limit = 0;
    cfg->arity = 0, cfg->same_share = 0.5, cfg->tuples = cfg->test_tuples = 0;
    cfg->member_input[0] = cfg->member_input[1] = cfg->member_input[2] = NULL;
    cfg->image_hw[0] = ds->image[0], cfg->image_hw[1] = ds->image[1];
    cfg->table = (table_config){0};
    cfg->sine = (sine_config){.n = 2048, .n_test = 1024, .low = -SINE_PI, .high = SINE_PI, .noise = 0};
}

/* ---- pairs(DATASET(...), INPUT = FIELD, ...) and triplets(...) ---- */

static const char *const tuple_fields[2][3] = {{"first", "second", "same"},
                                              {"anchor", "positive", "negative"}};

static int field_index(lower_ctx *c, const ast_expr *e, const ast_arg *arg, int arity) {
    const char *const *names = tuple_fields[arity - 2];
    const char *field = lower_eval_symbol(c, arg->value, "a field");
    if (!field) return -1;
    for (int k = 0; k < 3; k++)
        if (!strcmp(field, names[k])) return k;
    const char *best = diag_closest(field, names, 3);
    if (best)
        diag_error(c->d, arg->value->loc, "%s has no field '%s'; did you mean '%s'?", e->str, field,
                   best);
    else
        diag_error(c->d, arg->value->loc, "%s has no field '%s' (fields: %s, %s, %s)", e->str, field,
                   names[0], names[1], names[2]);
    return -1;
}

/* binds model input `arg->name` to a sample of the tuple, or to a pair's same-class target */
static int bind_member(lower_ctx *c, const ast_expr *e, const ast_arg *arg, const dataset_info *ds,
                       train_config *cfg) {
    int node = ir_find_leaf(c->g, IR_OP_input, arg->name);
    if (node < 0) {
        diag_error(c->d, arg->name_loc, "model '%s' has no input '%s'", cfg->model, arg->name);
        return 0;
    }
    int k = field_index(c, e, arg, cfg->arity);
    if (k < 0) return 0;
    const ir_node *in = ir_get(c->g, node);
    int same = cfg->arity == 2 && k == 2;
    int ok = same ? (in->dtype == IR_I32 ? in->shape.rank == 1 : ir_shape_inner(&in->shape) == 1)
                  : in->dtype == IR_F32 && ir_shape_inner(&in->shape) == ds->fields[0].size;
    if (!ok) {
        diag_error(c->d, arg->name_loc, "input '%s' is %s%s but %s", arg->name,
                   in->dtype == IR_I32 ? "i32" : "f32", ir_shape_str(c->a, &in->shape),
                   same ? "same is 1 or 0 per pair (an i32[] input or one f32 value per pair)"
                        : ds->fields[0].what);
        return 0;
    }
    if (same) cfg->target_input = arg->name;
    else cfg->member_input[k] = arg->name;
    return 1;
}

/* same_share = 0.5 (pairs), per_epoch = N, test_count = N; -1 when `arg` is not a setting */
static int tuple_setting(lower_ctx *c, const ast_arg *arg, train_config *cfg) {
    if (!strcmp(arg->name, "same_share") && cfg->arity == 2)
        return lower_in_range(c, arg->value, "pairs: same_share", 0, 1, 0, 0, &cfg->same_share);
    if (!strcmp(arg->name, "per_epoch"))
        return lower_eval_count(c, arg->value, "per_epoch", 1, DATA_MAX_LIMIT, &cfg->tuples);
    if (!strcmp(arg->name, "test_count"))
        return lower_eval_count(c, arg->value, "test_count", 1, DATA_MAX_LIMIT, &cfg->test_tuples);
    return -1;
}

/* the wrapped dataset: a labelled one, with settings only */
static const dataset_info *tuple_source(lower_ctx *c, const ast_expr *e, train_config *cfg) {
    const ast_expr *in = e->n_args > 0 && !e->args[0].name ? e->args[0].value : NULL;
    const char *use = e->str[0] == 'p' ? "x1 = first, x2 = second, y = same"
                                       : "a = anchor, p = positive, n = negative";
    if (!in || in->kind != AST_CALL) {
        diag_error(c->d, in ? in->loc : e->loc, "%s draws from a labelled dataset: %s(mnist(), %s)",
                   e->str, e->str, use);
        return NULL;
    }
    const dataset_info *ds = find_dataset(c, in);
    if (!ds) return NULL;
    if (ds->synthetic) {
        diag_error(c->d, in->loc, "%s needs a labelled dataset (mnist, fashion_mnist): %s has no "
                   "classes", e->str, in->str);
        return NULL;
    }
    start_data(cfg, ds);
    cfg->arity = e->str[0] == 'p' ? 2 : 3;
    for (int i = 0; i < in->n_args; i++) {
        const ast_arg *arg = &in->args[i];
        int r = arg->name ? lower_dataset_setting(c, ds, arg, cfg) : -1;
        if (r > 0) continue;
        if (r < 0)
            diag_error(c->d, arg->name ? arg->name_loc : arg->value->loc, "bind the inputs on "
                       "%s(...), not on %s: %s(%s(), %s)", e->str, in->str, e->str, in->str, use);
        return NULL;
    }
    return ds;
}

static int lower_tuples(lower_ctx *c, const ast_expr *e, train_config *cfg) {
    const dataset_info *ds = tuple_source(c, e, cfg);
    if (!ds) return 0;
    for (int i = 1; i < e->n_args; i++) {
        const ast_arg *arg = &e->args[i];
        if (!arg->name) {
            diag_error(c->d, arg->value->loc, "bind inputs by name: %s(%s(), INPUT = FIELD)", e->str,
                       ds->name);
            return 0;
        }
        int r = tuple_setting(c, arg, cfg);
        if (r < 0) r = bind_member(c, e, arg, ds, cfg);
        if (!r) return 0;
    }
    return 1;
}

/* ---- csv("file.csv", ...), npy(...), npz("file.npz", ...): the user's data (lower_table.c) ---- */

static int lower_table(lower_ctx *c, const ast_expr *e, train_config *cfg) {
    dataset_info table = {e->str, e->str, {{0}, {0}}, 0, {0, 0}};
    start_data(cfg, &table);
    if (!lower_table_start(c, e, cfg)) return 0;
    for (int i = cfg->table.file ? 1 : 0; i < e->n_args; i++) {
        const ast_arg *arg = &e->args[i];
        int r = arg->name && !strcmp(arg->name, "normalize") ? lower_normalize(c, arg->value, cfg)
                                                            : lower_table_arg(c, arg, cfg);
        if (!r) return 0;
    }
    return lower_table_finish(c, e, cfg);
}

/* data = mnist(x = image, y = label, normalize = standardize): bind inputs to fields */
int lower_data(lower_ctx *c, const ast_expr *e, train_config *cfg) {
    if (e->kind != AST_CALL) {
        diag_error(c->d, e->loc, "data must name a dataset and bind inputs: mnist(x = image, y = label)");
        return 0;
    }
    if (!strcmp(e->str, "pairs") || !strcmp(e->str, "triplets")) return lower_tuples(c, e, cfg);
    if (!strcmp(e->str, "csv") || !strcmp(e->str, "npy") || !strcmp(e->str, "npz"))
        return lower_table(c, e, cfg);
    const dataset_info *ds = find_dataset(c, e);
    if (!ds) return 0;
    start_data(cfg, ds);
    for (int i = 0; i < e->n_args; i++) {
        const ast_arg *arg = &e->args[i];
        if (!arg->name) {
            diag_error(c->d, arg->value->loc, "bind inputs by name: %s(x = %s, y = %s)", e->str,
                       ds->fields[0].name, ds->fields[1].name);
            return 0;
        }
        int r = lower_dataset_setting(c, ds, arg, cfg);
        if (r < 0) r = bind_field(c, e, arg, ds, cfg);
        if (!r) return 0;
    }
    return !ds->synthetic || check_sine(c, e, &cfg->sine);
}
