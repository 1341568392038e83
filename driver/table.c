/*
 * table.c — the driver's side of `data = csv(...)`: the train block's table (ir/train_config.h)
 * becomes the runtime's dlrt_table_spec, each file path resolved against the folder of the .dl
 * file that names it (an absolute path is kept), so a model and its data move together.
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

void dlc_table_spec(dlc_unit *u, const char *model, dlrt_table_spec *out) {
    const table_config *t = &u->cfg.table;
    *out = (dlrt_table_spec){
        .format = t->format, .file = beside(&u->a, model, t->file),
        .test_file = beside(&u->a, model, t->test_file), .x_cols = t->x_cols, .n_x = t->n_x,
        .x_first = t->x_first, .x_last = t->x_last, .y_cols = t->y_cols, .n_y = t->n_y,
        .labels = t->labels, .classes = t->classes, .group = t->group,
        .delimiter = t->delimiter, .test = t->test, .stratify = t->stratify};
}
