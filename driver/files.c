/*
 * files.c — the files a run reads and writes, checked before anything runs: an output must not
 * be one of the run's inputs (`-o model.dl`, `--weights w.dlw -o w.dlw`), and two outputs must
 * not be one file (`-o r.json --report r.json`). Files are compared by identity (device and
 * inode; for an output that does not exist yet, its directory's device and inode and its name),
 * so `./model.dl`, `model.dl` and a link to it are one file.
 *
 * Each file has a role (dlc_file); two roles with the same nonzero `share` tag may name the
 * same file: reading and writing one checkpoint directory (--resume D --checkpoint D) is the
 * normal case, not a clobber. An output that exists and is not a regular file (/dev/null, a
 * FIFO) is written in place, so several outputs may name it.
 */
#include "driver.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct dlc_file {
    const char *path; /* as the user wrote it */
    const char *flag; /* who named it, for messages: "-o", "--weights", "the model" */
    int output;       /* 1: the run writes it; 0: it reads it */
    int share;        /* 0, or a tag: files with the same tag may be one file */
} dlc_file;

/* where a file is: its own device and inode, or (missing) its directory's and its name */
typedef struct file_id {
    int exists;        /* the file itself was found */
    int regular;       /* it exists and is a regular file */
    dev_t dev;         /* device of the file (or of its directory) */
    ino_t ino;         /* inode of the file (or of its directory) */
    const char *name;  /* missing file: its last path component; else NULL */
} file_id;

static int identify(const char *path, file_id *id) {
    struct stat st;
    memset(id, 0, sizeof *id);
    if (stat(path, &st) == 0) {
        *id = (file_id){.exists = 1, .regular = S_ISREG(st.st_mode), .dev = st.st_dev,
                        .ino = st.st_ino};
        return 0;
    }
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path) + 1) : strdup(".");
    int ok = dir && stat(dir, &st) == 0;
    free(dir);
    if (!ok) return -1; /* no directory: the write will fail and say so */
    *id = (file_id){.dev = st.st_dev, .ino = st.st_ino, .name = slash ? slash + 1 : path};
    return 0;
}

static int same(const file_id *a, const file_id *b) {
    if (a->exists != b->exists || a->dev != b->dev || a->ino != b->ino) return 0;
    return a->exists || strcmp(a->name, b->name) == 0;
}

/* one pair: an error when a and b are one file that they may not both name */
static int clash(const dlc_file *a, const file_id *ia, const dlc_file *b, const file_id *ib) {
    if (!a->output && !b->output) return 0;
    if ((a->share && a->share == b->share) || !same(ia, ib)) return 0;
    if (a->output && b->output && ia->exists && !ia->regular) return 0; /* /dev/null twice */
    const dlc_file *out = b->output ? b : a, *other = b->output ? a : b;
    if (!other->output)
        fprintf(stderr, "dlc: error: %s %s would overwrite %s %s, an input of this run\n",
                out->flag, out->path, other->flag, other->path);
    else
        fprintf(stderr, "dlc: error: %s %s and %s %s name the same file\n", other->flag,
                other->path, out->flag, out->path);
    return 1;
}

static int check_files(const dlc_file *f, int n) {
    file_id ids[8];
    int known[8];
    for (int i = 0; i < n; i++) known[i] = identify(f[i].path, &ids[i]) == 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (known[i] && known[j] && clash(&f[i], &ids[i], &f[j], &ids[j])) return 1;
    return 0;
}

int dlc_check_files(const dlc_options *o) {
    dlc_file f[8];
    int n = 0;
    f[n++] = (dlc_file){.path = o->input, .flag = "the model file"};
    if (o->weights) f[n++] = (dlc_file){.path = o->weights, .flag = "--weights"};
    if (o->output) f[n++] = (dlc_file){.path = o->output, .flag = "-o", .output = 1};
    if (o->save_weights)
        f[n++] = (dlc_file){.path = o->save_weights, .flag = "--save-weights", .output = 1};
    if (o->report) f[n++] = (dlc_file){.path = o->report, .flag = "--report", .output = 1};
    if (o->samples) f[n++] = (dlc_file){.path = o->samples, .flag = "--samples", .output = 1};
    return check_files(f, n);
}
