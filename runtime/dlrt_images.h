/*
 * dlrt_images.h — images a run writes with --images DIR (`images = [grid(...)]` in the train
 * block), as 8-bit grayscale PNG through libpng.
 *
 * A grid shows `count` samples (the first of the test split, after the test evaluation),
 * `columns` per row. A sample's cell is its parts' H x W images side by side, left to right in
 * the order listed; cells are separated from each other and from the edge by DLRT_GRID_GAP
 * pixels of gray DLRT_GRID_GRAY (unused cells of the last row are gray too). So the image is
 * columns * parts * W + (columns + 1) * GAP pixels wide and rows * H + (rows + 1) * GAP high,
 * rows = ceil(count / columns) (with fewer samples than count, those there are). A value v is
 * the pixel round(255 * clamp((v - low) / (high - low), 0, 1)); NaN is 0. The file
 * DIR/NAME.png (after the test split) or DIR/NAME-epochEEE.png (after epoch EEE, with
 * `every`) is written atomically (dlrt_write_file: a temporary renamed into place), so it is
 * whole or absent.
 *
 * Samples (samples = sample(...), --samples FILE): `count` samples of one value through the
 * eval step, written as u8 IDX images (dlrt_idx_write_images, low the background 0).
 */
#ifndef DLRT_IMAGES_H
#define DLRT_IMAGES_H
#include <stddef.h>
#include <stdint.h>

enum { DLRT_MAX_IMAGES = 8, DLRT_MAX_IMAGE_PARTS = 4, DLRT_GRID_GAP = 2, DLRT_GRID_GRAY = 128,
       DLRT_MAX_SAMPLES = 100000 /* --samples-count at most */ };

typedef struct dlrt_image {
    const char *name;                        /* DIR/NAME.png */
    int n_parts;                             /* values per sample, side by side */
    int output[DLRT_MAX_IMAGE_PARTS];        /* a model output (DLRT_OUTPUT) of this index, or -1 */
    const char *input[DLRT_MAX_IMAGE_PARTS]; /* else the model input of this name */
    long long h, w;                          /* each part's image size */
    long long count, columns;                /* samples shown, per row */
    float low, high;                         /* the values shown black and white (low < high) */
    long long every;                         /* also after every `every` epochs (0: only at the end) */
} dlrt_image;

/* The value --samples FILE writes (samples = sample(VALUE, low = L, high = H)). */
typedef struct dlrt_samples {
    int output;        /* a model output (DLRT_OUTPUT) of this index, or -1 */
    const char *input; /* else the model input of this name */
    long long h, w;    /* each sample's image size */
    float low, high;   /* the values written as 0 and 255 */
} dlrt_samples;

/* The canvas of one grid, allocated once. */
typedef struct dlrt_grid {
    const dlrt_image *im; /* what it shows */
    long long n;          /* samples it shows: min(count, the samples there are) */
    long long width, height; /* in pixels */
    unsigned char *pixels;   /* height rows of width bytes */
} dlrt_grid;

/* DIR exists (it is created when missing, one level) as a directory this process can write in */
int dlrt_images_dir_check(const char *dir, char *err, size_t errlen);
int dlrt_grid_init(dlrt_grid *g, const dlrt_image *im, long long available, char *err, size_t errlen);
/* sample `sample`'s part `part` (h * w reals, row-major) into its cell */
void dlrt_grid_put(dlrt_grid *g, long long sample, int part, const float *values);
/* the grid as DIR/NAME.png (epoch 0) or DIR/NAME-epochEEE.png (epoch EEE, at least 3 digits) */
int dlrt_grid_write(const dlrt_grid *g, const char *dir, long long epoch, char *err, size_t errlen);
void dlrt_grid_free(dlrt_grid *g);

#endif
