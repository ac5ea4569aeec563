"""The types the public API's annotations name: one place, for readers and type checkers."""
from typing import Any, Sequence, Union

import numpy as np
import numpy.typing as npt

Shape = Union[int, Sequence[int]]
"""A weight's shape: an int or a sequence of ints."""
RNG = Union[None, int, np.integer, np.random.SeedSequence, np.random.Generator]
"""SPEC 7: None (fresh entropy), an int or SeedSequence (the counter-based stream) or a
Generator (compat mode: its own draws)."""
DType = Union[npt.DTypeLike, None]
"""float64 (the default), float32, float16 or bfloat16, by name or NumPy dtype."""
Array = npt.NDArray[Any]
"""A NumPy array (a filled ``out``, a weight, a batch)."""
FloatOrArray = Union[float, npt.NDArray[np.float64]]
"""The theory's numbers: a float, or an array for array arguments (vectorised)."""
