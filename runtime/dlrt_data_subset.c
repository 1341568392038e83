/*
 * dlrt_data_subset.c — class filters and subsets of a labelled dataset (`classes = [0, 1, 2]`,
 * `limit = N`): the samples kept are compacted in place, in file order, labels unchanged.
 */
#include "dlrt_data.h"
#include <stdio.h>
#include <string.h>

/* "{0, 1, 2}": the classes of the mask */
static const char *class_text(uint32_t classes, char *buf, size_t n) {
    size_t at = (size_t)snprintf(buf, n, "{");
    for (int c = 0; c < 32 && at < n; c++)
        if (classes >> c & 1u) at += (size_t)snprintf(buf + at, n - at, "%s%d", at > 1 ? ", " : "", c);
    if (at < n) snprintf(buf + at, n - at, "}");
    return buf;
}

int dlrt_dataset_subset(dlrt_dataset *ds, const char *split, uint32_t classes, int64_t limit,
                        char *err, size_t errlen) {
    if (!ds->y) {
        snprintf(err, errlen, "classes and limit need a labelled dataset");
        return -1;
    }
    int64_t kept = 0, size = ds->sample_size;
    for (int64_t i = 0; i < ds->n && (limit == 0 || kept < limit); i++) {
        int32_t y = ds->y[i];
        if (classes && (y < 0 || y >= 32 || !(classes >> y & 1u))) continue;
        if (kept != i) memmove(ds->x + kept * size, ds->x + i * size, sizeof(float) * (size_t)size);
        ds->y[kept++] = y;
    }
    if (kept > 0) {
        ds->n = kept;
        return 0;
    }
    char text[160];
    snprintf(err, errlen, "%s: the %s split holds no sample of the classes %s",
             ds->source ? ds->source : "dataset", split, class_text(classes, text, sizeof text));
    return -1;
}
