"""Propagation kernels: a layer's GEMM and fused pass, whole networks in one nogil call
(propagate.pyx)."""
from typing import Any, Sequence

import numpy as np
import numpy.typing as npt

class LayerPass:
    bias: npt.NDArray[np.floating] | None
    bias_value: float
    code: int
    slope: float
    sat_below: float
    sat_above: float
    counts_saturation: bool
    edges: npt.NDArray[np.float64]
    def __init__(self, code: int, slope: float = 0.0,
                 bias: npt.NDArray[np.floating] | None = None, bias_value: float = 0.0,
                 saturation: tuple[float, float, bool] = ...,
                 edges: npt.ArrayLike | None = None) -> None: ...

class NetworkLayout:
    dtype: np.dtype[Any]
    input_dim: int
    depth: int
    max_width: int
    max_weights: int
    bins: int
    def __init__(self, input_dim: int, widths: Sequence[int], law_kinds: npt.ArrayLike,
                 law_params: npt.ArrayLike, layers: list[LayerPass], bins: int,
                 dtype: npt.DTypeLike, gains: npt.ArrayLike | None = None) -> None: ...
    def max_chunks(self, batch: int) -> int: ...

def linear_step(edges: npt.NDArray[np.float64]) -> float: ...
def layer_statistics(total: npt.NDArray[np.float64], n: int,
                     counts_saturation: bool) -> dict[str, float]: ...
def forward_layer(x: npt.NDArray[np.floating], w: npt.NDArray[np.floating],
                  out: npt.NDArray[np.floating], layer: LayerPass, beta: float = 0.0,
                  finish: bool = True,
                  num_threads: int = 1) -> Any: ...  # (stats, hist); None if not finish
def forward_network(x0: npt.NDArray[np.floating], layout: NetworkLayout,
                    keys: npt.NDArray[np.uint32], num_threads: int,
                    outputs: list[npt.NDArray[np.floating]] | None = None
                    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
def forward_networks(layout: NetworkLayout, batch: int, keys: npt.NDArray[np.uint32],
                     input_params: npt.NDArray[np.float64], input_kind: int, num_threads: int
                     ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
def histogram(h: npt.NDArray[np.floating], edges: npt.NDArray[np.float64],
              num_threads: int) -> npt.NDArray[np.int64]: ...
def dense_forward(x: npt.NDArray[np.floating], w: npt.NDArray[np.floating],
                  b: npt.NDArray[np.floating], out: npt.NDArray[np.floating], code: int,
                  slope: float, num_threads: int) -> None: ...
def simd_level(level: int | None = None) -> int: ...
def use_simd(enabled: bool) -> bool: ...
