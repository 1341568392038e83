/*
 * dlrt_schedule.c — learning-rate schedules, stepped once per epoch with the semantics of
 * torch.optim.lr_scheduler: StepLR (lr * gamma^floor(e / every)), ExponentialLR
 * (lr * gamma^e) and CosineAnnealingLR with T_max = epochs
 * (min + (lr - min) * (1 + cos(pi * e / epochs)) / 2), for 0-based epoch e.
 */
#include "dlrt.h"
#include <math.h>

double dlrt_schedule_lr(const dlrt_schedule *s, long long epoch, long long epochs) {
    switch (s->kind) {
    case DLRT_SCHED_STEP: return s->lr * pow(s->gamma, (double)(epoch / (s->every > 0 ? s->every : 1)));
    case DLRT_SCHED_EXPONENTIAL: return s->lr * pow(s->gamma, (double)epoch);
    case DLRT_SCHED_COSINE:
        return s->min_lr + (s->lr - s->min_lr) * (1 + cos(3.14159265358979323846 * (double)epoch /
                                                          (double)(epochs > 0 ? epochs : 1))) / 2;
    default: return s->lr;
    }
}
