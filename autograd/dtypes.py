"""Which dtypes a Tensor may hold, and the default float dtype."""
import numpy as np

SUPPORTED_KINDS = "fiub"      # float, signed and unsigned int, bool (no complex, object, str)


class _Defaults:
    float_dtype = np.dtype(np.float32)


defaults = _Defaults()


def set_default_dtype(dtype):
    """Set the dtype that Python floats and float lists become (float32 or float64)."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"set_default_dtype: expected float32 or float64, got {dtype}")
    defaults.float_dtype = dtype


def get_default_dtype():
    return defaults.float_dtype


def check_dtype(dtype, where="Tensor"):
    dtype = np.dtype(dtype)
    if dtype.kind not in SUPPORTED_KINDS:
        raise TypeError(f"{where}: unsupported dtype {dtype}; expected a float, int or bool dtype")
    return dtype


def to_array(data, dtype=None):
    """Convert user data to an ndarray following the Tensor constructor's rules.

    Python floats and float lists become the default float dtype and Python ints int64;
    numpy arrays and numpy scalars keep their dtype (as torch.tensor does); `dtype` overrides.
    """
    if isinstance(data, np.ndarray):
        array = data
    else:
        if isinstance(data, (str, bytes)) or data is None:
            raise TypeError(f"Tensor: expected numbers, got {type(data).__name__}")
        try:
            array = np.asarray(data)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"Tensor: expected a number, nested lists of numbers or an "
                            f"array; could not convert {type(data).__name__}: {exc}") from None
        if dtype is not None:
            pass                                 # cast once, below: 0.1 must not pass via float32
        elif array.dtype.kind == "f" and not isinstance(data, np.generic):
            array = array.astype(defaults.float_dtype)
        elif array.dtype.kind == "i" and not isinstance(data, np.generic):
            array = array.astype(np.int64)
    if array.dtype.kind not in SUPPORTED_KINDS:
        raise TypeError(f"Tensor: unsupported dtype {array.dtype} (from {type(data).__name__}); "
                        f"expected float, int or bool numbers")
    if dtype is not None:
        array = array.astype(check_dtype(dtype), copy=False)
    return array
