/*
 * dlrt_schedule.c — learning-rate schedules, stepped once per epoch with the semantics of
 * torch.optim.lr_scheduler, for 0-based epoch e of E and base rate lr:
 *   constant     lr
 *   step         lr * gamma^floor(e / every)                      StepLR(step_size=every, gamma)
 *   exponential  lr * gamma^e                                     ExponentialLR(gamma)
 *   cosine       min + (lr - min) * (1 + cos(pi * e / E)) / 2     CosineAnnealingLR(T_max=E,
 *                                                                 eta_min=min)
 * Linear warmup over the first K epochs comes before the schedule, which then starts its own
 * epoch count at 0 (and cosine anneals over the E - K epochs left):
 *   e < K        lr * (s + (1 - s) * e / K)                       LinearLR(start_factor=s,
 *                                                                 end_factor=1, total_iters=K)
 *   e >= K       the schedule above at epoch e - K of E - K
 * which is torch's SequentialLR([LinearLR(...), main], milestones=[K]).
 */
#include "dlrt.h"
#include <math.h>

static double base_lr(const dlrt_schedule *s, long long epoch, long long epochs) {
    switch (s->kind) {
    case DLRT_SCHED_STEP: return s->lr * pow(s->gamma, (double)(epoch / (s->every > 0 ? s->every : 1)));
    case DLRT_SCHED_EXPONENTIAL: return s->lr * pow(s->gamma, (double)epoch);
    case DLRT_SCHED_COSINE:
        return s->min_lr + (s->lr - s->min_lr) * (1 + cos(3.14159265358979323846 * (double)epoch /
                                                          (double)(epochs > 0 ? epochs : 1))) / 2;
    default: return s->lr;
    }
}

double dlrt_schedule_lr(const dlrt_schedule *s, long long epoch, long long epochs) {
    long long k = s->warmup > 0 ? s->warmup : 0;
    if (epoch < k)
        return s->lr * (s->warmup_start + (1 - s->warmup_start) * (double)epoch / (double)k);
    return base_lr(s, epoch - k, epochs - k);
}
