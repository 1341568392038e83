/*
 * dlrt_weights.h — trained weights on disk: the file `dlc --run --save-weights FILE` writes and
 * `dlc --weights FILE` compiles into an inference C file (format in docs/cli.md).
 *
 * Layout, every integer little-endian:
 *     "DLCW"  u32 version (1)  u32 count
 *     count x { u32 name length, name bytes, u32 dtype (DLRT_F32/I32/F64), u32 rank (0..6),
 *               u64 dims[rank] }
 *     the data of every tensor in table order (numel elements, little-endian)
 *     u32 crc32 (zlib's) of every byte before it
 * Files are written with dlrt_write_file (whole or not at all; a failed write leaves nothing).
 * Reading checks the magic, the version, the size the table implies and the checksum, and names
 * the file and what is wrong (a NUL byte in a name too). Functions return 0, or -1 with a
 * message in err[errlen].
 */
#ifndef DLRT_WEIGHTS_H
#define DLRT_WEIGHTS_H
#include "dlrt.h"

#define DLRT_WEIGHTS_VERSION 1

typedef struct dlrt_weight {
    const char *name;   /* tensor name: a model's param/buffer/state ("dense1.w",
                           "bn1.running_var") or "normalize:INPUT" */
    int dtype;          /* DLRT_F32, DLRT_I32 or DLRT_F64 */
    int rank;           /* number of dims */
    long long dims[6];  /* sizes, outermost first */
    const void *data;   /* numel elements of dtype, in host byte order */
} dlrt_weight;

typedef struct dlrt_weights {
    const char *path;   /* the file it was read from (for messages) */
    int n;              /* entries of t */
    dlrt_weight *t;     /* the tensor table, in file order */
    void *mem;          /* one block holding the table's names and data (malloc'd) */
} dlrt_weights;

long long dlrt_weight_numel(const dlrt_weight *t);
/* "f32", "i32", "f64" */
const char *dlrt_dtype_name(int dtype);

int dlrt_weights_write(const char *path, const dlrt_weight *t, int n, char *err, size_t errlen);
int dlrt_weights_read(const char *path, dlrt_weights *w, char *err, size_t errlen);
const dlrt_weight *dlrt_weights_find(const dlrt_weights *w, const char *name);
void dlrt_weights_free(dlrt_weights *w);

/* The name of the tensor holding the normalisation of input `input`: f64[2] = {shift, scale},
 * or per feature f64[2, F] (row 0 the F shifts, row 1 the F scales), inputs being fed
 * (x - shift) / scale (see dlrt_norm_stats). Written into buf, returned. */
const char *dlrt_normalize_tensor_name(const char *input, char *buf, size_t n);

/* Save the session's tensors `names` (params, buffers or state, as f32 with their shapes)
 * and, for each of the n_normalized inputs `normalized` (the feature input, or every member
 * input of a pair or triplet: all fed the same normalised samples), the normalisation
 * `norm` (f64[2], or f64[2, F] per feature) to `path`. */
int dlrt_weights_save(const char *path, const dlrt_session *s, const char *const *names,
                      int n_names, const char *const *normalized, int n_normalized,
                      const dlrt_norm_stats *norm, char *err, size_t errlen);

/* Copy every tensor of w that is a PARAM, BUFFER or STATE of the session's model into its
 * weights block (a dtype or shape that differs is an error); tensors the model lacks are
 * skipped. */
int dlrt_weights_apply(const dlrt_weights *w, dlrt_session *s, char *err, size_t errlen);

#endif
