"""PyTorch tensors as fill targets, without importing torch: a CPU tensor's memory is a NumPy
array (``tensor.detach().numpy()``, no copy), filled in place like any ``out=``."""
import numpy as np


def is_torch_tensor(value):
    """Whether ``value`` is a torch.Tensor (or a Parameter), judged without importing torch."""
    return type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach")


def tensor_buffer(tensor, name="out"):
    """The NumPy array sharing a CPU tensor's memory (float32/float64, contiguous)."""
    if tensor.device.type != "cpu":
        raise TypeError(f"{name} must be on the CPU, got device {tensor.device}")
    if not tensor.is_contiguous():
        raise TypeError(f"{name} must be contiguous: fill {name}.contiguous() and copy it back, "
                        "or fill the tensor the view was taken from")
    kind = str(tensor.dtype)
    if kind == "torch.bfloat16":  # NumPy has no bfloat16: ml_dtypes' over the same memory
        try:
            import ml_dtypes
        except ImportError:
            raise TypeError(f"{name}: filling bfloat16 tensors needs ml_dtypes "
                            "(pip install ml_dtypes)") from None
        return tensor.detach().view(torch_int16(tensor)).numpy().view(ml_dtypes.bfloat16)
    if kind not in ("torch.float16", "torch.float32", "torch.float64"):
        raise TypeError(f"{name} must be float16, bfloat16, float32 or float64, got "
                        f"{tensor.dtype}")
    return tensor.detach().numpy()


def torch_int16(tensor):
    """torch.int16, found through the tensor's own module (torch is not imported here)."""
    import sys
    return sys.modules["torch"].int16


def fill_target(value, name="out"):
    """The array to fill for ``value``: itself if a NumPy array, a torch tensor's memory."""
    if isinstance(value, np.ndarray):
        return value
    if is_torch_tensor(value):
        return tensor_buffer(value, name)
    raise TypeError(f"{name} must be a numpy.ndarray or a torch.Tensor, got "
                    f"{type(value).__name__}")
