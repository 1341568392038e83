/*
 * lower_table.c — `data = csv("file.csv", INPUT = COLUMNS, ..., SETTING = VALUE)`: the user's
 * own table; `npy(INPUT = "file.npy", ...)` and `npz("file.npz", INPUT = "array", ...)` bind
 * NumPy arrays the same way (one string per input; their shapes are checked by the runtime). COLUMNS is one column ("species"), a list (["a", "b"]) or a range of the header's
 * columns (range("a", "d")); the first f32 input bound receives the features, an i32[] input
 * (class labels, one column) or a second f32 input (real targets) the target. Settings:
 * test = share | test_file = "file" (csv, npz), group = "column" (npy: a file; npz: an array),
 * stratify = 1, classes = N, delimiter = ";" | "tab" (csv) (normalize is lower_data.c's). Paths are kept as written; the driver
 * resolves them against the .dl file's folder, the runtime reads them (runtime/dlrt_table.h).
 * Called by lower_data.c (lower_table_start, lower_table_arg, lower_table_finish).
 */
#include "lower_internal.h"
#include <string.h>

enum { TABLE_MAX_COLUMNS = 4096, TABLE_MAX_CLASSES = 1000000 };

static const char COLUMNS_HINT[] = "columns are one name (y = \"label\"), a list "
                                   "(x = [\"a\", \"b\"]) or a range (x = range(\"a\", \"d\"))";

/* csv and npz name their file first; npy binds each input to a file of its own */
int lower_table_start(lower_ctx *c, const ast_expr *e, train_config *cfg) {
    int format = !strcmp(e->str, "csv") ? 1 : !strcmp(e->str, "npy") ? 2 : 3;
    const ast_expr *f = e->n_args > 0 && !e->args[0].name ? e->args[0].value : NULL;
    cfg->table = (table_config){.format = format, .delimiter = ','};
    if (format == 2) {
        if (!f) return 1;
        diag_error(c->d, f->loc, "npy binds each input to its own file: npy(x = \"x.npy\", y = "
                   "\"y.npy\", test = 0.2); for one file of named arrays use npz(\"data.npz\", ...)");
        return 0;
    }
    if (!f || f->kind != AST_STR || !f->str[0]) {
        if (format == 1)
            diag_error(c->d, f ? f->loc : e->loc, "csv needs its file first: csv(\"data.csv\", x = "
                       "[\"a\", \"b\"], y = \"label\", test = 0.2)");
        else
            diag_error(c->d, f ? f->loc : e->loc, "npz needs its file first: npz(\"data.npz\", x = "
                       "\"features\", y = \"labels\", test = 0.2)");
        return 0;
    }
    cfg->table.file = f->str;
    return 1;
}

/* the column names of a list of strings (into the arena) */
static const char **column_list(lower_ctx *c, const ast_expr *v, int *n) {
    if (v->n_args == 0 || v->n_args > TABLE_MAX_COLUMNS) {
        diag_error(c->d, v->loc, "a column list holds 1 to %d names", TABLE_MAX_COLUMNS);
        return NULL;
    }
    const char **cols = arena_alloc(c->a, sizeof(char *) * (size_t)v->n_args);
    for (int k = 0; k < v->n_args; k++) {
        const ast_expr *s = v->args[k].value;
        if (s->kind != AST_STR) {
            diag_error(c->d, s->loc, "a column is named by a string: \"%s\"",
                       s->kind == AST_NAME ? s->str : "name");
            return NULL;
        }
        for (int j = 0; j < k; j++)
            if (!strcmp(cols[j], s->str)) {
                diag_error(c->d, s->loc, "column '%s' is listed twice", s->str);
                return NULL;
            }
        cols[k] = s->str;
    }
    *n = v->n_args;
    return cols;
}

/* the columns bound to an input: n of them (0 for a range, whose size the header gives) */
typedef struct columns {
    const char **names;
    int n;
    const char *first, *last; /* a range */
} columns;

static int parse_columns(lower_ctx *c, const ast_expr *v, int format, columns *out) {
    *out = (columns){0};
    if (format > 1 && v->kind != AST_STR) {
        diag_error(c->d, v->loc, "%s", format == 2 ? "npy binds an input to one .npy file: "
                   "x = \"x.npy\"" : "npz binds an input to one array: x = \"features\"");
        return 0;
    }
    if (v->kind == AST_STR) {
        out->names = arena_alloc(c->a, sizeof(char *));
        out->names[0] = v->str, out->n = 1;
        return 1;
    }
    if (v->kind == AST_LIST) return (out->names = column_list(c, v, &out->n)) != NULL;
    int range = v->kind == AST_CALL && !strcmp(v->str, "range") && v->n_args == 2;
    for (int k = 0; range && k < 2; k++)
        range = !v->args[k].name && v->args[k].value->kind == AST_STR;
    if (range) {
        out->first = v->args[0].value->str, out->last = v->args[1].value->str;
        return 1;
    }
    diag_error(c->d, v->loc, "%s", COLUMNS_HINT);
    return 0;
}

/* an i32[] input: the class labels, one column */
static int bind_labels(lower_ctx *c, const ast_arg *arg, const ir_node *in, const columns *col,
                       train_config *cfg) {
    if (in->shape.rank != 1 || col->n != 1) {
        diag_error(c->d, arg->name_loc, "input '%s' is i32%s: class labels are i32[] and come "
                   "from one column (%s = \"label\")", arg->name, ir_shape_str(c->a, &in->shape),
                   arg->name);
        return 0;
    }
    cfg->table.y_cols = col->names, cfg->table.n_y = 1, cfg->table.labels = 1;
    cfg->target_input = arg->name;
    return 1;
}

/* an f32 input: the features (the first one bound), else real targets */
static int bind_reals(lower_ctx *c, const ast_arg *arg, const ir_node *in, const columns *col,
                      train_config *cfg) {
    int features = !cfg->feature_input;
    int64_t size = ir_shape_inner(&in->shape);
    if (col->n > 0 && size != col->n && cfg->table.format == 1) {
        diag_error(c->d, arg->name_loc, "input '%s' is f32%s (%lld values per sample) but %d "
                   "column%s bound to it", arg->name, ir_shape_str(c->a, &in->shape),
                   (long long)size, col->n, col->n == 1 ? " is" : "s are");
        return 0;
    }
    if (!features && !col->n) {
        diag_error(c->d, arg->name_loc, "the target '%s' needs its columns listed (a range is for "
                   "the features)", arg->name);
        return 0;
    }
    table_config *t = &cfg->table;
    if (features) {
        t->x_cols = col->names, t->n_x = col->n, t->x_first = col->first, t->x_last = col->last;
        cfg->feature_input = arg->name;
    } else {
        t->y_cols = col->names, t->n_y = col->n, t->labels = 0;
        cfg->target_input = arg->name;
    }
    return 1;
}

static int bind_columns(lower_ctx *c, const ast_arg *arg, train_config *cfg) {
    int node = ir_find_leaf(c->g, IR_OP_input, arg->name);
    if (node < 0) {
        diag_error(c->d, arg->name_loc, "model '%s' has no input '%s'", cfg->model, arg->name);
        return 0;
    }
    columns col;
    if (!parse_columns(c, arg->value, cfg->table.format, &col)) return 0;
    const ir_node *in = ir_get(c->g, node);
    int is_label = in->dtype == IR_I32;
    if ((is_label || cfg->feature_input) && cfg->target_input) {
        diag_error(c->d, arg->name_loc, "csv feeds two inputs, the features and the target; "
                   "'%s' would be a third", arg->name);
        return 0;
    }
    return is_label ? bind_labels(c, arg, in, &col, cfg) : bind_reals(c, arg, in, &col, cfg);
}

/* delimiter = "," | ";" | "|" | "tab": one character, not a quote or a line break */
static int table_delimiter(lower_ctx *c, const ast_expr *v, table_config *t) {
    if (v->kind == AST_STR && !strcmp(v->str, "tab")) {
        t->delimiter = '\t';
        return 1;
    }
    if (v->kind != AST_STR || strlen(v->str) != 1 || strchr("\"\r\n", v->str[0])) {
        diag_error(c->d, v->loc, "delimiter is one character, e.g. delimiter = \";\" (or \"tab\"), "
                   "not a quote or a line break");
        return 0;
    }
    t->delimiter = v->str[0];
    return 1;
}

static int table_string(lower_ctx *c, const ast_expr *v, const char *what, const char **out) {
    if (v->kind == AST_STR && v->str[0]) {
        *out = v->str;
        return 1;
    }
    diag_error(c->d, v->loc, "%s is a string, e.g. %s", what,
               !strcmp(what, "group") ? "group = \"person\"" : "test_file = \"test.csv\"");
    return 0;
}

/* a csv setting; -1 when `arg` is not one */
static int table_setting(lower_ctx *c, const ast_arg *arg, table_config *t) {
    const char *n = arg->name;
    const ast_expr *v = arg->value;
    int64_t k;
    if (!strcmp(n, "delimiter")) {
        if (t->format == 1) return table_delimiter(c, v, t);
        diag_error(c->d, arg->name_loc, "delimiter is a csv setting (NumPy arrays have none)");
        return 0;
    }
    if (!strcmp(n, "test_file") && t->format == 2) {
        diag_error(c->d, arg->name_loc, "npy splits its files with test = SHARE; for a test file "
                   "of its own, save the arrays in .npz files: npz(\"train.npz\", ..., test_file = "
                   "\"test.npz\")");
        return 0;
    }
    if (!strcmp(n, "test")) return lower_in_range(c, v, "csv: test", 0, 1, 1, 1, &t->test);
    if (!strcmp(n, "test_file")) return table_string(c, v, "test_file", &t->test_file);
    if (!strcmp(n, "group")) return table_string(c, v, "group", &t->group);
    if (!strcmp(n, "stratify")) {
        if (!lower_eval_count(c, v, "stratify", 0, 1, &k)) return 0;
        t->stratify = (int)k;
        return 1;
    }
    if (!strcmp(n, "classes"))
        return lower_eval_count(c, v, "classes", 2, TABLE_MAX_CLASSES, &t->classes);
    return -1;
}

int lower_table_arg(lower_ctx *c, const ast_arg *arg, train_config *cfg) {
    if (!arg->name) {
        diag_error(c->d, arg->value->loc, "bind inputs by name: %s", cfg->table.format == 1
                   ? "csv(\"data.csv\", x = [\"a\", \"b\"], y = \"label\")"
                   : cfg->table.format == 2 ? "npy(x = \"x.npy\", y = \"y.npy\")"
                                            : "npz(\"data.npz\", x = \"features\", y = \"labels\")");
        return 0;
    }
    int r = table_setting(c, arg, &cfg->table);
    return r >= 0 ? r : bind_columns(c, arg, cfg);
}

/* the settings together: a test split, and what stratify and classes need */
int lower_table_finish(lower_ctx *c, const ast_expr *e, train_config *cfg) {
    const table_config *t = &cfg->table;
    const char *bad = !cfg->feature_input ? "binds an f32 input to the features, e.g. x = [\"a\", "
                                            "\"b\"] (csv), x = \"x.npy\" (npy), x = \"features\" (npz)"
                      : !t->test_file && t->test == 0 ? t->format == 2 ? "needs a test split: test = 0.2"
                                                        : "needs a test split: test = 0.2 (a share of "
                                                          "this file) or test_file = \"FILE\""
                      : t->test_file && t->test > 0 ? "test and test_file exclude each other"
                      : t->stratify && !t->labels ? "stratify needs class labels (an i32[] input "
                                                    "bound to a column)"
                      : t->stratify && t->test_file ? "stratify applies to the test split of one "
                                                      "file; with test_file there is none"
                      : t->stratify && t->group ? "stratify and group exclude each other (a group "
                                                  "split keeps whole groups together)"
                      : t->classes && !t->labels ? "classes needs class labels (an i32[] input "
                                                   "bound to a column)" : NULL;
    if (bad) diag_error(c->d, e->loc, "%s %s", e->str, bad);
    return bad == NULL;
}
