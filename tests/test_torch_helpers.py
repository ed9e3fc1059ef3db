import random
import subprocess
import sys
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gdlab import torch as gt  # noqa: E402


def fake_accelerator(monkeypatch, kind):
    """PyTorch finds an accelerator of this kind (None: it finds none); returns the list of synchronize calls."""
    monkeypatch.setattr(torch.accelerator, "is_available", lambda: kind is not None)
    monkeypatch.setattr(torch.accelerator, "current_accelerator",
                        lambda check_available=False: None if kind is None else torch.device(kind))
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Fake GPU 80GB")
    calls = []
    monkeypatch.setattr(torch.accelerator, "synchronize", lambda device=None: calls.append(device))
    return calls


@pytest.fixture
def no_gpu(monkeypatch):
    return fake_accelerator(monkeypatch, None)


@pytest.fixture
def fake_cuda(monkeypatch):
    return fake_accelerator(monkeypatch, "cuda")


@pytest.mark.usefixtures("no_gpu")
def test_pick_device_falls_back_to_cpu_and_says_why(capsys):
    device = gt.pick_device()
    assert device == torch.device("cpu")
    message = capsys.readouterr().out
    assert message.count("\n") == 1
    assert "No GPU found" in message and "torch.accelerator.is_available() is False" in message and "CPU" in message


@pytest.mark.usefixtures("fake_cuda")
def test_pick_device_takes_the_accelerator_and_names_it(capsys):
    assert gt.pick_device().type == "cuda"
    assert "the GPU Fake GPU 80GB (torch.accelerator found cuda)" in capsys.readouterr().out


@pytest.mark.parametrize("kind, name", [("mps", "Apple's GPU (MPS)"), ("xpu", "the xpu device")])
def test_pick_device_takes_other_accelerators(monkeypatch, capsys, kind, name):
    fake_accelerator(monkeypatch, kind)
    assert gt.pick_device().type == kind
    assert name in capsys.readouterr().out


@pytest.mark.usefixtures("fake_cuda")
def test_explicit_preference(capsys):
    assert gt.pick_device("cpu").type == "cpu"
    assert "as asked" in capsys.readouterr().out
    assert gt.pick_device("cuda").type == "cuda"


@pytest.mark.usefixtures("no_gpu")
@pytest.mark.parametrize("prefer", ["cuda", "mps"])
def test_unavailable_preference_raises_naming_prefer(prefer):
    with pytest.raises(ValueError, match=rf"prefer='{prefer}' but PyTorch finds no {prefer} device here"):
        gt.pick_device(prefer)


@pytest.mark.usefixtures("fake_cuda")
def test_preferring_another_accelerator_than_the_one_there_raises():
    with pytest.raises(ValueError, match="prefer='mps' but PyTorch finds no mps device here .*finds: cuda"):
        gt.pick_device("mps")


def test_unknown_preference_lists_the_choices():
    with pytest.raises(ValueError, match="prefer must be one of 'cuda', 'mps', 'cpu'; got 'gpu'"):
        gt.pick_device("gpu")


def test_the_real_pick_device_runs_here(capsys):
    device = gt.pick_device()
    assert device.type in ("cpu", "cuda", "mps", "xpu") and capsys.readouterr().out.count("\n") == 1


def test_time_it_honours_warmup_and_repeat():
    calls = []
    timing = gt.time_it(calls.append, "x", warmup=4, repeat=7)
    assert len(calls) == 11
    assert len(timing.times) == 7 and all(t >= 0 for t in timing.times)


def test_time_it_synchronizes_on_cuda_after_every_timed_run(fake_cuda):
    gt.time_it(lambda: None, device="cuda", warmup=2, repeat=3)
    assert len(fake_cuda) == 1 + 3  # once after the warm-up, once per timed run
    assert all(torch.device(d).type == "cuda" for d in fake_cuda)


@pytest.mark.parametrize("device", ["cpu", "meta", "mps"])
def test_synchronize_leaves_other_devices_alone(fake_cuda, device):
    gt.time_it(lambda: None, device=device, warmup=1, repeat=2)
    assert fake_cuda == []


def test_synchronize_without_an_accelerator_does_nothing(no_gpu):
    gt.synchronize("cuda")
    assert no_gpu == []


def test_time_it_takes_the_device_of_the_first_tensor(monkeypatch):
    seen = []
    monkeypatch.setattr(gt, "synchronize", seen.append)
    gt.time_it(lambda a, b: None, 3, torch.empty(2, device="meta"), warmup=0, repeat=2)
    assert [d.type for d in seen] == ["meta"] * 3


def test_median_on_a_fake_clock(monkeypatch):
    durations = iter([0.005, 0.001, 0.003, 0.100, 0.002])  # one slow outlier
    now = [0.0]

    def fake_clock():
        return now[0]

    def work():
        now[0] += next(durations)

    monkeypatch.setattr(time, "perf_counter", fake_clock)
    timing = gt.time_it(work, warmup=0, repeat=5)
    assert timing.times == pytest.approx((0.005, 0.001, 0.003, 0.100, 0.002))
    assert timing.median == pytest.approx(0.003)
    assert str(timing) == "median 3.000 ms of 5 runs (min 1.000 ms, max 100.000 ms)"


@pytest.mark.parametrize("kwargs, match", [
    ({"warmup": -1}, "warmup must be an integer >= 0"),
    ({"repeat": 0}, "repeat must be an integer >= 1"),
])
def test_time_it_rejects_bad_counts(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gt.time_it(lambda: None, **kwargs)


def test_time_it_rejects_a_non_callable():
    with pytest.raises(TypeError, match="fn must be callable"):
        gt.time_it(torch.ones(2))


def test_seed_everything_makes_every_generator_repeat():
    def draw():
        return random.random(), np.random.rand(), torch.rand(3).tolist()

    gt.seed_everything(7)
    first = draw()
    gt.seed_everything(7)
    assert draw() == first
    gt.seed_everything(8)
    assert draw() != first


@pytest.mark.parametrize("seed", [-1, 2**32])
def test_seed_everything_rejects_out_of_range_seeds(seed):
    with pytest.raises(ValueError, match="seed must be"):
        gt.seed_everything(seed)


def test_import_gdlab_does_not_import_torch():
    code = "import sys, gdlab; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    code = "import sys, gdlab; gdlab.torch.pick_device; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"
