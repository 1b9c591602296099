"""A pickle interpreter that builds inert stand-ins and never executes a byte, within limits that stop
a hostile or broken file with a clear error (never a hang or an exhausted machine).

``_Unpickler._load`` is one branch per opcode: one table, read best whole."""

from __future__ import annotations

import _compat_pickle
import codecs
import struct
import sys
from collections.abc import Callable
from typing import Any, BinaryIO

from ofa_manager.core.checkpoint_results import CheckpointError, MalformedPickle, TruncatedCheckpoint
from ofa_manager.core.pickle_globals import (
    _CANONICAL_DTYPE,
    _NUMPY_STRUCT,
    STORAGE_TYPES,
    TORCH_DTYPES,
    TORCH_NAMES,
    GlobalRef,
    Namespace,
    NumpyDtype,
    NumpyScalar,
    Reduced,
    StorageRef,
    Tensor,
    TorchName,
)

MAX_OPCODES = 5_000_000
MAX_LONG_BYTES = 1024  # an integer of 8192 bits; a checkpoint needs 64
MAX_MARKS = 100_000
MAX_LINE = 1 << 16  # a text opcode's line, newline included
# Real checkpoints name a few thousand storages; a new one costs a pickle at least 8 operations, so this is
# reached well within MAX_OPCODES.
MAX_STORAGES = 100_000
# Hashing a tuple (a dict key, a set member) hashes each element in turn, recursing in C without the
# interpreter's guard: a tuple nested a million deep crashes the process, and a tuple that holds another
# twice, 60 times over, hashes for ever. Keys and members are measured first (dict keys in a checkpoint are
# strings; a tuple key is rare and shallow).
MAX_KEY_DEPTH = 100  # tuples within tuples
MAX_HASHED = 10_000_000  # tuples hashed while reading one pickle, each nested one counted each time
# A dict (or set) of keys that share one hash takes time growing with the square of their number. The hash of
# a string is salted per process, and an integer below the modulus is its own hash; the file can choose the
# hash of a larger integer, a tuple, a complex number, a frozenset or a slice, and make any number of them
# collide: such keys are counted, over the whole pickle.
MAX_CHOSEN_HASHES = 10_000
_HASH_MODULUS = sys.hash_info.modulus  # 2**61 - 1
MAX_SHAPE_DIMS = 64  # a tensor's dimensions (torch allows at most 64)
_MARK = object()
# Opcodes that torch's weights_only unpickler implements; any other makes weights_only=True refuse the file.
_WEIGHTS_ONLY_OPCODES = set(b"\x81Rbaesu(t\x85\x86\x87N\x89\x88)]}\x8fQJKMGhjqrXU\x8a\x80.c")


class _Reader:
    """Bounded reads: running past the end is a truncated file, not a short read."""

    def __init__(self, stream: BinaryIO, limit: int, what: str, available: int) -> None:
        self._stream, self._left, self._what = stream, limit, what
        self._available = available  # bytes the stream holds from here: a longer read is a truncated file

    def read(self, n: int) -> bytes:
        if n < 0:  # BINSTRING's length is signed: a negative read would take all the stream holds
            raise MalformedPickle(f"the {self._what} holds a negative length")
        if n > self._available:
            raise TruncatedCheckpoint(f"the file ends inside the {self._what}: it is truncated")
        self._available -= n
        if n > self._left:
            raise MalformedPickle(f"the {self._what} is larger than this reader accepts")
        data = self._stream.read(n)
        self._left -= len(data)
        if len(data) < n:
            raise TruncatedCheckpoint(f"the file ends inside the {self._what}: it is truncated")
        return data

    def readline(self) -> bytes:
        line = self._stream.readline(min(self._left, MAX_LINE))
        self._left -= len(line)
        self._available -= len(line)
        if line.endswith(b"\n"):
            return line[:-1]
        if self._available <= 0:
            raise TruncatedCheckpoint(f"the file ends inside the {self._what}: it is truncated")
        raise MalformedPickle(f"the {self._what} holds a line longer than this reader accepts")


class _Unpickler:
    """Reads pickle opcodes and builds inert stand-ins; it never imports or calls what the pickle names."""

    def __init__(self, reader: _Reader, persistent_load: Callable[[Any], Any], seen: dict[str, None]) -> None:
        self.read, self.readline = reader.read, reader.readline
        self.persistent_load = persistent_load
        self.seen = seen  # full names of globals, in order of first appearance
        self.protocol: int | None = None
        self.foreign_opcodes: set[str] = set()
        self._measured: dict[int, tuple[int, int, tuple]] = {}  # id → (depth, size, the tuple, kept alive)
        self._hashed = 0
        self._chosen = 0

    def _hashable(self, values: Any) -> None:
        """Refuse keys or set members whose hashing would crash or hang the process (see MAX_KEY_DEPTH)."""
        for value in values:
            if _hash_chosen(value):
                self._chosen += 1
                if self._chosen > MAX_CHOSEN_HASHES:
                    raise MalformedPickle(
                        f"the pickle holds more than {MAX_CHOSEN_HASHES} keys whose hash it can choose "
                        "(large integers, tuples, complex numbers, frozensets)"
                    )
            if isinstance(value, tuple):
                self._hashed += self._measure(value)[1]
                if self._hashed > MAX_HASHED:
                    raise MalformedPickle(
                        f"the pickle's keys hold more than {MAX_HASHED} tuples to hash (shared nested tuples)"
                    )

    def _measure(self, value: tuple) -> tuple[int, int]:
        """(depth, size): tuples within tuples, and the tuples hashing it visits. Deeper than the
        interpreter's recursion limit stops as RecursionError (the pickle nests too deeply)."""
        known = self._measured.get(id(value))
        if known is not None:
            return known[0], known[1]
        depth, size = 1, 1
        for item in value:
            if isinstance(item, tuple):
                inner_depth, inner_size = self._measure(item)
                depth, size = max(depth, inner_depth + 1), size + inner_size
        if depth > MAX_KEY_DEPTH:
            raise MalformedPickle(f"the pickle nests tuples more than {MAX_KEY_DEPTH} deep in a key")
        self._measured[id(value)] = (depth, size, value)
        return depth, size

    def load(self) -> Any:
        try:
            return self._load()
        except CheckpointError:
            raise
        except RecursionError:
            raise MalformedPickle("the pickle nests too deeply") from None
        except (TypeError, ValueError, IndexError, KeyError, AttributeError, struct.error,
                UnicodeDecodeError, OverflowError, MemoryError) as exc:  # fmt: skip
            raise MalformedPickle(f"the pickle is malformed ({type(exc).__name__}: {exc})") from None

    def _global(self, module: str, name: str) -> Any:
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        ref = GlobalRef(module, name)
        self.seen.setdefault(ref.full_name, None)
        if module in ("torch", "torch.cuda") and name in STORAGE_TYPES:
            return _StorageType(*STORAGE_TYPES[name])
        if module == "torch" and (name in TORCH_DTYPES or name in TORCH_NAMES):
            return TorchName(_CANONICAL_DTYPE.get(name, name))
        return ref

    def _load(self) -> Any:  # noqa: C901 - one branch per opcode reads best as one table
        read, readline = self.read, self.readline
        stack: list[Any] = []
        metastack: list[list[Any]] = []
        memo: dict[int, Any] = {}

        def pop_mark() -> list[Any]:
            nonlocal stack
            items = stack
            if not metastack:
                raise MalformedPickle("the pickle is malformed (no MARK on the stack)")
            stack = metastack.pop()
            return items

        for _ in range(MAX_OPCODES):
            op = read(1)[0]
            if op not in _WEIGHTS_ONLY_OPCODES:
                self.foreign_opcodes.add(f"0x{op:02x}")
            # -- memo first: the most frequent opcodes
            if op in (0x71, 0x72, 0x70, 0x94):  # BINPUT, LONG_BINPUT, PUT, MEMOIZE
                if op == 0x71:
                    index = read(1)[0]
                elif op == 0x72:
                    index = struct.unpack("<I", read(4))[0]
                elif op == 0x70:
                    index = int(readline())
                    if not 0 <= index < _HASH_MODULUS:  # a larger one could share its hash with others
                        raise MalformedPickle("the pickle is malformed (a PUT index out of range)")
                else:
                    index = len(memo)
                memo[index] = stack[-1]
            elif op in (0x68, 0x6A, 0x67):  # BINGET, LONG_BINGET, GET
                if op == 0x68:
                    index = read(1)[0]
                elif op == 0x6A:
                    index = struct.unpack("<I", read(4))[0]
                else:
                    index = int(readline())
                if index not in memo:
                    raise MalformedPickle(f"the pickle is malformed (memo {index} is not set)")
                stack.append(memo[index])
            elif op == 0x80:  # PROTO
                self.protocol = read(1)[0]
            elif op == 0x95:  # FRAME: a length hint only
                read(8)
            elif op == 0x2E:  # STOP
                if not stack:
                    raise MalformedPickle("the pickle is malformed (STOP on an empty stack)")
                return stack.pop()
            elif op == 0x28:  # MARK
                if len(metastack) >= MAX_MARKS:
                    raise MalformedPickle("the pickle nests too deeply")
                metastack.append(stack)
                stack = []
            elif op == 0x30:  # POP
                if stack:
                    stack.pop()
                else:
                    pop_mark()
            elif op == 0x31:  # POP_MARK
                pop_mark()
            elif op == 0x32:  # DUP
                stack.append(stack[-1])
            # -- numbers, strings, constants
            elif op == 0x4E:  # NONE
                stack.append(None)
            elif op == 0x88:
                stack.append(True)
            elif op == 0x89:
                stack.append(False)
            elif op == 0x4A:  # BININT
                stack.append(struct.unpack("<i", read(4))[0])
            elif op == 0x4B:  # BININT1
                stack.append(read(1)[0])
            elif op == 0x4D:  # BININT2
                stack.append(struct.unpack("<H", read(2))[0])
            elif op == 0x49:  # INT (also TRUE / FALSE)
                text = readline()
                stack.append(text == b"01" if text in (b"01", b"00") else int(text))
            elif op == 0x4C:  # LONG
                stack.append(int(readline().rstrip(b"L")))
            elif op in (0x8A, 0x8B):  # LONG1, LONG4
                n = read(1)[0] if op == 0x8A else struct.unpack("<i", read(4))[0]
                if n < 0 or n > MAX_LONG_BYTES:
                    raise MalformedPickle(
                        f"the pickle holds an integer of {n} bytes (at most {MAX_LONG_BYTES})"
                    )
                stack.append(int.from_bytes(read(n), "little", signed=True))
            elif op == 0x47:  # BINFLOAT
                stack.append(struct.unpack(">d", read(8))[0])
            elif op == 0x46:  # FLOAT
                stack.append(float(readline()))
            elif op == 0x58:  # BINUNICODE
                stack.append(str(read(struct.unpack("<I", read(4))[0]), "utf-8", "surrogatepass"))
            elif op == 0x8C:  # SHORT_BINUNICODE
                stack.append(str(read(read(1)[0]), "utf-8", "surrogatepass"))
            elif op == 0x8D:  # BINUNICODE8
                stack.append(str(read(struct.unpack("<Q", read(8))[0]), "utf-8", "surrogatepass"))
            elif op == 0x56:  # UNICODE
                stack.append(str(readline(), "raw-unicode-escape"))
            elif op == 0x55:  # SHORT_BINSTRING
                stack.append(read(read(1)[0]).decode("latin1"))
            elif op == 0x54:  # BINSTRING
                stack.append(read(struct.unpack("<i", read(4))[0]).decode("latin1"))
            elif op == 0x53:  # STRING
                text = readline()
                if len(text) < 2 or text[0] != text[-1] or text[:1] not in (b"'", b'"'):
                    raise MalformedPickle("the pickle is malformed (bad STRING)")
                stack.append(codecs.escape_decode(text[1:-1])[0].decode("latin1"))
            elif op == 0x43:  # SHORT_BINBYTES
                stack.append(read(read(1)[0]))
            elif op == 0x42:  # BINBYTES
                stack.append(read(struct.unpack("<I", read(4))[0]))
            elif op in (0x8E, 0x96):  # BINBYTES8, BYTEARRAY8
                data = read(struct.unpack("<Q", read(8))[0])
                stack.append(data if op == 0x8E else bytearray(data))
            elif op in (0x97, 0x98):  # NEXT_BUFFER, READONLY_BUFFER: out-of-band data is never given
                raise MalformedPickle("the pickle asks for out-of-band buffers, which checkpoints never use")
            # -- containers
            elif op == 0x29:
                stack.append(())
            elif op == 0x5D:
                stack.append([])
            elif op == 0x7D:
                stack.append({})
            elif op == 0x8F:  # EMPTY_SET
                stack.append(set())
            elif op == 0x74:  # TUPLE
                items = pop_mark()
                stack.append(tuple(items))
            elif op == 0x85:
                stack[-1] = (stack[-1],)
            elif op == 0x86:
                stack[-2:] = [(stack[-2], stack[-1])]
            elif op == 0x87:
                stack[-3:] = [(stack[-3], stack[-2], stack[-1])]
            elif op == 0x6C:  # LIST
                items = pop_mark()
                stack.append(items)
            elif op == 0x64:  # DICT
                items = pop_mark()
                self._hashable(items[0::2])
                stack.append({items[i]: items[i + 1] for i in range(0, len(items) - 1, 2)})
            elif op == 0x91:  # FROZENSET
                items = pop_mark()
                self._hashable(items)
                stack.append(frozenset(items))
            elif op == 0x61:  # APPEND
                item = stack.pop()
                _extend(stack[-1], [item])
            elif op == 0x65:  # APPENDS
                items = pop_mark()
                _extend(stack[-1], items)
            elif op == 0x90:  # ADDITEMS
                items = pop_mark()
                target = stack[-1]
                if isinstance(target, set):
                    self._hashable(items)
                    target.update(items)
                else:
                    _extend(target, items)
            elif op == 0x73:  # SETITEM
                value = stack.pop()
                key = stack.pop()
                self._hashable((key,))
                _set_items(stack[-1], [key, value])
            elif op == 0x75:  # SETITEMS
                items = pop_mark()
                self._hashable(items[0::2])
                _set_items(stack[-1], items)
            # -- globals and the operations that would call them
            elif op == 0x63:  # GLOBAL
                module = readline().decode("utf-8")
                stack.append(self._global(module, readline().decode("utf-8")))
            elif op == 0x93:  # STACK_GLOBAL
                name = stack.pop()
                module = stack.pop()
                if not isinstance(module, str) or not isinstance(name, str):
                    raise MalformedPickle("the pickle is malformed (STACK_GLOBAL needs two strings)")
                stack.append(self._global(module, name))
            elif op in (0x82, 0x83, 0x84):  # EXT1, EXT2, EXT4: the copyreg extension registry
                if op == 0x82:
                    code = read(1)[0]
                else:
                    code = struct.unpack("<H", read(2))[0] if op == 0x83 else struct.unpack("<i", read(4))[0]
                stack.append(self._global("copyreg._extension_registry", str(code)))
            elif op == 0x52:  # REDUCE
                args = stack.pop()
                stack[-1] = _call(stack[-1], args)
            elif op == 0x81:  # NEWOBJ
                args = stack.pop()
                stack[-1] = _new(stack[-1], args)
            elif op == 0x92:  # NEWOBJ_EX
                kwargs = stack.pop()
                args = stack.pop()
                stack[-1] = _new(stack[-1], args, kwargs)
            elif op == 0x69:  # INST
                module = readline().decode("utf-8")
                ref = self._global(module, readline().decode("utf-8"))
                items = pop_mark()
                stack.append(_call(ref, tuple(items)))
            elif op == 0x6F:  # OBJ
                items = pop_mark()
                stack.append(_call(items[0], tuple(items[1:])))
            elif op == 0x62:  # BUILD
                state = stack.pop()
                _build(stack[-1], state)
            elif op in (0x51, 0x50):  # BINPERSID, PERSID
                pid = stack.pop() if op == 0x51 else readline().decode("ascii")
                stack.append(self.persistent_load(pid))
            else:
                raise MalformedPickle(f"the pickle is malformed (unknown opcode 0x{op:02x})")
        raise MalformedPickle(f"the pickle has more than {MAX_OPCODES} operations")


def _hash_chosen(value: Any) -> bool:
    """Whether the file could have made many values share this one's hash (see MAX_CHOSEN_HASHES)."""
    if isinstance(value, int):
        return not -_HASH_MODULUS < value < _HASH_MODULUS
    return isinstance(value, (tuple, complex, frozenset, slice))


class _StorageType:
    """``torch.FloatStorage`` and friends: the dtype a persistent id names."""

    __slots__ = ("dtype", "itemsize")

    def __init__(self, dtype: str, itemsize: int) -> None:
        self.dtype, self.itemsize = dtype, itemsize


def _extend(target: Any, items: list[Any]) -> None:
    if isinstance(target, list):
        target.extend(items)
    elif isinstance(target, Reduced):
        target.items.extend(items)
    else:
        raise MalformedPickle(f"the pickle is malformed (APPEND to a {type(target).__name__})")


def _set_items(target: Any, items: list[Any]) -> None:
    if len(items) % 2:
        raise MalformedPickle("the pickle is malformed (odd SETITEMS)")
    if isinstance(target, dict):
        for i in range(0, len(items), 2):
            target[items[i]] = items[i + 1]
    elif isinstance(target, Reduced):
        target.items.extend(zip(items[::2], items[1::2], strict=True))
    else:
        raise MalformedPickle(f"the pickle is malformed (SETITEM on a {type(target).__name__})")


def _call(func: Any, args: Any) -> Any:
    """REDUCE: an inert stand-in for the allow-listed callables, a record of the call for anything else."""
    if not isinstance(args, tuple):
        raise MalformedPickle("the pickle is malformed (REDUCE arguments are not a tuple)")
    if isinstance(func, GlobalRef):
        handler = _REDUCERS.get(func.full_name)
        if handler is not None:
            try:
                result = handler(*args)
            except (TypeError, ValueError, IndexError, KeyError, AttributeError, struct.error):
                result = None
            if result is not None:
                return result
    return Reduced(func, args)


def _new(cls: Any, args: Any, kwargs: Any = None) -> Any:
    if isinstance(cls, GlobalRef) and not kwargs:
        if cls.full_name == "argparse.Namespace":
            return Namespace()
        if cls.full_name in ("collections.OrderedDict", "collections.Counter"):
            return {}
        if cls.full_name == "torch.nn.parameter.Parameter" and args and isinstance(args[0], Tensor):
            return args[0]
    return Reduced(cls, (args, kwargs) if kwargs else args)


def _build(inst: Any, state: Any) -> None:
    if isinstance(inst, Namespace) and isinstance(state, dict):
        inst.update(state)
    elif isinstance(inst, NumpyDtype) and isinstance(state, tuple) and len(state) > 1:
        if state[1] in ("<", ">", "|", "=") and inst.code[:1] not in "<>|=":
            inst.code = (state[1] if state[1] != "=" else "<") + inst.code
    elif isinstance(inst, Reduced):
        inst.state = state
    # An OrderedDict's BUILD carries state_dict metadata, a Parameter's its attributes: neither matters here.


def _storage_of(value: Any) -> StorageRef | None:
    return value if isinstance(value, StorageRef) else None


def _shape(value: Any) -> tuple[int, ...]:
    shape = tuple(value)
    # bounded: the element count multiplies the dimensions (huge integers multiplied would take for ever)
    if len(shape) > MAX_SHAPE_DIMS or not all(isinstance(d, int) and 0 <= d < 2**63 for d in shape):
        raise ValueError("bad shape")
    return shape


def _rebuild_tensor(storage, offset, size, stride, *rest) -> Tensor:
    ref = _storage_of(storage)
    return Tensor(ref, int(offset), _shape(size), ref.dtype if ref else "unknown")


def _rebuild_tensor_v3(storage, offset, size, stride, requires_grad, hooks, dtype, *rest) -> Tensor | None:
    tensor = _rebuild_tensor(storage, offset, size, stride)
    if isinstance(dtype, TorchName):
        tensor.dtype = dtype.name
    return tensor


def _rebuild_parameter(data, *rest) -> Tensor | None:
    if isinstance(data, Tensor):
        return data
    return None


def _rebuild_from_type_v2(func, new_type, args, state) -> Any:
    return _call(func, args)


def _numpy_dtype(code, *rest) -> NumpyDtype | None:
    return NumpyDtype(str(code)) if isinstance(code, str) else None


def _numpy_scalar(dtype, data=None) -> NumpyScalar | None:
    if not isinstance(dtype, NumpyDtype):
        return None
    code = dtype.code.lstrip("<>|=")
    value = None
    if isinstance(data, bytes) and code in _NUMPY_STRUCT:
        order = ">" if dtype.code.startswith(">") else "<"
        value = struct.unpack(order + _NUMPY_STRUCT[code], data)[0]
    return NumpyScalar(code, value)


def _plain_set(kind: type, items: Any = ()) -> set | frozenset | None:
    # Only members whose hash is cheap and the file cannot choose: with a tuple member, a large integer… the
    # call is left as a record (see MAX_KEY_DEPTH and MAX_CHOSEN_HASHES).
    members = list(items)
    return None if any(_hash_chosen(m) for m in members) else kind(members)


def _codecs_encode(text, encoding="utf-8", *rest) -> bytes | None:
    # Only the benign use pickle makes of it: protocol 2 writes bytes as _codecs.encode(str, 'latin1').
    if isinstance(text, str) and encoding in ("latin1", "latin-1", "iso-8859-1"):
        return text.encode("latin1")
    return None


_REDUCERS: dict[str, Callable[..., Any]] = {
    "collections.OrderedDict": lambda *a: {},
    "collections.Counter": lambda *a: {},
    "torch._utils._rebuild_tensor": _rebuild_tensor,
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor,
    "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
    "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
    "torch.Size": lambda dims=(): tuple(dims),
    "torch.device": lambda *a: ":".join(map(str, a)) if all(isinstance(x, (str, int)) for x in a) else None,
    "_codecs.encode": _codecs_encode,
    "builtins.set": lambda items=(): _plain_set(set, items),
    "builtins.frozenset": lambda items=(): _plain_set(frozenset, items),
    "builtins.slice": lambda *a: slice(*a) if all(x is None or isinstance(x, int) for x in a) else None,
    "builtins.complex": lambda *a: complex(*(x for x in a if isinstance(x, (int, float)))),
    "builtins.bytearray": lambda *a: bytearray(a[0]) if a and isinstance(a[0], bytes) else None,
    "numpy.dtype": _numpy_dtype,
    "numpy.core.multiarray.scalar": _numpy_scalar,
    "numpy._core.multiarray.scalar": _numpy_scalar,
}


class _StorageTable:
    """persistent_load: each storage id becomes one StorageRef (the same key gives the same object)."""

    def __init__(self) -> None:
        self.by_key: dict[str, StorageRef] = {}

    def __call__(self, pid: Any) -> StorageRef:
        # Only the type is named: the repr of what a pickle built can be as large as the pickle allows.
        if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage":
            raise MalformedPickle(
                f"the pickle names a persistent object that is not a storage (a {type(pid).__name__})"
            )
        kind, key, location, numel = pid[1:5]
        if not (
            isinstance(kind, _StorageType)
            and isinstance(key, str)
            and isinstance(location, str)
            and isinstance(numel, int)
            and numel >= 0
        ):
            what = repr(key[:40]) if isinstance(key, str) else f"a {type(key).__name__} key"
            raise MalformedPickle(f"the pickle names a storage it does not describe: {what}")
        ref = self.by_key.get(key)
        if ref is None:
            if len(self.by_key) >= MAX_STORAGES:
                raise MalformedPickle(f"the pickle names more than {MAX_STORAGES} storages")
            ref = self.by_key[key] = StorageRef(kind.dtype, key, location, numel, kind.itemsize)
        return ref
