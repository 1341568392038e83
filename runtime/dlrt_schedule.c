/*
 * dlrt_schedule.c — learning-rate schedules, stepped once per epoch with the semantics of
 * torch.optim.lr_scheduler, for 0-based epoch e of E and base rate lr:
 *   constant     lr
 *   step         lr * gamma^floor(e / every)                      StepLR(step_size=every, gamma)
 *   exponential  lr * gamma^e                                     ExponentialLR(gamma)
 *   cosine       min + (lr - min) * (1 + cos(pi * e / E)) / 2     CosineAnnealingLR(T_max=E,
 *                                                                 eta_min=min)
 * Linear warmup over K epochs multiplies the schedule's value by
 *   w(e) = start + (1 - start) * min(e, K) / K                    LinearLR(start_factor=start,
 *                                                                 end_factor=1, total_iters=K)
 * so the result is torch's ChainedScheduler([LinearLR, main]) for step and exponential (both
 * purely multiplicative) and for cosine with min = 0; with min > 0 it is the product of the two
 * closed forms above.
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

static double warmup_factor(const dlrt_schedule *s, long long epoch) {
    if (s->warmup <= 0 || epoch >= s->warmup) return 1;
    return s->warmup_start + (1 - s->warmup_start) * (double)epoch / (double)s->warmup;
}

double dlrt_schedule_lr(const dlrt_schedule *s, long long epoch, long long epochs) {
    return base_lr(s, epoch, epochs) * warmup_factor(s, epoch);
}
