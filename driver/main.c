/*
 * main.c — dlc's entry point: parse options, compile, then one mode: print IR (--dump-after),
 * print or write C (--emit-c, -o), train (--run, writing the weights with --save-weights),
 * check gradients (--gradcheck), compile for inference with trained weights (--weights) or
 * write samples of saved weights (--weights with --samples, no --run).
 * Exit status: 0 success, 1 for any user error (bad file, options, data, an output that would
 * overwrite an input, standard output that could not be written), never a crash.
 */
#include "../codegen/cg_c.h"
#include "driver.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

_Static_assert((int)DLC_METRIC_LOSS == (int)DLRT_METRIC_LOSS &&
                   (int)DLC_METRIC_ACCURACY == (int)DLRT_METRIC_ACCURACY &&
                   (int)DLC_METRIC_TOP_K == (int)DLRT_METRIC_TOP_K &&
                   (int)DLC_METRIC_MSE == (int)DLRT_METRIC_MSE &&
                   (int)DLC_METRIC_MAE == (int)DLRT_METRIC_MAE &&
                   (int)DLC_METRIC_VALUE == (int)DLRT_METRIC_VALUE &&
                   (int)DLC_MAX_METRICS == (int)DLRT_MAX_METRICS &&
                   (int)DLC_MAX_IMAGES == (int)DLRT_MAX_IMAGES &&
                   (int)DLC_MAX_IMAGE_PARTS == (int)DLRT_MAX_IMAGE_PARTS,
               "the compiler's metric kinds are the runtime's");
_Static_assert((int)DLC_AUG_SHIFT == (int)DLRT_AUG_SHIFT && (int)DLC_AUG_CROP == (int)DLRT_AUG_CROP &&
                   (int)DLC_AUG_HFLIP == (int)DLRT_AUG_HFLIP &&
                   (int)DLC_MAX_AUGMENTS == (int)DLRT_MAX_AUGMENTS,
               "the compiler's augmentation kinds are the runtime's");
_Static_assert((int)DLC_MAX_FEW_SHOT == (int)DLRT_MAX_FEW_SHOT,
               "the compiler's few-shot entries fit the runtime's");

/* metrics and early stopping, from the compiler's train_config to the runtime's options */
static void copy_evaluation(const train_config *cfg, dlrt_train_opts *t) {
    for (int i = 0; i < cfg->n_metrics && i < DLRT_MAX_METRICS; i++)
        t->metrics[i] = (dlrt_metric){.kind = cfg->metrics[i].kind, .k = cfg->metrics[i].k,
                                      .name = cfg->metrics[i].name, .output = cfg->metrics[i].output};
    t->n_metrics = cfg->n_metrics < DLRT_MAX_METRICS ? cfg->n_metrics : DLRT_MAX_METRICS;
    const early_stop_config *es = &cfg->early_stop;
    t->early_stop = (dlrt_early_stop){.enabled = es->enabled,
                                      .monitor = {.kind = es->monitor.kind, .k = es->monitor.k},
                                      .patience = es->patience, .min_delta = es->min_delta};
    for (int i = 0; i < cfg->n_few_shot && i < DLRT_MAX_FEW_SHOT; i++) {
        const few_shot_config *f = &cfg->few_shot[i];
        t->few_shot[i] = (dlrt_few_shot){
            .output = f->output, .input = f->input, .n_way = (int)f->n_way, .k_shot = (int)f->k_shot,
            .queries = (int)f->queries, .episodes = f->episodes, .classes = f->classes,
            .metric = f->cosine ? DLRT_FEW_SHOT_COSINE : DLRT_FEW_SHOT_L2};
    }
    t->n_few_shot = cfg->n_few_shot < DLRT_MAX_FEW_SHOT ? cfg->n_few_shot : DLRT_MAX_FEW_SHOT;
}

/* images = [grid(...)]: written with --images DIR */
static void copy_images(const train_config *cfg, dlrt_train_opts *t) {
    for (int i = 0; i < cfg->n_images && i < DLRT_MAX_IMAGES; i++) {
        const image_config *c = &cfg->images[i];
        dlrt_image *im = &t->images[i];
        *im = (dlrt_image){.name = c->name, .n_parts = c->n_parts, .h = c->h, .w = c->w,
                           .count = c->count, .columns = c->columns, .low = (float)c->low,
                           .high = (float)c->high, .every = c->every};
        for (int k = 0; k < c->n_parts && k < DLRT_MAX_IMAGE_PARTS; k++)
            im->output[k] = c->output[k], im->input[k] = c->input[k];
    }
    t->n_images = cfg->n_images < DLRT_MAX_IMAGES ? cfg->n_images : DLRT_MAX_IMAGES;
    const samples_config *sc = &cfg->samples;
    t->has_samples = sc->present;
    t->samples = (dlrt_samples){.output = sc->output, .input = sc->input, .h = sc->h, .w = sc->w,
                                .low = (float)sc->low, .high = (float)sc->high};
}

/* step and phase sections: each step's schedule and repeat; the phases (a train block with
 * steps and no phases: one phase of them all, over its epochs) */
static void copy_steps(const train_config *cfg, dlrt_train_opts *t) {
    for (int k = 0; k < cfg->n_steps && k < DLRT_MAX_STEPS; k++)
        t->steps[k] = (dlrt_step_opts){.name = cfg->steps[k].name,
                                       .schedule = dlc_opt_schedule(&cfg->steps[k].opt),
                                       .repeat = cfg->steps[k].repeat};
    t->n_steps = cfg->n_steps;
    for (int p = 0; p < cfg->n_phases && p < DLRT_MAX_PHASES; p++) {
        const phase_config *c = &cfg->phases[p];
        t->phases[p] = (dlrt_phase_opts){.name = c->name, .epochs = c->epochs,
                                         .first_step = c->first_step, .n_steps = c->n_steps};
    }
    t->n_phases = cfg->n_phases;
    if (cfg->n_steps && !cfg->n_phases) {
        t->phases[0] = (dlrt_phase_opts){.epochs = cfg->epochs, .n_steps = cfg->n_steps};
        t->n_phases = 1;
    }
    if (cfg->n_phases) { /* the report's epochs_planned: every phase's */
        t->epochs = 0;
        for (int p = 0; p < t->n_phases; p++) t->epochs += t->phases[p].epochs;
    }
}

/* the training batches' augmentation list */
static void copy_augment(const train_config *cfg, dlrt_train_opts *t) {
    for (int i = 0; i < cfg->n_augment && i < DLRT_MAX_AUGMENTS; i++) {
        const augment_config *a = &cfg->augment[i];
        t->augment[i] = (dlrt_augment){.kind = a->kind, .n = a->n, .size = a->size, .p = a->p};
    }
    t->n_augment = cfg->n_augment < DLRT_MAX_AUGMENTS ? cfg->n_augment : DLRT_MAX_AUGMENTS;
}

static int run_training(const dlc_unit *u, const dlrt_model_desc *m, const dlrt_train_opts *t) {
    char err[1024];
    if (!t->quiet)
        printf("training %s on %s: batch %lld, %lld epochs%s, seed %lld\n", u->cfg.model,
               u->cfg.dataset, (long long)u->cfg.batch, (long long)t->epochs,
               t->n_phases > 1 ? " in phases" : "", (long long)u->cfg.seed);
    if (dlrt_train(m, t, err, sizeof err)) {
        fprintf(stderr, "dlc: error: %s\n", err);
        return 1;
    }
    return 0;
}

/* the train block and --run's options as the runtime's options (the data, the loop, what it
 * writes) */
static void train_opts(dlc_unit *u, const dlc_options *o, dlrt_train_opts *t) {
    *t = (dlrt_train_opts){
        .data = {.name = u->cfg.dataset, .dir = dlrt_data_dir(o->data_dir, DLC_DEFAULT_DATA_DIR),
                 .sine = {.n = u->cfg.sine.n, .n_test = u->cfg.sine.n_test, .low = u->cfg.sine.low,
                          .high = u->cfg.sine.high, .noise = u->cfg.sine.noise},
                 .classes = u->cfg.classes, .limit = u->cfg.limit, .test_limit = u->cfg.test_limit},
        .tuples = {.arity = u->cfg.arity, .same_share = u->cfg.same_share, .n = u->cfg.tuples,
                   .n_test = u->cfg.test_tuples, .member_input = {u->cfg.member_input[0],
                   u->cfg.member_input[1], u->cfg.member_input[2]}},
        .feature_input = u->cfg.feature_input, .target_input = u->cfg.target_input,
        .normalize = u->cfg.normalize, .normalize_per_feature = u->cfg.normalize_per_feature,
        .epochs = u->cfg.epochs, .seed = u->cfg.seed,
        .validation = u->cfg.validation, .report_path = o->report,
        .schedule = dlc_schedule(&u->cfg),
        .source = o->input, .quiet = o->quiet};
    dlc_table_spec(u, o->input, &t->data.table);
    copy_evaluation(&u->cfg, t);
    copy_augment(&u->cfg, t);
    copy_steps(&u->cfg, t);
    copy_images(&u->cfg, t);
    t->images_dir = o->images;
    t->samples_path = o->samples;
    t->samples_count = o->samples_count ? o->samples_count : 1000;
    const char **names;
    dlc_sample_names(u, &names, &t->n_sample_names);
    t->sample_names = names;
}

/* the model built and loaded, for --run and --samples; NULL after printing why */
static const dlrt_model_desc *load_model(dlc_unit *u, const char *source, const dlc_options *o,
                                         void **handle) {
    const char *mode = o->run ? "--run" : "--samples";
    if (!u->cfg.present || !u->cfg.dataset) {
        fprintf(stderr, "dlc: error: %s: %s needs %s\n", o->input, mode,
                !u->cfg.present ? "a train block" : "`data = ...` in the train block");
        return NULL;
    }
    if (o->samples && !u->cfg.samples.present) {
        fprintf(stderr, "dlc: error: %s: --samples needs `samples = sample(VALUE, low = L, high = "
                "H)` in the train block\n", o->input);
        return NULL;
    }
    const dlrt_model_desc *m = dlc_build_and_load(source, u->cfg.model, o, handle);
    if (m && o->cuda) m = dlc_cuda_model(u, m, o); /* --target cuda: the steps on the GPU */
    return m;
}

static int train_now(dlc_unit *u, const char *source, const dlc_options *o) {
    void *handle = NULL;
    const dlrt_model_desc *m = load_model(u, source, o, &handle);
    if (!m) return 1;
    dlrt_train_opts t;
    train_opts(u, o, &t);
    if (o->check_numerics &&
        (o->cuda ? dlc_cuda_numerics_hook(u, &t) : dlc_numerics_hook(u, handle, &t)))
        return 1;
    dlc_unit listing; /* --save-weights: the inference graph names the tensors to save */
    memset(&listing, 0, sizeof listing);
    const char **names = NULL;
    if (o->save_weights && dlc_inference_tensors(&listing, o, &names, &t.n_save_names)) {
        dlc_unit_free(&listing);
        return 1;
    }
    if (o->save_weights) /* and those the samples value reads */
        names = dlc_merge_names(&u->a, names, t.n_save_names, t.sample_names, t.n_sample_names,
                                &t.n_save_names);
    t.save_weights = o->save_weights;
    t.save_names = names;
    int status = run_training(u, m, &t);
    dlc_unit_free(&listing);
    return status;
}

/* dlc MODEL --weights FILE --samples OUT: samples of the saved weights, without training */
static int sample_now(dlc_unit *u, const char *source, const dlc_options *o) {
    void *handle = NULL;
    const dlrt_model_desc *m = load_model(u, source, o, &handle);
    if (!m) return 1;
    dlrt_train_opts t;
    train_opts(u, o, &t);
    char err[1024];
    if (dlrt_sample_saved(m, &t, o->weights, err, sizeof err)) {
        fprintf(stderr, "dlc: error: %s\n", err);
        return 1;
    }
    return 0;
}

static int generate(dlc_unit *u, const dlc_options *o) {
    cg_c_options co = {.prefix = u->cfg.model, .f64 = o->f64, .has_train = u->cfg.present,
                       .no_reuse = o->no_reuse,
                       .check_numerics = o->check_numerics && !o->cuda}; /* cuda: its own */
    const char *source = cg_c_generate(u->g, &co, u->plan[DLC_TARGET_C], &u->a);
    if (o->cuda && dlc_cuda_generate(u, o)) return 1; /* --target cuda: -o, --emit-c */
    if (!o->cuda && o->emit_c) fputs(source, stdout);
    if (!o->cuda && o->output && dlc_write_file_atomic(o->output, source)) return 1;
    if (o->run) return train_now(u, source, o);
    if (o->samples) return sample_now(u, source, o);
    return 0;
}

/* a closed standard descriptor (`>&-`) gets /dev/null opened read-only: a file dlc opens
 * later cannot take its number (generated C printed "to stdout" would land in it), and writes
 * to it still fail, so finish_stdout reports them */
static void hold_standard_fds(void) {
    for (int fd = 0; fd <= 2; fd++)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int got = open("/dev/null", O_RDONLY);
            if (got >= 0 && got != fd) close(got); /* numbers are taken lowest first */
        }
}

/* output lost on a full device or a closed stdout is an error (exit 1), not a success */
static int finish_stdout(int status) {
    int bad = fflush(stdout) != 0 || ferror(stdout);
    int e = errno;
    if (fclose(stdout) != 0 && !bad) bad = 1, e = errno;
    if (!bad) return status;
    fprintf(stderr, "dlc: error: standard output: %s\n", strerror(e));
    return 1;
}

/* what a train block with steps cannot do yet: say so rather than do something else */
static int check_steps_supported(const dlc_unit *u, const dlc_options *o) {
    if (!u->cfg.n_steps || !o->gradcheck) return 0;
    fprintf(stderr, "dlc: error: %s: --gradcheck: the train block has steps, and --gradcheck "
            "checks only a train block without steps (one loss, one optimizer) for now\n", o->input);
    return 1;
}

static int run(int argc, char **argv) {
    dlc_options o;
    int r = dlc_parse_options(argc, argv, &o);
    if (r) return r > 0 ? 0 : 1;
    if (dlc_check_files(&o)) return 1;
    dlc_unit u;
    if (o.weights && !o.samples) return dlc_inference(&o);
    int status = dlc_compile(&u, &o, o.gradcheck);
    if (status == 0 && !u.stopped && check_steps_supported(&u, &o)) status = 1;
    else if (status == 0 && !u.stopped) {
        if (o.gradcheck) status = dlc_gradcheck(&u, &o);
        else if (o.mem_report) status = dlc_mem_report(&u, &o);
        else if (o.check_cuda) status = dlc_check_cuda(&u, &o); /* CUDA: driver/cuda.c */
        else if (o.output || o.emit_c || o.run || o.samples) status = generate(&u, &o);
    }
    if (u.d.n_errors) status = 1;
    dlc_unit_free(&u);
    return status;
}

int main(int argc, char **argv) {
    hold_standard_fds();
    return finish_stdout(run(argc, argv));
}
