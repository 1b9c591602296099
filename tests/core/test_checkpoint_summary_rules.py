"""Describing what a checkpoint's pickle holds (core/checkpoint_summary.py): its sections and their kinds,
tensors, bytes and parameters (a tied embedding counted once), fairseq's metadata, the PETL families, the
OFA size from the shapes, the verdict and the lines that load the file with weights_only=True. The pickle's
contents are built here as the safe unpickler builds them (its inert stand-ins)."""

from __future__ import annotations

import io
import sys

import pytest

from ofa_manager.core import checkpoint_summary as cs
from ofa_manager.core.checkpoint_results import CheckpointContents, GlobalUse, Verdict
from ofa_manager.core.pickle_globals import (
    GlobalRef,
    Namespace,
    NumpyDtype,
    NumpyScalar,
    Reduced,
    StorageRef,
    Tensor,
)
from ofa_manager.core.safe_unpickler import _Reader, _StorageTable, _Unpickler


class Pickle:
    """Storages made by key (as persistent_load makes them) and the globals seen, for one description."""

    def __init__(self) -> None:
        self.table = _StorageTable()
        self.seen: dict[str, None] = {}

    def storage(self, key: str, numel: int, dtype: str = "float32", itemsize: int = 4) -> StorageRef:
        ref = self.table.by_key[key] = StorageRef(dtype, key, "cpu", numel, itemsize)
        return ref

    def tensor(self, key: str, *shape: int, dtype: str = "float32", offset: int = 0) -> Tensor:
        numel = 1
        for dim in shape:
            numel *= dim
        ref = self.table.by_key.get(key) or self.storage(key, numel, dtype, {"float16": 2}.get(dtype, 4))
        return Tensor(ref, offset, tuple(shape), dtype)

    def describe(self, root, *globals_seen: str, protocol: int | None = 2, opcodes=(), problems=None) -> dict:
        self.seen.update(dict.fromkeys(globals_seen))
        unpickler = _Unpickler(_Reader(io.BytesIO(b""), 0, "pickle", 0), self.table, self.seen)
        unpickler.protocol = protocol
        unpickler.foreign_opcodes = set(opcodes)
        return cs._describe(root, self.seen, self.table, unpickler, [] if problems is None else problems)


def sections(described: dict) -> dict[str, tuple[str, int, int]]:
    return {s.name: (s.kind, s.tensors, s.bytes) for s in described["sections"]}


# -- sections --------------------------------------------------------------------------------------------


def test_a_bare_state_dict_is_one_section_of_model_weights():
    p = Pickle()
    root = {"weight": p.tensor("0", 2, 3), "bias": p.tensor("1", 3, dtype="float16")}
    d = p.describe(root)
    assert sections(d) == {"(state dict)": ("model weights", 2, 24 + 6)}
    assert d["top_level_keys"] == ["weight", "bias"] and d["tensor_count"] == 2
    assert (d["storage_count"], d["tensor_bytes"]) == (2, 30)
    assert (d["model_parameters"], d["model_parameters_distinct"]) == (9, 9)
    assert d["dtypes"] == {"float16": 1, "float32": 1} and list(d["dtypes"]) == ["float16", "float32"]
    assert d["pickle_protocol"] == 2 and d["problems"] == [] and d["petl"] == {} and d["metadata"] == {}


def test_each_top_level_key_is_a_section_and_ema_weights_in_extra_state_are_their_own():
    p = Pickle()
    ema = {"w": p.tensor("e", 4)}
    root = {
        "model": {"encoder.layers.0.w": p.tensor("m", 2, 2), "ema.w": p.tensor("m2", 1)},
        "extra_state": {"ema": ema, "epoch": 3},
        "last_optimizer_state": {"state": {0: {"exp_avg": p.tensor("o", 8)}}},
        "args": Namespace(arch="ofa_tiny"),
        "criterion": None,
        7: "a key that is no string",
    }
    d = p.describe(root, "argparse.Namespace")
    assert sections(d) == {
        "model": ("model weights", 2, 20),
        "extra_state.ema": ("EMA weights", 1, 16),
        "extra_state": ("training state", 0, 0),  # its EMA counted once, in the section before
        "last_optimizer_state": ("optimizer state", 1, 32),
        "args": ("configuration", 0, 0),
        "criterion": ("criterion", 0, 0),
        "7": ("other", 0, 0),
    }
    assert [s.name for s in d["sections"]][:3] == ["model", "extra_state.ema", "extra_state"]
    assert d["top_level_keys"] == ["model", "extra_state", "last_optimizer_state", "args", "criterion", "7"]
    assert d["tensor_count"] == 4 and d["model_parameters"] == 5


def test_a_storage_shared_by_two_sections_counts_in_the_first_only():
    p = Pickle()
    shared = p.storage("s", 10)
    root = {
        "model": {"w": Tensor(shared, 0, (10,), "float32")},
        "copy": {"w": Tensor(shared, 0, (10,), "float32")},
    }
    assert sections(p.describe(root)) == {"model": ("model weights", 1, 40), "copy": ("other", 1, 0)}


def test_a_root_that_is_no_dict_is_one_section_named_for_its_type():
    p = Pickle()
    d = p.describe([p.tensor("0", 3), [p.tensor("1", 2)]])
    assert sections(d) == {"(root)": ("list", 2, 20)}
    assert d["top_level_keys"] == [] and d["model_parameters"] is None and d["inferred"] == {}
    assert d["model_parameters_distinct"] is None
    assert sections(Pickle().describe(None)) == {"(root)": ("NoneType", 0, 0)}


def test_tensors_are_found_wherever_the_pickle_put_them_once_each():
    p = Pickle()
    t = p.tensor("0", 2)
    call = Reduced(GlobalRef("mylab", "Model"), (p.tensor("1", 1),))
    call.state = {"w": p.tensor("2", 1)}
    call.items = [p.tensor("3", 1), ("k", p.tensor("4", 1))]
    loop: list = [t, t]
    loop.append(loop)
    holder = {"set": frozenset([p.tensor("5", 1)]), "tuple": (p.tensor("6", 1), "x", 1, 2.0, b"b", True)}
    root = {"things": [call, loop, holder, {p.tensor("7", 1): "a tensor as a key"}]}
    d = p.describe(root)
    assert d["tensor_count"] == 8 and sections(d)["things"] == ("other", 8, 9 * 4)


def test_a_tensor_nested_far_past_the_recursion_limit_is_found_without_recursing():
    p = Pickle()
    deep: list = [p.tensor("0", 3)]
    for _ in range(20 * sys.getrecursionlimit()):
        deep = [deep]
    d = p.describe({"model": deep})
    assert d["tensor_count"] == 1 and sections(d) == {"model": ("model weights", 1, 12)}


def test_the_model_is_found_under_its_usual_names_or_as_the_root():
    for key in ("model", "state_dict", "module", "model_state_dict"):
        p = Pickle()
        d = p.describe({"meta": {"x": 1}, key: {"w": p.tensor("0", 5)}})
        assert d["model_parameters"] == 5, key
        assert sections(d)[key][0] == "model weights"
    p = Pickle()
    first = p.describe({"model": {"a": p.tensor("0", 1)}, "state_dict": {"b": p.tensor("1", 2)}})
    assert first["model_parameters"] == 1
    p = Pickle()
    empty_model = p.describe({"model": {"n": 3}, "state_dict": {"b": p.tensor("1", 2)}})
    assert empty_model["model_parameters"] == 2  # a "model" without tensors is passed over
    p = Pickle()
    not_a_dict = p.describe({"model": [p.tensor("0", 4)], "w": p.tensor("1", 6)})
    assert not_a_dict["model_parameters"] == 6  # the root, a state dict of its own
    assert sections(not_a_dict) == {"(state dict)": ("model weights", 2, 40)}
    assert Pickle().describe({"n": 1})["model_parameters"] is None


def test_a_tied_embedding_is_counted_once_when_it_is_the_same_matrix():
    p = Pickle()
    matrix = p.storage("emb", 20)
    same = lambda: Tensor(matrix, 0, (4, 5), "float32")  # noqa: E731
    model = {
        "encoder.embed_tokens.weight": same(),
        "decoder.embed_tokens.weight": same(),
        "decoder.output_projection.weight": same(),
        "embed_tokens.weight": Tensor(matrix, 5, (4, 5), "float32"),  # another offset: another matrix
        "x.embed_tokens.weight": Tensor(matrix, 0, (5, 4), "float32"),  # another shape
        "encoder.layers.0.embed_tokens.weightx": same(),  # not a tied name: counted whatever it shares
        "encoder.my_embed_tokens.weight": same(),
        "loose.embed_tokens.weight": Tensor(None, 0, (3,), "float32"),
        "loose2.embed_tokens.weight": Tensor(None, 0, (3,), "float32"),  # no storage: counted each
    }
    d = p.describe(model)
    assert d["model_parameters"] == 7 * 20 + 6
    assert d["model_parameters_distinct"] == 20 + 20 + 20 + 20 + 20 + 6


# -- section kinds ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("EMA", "EMA weights"),
        ("ema.x", "EMA weights"),
        ("x_ema", "EMA weights"),
        ("emax", "other"),
        ("model_optimizer", "optimizer state"),  # the optimizer first
        ("optim_state", "optimizer state"),
        ("Model", "model weights"),
        ("my_state_dict", "model weights"),
        ("module", "model weights"),
        ("extra_state", "training state"),
        ("cfg", "configuration"),
        ("ARGS", "configuration"),
        ("criterion", "criterion"),
        ("task_state", "other"),
    ],
)
def test_section_kinds_by_name(name, kind):
    assert cs._kind(name) == kind


# -- metadata --------------------------------------------------------------------------------------------


def test_fairseq_metadata_from_cfg_then_args():
    cfg = {"model": {"_name": "ofa_large", "arch": "ignored"}, "task": {"_name": "caption"}}
    top = {
        "cfg": cfg,
        "args": Namespace(arch="ofa_base", task="vqa"),
        "optimizer_history": [{"num_updates": 1}, {"num_updates": NumpyScalar("i8", 500)}],
        "extra_state": {"train_iterator": {"epoch": 4}, "best": NumpyScalar("f8", 0.5)},
    }
    assert cs._metadata(top) == {
        "architecture": "ofa_large",
        "task": "caption",
        "updates": 500,
        "epoch": 4,
        "best": 0.5,
    }
    by_arch = {"cfg": {"model": {"arch": "ofa_huge"}}, "args": Namespace(arch="x", task="refcoco")}
    assert cs._metadata(by_arch) == {"architecture": "ofa_huge", "task": "refcoco"}
    assert cs._metadata({"args": Namespace(arch="ofa_tiny")}) == {"architecture": "ofa_tiny"}
    assert cs._metadata({"cfg": {"model": {"_name": ""}}, "args": {"arch": "from_args"}}) == {
        "architecture": "from_args"
    }


def test_metadata_only_from_plain_values_the_file_records():
    assert cs._metadata({}) == {}
    assert cs._metadata({"optimizer_history": []}) == {}
    assert cs._metadata({"optimizer_history": ({"num_updates": 3},)}) == {}  # a tuple is not fairseq's list
    assert cs._metadata({"cfg": {"model": {"_name": ["a list"]}}}) == {}
    assert cs._metadata({"cfg": {"model": {"_name": Reduced(GlobalRef("m", "n"), ())}}}) == {}
    assert cs._metadata({"extra_state": {"best": True}}) == {"best": True}
    assert cs._metadata({"extra_state": {"best": NumpyScalar("U3", None)}}) == {}
    assert cs._metadata({"cfg": "not a mapping", "extra_state": [1]}) == {}


# -- PETL and the inferred size --------------------------------------------------------------------------


def test_petl_families_by_whole_key_parts():
    p = Pickle()
    model = {
        "encoder.layers.0.adapter1.fc.weight": p.tensor("0", 4, 2),
        "encoder.layers.0.adapter2.fc.weight": p.tensor("1", 3),
        "decoder.layers.0.lora_A": p.tensor("2", 5),
        "decoder.layers.0.lora_B.lora_A": p.tensor("3", 1),  # one key, one family
        "encoder_prompt_encoder.embedding.weight": p.tensor("4", 7),
        "decoder_prompt_encoder.embedding.weight": p.tensor("5", 1),
        "encoder.adapter1x.weight": p.tensor("6", 100),
        "lora_Abc": p.tensor("7", 100),
    }
    assert cs._petl(model) == {
        "adapter": {"keys": 2, "parameters": 11},
        "lora": {"keys": 2, "parameters": 6},
        "prompt": {"keys": 2, "parameters": 8},
    }


def test_the_size_is_inferred_from_the_embedding_width_and_the_layers_counted():
    p = Pickle()
    model = {
        "encoder.embed_tokens.bias": p.tensor("b", 7),
        "encoder.embed_tokens.weight": p.tensor("0", 10, 1280),
        "decoder.embed_tokens.weight": p.tensor("1", 10, 512),  # the first one found decides
        "encoder.layers.0.fc1.weight": p.tensor("2", 1),
        "encoder.layers.0.fc2.weight": p.tensor("3", 1),
        "encoder.layers.11.fc1.weight": p.tensor("4", 1),
        "decoder.layers.3.fc1.weight": p.tensor("5", 1),
        "xencoder.layers.5.fc1.weight": p.tensor("6", 1),
        "encoder.embed_images.layer3.0.conv1.weight": p.tensor("7", 1),
        "encoder.embed_images.layer3.22.conv1.weight": p.tensor("8", 1),
    }
    assert cs._infer(model, "OFA_Huge") == {
        "embedding_width": 1280,
        "size": "huge",
        "encoder_layers": 2,
        "decoder_layers": 1,
        "resnet_layer3_blocks": 2,
        "matches_metadata": True,
    }
    assert cs._infer(model, None).get("matches_metadata") is None
    assert cs._infer(model, "bart_large")["matches_metadata"] is False


@pytest.mark.parametrize(
    ("blocks", "name"), [(6, "ResNet-50"), (23, "ResNet-101"), (36, "ResNet-152"), (7, None)]
)
def test_the_resnet_is_named_from_its_third_stage(blocks, name):
    p = Pickle()
    model = {f"embed_images.layer3.{i}.w": p.tensor(str(i), 1) for i in range(blocks)}
    assert cs._infer(model, None).get("resnet") == name
    assert cs._infer(model, None)["resnet_layer3_blocks"] == blocks


def test_nothing_is_inferred_from_what_the_shapes_do_not_say():
    p = Pickle()
    assert cs._infer({}, "ofa_large") == {}
    odd = {"encoder.embed_tokens.weight": p.tensor("0", 10, 300)}
    assert cs._infer(odd, "ofa_large") == {"embedding_width": 300}
    flat = {
        "encoder.embed_tokens.weight": p.tensor("1", 1024),
        "decoder.embed_tokens.weight": p.tensor("2", 2, 768),
    }
    assert cs._infer(flat, None) == {"embedding_width": 768, "size": "base"}


# -- the verdict and the lines that load the file -------------------------------------------------------


def test_the_verdict_names_what_loading_would_call():
    p = Pickle()
    d = p.describe(
        {}, "os.system", "mylab.Model", "argparse.Namespace", "posix.system", "collections.OrderedDict"
    )
    v = d["verdict"]
    assert v.safe is False
    assert v.summary == (
        "loading it with weights_only=False would import or call dangerous: os.system, posix.system; "
        "unknown: mylab.Model"
    )
    assert (v.dangerous, v.unknown, v.safe_globals) == (
        ["os.system", "posix.system"],
        ["mylab.Model"],
        ["argparse.Namespace"],
    )
    assert d["globals"] == [
        GlobalUse("os.system", "dangerous"),
        GlobalUse("mylab.Model", "unknown"),
        GlobalUse("argparse.Namespace", "benign"),
        GlobalUse("posix.system", "dangerous"),
        GlobalUse("collections.OrderedDict", "torch"),
    ]
    only_unknown = Pickle().describe({}, "mylab.Model", "mylab.Trainer")["verdict"]
    assert only_unknown.summary == (
        "loading it with weights_only=False would import or call unknown: mylab.Model, mylab.Trainer"
    )
    only_dangerous = Pickle().describe({}, "os.system")["verdict"]
    assert (
        only_dangerous.summary
        == "loading it with weights_only=False would import or call dangerous: os.system"
    )


def test_a_safe_verdict_lists_what_torch_must_be_told_and_the_opcodes_it_cannot_read():
    root = {
        "d": NumpyDtype("<f8"),
        "s": NumpyScalar("i8", 1),
        "o": NumpyDtype("|O"),
        "x": NumpyScalar("zz", None),
    }
    v = Pickle().describe(root, "numpy.dtype", "builtins.slice", opcodes={"0x95", "0x8c"})["verdict"]
    assert v.safe is True and v.summary == "tensors and plain data only"
    assert v.safe_globals == [
        "numpy.dtype",
        "builtins.slice",
        "numpy.dtypes.Float64DType",
        "numpy.dtypes.Int64DType",
    ]
    assert v.weights_only_blockers == [
        "pickle opcodes torch's weights_only loader does not implement: 0x8c, 0x95"
    ]
    plain = Pickle().describe(root, "argparse.Namespace")["verdict"]
    assert (
        plain.safe_globals == ["argparse.Namespace"] and plain.weights_only_blockers == []
    )  # no numpy.dtype


def contents(verdict: Verdict, path: str = "/models/a.pt") -> CheckpointContents:
    return CheckpointContents(
        path=path, file_size=1, format="zip", archive_prefix="a", pickle_member="a/data.pkl",
        pickle_protocol=2, top_level_keys=[], sections=[], tensor_count=0, storage_count=0, tensor_bytes=0,
        model_parameters=None, dtypes={}, metadata={}, petl={}, inferred={}, globals=[], verdict=verdict,
        problems=[],
    )  # fmt: skip


def test_the_load_lines_import_what_they_name_and_nothing_else():
    verdict = Verdict(
        safe=True,
        summary="",
        safe_globals=[
            "numpy.core.multiarray.scalar",
            "builtins.slice",
            "argparse.Namespace",
            "numpy.dtype",
            "collections.abc.Thing",
        ],
    )
    assert cs.weights_only_code(contents(verdict)) == (
        "import argparse\n"
        "import collections\n"
        "import numpy\n"
        "import torch\n"
        "\n"
        "torch.serialization.add_safe_globals([\n"
        '    (numpy.float64(0).__reduce__()[0], "numpy.core.multiarray.scalar"),\n'
        "    slice,\n"
        "    argparse.Namespace,\n"
        "    numpy.dtype,\n"
        "    collections.abc.Thing,\n"
        "])\n"
        'checkpoint = torch.load("/models/a.pt", map_location="cpu", weights_only=True)\n'
    )
    builtin_only = cs.weights_only_code(
        contents(Verdict(True, "", safe_globals=["builtins.set"])), 'my "x".pt'
    )
    assert builtin_only == (
        "import torch\n\ntorch.serialization.add_safe_globals([\n    set,\n])\n"
        'checkpoint = torch.load("my \\"x\\".pt", map_location="cpu", weights_only=True)\n'
    )
    scalar_only = cs.weights_only_code(
        contents(Verdict(True, "", safe_globals=["numpy._core.multiarray.scalar"]))
    )
    assert scalar_only.startswith("import numpy\nimport torch\n\n")


def test_no_load_lines_for_a_file_torch_would_refuse_or_that_runs_code():
    assert cs.weights_only_code(contents(Verdict(False, "x"))) is None
    assert cs.weights_only_code(contents(Verdict(True, "x", weights_only_blockers=["0x95"]))) is None
    assert cs.weights_only_code(contents(Verdict(True, "x"))) == (
        'import torch\n\ncheckpoint = torch.load("/models/a.pt", map_location="cpu", weights_only=True)\n'
    )


def test_an_ema_part_is_a_section_only_when_it_holds_tensor_data():
    p = Pickle()
    root = {
        "extra_state": {"ema": {}, "ema_bare": p.storage("s", 3), 1: "a key that is no string"},
        "model": {"w": p.tensor("0", 1)},
    }
    d = p.describe(root, problems=["kept as given"])
    assert sections(d) == {
        "extra_state.ema_bare": ("EMA weights", 0, 12),  # a storage with no tensor over it: its bytes
        "extra_state": ("training state", 0, 0),
        "model": ("model weights", 1, 4),
    }
    assert d["problems"] == ["kept as given"]


def test_a_tensor_reached_only_through_a_calls_callable_is_found():
    p = Pickle()
    inner = Reduced(GlobalRef("mylab", "make"), (p.tensor("0", 3),))
    d = p.describe({"x": Reduced(inner, ())})
    assert sections(d)["x"] == ("other", 1, 12)


def test_tied_names_over_different_storages_are_different_matrices():
    p = Pickle()
    model = {
        "encoder.embed_tokens.weight": Tensor(p.storage("a", 6), 0, (2, 3), "float32"),
        "decoder.embed_tokens.weight": Tensor(p.storage("b", 6), 0, (2, 3), "float32"),
    }
    assert p.describe(model)["model_parameters_distinct"] == 12


def test_only_byte_orders_are_stripped_from_a_dtype_code():
    root = {"a": NumpyDtype("Xf8"), "b": NumpyDtype(">i4")}
    v = Pickle().describe(root, "numpy.dtype")["verdict"]
    assert v.safe_globals == ["numpy.dtype", "numpy.dtypes.Int32DType"]


def test_a_builtin_is_named_without_its_module_whatever_follows():
    code = cs.weights_only_code(contents(Verdict(True, "", safe_globals=["builtins.a.b"])))
    assert "\n    a.b,\n" in code and "import builtins" not in code
