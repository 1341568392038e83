/*
 * dlrt_images.c — image grids as PNG (see dlrt_images.h): the canvas, the pixels, and the
 * encoding by libpng into memory, written with dlrt_write_file (atomic: whole or absent).
 */
#include "dlrt_images.h"
#include "dlrt_file.h"
#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int dlrt_images_dir_check(const char *dir, char *err, size_t errlen) {
    struct stat st;
    if (stat(dir, &st) != 0 && (errno != ENOENT || mkdir(dir, 0777) != 0 || stat(dir, &st) != 0)) {
        snprintf(err, errlen, "%s: cannot write images there: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: cannot write images there: not a directory", dir);
        return -1;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        snprintf(err, errlen, "%s: cannot write images there: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

int dlrt_grid_init(dlrt_grid *g, const dlrt_image *im, long long available, char *err,
                   size_t errlen) {
    memset(g, 0, sizeof *g);
    g->im = im;
    g->n = im->count < available ? im->count : available;
    long long cols = im->columns, rows = g->n > 0 ? (g->n + cols - 1) / cols : 1;
    g->width = cols * im->n_parts * im->w + (cols + 1) * DLRT_GRID_GAP;
    g->height = rows * im->h + (rows + 1) * DLRT_GRID_GAP;
    g->pixels = malloc((size_t)(g->width * g->height));
    if (!g->pixels) {
        snprintf(err, errlen, "image %s: out of memory (%lldx%lld pixels)", im->name, g->width, g->height);
        return -1;
    }
    memset(g->pixels, DLRT_GRID_GRAY, (size_t)(g->width * g->height));
    return 0;
}

/* v's place in [low, high] as a gray level */
static unsigned char pixel(float v, float low, float high) {
    double t = ((double)v - low) / ((double)high - low);
    if (!(t > 0)) return 0; /* NaN too */
    return t >= 1 ? 255 : (unsigned char)lrint(255.0 * t);
}

void dlrt_grid_put(dlrt_grid *g, long long sample, int part, const float *values) {
    const dlrt_image *im = g->im;
    long long row = sample / im->columns, col = sample % im->columns;
    long long x0 = DLRT_GRID_GAP + col * (im->n_parts * im->w + DLRT_GRID_GAP) + part * im->w;
    long long y0 = DLRT_GRID_GAP + row * (im->h + DLRT_GRID_GAP);
    for (long long y = 0; y < im->h; y++)
        for (long long x = 0; x < im->w; x++)
            g->pixels[(y0 + y) * g->width + x0 + x] = pixel(values[y * im->w + x], im->low, im->high);
}

/* libpng's output into a growing buffer */
typedef struct png_buffer {
    unsigned char *data; /* bytes written */
    size_t size, cap;    /* used and allocated */
    int failed;          /* out of memory */
} png_buffer;

static void buffer_write(png_structp png, png_bytep bytes, png_size_t n) {
    png_buffer *b = png_get_io_ptr(png);
    if (b->failed) return;
    if (b->size + n > b->cap) {
        size_t cap = (b->size + n) * 2;
        unsigned char *p = realloc(b->data, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->data = p, b->cap = cap;
    }
    memcpy(b->data + b->size, bytes, n);
    b->size += n;
}

static void buffer_flush(png_structp png) { (void)png; }

/* the PNG of the canvas into b; 0, or -1 when libpng failed */
static int encode(const dlrt_grid *g, png_buffer *b) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_set_write_fn(png, b, buffer_write, buffer_flush);
    png_set_IHDR(png, info, (png_uint_32)g->width, (png_uint_32)g->height, 8, PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (long long y = 0; y < g->height; y++) png_write_row(png, g->pixels + y * g->width);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return b->failed ? -1 : 0;
}

int dlrt_grid_write(const dlrt_grid *g, const char *dir, long long epoch, char *err, size_t errlen) {
    char path[4096];
    int n = epoch > 0 ? snprintf(path, sizeof path, "%s/%s-epoch%03lld.png", dir, g->im->name, epoch)
                      : snprintf(path, sizeof path, "%s/%s.png", dir, g->im->name);
    if (n < 0 || (size_t)n >= sizeof path) {
        snprintf(err, errlen, "%s: the path of image %s is too long", dir, g->im->name);
        return -1;
    }
    png_buffer b = {0};
    int status = encode(g, &b);
    if (status) snprintf(err, errlen, "%s: not written: libpng could not encode the image", path);
    else status = dlrt_write_file(path, b.data, b.size, err, errlen);
    free(b.data);
    return status;
}

void dlrt_grid_free(dlrt_grid *g) {
    free(g->pixels);
    g->pixels = NULL;
}
