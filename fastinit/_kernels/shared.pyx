# cython: language_level=3
"""The kernels' shared C-level helpers (declared in shared.pxd): the one place BLAS is called,
and the activation codes and constants the kernels use, for the test that holds them against
fastinit.activations.TABLE."""


cdef void gemm(const char* transa, const char* transb, int m, int n, int k,
               const floating* a, int lda, const floating* b, int ldb, floating beta,
               floating* c, int ldc) noexcept nogil:
    """Column-major c (m x n) = op(a) @ op(b) + beta * c: the one place BLAS is called."""
    cdef floating one = 1
    if floating is double:
        dgemm(<char*>transa, <char*>transb, &m, &n, &k, &one, <double*>a, &lda, <double*>b,
              &ldb, &beta, c, &ldc)
    else:
        sgemm(<char*>transa, <char*>transb, &m, &n, &k, &one, <float*>a, &lda, <float*>b,
              &ldb, &beta, c, &ldc)


def activation_constants():
    """The kernels' activation codes (name -> code) and constants, as compiled."""
    codes = {"linear": LINEAR, "tanh": TANH, "relu": RELU, "leaky_relu": LEAKY_RELU,
             "sigmoid": SIGMOID, "selu": SELU, "elu": ELU, "gelu": GELU}
    return codes, {"selu_scale": SELU_SCALE, "selu_alpha": SELU_ALPHA, "sqrt1_2": SQRT1_2}
