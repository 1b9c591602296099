"""What a checkpoint's pickle names, made inert: the stand-ins built instead, torch's and numpy's known
names, and which globals would run code if loaded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


class GlobalRef:
    """A global the pickle names (``module.name``): recorded, never imported."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    @property
    def full_name(self) -> str:
        return f"{self.module}.{self.name}"

    def __repr__(self) -> str:
        return f"GlobalRef({self.full_name})"


class Reduced:
    """What calling (REDUCE, NEWOBJ, INST) or building an unknown global would have produced."""

    __slots__ = ("func", "args", "state", "items")

    def __init__(self, func: Any, args: Any) -> None:
        self.func, self.args, self.state = func, args, None
        self.items: list[Any] = []


class Namespace(dict):
    """An ``argparse.Namespace`` from the file, kept as a mapping of its attributes."""


@dataclass(eq=False)
class StorageRef:
    """A storage as ``persistent_load`` describes it: the data stays in the file, unread."""

    dtype: str
    key: str
    location: str
    numel: int  # elements
    itemsize: int

    @property
    def nbytes(self) -> int:
        return self.numel * self.itemsize


@dataclass(eq=False)
class Tensor:
    """A tensor's description: its storage, shape and dtype; no data."""

    storage: StorageRef | None
    offset: int
    shape: tuple[int, ...]
    dtype: str

    @property
    def numel(self) -> int:
        count = 1
        for dim in self.shape:
            count *= dim
        return count


@dataclass(eq=False)
class NumpyDtype:
    """``numpy.dtype('f8')``: its type string only."""

    code: str


@dataclass(eq=False)
class NumpyScalar:
    """A numpy scalar (fairseq keeps metrics and best scores as these): its dtype and decoded value."""

    dtype: str
    value: Any


class TorchName:
    """A torch dtype, layout or quantisation scheme named by the pickle (``torch.float16``)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


# -- what is known about globals -------------------------------------------------------------------------

# fmt: off
# Storage classes: (dtype, bytes per element).
STORAGE_TYPES = {
    "DoubleStorage": ("float64", 8), "FloatStorage": ("float32", 4), "HalfStorage": ("float16", 2),
    "BFloat16Storage": ("bfloat16", 2), "LongStorage": ("int64", 8), "IntStorage": ("int32", 4),
    "ShortStorage": ("int16", 2), "CharStorage": ("int8", 1), "ByteStorage": ("uint8", 1),
    "BoolStorage": ("bool", 1), "ComplexFloatStorage": ("complex64", 8),
    "ComplexDoubleStorage": ("complex128", 16), "QUInt8Storage": ("quint8", 1), "QInt8Storage": ("qint8", 1),
    "QInt32Storage": ("qint32", 4), "QUInt4x2Storage": ("quint4x2", 1), "QUInt2x4Storage": ("quint2x4", 1),
    "UntypedStorage": ("uint8", 1),
}
TORCH_DTYPES = {
    "float64": 8, "double": 8, "float32": 4, "float": 4, "float16": 2, "half": 2, "bfloat16": 2,
    "int64": 8, "long": 8, "int32": 4, "int": 4, "int16": 2, "short": 2, "int8": 1, "uint8": 1,
    "bool": 1, "complex32": 4, "complex64": 8, "complex128": 16, "cfloat": 8, "cdouble": 16,
    "quint8": 1, "qint8": 1, "qint32": 4, "quint4x2": 1, "quint2x4": 1, "uint16": 2, "uint32": 4,
    "uint64": 8, "float8_e4m3fn": 1, "float8_e5m2": 1, "float8_e4m3fnuz": 1, "float8_e5m2fnuz": 1,
    "float8_e8m0fnu": 1, "float4_e2m1fn_x2": 1, "bits8": 1, "bits16": 2, "bits1x8": 1, "bits2x4": 1,
    "bits4x2": 1,
}
_CANONICAL_DTYPE = {
    "double": "float64", "float": "float32", "half": "float16", "long": "int64", "int": "int32",
    "short": "int16", "cfloat": "complex64", "cdouble": "complex128",
}
TORCH_REBUILDERS = {
    "_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3", "_rebuild_parameter",
    "_rebuild_parameter_with_state", "_rebuild_qtensor", "_rebuild_sparse_tensor",
    "_rebuild_meta_tensor_no_storage", "_rebuild_nested_tensor", "_rebuild_wrapper_subclass",
    "_rebuild_device_tensor_from_numpy", "_rebuild_device_tensor_from_cpu_tensor",
}
TORCH_NAMES = {
    "per_tensor_affine", "per_tensor_symmetric", "per_channel_affine", "per_channel_symmetric",
    "per_channel_affine_float_qparams",
}
_TENSOR_CLASS = re.compile(
    r"^torch\.(cuda\.)?(Double|Float|Half|BFloat16|Long|Int|Short|Char|Byte|Bool)Tensor$"
)
# The globals torch >= 2.6 loads with weights_only=True without being told (its default allowlist).
_TORCH_DEFAULT = {
    "collections.OrderedDict", "collections.Counter", "torch.nn.parameter.Parameter",
    "torch.serialization._get_layout", "torch.Size", "torch.Tensor", "torch.device", "_codecs.encode",
    "builtins.bytearray", "builtins.set", "builtins.complex", "torch._tensor._rebuild_from_type_v2",
    "torch.storage.TypedStorage", "torch.storage.UntypedStorage",
}
# Inert here, and benign when really loaded, but torch needs to be told: add_safe_globals.
NUMPY_SCALARS = ("numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar")
BENIGN_GLOBALS = {"argparse.Namespace", "numpy.dtype", "builtins.slice", "builtins.frozenset", *NUMPY_SCALARS}
# Globals that can run programs, touch files or the network, or reach any other object.
DANGEROUS_MODULES = {
    "os", "posix", "nt", "posixpath", "ntpath", "subprocess", "sys", "shutil", "socket", "importlib",
    "runpy", "pickle", "_pickle", "marshal", "ctypes", "code", "codeop", "pty", "webbrowser", "urllib",
    "http", "requests", "multiprocessing", "asyncio", "pdb", "bdb", "io", "_io", "pathlib", "tempfile",
    "zipimport", "types", "operator", "functools", "signal", "threading", "_thread", "platform",
    "commands", "timeit", "pip", "setuptools", "distutils", "shelve", "dill", "cloudpickle", "joblib",
    "torch.hub", "torch.jit", "torch._C", "torch.ops", "torch._ops", "torch.library",
    "torch.utils.cpp_extension",
}
DANGEROUS_BUILTINS = {
    "eval", "exec", "compile", "open", "getattr", "setattr", "delattr", "__import__", "input",
    "breakpoint", "globals", "locals", "vars", "exit", "quit", "help", "memoryview", "type", "object",
    "super", "classmethod", "staticmethod", "property", "print", "dir",
}
DANGEROUS_NAMES = {
    "torch.load", "torch.serialization.load", "torch.save", "numpy.load", "numpy.save", "numpy.fromfile",
    "numpy.testing._private.utils.runstring",
}
# numpy dtype strings → the dtype class torch must be told about (BUILD on a dtype checks its type).
_NUMPY_DTYPE_CLASSES = {
    "f2": "Float16DType", "f4": "Float32DType", "f8": "Float64DType", "f16": "LongDoubleDType",
    "i1": "Int8DType", "i2": "Int16DType", "i4": "Int32DType", "i8": "Int64DType",
    "u1": "UInt8DType", "u2": "UInt16DType", "u4": "UInt32DType", "u8": "UInt64DType",
    "b1": "BoolDType", "c8": "Complex64DType", "c16": "Complex128DType",
}
_NUMPY_STRUCT = {
    "f2": "e", "f4": "f", "f8": "d", "i1": "b", "i2": "h", "i4": "i", "i8": "q",
    "u1": "B", "u2": "H", "u4": "I", "u8": "Q", "b1": "?",
}
# fmt: on


def global_risk(full_name: str) -> str:
    """'torch' (torch loads it by default), 'benign' (inert; add_safe_globals), 'dangerous' or 'unknown'."""
    module, _, name = full_name.rpartition(".")
    if _is_torch_default(full_name, module, name):
        return "torch"
    if full_name in BENIGN_GLOBALS:
        return "benign"
    if full_name in DANGEROUS_NAMES or "__" in name:
        return "dangerous"
    if module == "builtins":
        return "dangerous" if name in DANGEROUS_BUILTINS else "unknown"
    parts = module.split(".")
    if any(".".join(parts[:i]) in DANGEROUS_MODULES for i in range(1, len(parts) + 1)):
        return "dangerous"
    return "unknown"


def _is_torch_default(full_name: str, module: str, name: str) -> bool:
    if full_name in _TORCH_DEFAULT or _TENSOR_CLASS.match(full_name):
        return True
    if module == "torch._utils" and name in TORCH_REBUILDERS:
        return True
    if module == "torch" and (name in STORAGE_TYPES or name in TORCH_DTYPES or name in TORCH_NAMES):
        return True
    return module == "torch.cuda" and name in STORAGE_TYPES
