"""What each global a checkpoint names would mean if loaded (core/pickle_globals.py's global_risk), and the
inert stand-ins' own figures: torch's default allowlist, the benign globals torch must be told about, and
the globals that can run code, found by name or by any module above them."""

from __future__ import annotations

import pytest

from ofa_manager.core.pickle_globals import GlobalRef, Reduced, StorageRef, Tensor, TorchName, global_risk


@pytest.mark.parametrize(
    "name",
    [
        "torch.FloatTensor",
        "torch.cuda.HalfTensor",
        "torch.BoolTensor",
        "torch._utils._rebuild_qtensor",
        "torch._utils._rebuild_device_tensor_from_numpy",
        "torch.float16",
        "torch.per_channel_affine",
        "torch.UntypedStorage",
        "torch.cuda.ByteStorage",
        "torch.storage.TypedStorage",
        "torch.Size",
        "collections.Counter",
    ],
)
def test_what_torch_loads_by_default(name):
    assert global_risk(name) == "torch"


@pytest.mark.parametrize(
    "name",
    [
        "torch.cuda.float16",  # a dtype under torch only
        "torch.cuda.per_channel_affine",
        "torch.FloatTensorX",  # the class pattern is anchored
        "xtorch.FloatTensor",
        "torch.nn.FloatTensor",
        "torch._utils._rebuild_unknown",
        "torch.cuda.Size",
        "torch.nn.modules.linear.Linear",
        "builtins.int",
        "osx.system",  # a dangerous module's name is matched whole
        "mylab.os.system",
        "numpy.loader",
    ],
)
def test_what_is_unknown(name):
    assert global_risk(name) == "unknown"


@pytest.mark.parametrize(
    "name",
    [
        "numpy.load",
        "torch.serialization.load",
        "mylab.Model.__reduce__",  # any dunder
        "mylab.__getattribute__",
        "builtins.print",
        "builtins.__import__",
        "os.path.join",  # a submodule of a dangerous module
        "torch.utils.cpp_extension.load",  # the whole module path is dangerous
        "torch.hub.load_state_dict_from_url",
        "subprocess.run",
    ],
)
def test_what_is_dangerous(name):
    assert global_risk(name) == "dangerous"


def test_the_stand_ins_figures():
    ref = GlobalRef("os", "system")
    assert (ref.module, ref.name, ref.full_name, repr(ref)) == (
        "os",
        "system",
        "os.system",
        "GlobalRef(os.system)",
    )
    call = Reduced(ref, ("id",))
    assert (call.func, call.args, call.state, call.items) == (ref, ("id",), None, [])
    assert Reduced(ref, ()).items is not call.items
    storage = StorageRef("float16", "0", "cpu", 5, 2)
    assert storage.nbytes == 10
    assert Tensor(storage, 0, (2, 3, 4), "float16").numel == 24
    assert Tensor(None, 0, (), "float16").numel == 1
    assert Tensor(None, 0, (5, 0), "float16").numel == 0
    assert TorchName("float16").name == "float16"
