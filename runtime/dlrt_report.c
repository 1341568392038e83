/*
 * dlrt_report.c — the run report as JSON through json-c (see dlrt_report.h).
 */
#include "dlrt_report.h"
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dlrt_report_begin(dlrt_report *r, const dlrt_model_desc *m, const dlrt_train_opts *o,
                       long long n_train, long long n_val, long long n_test) {
    memset(r, 0, sizeof *r);
    r->model = m;
    r->opts = o;
    r->n_train = n_train;
    r->n_val = n_val;
    r->n_test = n_test;
    r->test_loss = r->test_accuracy = NAN;
    r->best = r->restored = NAN;
    r->numerics_node = -1;
    for (int i = 0; i < DLRT_MAX_METRICS; i++) r->test_metrics[i] = NAN;
    for (int i = 0; i < DLRT_MAX_FEW_SHOT; i++)
        r->few_shot[i] = (dlrt_few_shot_result){.accuracy = NAN, .ci95 = NAN};
    r->epochs = calloc((size_t)(o->epochs > 0 ? o->epochs : 1), sizeof *r->epochs);
}

void dlrt_report_add_epoch(dlrt_report *r, const dlrt_epoch_record *e) {
    if (r->epochs && r->n_epochs < r->opts->epochs) r->epochs[r->n_epochs++] = *e;
}

void dlrt_report_free(dlrt_report *r) {
    free(r->epochs);
    r->epochs = NULL;
}

static json_object *num(double v) { return isfinite(v) ? json_object_new_double(v) : NULL; }

static json_object *epoch_num(long long epoch) { return epoch > 0 ? json_object_new_int64(epoch) : NULL; }

double dlrt_report_val_metric(const dlrt_report *r, const dlrt_epoch_record *e, const dlrt_metric *m) {
    if (m->kind == DLRT_METRIC_LOSS) return e->val_loss;
    for (int i = 0; i < r->opts->n_metrics; i++)
        if (r->opts->metrics[i].kind == m->kind && r->opts->metrics[i].k == m->k &&
            (m->kind != DLRT_METRIC_VALUE || r->opts->metrics[i].output == m->output))
            return e->val_metrics[i];
    return NAN;
}

/* {NAME: value} for each entry of the metrics list; NULL (JSON null) when absent */
static json_object *metrics_json(const dlrt_train_opts *o, const double *values, int present) {
    if (!present) return NULL;
    json_object *m = json_object_new_object();
    char name[32];
    for (int i = 0; i < o->n_metrics; i++)
        json_object_object_add(m, dlrt_metric_name(&o->metrics[i], name, sizeof name), num(values[i]));
    return m;
}

/* with steps: {STEP: {"loss": train, "val_loss": val}} for the steps of phase p (train may be
 * NULL: the test split's, {"loss": ...} only) */
static json_object *steps_json(const dlrt_train_opts *o, int p, const double *train,
                               const double *val) {
    json_object *s = json_object_new_object();
    const dlrt_phase_opts *ph = &o->phases[p];
    for (int k = ph->first_step; k < ph->first_step + ph->n_steps; k++) {
        json_object *one = json_object_new_object();
        json_object_object_add(one, "loss", num(train[k]));
        if (val) json_object_object_add(one, "val_loss", num(val[k]));
        json_object_object_add(s, o->steps[k].name, one);
    }
    return s;
}

/* with phases: each phase's test split, in order */
static json_object *phases_json(const dlrt_report *r) {
    const dlrt_train_opts *o = r->opts;
    json_object *a = json_object_new_array();
    for (int p = 0; p < o->n_phases; p++) {
        const dlrt_phase_test *pt = &r->phase_test[p];
        json_object *one = json_object_new_object();
        json_object_object_add(one, "phase", o->phases[p].name ? json_object_new_string(o->phases[p].name) : NULL);
        json_object_object_add(one, "epochs", json_object_new_int64(o->phases[p].epochs));
        json_object_object_add(one, "loss", num(pt->loss));
        json_object_object_add(one, "metrics", metrics_json(o, pt->metrics, 1));
        json_object_object_add(one, "steps", steps_json(o, p, pt->step_loss, NULL));
        json_object_array_add(a, one);
    }
    return a;
}

static json_object *epoch_json(const dlrt_report *r, const dlrt_epoch_record *e) {
    json_object *o = json_object_new_object(), *m = json_object_new_object();
    json_object_object_add(o, "epoch", json_object_new_int64(e->epoch));
    json_object_object_add(o, "train_loss", num(e->train_loss));
    json_object_object_add(o, "train_accuracy", num(e->train_accuracy));
    json_object_object_add(o, "val_loss", num(e->val_loss));
    json_object_object_add(o, "val_accuracy", num(e->val_accuracy));
    json_object_object_add(o, "seconds", num(e->seconds));
    json_object_object_add(o, "samples_per_sec", num(e->samples_per_sec));
    json_object_object_add(m, "train", metrics_json(r->opts, e->train_metrics, 1));
    json_object_object_add(m, "val", metrics_json(r->opts, e->val_metrics, r->n_val > 0));
    json_object_object_add(o, "metrics", m);
    if (r->opts->n_steps) {
        const dlrt_phase_opts *ph = &r->opts->phases[e->phase];
        if (ph->name) json_object_object_add(o, "phase", json_object_new_string(ph->name));
        json_object_object_add(o, "steps", steps_json(r->opts, e->phase, e->step_loss,
                                                      r->n_val > 0 ? e->val_step_loss : NULL));
    }
    return o;
}

static json_object *early_stopping_json(const dlrt_report *r) {
    const dlrt_early_stop *es = &r->opts->early_stop;
    if (!es->enabled) return NULL;
    json_object *o = json_object_new_object(), *curve = json_object_new_array();
    char name[40] = "val_";
    dlrt_metric_name(&es->monitor, name + 4, sizeof name - 4);
    json_object_object_add(o, "monitor", json_object_new_string(name));
    json_object_object_add(o, "mode", json_object_new_string(
                                          dlrt_metric_higher_is_better(&es->monitor) ? "max" : "min"));
    json_object_object_add(o, "patience", json_object_new_int64(es->patience));
    json_object_object_add(o, "min_delta", json_object_new_double(es->min_delta));
    for (int i = 0; i < r->n_epochs; i++)
        json_object_array_add(curve, num(dlrt_report_val_metric(r, &r->epochs[i], &es->monitor)));
    json_object_object_add(o, "values", curve);
    json_object_object_add(o, "best_epoch", epoch_num(r->best_epoch));
    json_object_object_add(o, "best", num(r->best));
    json_object_object_add(o, "stopped_epoch", epoch_num(r->stopped_epoch));
    json_object_object_add(o, "weights_restored", json_object_new_boolean(r->best_epoch > 0));
    json_object_object_add(o, "restored_value", num(r->restored));
    return o;
}

static json_object *train_json(const dlrt_report *r) {
    double secs = 0, samples = 0;
    for (int i = 0; i < r->n_epochs; i++) {
        secs += r->epochs[i].seconds;
        samples += r->epochs[i].samples_per_sec * r->epochs[i].seconds;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "samples_per_sec", num(secs > 0 ? samples / secs : NAN));
    json_object_object_add(o, "seconds", num(secs));
    json_object_object_add(o, "samples", json_object_new_int64((int64_t)llround(samples)));
    return o;
}

/* the training batches' augmentation: ["shift(2)", "hflip(0.5)"] ([] when none) */
static json_object *augment_json(const dlrt_train_opts *o) {
    json_object *list = json_object_new_array();
    char name[64];
    for (int i = 0; i < o->n_augment; i++)
        json_object_array_add(list, json_object_new_string(dlrt_augment_name(&o->augment[i], name,
                                                                             sizeof name)));
    return list;
}

static json_object *memory_json(const dlrt_memory *m) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "weights", json_object_new_int64(m->weights));
    json_object_object_add(o, "arena", json_object_new_int64(m->arena));
    json_object_object_add(o, "inputs", json_object_new_int64(m->inputs));
    json_object_object_add(o, "early_stopping_copy", json_object_new_int64(m->early_stopping_copy));
    json_object_object_add(o, "total", json_object_new_int64(m->weights + m->arena + m->inputs +
                                                             m->early_stopping_copy));
    return o;
}

/* {"epoch", "step", "loss"} of the first non-finite training loss; NULL (null) when none */
static json_object *diverged_json(const dlrt_report *r) {
    if (!r->diverged_step) return NULL;
    json_object *o = json_object_new_object();
    double l = r->diverged_loss;
    json_object_object_add(o, "epoch", json_object_new_int64(r->diverged_epoch));
    json_object_object_add(o, "step", json_object_new_int64(r->diverged_step));
    json_object_object_add(o, "loss", isfinite(l) ? json_object_new_double(l)
                                      : json_object_new_string(isnan(l) ? "nan" : l > 0 ? "inf" : "-inf"));
    if (r->numerics_node >= 0)
        json_object_object_add(o, "node", json_object_new_int64(r->numerics_node));
    return o;
}

/* test.few_shot: one object per few-shot evaluation listed */
static json_object *few_shot_json(const dlrt_report *r) {
    json_object *list = json_object_new_array();
    for (int i = 0; i < r->opts->n_few_shot; i++) {
        const dlrt_few_shot *fs = &r->opts->few_shot[i];
        json_object *o = json_object_new_object(), *classes = json_object_new_array();
        for (int c = 0; c < 32; c++)
            if (fs->classes >> c & 1u) json_object_array_add(classes, json_object_new_int(c));
        json_object_object_add(o, "n_way", json_object_new_int(fs->n_way));
        json_object_object_add(o, "k_shot", json_object_new_int(fs->k_shot));
        json_object_object_add(o, "queries", json_object_new_int(fs->queries));
        json_object_object_add(o, "classes", classes);
        json_object_object_add(o, "metric", json_object_new_string(
                                                fs->metric == DLRT_FEW_SHOT_COSINE ? "cosine" : "l2"));
        json_object_object_add(o, "episodes", json_object_new_int64(fs->episodes));
        json_object_object_add(o, "accuracy", num(r->few_shot[i].accuracy));
        json_object_object_add(o, "ci95", num(r->few_shot[i].ci95));
        json_object_array_add(list, o);
    }
    return list;
}

static json_object *report_json(const dlrt_report *r) {
    json_object *root = json_object_new_object(), *split = json_object_new_object();
    json_object *epochs = json_object_new_array(), *test = json_object_new_object();
    json_object_object_add(root, "model", json_object_new_string(r->model->name));
    if (r->opts->source) json_object_object_add(root, "source", json_object_new_string(r->opts->source));
    json_object_object_add(root, "dataset", json_object_new_string(r->opts->data.name));
    json_object_object_add(root, "seed", json_object_new_int64(r->opts->seed));
    json_object_object_add(root, "batch", json_object_new_int64(r->model->max_batch));
    json_object_object_add(root, "epochs_planned", json_object_new_int64(r->opts->epochs));
    json_object_object_add(root, "augment", augment_json(r->opts));
    json_object_object_add(split, "train", json_object_new_int64(r->n_train));
    json_object_object_add(split, "validation", json_object_new_int64(r->n_val));
    json_object_object_add(split, "test", json_object_new_int64(r->n_test));
    json_object_object_add(root, "split", split);
    for (int i = 0; i < r->n_epochs; i++) json_object_array_add(epochs, epoch_json(r, &r->epochs[i]));
    json_object_object_add(root, "epochs", epochs);
    json_object_object_add(root, "train", train_json(r));
    json_object_object_add(root, "early_stopping", early_stopping_json(r));
    json_object_object_add(test, "loss", num(r->test_loss));
    json_object_object_add(test, "accuracy", num(r->test_accuracy));
    json_object_object_add(test, "metrics", metrics_json(r->opts, r->test_metrics, 1));
    for (int i = 0; i < r->opts->n_metrics; i++) /* value metrics also at test.NAME */
        if (r->opts->metrics[i].kind == DLRT_METRIC_VALUE && r->opts->metrics[i].name)
            json_object_object_add(test, r->opts->metrics[i].name, num(r->test_metrics[i]));
    if (r->opts->n_few_shot > 0) json_object_object_add(test, "few_shot", few_shot_json(r));
    if (r->opts->n_steps) {
        json_object_object_add(test, "steps", steps_json(r->opts, r->opts->n_phases - 1,
                                                         r->test_step_loss, NULL));
        json_object_object_add(test, "phases", phases_json(r));
    }
    json_object_object_add(root, "test", test);
    json_object_object_add(root, "memory", memory_json(&r->memory));
    json_object_object_add(root, "diverged", diverged_json(r));
    return root;
}

int dlrt_report_write(const dlrt_report *r, const char *path, char *err, size_t errlen) {
    json_object *root = report_json(r);
    const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                                JSON_C_TO_STRING_SPACED);
    int status = text ? 0 : -1;
    if (!text) snprintf(err, errlen, "%s: cannot write report: out of memory", path);
    else status = dlrt_write_file(path, text, strlen(text), err, errlen);
    json_object_put(root);
    return status;
}
