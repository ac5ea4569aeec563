"""PyTorch tensors as fill targets, without importing torch: a CPU tensor's memory is a NumPy
array (``tensor.detach().numpy()``, no copy), filled in place like any ``out=``. A strided
tensor (channels-last, a transposed or sliced view) is filled as ``torch.nn.init`` fills it,
element by logical index: through a contiguous copy that is copied back."""
import contextlib

import numpy as np


def is_torch_tensor(value):
    """Whether ``value`` is a torch.Tensor (or a Parameter), judged without importing torch."""
    return type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach")


def _check_tensor(tensor, name):
    if tensor.device.type != "cpu":
        hint = (": materialise the model first, e.g. model.to_empty(device='cpu')"
                if tensor.device.type == "meta" else "")
        raise TypeError(f"{name} must be on the CPU, got device {tensor.device}{hint}")
    kind = str(tensor.dtype)
    if kind not in ("torch.float16", "torch.bfloat16", "torch.float32", "torch.float64"):
        raise TypeError(f"{name} must be float16, bfloat16, float32 or float64, got "
                        f"{tensor.dtype}")


def tensor_buffer(tensor, name="out"):
    """The NumPy array sharing a contiguous CPU tensor's memory (16-, 32- or 64-bit floats)."""
    _check_tensor(tensor, name)
    if not tensor.is_contiguous():
        raise TypeError(f"{name} must be contiguous: fill {name}.contiguous() and copy it back, "
                        "or fill the tensor the view was taken from")
    if str(tensor.dtype) == "torch.bfloat16":  # NumPy has no bfloat16: ml_dtypes' view
        try:
            import ml_dtypes
        except ImportError:
            raise TypeError(f"{name}: filling bfloat16 tensors needs ml_dtypes "
                            "(pip install ml_dtypes)") from None
        return tensor.detach().view(torch_int16(tensor)).numpy().view(ml_dtypes.bfloat16)
    return tensor.detach().numpy()


@contextlib.contextmanager
def tensor_target(tensor, name="out"):
    """The NumPy array to fill for a CPU tensor: its own memory when contiguous, else a
    contiguous copy whose values are copied into ``tensor`` when the fill succeeded (what
    ``torch.nn.init`` does to a channels-last or strided tensor: values by logical index)."""
    _check_tensor(tensor, name)
    if tensor.is_contiguous():
        yield tensor_buffer(tensor, name)
        return
    staged = tensor.detach().contiguous()
    yield tensor_buffer(staged, name)
    tensor.detach().copy_(staged)


def torch_int16(tensor):
    """torch.int16, found through the tensor's own module (torch is not imported here)."""
    import sys
    return sys.modules["torch"].int16


@contextlib.contextmanager
def fill_target(value, name="out"):
    """The array to fill for ``value``: itself if a NumPy array, a torch tensor's memory (or a
    contiguous copy of a strided tensor, copied back afterwards)."""
    if isinstance(value, np.ndarray):
        yield value
    elif is_torch_tensor(value):
        with tensor_target(value, name) as target:
            yield target
    else:
        raise TypeError(f"{name} must be a numpy.ndarray or a torch.Tensor, got "
                        f"{type(value).__name__}")
