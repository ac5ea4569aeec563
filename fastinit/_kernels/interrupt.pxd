# Ctrl-C inside long kernels: see src/interrupt.h.
cdef extern from "interrupt.h" nogil:
    ctypedef struct fi_interrupt:
        int stop
    void fi_interrupt_init(fi_interrupt* it)
    int fi_interrupt_poll(fi_interrupt* it)


cdef inline int raise_pending() except -1:
    """Propagate the exception a signal handler set while a kernel ran."""
    return -1
