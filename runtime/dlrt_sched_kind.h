/*
 * dlrt_sched_kind.h — the learning-rate schedules the runtime applies (dlrt_schedule.c, the
 * `kind` of a dlrt_schedule). The one definition of the schedule kinds: the compiler's train
 * configuration (ir/train_config.h) uses this enum as it is, so a schedule lowered from the
 * language reaches the runtime without a correspondence kept by hand. Plain C with no runtime
 * types or functions, so the compiler includes it without linking the runtime.
 */
#ifndef DLRT_SCHED_KIND_H
#define DLRT_SCHED_KIND_H

/* Stepped once per epoch, as torch.optim.lr_scheduler. */
enum dlrt_sched_kind {
    DLRT_SCHED_CONSTANT = 0,
    DLRT_SCHED_STEP = 1,
    DLRT_SCHED_EXPONENTIAL = 2,
    DLRT_SCHED_COSINE = 3,
    DLRT_SCHED_COUNT
};

#endif
