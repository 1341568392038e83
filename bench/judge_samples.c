/*
 * judge_samples.c — scores generated MNIST-like images with a classifier dlc trained: the
 * inference C of models/mnist_cnn.dl (dlc --weights W -o judge_model.c, compiled in beside this
 * file by bench/gan_judge.sh; JUDGE_PREFIX names the model, default cnn).
 *
 *   judge_samples FILE [--first N] [--labels LABELS]
 *
 * FILE: an IDX file (gzip or raw) of u8 images, 784 pixels each (dims [N, 28, 28] or
 * [N, 1, 28, 28]), MNIST's polarity (0 = background): a byte b is fed as b / 255, as the
 * dataset gives MNIST to the model; the inference C applies the training normalisation itself.
 * --first N scores the first N images only. --labels (an IDX u8 label file) also prints the
 * classifier's accuracy on them, to check the judge on real digits.
 *
 * With p(y|x) the softmax of the logits (in double) and p(y) its mean over the images:
 *   confidence  mean over x of max_y p(y|x)
 *   classes     how many classes are someone's argmax, and each class's share of the argmaxes
 *               (and whether each of the 10 has at least 2%)
 *   score       exp(mean over x of KL(p(y|x) || p(y))), the Inception-score form: 1 for
 *               images all alike or unrecognisable, up to 10 for confident, balanced classes.
 * The last line is one machine-readable summary:
 *   judge: n=N confidence=C classes=K classes_2pct=M score=S [accuracy=A]
 * Exit status 0; 1 with a message naming the file when it cannot be read or has the wrong shape.
 */
#include "dlrt_data.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef JUDGE_PREFIX
#define JUDGE_PREFIX cnn
#endif
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
int CAT(JUDGE_PREFIX, _predict)(const float *input, int n, float *output);
long CAT(JUDGE_PREFIX, _input_size)(void);
long CAT(JUDGE_PREFIX, _output_size)(void);

#define CLASSES 10 /* MNIST's digits */

/* The judge's totals over the images. */
typedef struct totals {
    long n;                     /* images scored */
    double confidence;          /* sum of max_y p(y|x) */
    double marginal[CLASSES];   /* sum of p(y|x) per class */
    long predicted[CLASSES];    /* argmax counts */
    long correct;               /* argmax == label, with labels */
    double kl;                  /* sum of KL(p(y|x) || p(y)), filled by finish() */
} totals;

static int die(const char *msg) {
    fprintf(stderr, "judge_samples: %s\n", msg);
    return 1;
}

/* Loads the images of path as floats in [0, 1]; *n images (capped at first if > 0). */
static float *load_images(const char *path, long first, long *n) {
    char err[1024];
    dlrt_idx t;
    if (dlrt_idx_load(path, &t, err, sizeof err) != 0) {
        die(err);
        return NULL;
    }
    long per = 1;
    for (int i = 1; i < t.rank; i++) per *= (long)t.dims[i];
    if (t.type != 0x08 || t.rank < 2 || per != CAT(JUDGE_PREFIX, _input_size)()) {
        fprintf(stderr, "judge_samples: %s: expected u8 images of 784 pixels (type 0x08, dims "
                "[N, 28, 28]); found type 0x%02x, rank %d, %ld values per sample\n", path, t.type,
                t.rank, per);
        dlrt_idx_free(&t);
        return NULL;
    }
    *n = first > 0 && first < (long)t.dims[0] ? first : (long)t.dims[0];
    float *x = malloc(sizeof(float) * (size_t)(*n * per));
    for (long i = 0; x && i < *n * per; i++) x[i] = (float)(t.data[i] / 255.0);
    dlrt_idx_free(&t);
    return x;
}

/* The labels of path (u8, rank 1), at least n of them; NULL with a message otherwise. */
static uint8_t *load_labels(const char *path, long n) {
    char err[1024];
    dlrt_idx t;
    if (dlrt_idx_load(path, &t, err, sizeof err) != 0) {
        die(err);
        return NULL;
    }
    if (t.type != 0x08 || t.rank != 1 || t.dims[0] < n) {
        fprintf(stderr, "judge_samples: %s: expected at least %ld u8 labels (type 0x08, rank 1)\n",
                path, n);
        dlrt_idx_free(&t);
        return NULL;
    }
    return t.data; /* malloc'd by the reader: the caller frees it */
}

/* p[0..CLASSES) = softmax(logits) in double; returns the argmax. */
static int softmax(const float *logits, double *p) {
    int best = 0;
    for (int j = 1; j < CLASSES; j++)
        if (logits[j] > logits[best]) best = j;
    double sum = 0;
    for (int j = 0; j < CLASSES; j++) sum += p[j] = exp((double)logits[j] - logits[best]);
    for (int j = 0; j < CLASSES; j++) p[j] /= sum;
    return best;
}

/* Adds every image's p(y|x) to t; keeps them in probs (n x CLASSES) for the KL pass. */
static void accumulate(const float *logits, long n, const uint8_t *labels, double *probs,
                       totals *t) {
    for (long i = 0; i < n; i++) {
        double *p = probs + i * CLASSES;
        int best = softmax(logits + i * CLASSES, p);
        t->confidence += p[best];
        t->predicted[best]++;
        t->correct += labels && labels[i] == best;
        for (int j = 0; j < CLASSES; j++) t->marginal[j] += p[j];
    }
    t->n = n;
}

/* Sums KL(p(y|x) || p(y)) over the images (0 log 0 = 0). */
static void finish(const double *probs, totals *t) {
    for (long i = 0; i < t->n; i++)
        for (int j = 0; j < CLASSES; j++) {
            double p = probs[i * CLASSES + j], py = t->marginal[j] / t->n;
            if (p > 0) t->kl += p * (log(p) - log(py));
        }
}

static void report(const totals *t, int with_labels) {
    int classes = 0, common = 0;
    printf("class  share   (argmax of the classifier over %ld images)\n", t->n);
    for (int j = 0; j < CLASSES; j++) {
        double share = (double)t->predicted[j] / t->n;
        classes += t->predicted[j] > 0;
        common += share >= 0.02;
        printf("%5d  %5.1f%%%s\n", j, 100 * share, share >= 0.02 ? "" : "  (under 2%)");
    }
    double conf = t->confidence / t->n, score = exp(t->kl / t->n);
    printf("mean top-1 confidence %.4f; %d classes predicted, %d of 10 with >= 2%%; "
           "score exp(E KL(p(y|x) || p(y))) %.3f\n", conf, classes, common, score);
    if (with_labels) printf("accuracy on the labels: %.4f\n", (double)t->correct / t->n);
    printf("judge: n=%ld confidence=%.4f classes=%d classes_2pct=%d score=%.3f", t->n, conf,
           classes, common, score);
    if (with_labels) printf(" accuracy=%.4f", (double)t->correct / t->n);
    printf("\n");
}

int main(int argc, char **argv) {
    const char *file = NULL, *labels_path = NULL;
    long first = 0, n = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--first") && i + 1 < argc) {
            char *end;
            first = strtol(argv[++i], &end, 10);
            if (*end || first < 1) return die("--first N: N must be a positive integer");
        } else if (!strcmp(argv[i], "--labels") && i + 1 < argc) labels_path = argv[++i];
        else if (argv[i][0] != '-' && !file) file = argv[i];
        else return die("usage: judge_samples FILE [--first N] [--labels LABELS]");
    }
    if (!file || CAT(JUDGE_PREFIX, _output_size)() != CLASSES)
        return die(file ? "the classifier must have 10 outputs" : "usage: judge_samples FILE "
                   "[--first N] [--labels LABELS]");
    float *x = load_images(file, first, &n);
    uint8_t *labels = x && labels_path ? load_labels(labels_path, n) : NULL;
    if (!x || (labels_path && !labels)) {
        free(x);
        return 1;
    }
    float *logits = malloc(sizeof(float) * (size_t)(n * CLASSES));
    double *probs = malloc(sizeof(double) * (size_t)(n * CLASSES));
    if (!logits || !probs || CAT(JUDGE_PREFIX, _predict)(x, (int)n, logits) != 0)
        return die("out of memory or the classifier failed");
    totals t;
    memset(&t, 0, sizeof t);
    accumulate(logits, n, labels, probs, &t);
    finish(probs, &t);
    report(&t, labels != NULL);
    free(x), free(labels), free(logits), free(probs);
    return 0;
}
