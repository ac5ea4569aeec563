/*
 * Ctrl-C inside a long kernel. The kernels run without the GIL, so Python cannot raise
 * KeyboardInterrupt until they return. Each kernel call carries an fi_interrupt: at work-item
 * boundaries every thread calls fi_interrupt_poll, and thread 0 of the team (the thread that
 * called the kernel) takes the GIL at most every FI_INTERRUPT_PERIOD seconds to run Python's
 * signal handlers. Once a handler raises, the exception stays set for the caller to propagate,
 * `stop` is raised, and every thread skips the work items left: the kernel returns within one
 * work item and its caller raises.
 */
#ifndef FASTINIT_INTERRUPT_H
#define FASTINIT_INTERRUPT_H

#include <Python.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#define FI_THREAD_NUM() omp_get_thread_num()
#else
#define FI_THREAD_NUM() 0
#endif

#define FI_INTERRUPT_PERIOD 0.05

typedef struct {
    double next_check;  /* monotonic time of thread 0's next look at the signals */
    int stop;           /* a signal handler raised: skip everything left */
} fi_interrupt;

static inline double fi_monotonic(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline void fi_interrupt_init(fi_interrupt* it) {
    it->next_check = fi_monotonic() + FI_INTERRUPT_PERIOD;
    it->stop = 0;
}

static int fi_run_signal_handlers(void) {
    PyGILState_STATE state = PyGILState_Ensure();
    int raised = PyErr_CheckSignals() != 0;  /* only the main thread runs handlers */
    PyGILState_Release(state);
    return raised;
}

/* Whether the kernel should stop now. */
static inline int fi_interrupt_poll(fi_interrupt* it) {
    if (__atomic_load_n(&it->stop, __ATOMIC_RELAXED))
        return 1;
    if (FI_THREAD_NUM() == 0 && fi_monotonic() >= it->next_check) {
        it->next_check = fi_monotonic() + FI_INTERRUPT_PERIOD;
        if (fi_run_signal_handlers()) {
            __atomic_store_n(&it->stop, 1, __ATOMIC_RELAXED);
            return 1;
        }
    }
    return 0;
}

#endif /* FASTINIT_INTERRUPT_H */
