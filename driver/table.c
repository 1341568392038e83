/*
 * table.c — the driver's side of `data = csv(...)`, `npy(...)` and `npz(...)`: the train block's
 * table (ir/train_config.h) becomes the runtime's dlrt_table_spec, each file path resolved
 * against the folder of the .dl file that names it (an absolute path is kept), so a model and
 * its data move together.
 */
#include "driver.h"
#include <string.h>

/* `path` as seen from the folder of `model` (the .dl file), in the unit's arena */
static const char *beside(arena *a, const char *model, const char *path) {
    if (!path || path[0] == '/') return path;
    const char *slash = model ? strrchr(model, '/') : NULL;
    if (!slash) return path;
    return arena_printf(a, "%.*s/%s", (int)(slash - model), model, path);
}

/* npy: one path (resolved) in a fresh one-entry array */
static const char *const *one_path(arena *a, const char *model, const char *const *names, int n) {
    if (n < 1) return names;
    const char **v = arena_alloc(a, sizeof(char *));
    v[0] = beside(a, model, names[0]);
    return v;
}

void dlc_table_spec(dlc_unit *u, const char *model, dlrt_table_spec *out) {
    const table_config *t = &u->cfg.table;
    if (t->format == DLRT_TABLE_NPY) { /* every binding names a file */
        *out = (dlrt_table_spec){
            .format = t->format, .x_cols = one_path(&u->a, model, t->x_cols, t->n_x), .n_x = t->n_x,
            .y_cols = one_path(&u->a, model, t->y_cols, t->n_y), .n_y = t->n_y,
            .labels = t->labels, .classes = t->classes, .group = beside(&u->a, model, t->group),
            .test = t->test, .stratify = t->stratify};
        return;
    }
    *out = (dlrt_table_spec){
        .format = t->format, .file = beside(&u->a, model, t->file),
        .test_file = beside(&u->a, model, t->test_file), .x_cols = t->x_cols, .n_x = t->n_x,
        .x_first = t->x_first, .x_last = t->x_last, .y_cols = t->y_cols, .n_y = t->n_y,
        .labels = t->labels, .classes = t->classes, .group = t->group,
        .delimiter = t->delimiter, .test = t->test, .stratify = t->stratify};
}
