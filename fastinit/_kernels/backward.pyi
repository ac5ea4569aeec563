"""Backward kernels: one layer of the backward pass and its parallel product (backward.pyx)."""
import numpy as np
import numpy.typing as npt

def matmul(a: npt.NDArray[np.floating], b: npt.NDArray[np.floating],
           out: npt.NDArray[np.floating], num_threads: int = 1) -> None: ...
def backward_layer(g: npt.NDArray[np.floating], h_out: npt.NDArray[np.floating],
                   h_in: npt.NDArray[np.floating], w: npt.NDArray[np.floating],
                   g_prev: npt.NDArray[np.floating] | None, dw: npt.NDArray[np.floating],
                   kind: int,
                   slope: float, num_threads: int
                   ) -> tuple[tuple[float, float], tuple[float, float]]: ...
def dense_backward_update(g: npt.NDArray[np.floating], h_out: npt.NDArray[np.floating],
                          h_in: npt.NDArray[np.floating], w: npt.NDArray[np.floating],
                          velocity_w: npt.NDArray[np.floating], b: npt.NDArray[np.floating],
                          velocity_b: npt.NDArray[np.floating],
                          g_prev: npt.NDArray[np.floating] | None,
                          dw: npt.NDArray[np.floating], lr: float, momentum: float, kind: int,
                          slope: float, num_threads: int) -> None: ...
def simd_level(level: int | None = None) -> int: ...
def use_simd(enabled: bool) -> bool: ...
