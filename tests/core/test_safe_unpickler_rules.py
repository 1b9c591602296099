"""The safe unpickler (core/safe_unpickler.py), opcode by opcode: plain data reads as the stdlib's pickle
reads it, every global becomes an inert stand-in, and every refusal (limits, opcodes, shapes, keys whose
hash would crash or hang the process) stops the file with a clear error. Pickles are built here with the
stdlib pickle or by hand; nothing is ever given to the stdlib's unpickler except plain data."""

from __future__ import annotations

import io
import pickle
import struct

import pytest

from ofa_manager.core import safe_unpickler as su
from ofa_manager.core.checkpoint_results import MalformedPickle, TruncatedCheckpoint
from ofa_manager.core.pickle_globals import (
    GlobalRef,
    Namespace,
    NumpyDtype,
    NumpyScalar,
    Reduced,
    StorageRef,
    Tensor,
    TorchName,
)

PROTO = b"\x80\x02"


class Loaded:
    def __init__(self, data: bytes, limit: int = 64 * 2**20, storages=None) -> None:
        self.storages = su._StorageTable() if storages is None else storages
        self.seen: dict[str, None] = {}
        reader = su._Reader(io.BytesIO(data), limit, "pickle", len(data))
        self.unpickler = su._Unpickler(reader, self.storages, self.seen)
        self.root = self.unpickler.load()


def load(data: bytes):
    return Loaded(data).root


def g(module: str, name: str) -> bytes:
    """GLOBAL module.name"""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def u(text: str) -> bytes:
    """BINUNICODE text"""
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def storage_pid(kind: str, key: str, numel: int, module: str = "torch", location: str = "cpu") -> bytes:
    """The persistent id torch writes for a storage: ('storage', torch.<kind>, key, location, numel)."""
    return (
        b"(" + u("storage") + g(module, kind) + u(key) + u(location) + b"J" + struct.pack("<i", numel) + b"tQ"
    )


def ints(*values: int) -> bytes:
    return b"(" + b"".join(b"J" + struct.pack("<i", v) for v in values) + b"t"


# -- plain data, as the stdlib reads it ------------------------------------------------------------------

PLAIN = [
    0, 1, -1, 255, 256, 65535, 65536, -65536, 2**31 - 1, -(2**31), 2**31, 2**63, -(2**63) - 1, 2**70,
    -(2**2000), 2**3000, 0.0, -1.5, 1e300, float("inf"), "", "a", "é", "line\nbreak", "back\\slash",
    "€" * 100, "x" * 300, "\ud800", b"ab", b"\x00" * 300, (), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), [],
    [1], {}, {"a": 1, 2: "b", (1, 2): [3]}, {1, 2}, frozenset({3}), set(), frozenset(), None, True, False,
    {"nested": {"deeper": [1, (2, 3), {"x": None}]}},
]  # fmt: skip


@pytest.mark.parametrize("protocol", range(6))
def test_plain_data_reads_as_the_stdlib_reads_it_in_every_protocol(protocol):
    values = PLAIN + ([bytearray(b"xyz"), b""] if protocol >= 3 else [])
    data = pickle.dumps(values, protocol=protocol)
    got = Loaded(data)
    assert got.root == pickle.loads(data)
    assert [type(v) for v in got.root] == [type(v) for v in values]
    assert got.unpickler.protocol == (protocol if protocol >= 2 else None)


@pytest.mark.parametrize("protocol", range(6))
def test_shared_objects_stay_shared_past_256_memo_entries(protocol):
    shared = [f"item {i}" for i in range(300)]  # memo indexes past 255: LONG_BINPUT / LONG_BINGET
    inner = [1]
    loop: list = []
    loop.append(loop)
    data = pickle.dumps([shared, shared, inner, inner, loop], protocol=protocol)
    root = load(data)
    assert root[0] == shared and root[0] is root[1] and root[2] is root[3] == [1]
    assert root[4][0] is root[4]


def test_the_foreign_opcodes_torch_would_refuse_are_named():
    got = Loaded(pickle.dumps({"a": [1, 2]}, protocol=4))
    assert got.unpickler.foreign_opcodes == {"0x95", "0x8c", "0x94"}  # FRAME, SHORT_BINUNICODE, MEMOIZE
    assert Loaded(pickle.dumps({"a": [1, 2]}, protocol=2)).unpickler.foreign_opcodes == set()


def test_python2_strings_read_as_latin1_and_text_opcodes_as_written():
    cases = {
        b"S'caf\\xe9'\n.": "caf\xe9",
        b'S"say \\"hi\\""\n.': 'say "hi"',
        b"U\x03ab\xe9.": "ab\xe9",
        b"T\x02\x00\x00\x00hi.": "hi",
        b"Vline\\u000abreak\n.": "line\nbreak",
        b"I01\n.": True,
        b"I00\n.": False,
        b"I-7\n.": -7,
        b"L12345678901234567890L\n.": 12345678901234567890,
        b"F-2.5\n.": -2.5,
        b"(I1\nI2\nl.": [1, 2],
        b"(I1\nI2\ndp0\n0g0\n.": {1: 2},
    }
    for data, value in cases.items():
        assert load(data) == value == pickle.loads(data, encoding="latin1"), data
    assert load(b"\x8d" + struct.pack("<Q", 3) + b"abc.") == "abc"  # BINUNICODE8
    assert (
        load(b"\x8d" + struct.pack("<Q", 3) + b"\xed\xa0\x80.") == "\ud800"
    )  # a lone surrogate, as pickle writes it
    with pytest.raises(MalformedPickle, match="ValueError"):
        load(b"L12X\n.")  # only a trailing L is dropped from a LONG
    assert load(b"\x8e" + struct.pack("<Q", 2) + b"ab.") == b"ab"  # BINBYTES8
    assert load(b"\x96" + struct.pack("<Q", 2) + b"ab.") == bytearray(b"ab")  # BYTEARRAY8
    assert load(b"B" + struct.pack("<I", 2) + b"ab.") == b"ab"  # BINBYTES
    assert load(b"C\x02ab.") == b"ab"  # SHORT_BINBYTES
    assert load(b"M\xff\xff.") == 65535 and load(b"K\xff.") == 255
    assert load(b"J\xff\xff\xff\xff.") == -1
    assert load(b"G" + struct.pack(">d", 0.25) + b".") == 0.25


@pytest.mark.parametrize(
    ("data", "value"),
    [
        (b"K\x01K\x020.", 1),  # POP
        (b"K\x01(K\x02K\x031.", 1),  # POP_MARK
        (b"(K\x01K\x020t.", (1,)),  # POP of the top item inside a MARK
        (b"K\x01(0.", 1),  # POP with nothing above the MARK drops the MARK
        (b"]2\x86.", ([], [])),  # DUP
        (b"]p1\n0g1\n.", []),  # PUT / GET, text
        (b"]r\x01\x00\x00\x000j\x01\x00\x00\x00.", []),  # LONG_BINPUT / LONG_BINGET
        (b"]\x940h\x00.", []),  # MEMOIZE numbers from 0
        (b"]\x94K\x01\x94h\x01.", 1),  # MEMOIZE numbers on from the memo's size
        (b"\x8f(K\x01K\x02\x90.", {1, 2}),  # EMPTY_SET, ADDITEMS
        (b"(K\x01\x91.", frozenset({1})),  # FROZENSET
        (b"](K\x01K\x02e.", [1, 2]),  # APPENDS
        (b"}(K\x01K\x02K\x03K\x04u.", {1: 2, 3: 4}),  # SETITEMS
        (
            b"(K\x01K\x02K\x03d.",
            {1: 2},
        ),  # DICT drops an odd last item, as the stdlib does not: ours is lenient
        (b"(K\x01K\x02K\x03K\x04K\x05K\x06d.", {1: 2, 3: 4, 5: 6}),  # DICT, every pair
        (b"\x95" + struct.pack("<Q", 3) + b"K\x07.", 7),  # FRAME is a length hint only
    ],
)
def test_stack_and_memo_opcodes(data, value):
    assert load(data) == value


def test_long_integers_up_to_the_limit_and_not_beyond():
    top = su.MAX_LONG_BYTES
    assert top == 1024
    assert load(b"\x8b" + struct.pack("<i", top) + b"\xff" * top + b".") == -1
    assert load(b"\x8a\x02\x00\x80.") == -32768  # LONG1, signed little-endian
    assert load(b"\x8a\x00.") == 0
    with pytest.raises(
        MalformedPickle, match="^the pickle holds an integer of 1025 bytes \\(at most 1024\\)$"
    ):
        load(b"\x8b" + struct.pack("<i", top + 1) + b"\x00" * (top + 1) + b".")
    with pytest.raises(MalformedPickle, match="integer of -1 bytes"):
        load(b"\x8b" + struct.pack("<i", -1) + b".")


def test_marks_up_to_the_limit_and_not_beyond():
    assert su.MAX_MARKS == 100_000
    depth = 100_000
    root = load(b"(" * depth + b"l" * depth + b".")
    assert isinstance(root, list)
    with pytest.raises(MalformedPickle, match="^the pickle nests too deeply$"):
        load(b"(" * (depth + 1) + b"l" * (depth + 1) + b".")


def test_the_operation_limit_counts_every_operation(monkeypatch):
    monkeypatch.setattr(su, "MAX_OPCODES", 10)
    assert load(b"N0" * 4 + b"K\x01.") == 1  # ten operations
    with pytest.raises(MalformedPickle, match="^the pickle has more than 10 operations$"):
        load(b"N0" * 5 + b"K\x01.")


# -- refusals --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        (b"\x97.", MalformedPickle, "the pickle asks for out-of-band buffers, which checkpoints never use"),
        (b"\x98.", MalformedPickle, "the pickle asks for out-of-band buffers, which checkpoints never use"),
        (b"\xff", MalformedPickle, "the pickle is malformed (unknown opcode 0xff)"),
        (b"h\x05.", MalformedPickle, "the pickle is malformed (memo 5 is not set)"),
        (b"j\x06\x00\x00\x00.", MalformedPickle, "the pickle is malformed (memo 6 is not set)"),
        (b"g7\n.", MalformedPickle, "the pickle is malformed (memo 7 is not set)"),
        (b".", MalformedPickle, "the pickle is malformed (STOP on an empty stack)"),
        (b"0.", MalformedPickle, "the pickle is malformed (no MARK on the stack)"),
        (b"1.", MalformedPickle, "the pickle is malformed (no MARK on the stack)"),
        (b"l.", MalformedPickle, "the pickle is malformed (no MARK on the stack)"),
        (b"K\x01K\x02\x93.", MalformedPickle, "the pickle is malformed (STACK_GLOBAL needs two strings)"),
        (
            u("os") + b"K\x02\x93.",
            MalformedPickle,
            "the pickle is malformed (STACK_GLOBAL needs two strings)",
        ),
        (
            b"K\x01" + u("system") + b"\x93.",
            MalformedPickle,
            "the pickle is malformed (STACK_GLOBAL needs two strings)",
        ),
        (
            g("os", "system") + b"K\x01R.",
            MalformedPickle,
            "the pickle is malformed (REDUCE arguments are not a tuple)",
        ),
        (b"}K\x01a.", MalformedPickle, "the pickle is malformed (APPEND to a dict)"),
        (b"}(K\x01e.", MalformedPickle, "the pickle is malformed (APPEND to a dict)"),
        (b"}(K\x01\x90.", MalformedPickle, "the pickle is malformed (APPEND to a dict)"),
        (b"]K\x01K\x02s.", MalformedPickle, "the pickle is malformed (SETITEM on a list)"),
        (b"}(K\x01u.", MalformedPickle, "the pickle is malformed (odd SETITEMS)"),
        (b"S'abc\n.", MalformedPickle, "the pickle is malformed (bad STRING)"),
        (b"Sabc'\n.", MalformedPickle, "the pickle is malformed (bad STRING)"),
        (b"S'\n.", MalformedPickle, "the pickle is malformed (bad STRING)"),
        (b"Sxabcx\n.", MalformedPickle, "the pickle is malformed (bad STRING)"),
        (b"S'abc\"\n.", MalformedPickle, "the pickle is malformed (bad STRING)"),
        (
            b"Iabc\n.",
            MalformedPickle,
            "the pickle is malformed (ValueError: invalid literal for int() with base 10: b'abc')",
        ),
        (b"}]]s.", MalformedPickle, "the pickle is malformed (TypeError: unhashable type: 'list')"),
        (b"X\x02\x00\x00\x00\xff\xfe.", MalformedPickle, "UnicodeDecodeError"),
        (b"Q.", MalformedPickle, "the pickle is malformed (IndexError: pop from empty list)"),
        (b"K\x01Q.", MalformedPickle, "the pickle names a persistent object that is not a storage (a int)"),
        (b"Pabc\n.", MalformedPickle, "the pickle names a persistent object that is not a storage (a str)"),
        (b"K\x01", TruncatedCheckpoint, "the file ends inside the pickle: it is truncated"),
        (b"X\x05\x00\x00\x00abc", TruncatedCheckpoint, "the file ends inside the pickle: it is truncated"),
        (b"cos\nsys", TruncatedCheckpoint, "the file ends inside the pickle: it is truncated"),
        (b"", TruncatedCheckpoint, "the file ends inside the pickle: it is truncated"),
    ],
)
def test_broken_or_hostile_pickles_are_refused_with_the_reason(data, error, words):
    with pytest.raises(error) as caught:
        load(data)
    assert (
        str(caught.value) == words
        or words == "UnicodeDecodeError"
        and "(UnicodeDecodeError: " in str(caught.value)
    )


def test_a_read_past_the_reader_limit_is_refused_and_the_limit_counts_every_read():
    data = u("a" * 10) + u("b" * 10) + b"\x86."  # 2 × 15 bytes, then 2
    assert Loaded(data, limit=len(data)).root == ("a" * 10, "b" * 10)
    with pytest.raises(MalformedPickle, match="^the pickle is larger than this reader accepts$"):
        Loaded(data, limit=len(data) - 1)
    text = b"cmod\nname\n" + u("c" * 10) + b"\x86."  # lines count against the limit too
    assert Loaded(text, limit=len(text)).root[1] == "c" * 10
    with pytest.raises(MalformedPickle, match="larger than this reader accepts"):
        Loaded(text, limit=len(text) - 3)
    # Past the end of the file is a truncated file, whatever the limit.
    with pytest.raises(TruncatedCheckpoint):
        Loaded(b"X\x0c\x00\x00\x00abc", limit=5)  # 12 bytes asked, 3 there: past the end first


def test_a_line_is_read_up_to_64_kib_and_a_longer_one_is_refused_not_called_truncated():
    name = "n" * (2**16 - 1)  # with its newline, 64 KiB
    assert load(g("mod", name) + b".").full_name == f"mod.{name}"
    with pytest.raises(MalformedPickle, match="^the pickle holds a line longer than this reader accepts$"):
        load(g("mod", name + "n") + b".")
    with pytest.raises(MalformedPickle, match="line longer"):  # one byte left after it: still too long
        load(b"c" + b"m" * 2**16 + b"\n")
    with pytest.raises(TruncatedCheckpoint, match="^the file ends inside the pickle: it is truncated$"):
        load(b"c" + b"m" * 2**16)


# -- globals are recorded, never imported ----------------------------------------------------------------


def test_globals_are_recorded_in_order_once_each_with_python2_names_mapped():
    got = Loaded(
        b"("
        + g("__builtin__", "set")  # NAME_MAPPING: (__builtin__, set) → builtins.set
        + g("copy_reg", "_reconstructor")  # IMPORT_MAPPING: copy_reg → copyreg
        + g("mylab", "Model")
        + u("mylab")
        + u("Model")
        + b"\x93"
        + b"\x82\x01\x83\x02\x01\x84\x03\x00\x01\x00"  # EXT1, EXT2, EXT4
        + b"l."
    )
    assert list(got.seen) == [
        "builtins.set",
        "copyreg._reconstructor",
        "mylab.Model",
        "copyreg._extension_registry.1",
        "copyreg._extension_registry.258",
        "copyreg._extension_registry.65539",
    ]
    refs = got.root
    assert all(isinstance(r, GlobalRef) for r in refs) and refs[2].full_name == "mylab.Model"
    assert repr(refs[2]) == "GlobalRef(mylab.Model)"
    assert refs[3].module == "mylab" and refs[3].name == "Model"


def test_torch_names_become_dtypes_and_storage_types():
    got = load(b"(" + g("torch", "half") + g("torch", "bfloat16") + g("torch", "per_tensor_affine") + b"l.")
    assert [n.name for n in got] == ["float16", "bfloat16", "per_tensor_affine"]
    assert all(isinstance(n, TorchName) for n in got)
    for module in ("torch", "torch.cuda"):
        kind = load(g(module, "HalfStorage") + b".")
        assert (kind.dtype, kind.itemsize) == ("float16", 2)
    other = load(g("torch.cuda", "half") + b".")  # not torch's own dtype name
    assert isinstance(other, GlobalRef) and other.full_name == "torch.cuda.half"
    assert isinstance(load(g("torch", "Nothing") + b"."), GlobalRef)
    assert isinstance(load(g("torch.x", "FloatStorage") + b"."), GlobalRef)


def test_unknown_calls_are_recorded_with_their_arguments_never_made():
    call = load(g("os", "system") + u("id") + b"\x85R.")
    assert isinstance(call, Reduced) and call.func.full_name == "os.system" and call.args == ("id",)
    inst = load(b"(" + u("ls") + b"ios\nsystem\n.")  # INST
    assert inst.func.full_name == "os.system" and inst.args == ("ls",)
    obj = load(b"(" + g("os", "system") + u("pwd") + b"o.")  # OBJ
    assert obj.func.full_name == "os.system" and obj.args == ("pwd",)
    new = load(g("mylab", "Model") + b"K\x01\x85\x81.")  # NEWOBJ
    assert new.func.full_name == "mylab.Model" and new.args == (1,)
    new_ex = load(g("mylab", "Model") + b"K\x01\x85}" + u("k") + b"K\x02s\x92.")  # NEWOBJ_EX
    assert new_ex.args == ((1,), {"k": 2})
    new_ex_plain = load(g("argparse", "Namespace") + b")}\x92.")  # no keywords: as NEWOBJ
    assert isinstance(new_ex_plain, Namespace)
    built = load(g("mylab", "Model") + b")R}" + u("w") + b"K\x03sb.")  # BUILD keeps the state
    assert built.state == {"w": 3}
    filled = load(g("mylab", "Model") + b")R(K\x01K\x02eK\x03K\x04s(K\x05K\x06K\x07K\x08u.")
    assert filled.items == [1, 2, (3, 4), (5, 6), (7, 8)]  # APPENDS, SETITEM, SETITEMS on a call's result
    added = load(g("mylab", "Model") + b")R(K\x07\x90.")
    assert added.items == [7]


def test_reducers_build_inert_values_for_the_allowed_callables():
    assert load(g("collections", "OrderedDict") + b")R.") == {}
    assert load(g("collections", "Counter") + b")R.") == {}
    assert load(g("collections", "OrderedDict") + b")\x81.") == {}  # NEWOBJ
    assert load(g("collections", "Counter") + b")\x81.") == {}
    assert load(g("torch", "Size") + ints(2, 3) + b"\x85R.") == (2, 3)
    assert load(g("torch", "Size") + b")R.") == ()
    assert load(g("torch", "device") + u("cuda") + b"K\x00\x86R.") == "cuda:0"
    assert isinstance(load(g("torch", "device") + b"]\x85R."), Reduced)  # not a device's parts
    assert load(g("_codecs", "encode") + u("\xe9") + u("latin1") + b"\x86R.") == b"\xe9"
    assert load(g("_codecs", "encode") + u("a") + u("iso-8859-1") + b"\x86R.") == b"a"
    assert load(g("_codecs", "encode") + u("a") + u("latin-1") + b"\x86R.") == b"a"
    assert isinstance(load(g("_codecs", "encode") + u("a") + u("utf-8") + b"\x86R."), Reduced)
    assert isinstance(load(g("_codecs", "encode") + u("a") + b"\x85R."), Reduced)  # utf-8 by default
    assert isinstance(load(g("_codecs", "encode") + b"K\x01" + u("latin1") + b"\x86R."), Reduced)
    assert load(g("builtins", "set") + b"(K\x01K\x02l\x85R.") == {1, 2}
    assert load(g("builtins", "set") + b")R.") == set()
    assert load(g("builtins", "frozenset") + b"(K\x01l\x85R.") == frozenset({1})
    assert load(g("builtins", "frozenset") + b")R.") == frozenset()
    assert isinstance(load(g("builtins", "set") + b"((K\x01tl\x85R."), Reduced)  # tuple members: a record
    assert load(g("builtins", "slice") + b"K\x01NK\x02\x87R.") == slice(1, None, 2)
    assert isinstance(load(g("builtins", "slice") + b"(K\x01t\x85R."), Reduced)
    assert load(g("builtins", "complex") + b"G" + struct.pack(">d", 1.5) + b"K\x02\x86R.") == complex(1.5, 2)
    assert load(g("builtins", "complex") + b"K\x01" + u("x") + b"\x86R.") == complex(1)
    assert load(g("builtins", "bytearray") + b"C\x02ab\x85R.") == bytearray(b"ab")
    assert isinstance(load(g("builtins", "bytearray") + u("ab") + b"\x85R."), Reduced)
    assert isinstance(load(g("builtins", "bytearray") + b")R."), Reduced)
    assert isinstance(load(g("torch", "Size") + b"K\x05\x85R."), Reduced)  # a reducer's TypeError


def test_numpy_dtypes_and_scalars_are_decoded_without_numpy():
    dtype = load(
        g("numpy", "dtype")
        + u("f8")
        + b"\x89\x88\x87R(K\x03"
        + u(">")
        + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb."
    )
    assert isinstance(dtype, NumpyDtype) and dtype.code == ">f8"
    native = load(g("numpy", "dtype") + u("i8") + b"\x85R(K\x03" + u("=") + b"tb.")
    assert native.code == "<i8"
    kept = load(g("numpy", "dtype") + u("<f4") + b"\x85R(K\x03" + u(">") + b"tb.")
    assert kept.code == "<f4"  # already ordered
    bar = load(g("numpy", "dtype") + u("O") + b"\x85R(K\x03" + u("|") + b"tb.")
    assert bar.code == "|O"
    plain = load(g("numpy", "dtype") + u("O") + b"\x85R(K\x03" + u("x") + b"tb.")
    assert plain.code == "O"  # not a byte order
    short = load(g("numpy", "dtype") + u("f2") + b"\x85R(K\x03tb.")
    assert short.code == "f2"  # a state too short to hold one
    assert isinstance(load(g("numpy", "dtype") + b"K\x01\x85R."), Reduced)
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        scalar = load(
            g(module, "scalar") + g("numpy", "dtype") + u("f8") + b"\x85R(K\x03" + u("<") + b"tb"
            b"C\x08" + struct.pack("<d", 0.875) + b"\x86R."
        )
        assert isinstance(scalar, NumpyScalar) and (scalar.dtype, scalar.value) == ("f8", 0.875)
    swapped = load(
        g("numpy._core.multiarray", "scalar")
        + g("numpy", "dtype")
        + u("i4")
        + b"\x85R(K\x03"
        + u(">")
        + b"tb"
        b"C\x04" + struct.pack(">i", -5) + b"\x86R."
    )
    assert (swapped.dtype, swapped.value) == ("i4", -5)
    opaque = load(
        g("numpy._core.multiarray", "scalar") + g("numpy", "dtype") + u("U3") + b"\x85RC\x02ab\x86R."
    )
    assert (opaque.dtype, opaque.value) == ("U3", None)
    no_data = load(g("numpy._core.multiarray", "scalar") + g("numpy", "dtype") + u("f8") + b"\x85R\x85R.")
    assert (no_data.dtype, no_data.value) == ("f8", None)
    assert isinstance(load(g("numpy._core.multiarray", "scalar") + b"K\x01\x85R."), Reduced)


def test_an_argparse_namespace_keeps_its_attributes():
    ns = load(g("argparse", "Namespace") + b")\x81}" + u("arch") + u("ofa_large") + b"sb.")
    assert isinstance(ns, Namespace) and ns == {"arch": "ofa_large"}
    reduced = load(g("argparse", "Namespace") + b")R}" + u("arch") + u("x") + b"sb.")
    assert isinstance(reduced, Reduced) and reduced.state == {"arch": "x"}
    ignored = load(g("argparse", "Namespace") + b")\x81K\x01b.")  # a state that is not a mapping
    assert ns.__class__ is Namespace and ignored == {}
    assert load(b"}K\x01b.") == {}  # BUILD on a plain dict (an OrderedDict's metadata) is ignored


# -- tensors and storages --------------------------------------------------------------------------------


def tensor(
    size: bytes, pid: bytes | None = None, rebuild: str = "_rebuild_tensor_v2", extra: bytes = b""
) -> bytes:
    pid = storage_pid("FloatStorage", "0", 6) if pid is None else pid
    return g("torch._utils", rebuild) + b"(" + pid + b"K\x01" + size + ints(1, 1) + extra + b"tR"


def test_tensors_are_described_by_their_storage_shape_and_dtype():
    got = Loaded(tensor(ints(2, 3)) + b".")
    t = got.root
    assert isinstance(t, Tensor) and (t.offset, t.shape, t.dtype, t.numel) == (1, (2, 3), "float32", 6)
    assert t.storage is got.storages.by_key["0"]
    ref = t.storage
    assert (ref.dtype, ref.key, ref.location, ref.numel, ref.itemsize, ref.nbytes) == (
        "float32",
        "0",
        "cpu",
        6,
        4,
        24,
    )
    for rebuild in ("_rebuild_tensor", "_rebuild_tensor_v2"):
        assert load(tensor(ints(6), rebuild=rebuild) + b".").shape == (6,)
    v3 = load(tensor(ints(6), rebuild="_rebuild_tensor_v3", extra=b"\x89N" + g("torch", "half")) + b".")
    assert v3.dtype == "float16"  # the dtype argument wins
    v3_plain = load(tensor(ints(6), rebuild="_rebuild_tensor_v3", extra=b"\x89NN") + b".")
    assert v3_plain.dtype == "float32"
    loose = load(g("torch._utils", "_rebuild_tensor_v2") + b"(NK\x00" + ints(4) + ints(1) + b"tR.")
    assert loose.storage is None and loose.dtype == "unknown" and loose.shape == (4,)
    assert load(g("torch._utils", "_rebuild_tensor_v2") + b"(NK\x00" + ints() + b")tR.").numel == 1


def test_a_parameter_is_its_tensor():
    t = tensor(ints(6))
    for wrap in (
        g("torch._utils", "_rebuild_parameter") + b"(" + t + b"\x88}tR.",
        g("torch._utils", "_rebuild_parameter_with_state") + b"(" + t + b"\x88}}tR.",
        g("torch.nn.parameter", "Parameter") + b"(" + t + b"t\x81.",
        g("torch._tensor", "_rebuild_from_type_v2")
        + b"("
        + g("torch._utils", "_rebuild_parameter")
        + g("torch", "Tensor")
        + b"("
        + t
        + b"\x88}t}tR.",
    ):
        assert isinstance(load(wrap), Tensor), wrap
    assert isinstance(load(g("torch._utils", "_rebuild_parameter") + b"(K\x01tR."), Reduced)
    assert isinstance(load(g("torch.nn.parameter", "Parameter") + b"(K\x01t\x81."), Reduced)
    assert isinstance(load(g("torch.nn.parameter", "Parameter") + b")\x81."), Reduced)


@pytest.mark.parametrize(
    "size",
    [
        ints(-1),  # a negative dimension
        b"(" + u("2") + b"t",  # not a number
        b"(\x8a\x09" + (2**63).to_bytes(9, "little") + b"t",  # a dimension of 2**63
        ints(*[1] * 65),  # more dimensions than torch allows
    ],
)
def test_a_tensor_with_an_impossible_shape_is_left_a_record(size):
    assert isinstance(load(tensor(size) + b"."), Reduced)


def test_the_largest_possible_shape_is_a_tensor():
    top = b"(" + b"\x8a\x08" + (2**63 - 1).to_bytes(8, "little") + b"K\x00t"
    assert load(tensor(top) + b".").shape == (2**63 - 1, 0)
    assert load(tensor(ints(*[1] * 64)) + b".").numel == 1


def test_a_storage_named_twice_is_one_storage():
    two = Loaded(
        b"("
        + storage_pid("HalfStorage", "a", 3)
        + storage_pid("HalfStorage", "a", 3)
        + storage_pid("LongStorage", "b", 2, module="torch.cuda", location="cuda:0")
        + b"l."
    )
    first, again, other = two.root
    assert first is again and other is not first
    assert list(two.storages.by_key) == ["a", "b"]
    assert (other.dtype, other.itemsize, other.location, other.nbytes) == ("int64", 8, "cuda:0", 16)
    assert isinstance(first, StorageRef) and first.nbytes == 6


@pytest.mark.parametrize(
    ("pid", "words"),
    [
        (
            b"(" + u("storage") + g("torch", "FloatStorage") + u("0") + u("cpu") + b"t",
            "not a storage \\(a tuple\\)",
        ),
        (b"(" + u("tensor") + g("torch", "FloatStorage") + u("0") + u("cpu") + b"K\x01t", "not a storage"),
        (b"(" + u("storage") + g("torch", "Float") + u("0") + u("cpu") + b"K\x01t", "does not describe: '0'"),
        (
            b"(" + u("storage") + g("torch", "FloatStorage") + b"K\x07" + u("cpu") + b"K\x01t",
            "does not describe: a int key",
        ),
        (
            b"(" + u("storage") + g("torch", "FloatStorage") + u("k" * 50) + b"NK\x01t",
            "does not describe: '" + "k" * 40 + "'$",
        ),
        (
            b"(" + u("storage") + g("torch", "FloatStorage") + u("0") + u("cpu") + u("1") + b"t",
            "does not describe",
        ),
        (
            b"(" + u("storage") + g("torch", "FloatStorage") + u("0") + u("cpu") + b"J\xff\xff\xff\xfft",
            "does not describe",
        ),
    ],
)
def test_a_persistent_id_that_is_not_a_storage_is_refused(pid, words):
    with pytest.raises(MalformedPickle, match=words):
        load(pid + b"Q.")


def test_an_empty_storage_is_a_storage():
    assert load(storage_pid("FloatStorage", "0", 0) + b".").nbytes == 0


def test_the_storage_limit(monkeypatch):
    monkeypatch.setattr(su, "MAX_STORAGES", 2)
    pids = storage_pid("FloatStorage", "0", 1) + storage_pid("FloatStorage", "1", 1)
    assert len(load(b"(" + pids + storage_pid("FloatStorage", "1", 1) + b"l.")) == 3  # a storage named again
    with pytest.raises(MalformedPickle, match="^the pickle names more than 2 storages$"):
        load(b"(" + pids + storage_pid("FloatStorage", "2", 1) + b"l.")


# -- keys whose hash would crash or hang the process -----------------------------------------------------

DEEP_100 = b")" + b"\x85" * 99  # the empty tuple in 99 more: 100 deep


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (b"(", b"K\x01d"),  # DICT
        (b"}", b"K\x01s"),  # SETITEM
        (b"}(", b"K\x01u"),  # SETITEMS
        (b"\x8f(", b"\x90"),  # ADDITEMS to a set
        (b"(", b"\x91"),  # FROZENSET
    ],
)
def test_a_key_nested_past_the_limit_is_refused_before_it_is_hashed(before, after):
    assert su.MAX_KEY_DEPTH == 100
    assert load(before + DEEP_100 + after + b".")
    with pytest.raises(MalformedPickle, match="^the pickle nests tuples more than 100 deep in a key$"):
        load(before + DEEP_100 + b"\x85" + after + b".")


def test_a_key_nested_past_the_limit_through_a_key_measured_before_is_refused():
    # The 100-deep tuple is measured once as a key; one more level round it is still refused.
    data = b"}" + DEEP_100 + b"q\x00K\x01sh\x00\x85K\x02s."
    with pytest.raises(MalformedPickle, match="more than 100 deep"):
        load(data)
    assert load(b"}" + DEEP_100 + b"q\x00K\x01sh\x00K\x02s.")  # the same key again is fine


def test_a_key_nested_a_hundred_thousand_deep_is_refused():
    with pytest.raises(MalformedPickle, match="^the pickle nests too deeply$"):  # measuring it recurses
        load(b"}" + b")" + b"\x85" * 100_000 + b"Ns.")


def test_a_key_that_shares_its_tuples_is_refused_past_the_hashing_limit():
    # (t, t) 23 times over: hashing visits 2**24 - 1 tuples, though the pickle holds 24.
    assert su.MAX_HASHED == 10_000_000
    with pytest.raises(
        MalformedPickle,
        match="^the pickle's keys hold more than 10000000 tuples to hash \\(shared nested tuples\\)$",
    ):
        load(b"})" + b"2\x86" * 23 + b"Ns.")


def test_the_hashing_limit_counts_every_key(monkeypatch):
    monkeypatch.setattr(su, "MAX_HASHED", 6)
    pair = b"K\x01K\x02\x86"  # one tuple: 1 counted
    three = b"))\x86"  # 3 counted
    assert load(b"}(" + three + b"N" + three + b"Nu.")  # 3 + 3
    with pytest.raises(MalformedPickle, match="more than 6 tuples"):
        load(b"}(" + three + b"N" + three + b"N" + pair + b"Nu.")  # 3 + 3 + 1


def test_keys_that_are_not_tuples_cost_nothing(monkeypatch):
    monkeypatch.setattr(su, "MAX_HASHED", 0)
    assert load(b"}(" + u("a") + b"K\x01K\x02K\x03u.") == {"a": 1, 2: 3}


def test_a_key_measured_before_counts_its_depth_and_size_again(monkeypatch):
    # K = ((), (), ()): 2 deep, 4 tuples to hash. (K,) reuses what was measured of K: 3 deep, 5 tuples.
    data = b"}(" + b")))\x87q\x00Nh\x00\x85Nu."
    monkeypatch.setattr(su, "MAX_HASHED", 9)
    monkeypatch.setattr(su, "MAX_KEY_DEPTH", 3)
    assert len(load(data)) == 2
    monkeypatch.setattr(su, "MAX_HASHED", 8)
    with pytest.raises(MalformedPickle, match="more than 8 tuples"):
        load(data)
    monkeypatch.setattr(su, "MAX_HASHED", 9)
    monkeypatch.setattr(su, "MAX_KEY_DEPTH", 2)
    with pytest.raises(MalformedPickle, match="more than 2 deep"):
        load(data)


def test_edges_of_the_stand_ins():
    assert isinstance(load(b"K\x01)\x81."), Reduced)  # NEWOBJ on what is no global
    with_keywords = load(g("argparse", "Namespace") + b")}" + u("k") + b"K\x01s\x92.")
    assert isinstance(with_keywords, Reduced) and with_keywords.args == ((), {"k": 1})
    little = load(g("numpy", "dtype") + u("f4") + b"\x85R(K\x03" + u("<") + b"tb.")
    assert little.code == "<f4"
    odd = load(g("numpy", "dtype") + u("Xy") + b"\x85R(K\x03" + u(">") + b"tb.")
    assert odd.code == ">Xy"  # any code not starting with a byte order gets the state's
    scalar = load(
        g("numpy._core.multiarray", "scalar") + g("numpy", "dtype") + u("Xf8") + b"\x85R"
        b"C\x08" + struct.pack("<d", 1.0) + b"\x86R."
    )
    assert (scalar.dtype, scalar.value) == ("Xf8", None)  # only byte orders are stripped from a code
    loose = load(
        g("torch._utils", "_rebuild_tensor_v2")
        + b"("
        + u("no storage")
        + b"K\x00"
        + ints(2)
        + ints(1)
        + b"tR."
    )
    assert isinstance(loose, Tensor) and loose.storage is None and loose.dtype == "unknown"


def test_python2_names_are_mapped_name_by_name_too():
    got = Loaded(b"(" + g("__builtin__", "xrange") + g("exceptions", "StandardError") + b"l.")
    assert list(got.seen) == ["builtins.range", "builtins.Exception"]
    assert [r.full_name for r in got.root] == ["builtins.range", "builtins.Exception"]


def test_a_memo_index_past_two_to_the_31_is_unsigned():
    assert load(b"]r\xff\xff\xff\xff0g4294967295\n.") == []  # LONG_BINPUT, then GET by its number
    assert load(b"]p4294967295\n0j\xff\xff\xff\xff.") == []  # PUT, then LONG_BINGET


# -- keys whose hash the file can choose: many sharing one hash would make a dict take quadratic time -------

MODULUS = 2**61 - 1  # an integer below it is its own hash


def long1(value: int) -> bytes:
    raw = value.to_bytes((value.bit_length() + 8) // 8 or 1, "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw


def test_the_storage_limit_is_reached_within_the_operations_limit():
    # Each new storage costs at least its key and the tuple round it: 8 operations with the rest memoised.
    assert su.MAX_STORAGES == 100_000
    assert 8 * (su.MAX_STORAGES + 1) < su.MAX_OPCODES


def test_keys_whose_hash_the_file_chooses_are_counted_over_the_pickle(monkeypatch):
    assert su.MAX_CHOSEN_HASHES == 10_000
    monkeypatch.setattr(su, "MAX_CHOSEN_HASHES", 5)
    chosen = [long1(MODULUS), long1(-MODULUS), b"K\x01\x85", g("builtins", "complex") + b"K\x01K\x02\x86R"]
    pairs = b"".join(key + b"N" for key in chosen)
    assert len(load(b"}(" + pairs + b"u.")) == 4
    # a fifth in another dict, as a set member: still within; a sixth is one too many
    assert load(b"(}(" + pairs + b"u\x8f(" + long1(MODULUS + 1) + b"\x90l.")[1] == {MODULUS + 1}
    with pytest.raises(
        MalformedPickle,
        match="^the pickle holds more than 5 keys whose hash it can choose "
        r"\(large integers, tuples, complex numbers, frozensets\)$",
    ):
        load(b"(}(" + pairs + b"u\x8f(" + long1(MODULUS + 1) + b"\x90}" + long1(MODULUS + 2) + b"Nsl.")


def test_keys_whose_hash_is_their_own_or_salted_cost_nothing(monkeypatch):
    monkeypatch.setattr(su, "MAX_CHOSEN_HASHES", 0)
    near = [MODULUS - 1, -(MODULUS - 1), 0, -1]
    one = b"G" + struct.pack(">d", 1.0)
    data = b"}(" + b"".join(long1(n) + b"N" for n in near) + u("a") + b"N" + one + b"N\x88Nu."
    assert load(data) == {**dict.fromkeys(near), "a": None, 1.0: None}  # True is the key 1.0 already
    assert load(b"(" + long1(MODULUS - 1) + b"\x91.") == frozenset({MODULUS - 1})


def test_a_frozenset_key_is_counted(monkeypatch):
    monkeypatch.setattr(su, "MAX_CHOSEN_HASHES", 0)
    with pytest.raises(MalformedPickle, match="more than 0 keys whose hash"):
        load(b"}((\x91Ns.")


def test_a_set_built_by_a_call_with_a_member_whose_hash_the_file_chooses_stays_a_record():
    for member in (long1(MODULUS), long1(-MODULUS), g("builtins", "complex") + b"K\x01\x85R"):
        built = load(g("builtins", "set") + b"(" + member + b"l\x85R.")
        assert isinstance(built, Reduced) and built.func.full_name == "builtins.set"
    assert load(g("builtins", "set") + b"(" + long1(MODULUS - 1) + b"l\x85R.") == {MODULUS - 1}
    assert load(g("builtins", "frozenset") + b"(" + long1(-(MODULUS - 1)) + b"l\x85R.") == {-(MODULUS - 1)}


def test_a_text_put_index_must_be_small_and_not_negative():
    assert load(b"]p" + str(MODULUS - 1).encode() + b"\n.") == []
    for index in (MODULUS, -1):
        with pytest.raises(MalformedPickle, match=r"^the pickle is malformed \(a PUT index out of range\)$"):
            load(b"]p" + str(index).encode() + b"\n.")


def test_a_negative_length_is_refused_before_a_byte_more_is_read():
    data = b"T\xff\xff\xff\xff" + b"y" * 4096 + b"."  # BINSTRING of length -1
    reader = su._Reader(io.BytesIO(data), 64 * 2**20, "pickle", len(data))
    with pytest.raises(MalformedPickle, match="^the pickle holds a negative length$"):
        su._Unpickler(reader, su._StorageTable(), {}).load()
    assert reader._stream.tell() == 5  # the opcode and its length only


@pytest.mark.parametrize(
    "head",
    [
        b"X" + b"\xff" * 4,  # BINUNICODE
        b"B" + b"\xff" * 4,  # BINBYTES
        b"\x8d" + b"\xff" * 8,  # BINUNICODE8
        b"\x8e" + b"\xff" * 8,  # BINBYTES8
        b"\x96" + b"\xff" * 8,  # BYTEARRAY8
    ],
)
def test_unsigned_lengths_past_the_end_are_a_truncated_file(head):
    with pytest.raises(TruncatedCheckpoint, match="^the file ends inside the pickle: it is truncated$"):
        load(head + b"abc.")


def test_an_empty_python2_string():
    assert load(b"S''\n.") == "" == load(b'S""\n.')


def test_binbytes8_reads_as_bytes_and_bytearray8_as_a_bytearray():
    data = load(b"\x8e" + struct.pack("<Q", 2) + b"ab.")
    array = load(b"\x96" + struct.pack("<Q", 2) + b"ab.")
    assert (type(data), type(array)) == (bytes, bytearray)  # equal in value, not in type


def test_extension_codes_read_as_the_stdlib_reads_them():
    # EXT2 is unsigned, EXT4 signed (pickle's load_ext2 and load_ext4)
    got = Loaded(b"(\x83\x01\x80\x84\xff\xff\xff\xffl.")
    assert list(got.seen) == ["copyreg._extension_registry.32769", "copyreg._extension_registry.-1"]


def test_every_key_of_a_dict_opcode_is_measured_before_it_is_hashed(monkeypatch):
    monkeypatch.setattr(su, "MAX_CHOSEN_HASHES", 0)
    with pytest.raises(MalformedPickle, match="more than 0 keys whose hash"):
        load(b"(K\x01N" + long1(MODULUS) + b"Nd.")  # DICT: the second key is one the file chose
