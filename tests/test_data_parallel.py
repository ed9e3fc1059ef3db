"""Data-parallel SGD: shard gradients average to the full gradient, and a real 2-process run equals 1 process."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
torch = pytest.importorskip("torch")

from gdlab.nn import make_mlp, spirals

SCRIPT = Path(__file__).resolve().parents[1] / "notebooks" / "ddp_train.py"
STEPS, LR, MOMENTUM = 150, 0.05, 0.9


def gradient(model, X, y, reduction="mean"):
    model.zero_grad()
    torch.nn.BCEWithLogitsLoss(reduction=reduction)(model(X), y).backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])


def test_mean_of_equal_shard_gradients_is_the_full_gradient_unequal_shards_are_not():
    torch.manual_seed(0)
    X, y = spirals(120, dtype=torch.float64)
    model = make_mlp([2, 8, 1]).double()
    full = gradient(model, X, y)
    equal = torch.stack([gradient(model, X[r::3], y[r::3]) for r in range(3)]).mean(0)
    assert (equal - full).abs().max().item() < 1e-15
    unequal = torch.stack([gradient(model, X[:20], y[:20]), gradient(model, X[20:], y[20:])]).mean(0)
    assert (unequal - full).abs().max().item() > 1e-3
    weighted = (20 * gradient(model, X[:20], y[:20]) + 100 * gradient(model, X[20:], y[20:])) / 120
    assert (weighted - full).abs().max().item() < 1e-15
    summed = gradient(model, X[:60], y[:60], "sum") + gradient(model, X[60:], y[60:], "sum")
    assert torch.allclose(summed, 120 * full, rtol=1e-13, atol=0)


def single_process_run(n=256, sizes=(2, 32, 32, 1), seed=0):
    """The reference: the same model, full-batch, in one process."""
    X, y = spirals(n, seed=seed, dtype=torch.float64)
    torch.manual_seed(seed)
    model = make_mlp(list(sizes)).double()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    losses = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = torch.nn.BCEWithLogitsLoss()(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model.state_dict(), losses


def torchrun(out, *args):
    env = dict(os.environ, GLOO_SOCKET_IFNAME="lo") if sys.platform == "linux" else dict(os.environ)  # loopback only
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(SCRIPT),
               "--out", str(out), "--examples", "256", "--steps", str(STEPS), "--lr", str(LR), "--momentum", str(MOMENTUM),
               *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("sync", ["ddp", "allreduce"])
def test_two_processes_train_exactly_like_one(tmp_path, sync):
    run = torchrun(tmp_path / "weights.pt", "--sync", sync)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "rank 0 of 2: 128 examples" in run.stdout and "rank 1 of 2: 128 examples" in run.stdout
    result = torch.load(tmp_path / "weights.pt", weights_only=True)
    weights, losses = single_process_run()
    assert result["weights"].keys() == weights.keys()
    assert max((result["weights"][k] - w).abs().max().item() for k, w in weights.items()) < 1e-12
    assert max(abs(a - b) for a, b in zip(result["losses"], losses)) < 1e-12
    assert len(result["losses"]) == STEPS and losses[-1] < 0.9 * losses[0]


def test_unequal_shards_are_refused(tmp_path):
    run = torchrun(tmp_path / "weights.pt", "--examples", "255")
    assert run.returncode != 0
    assert "--examples must be a multiple of the 2 processes (equal shards), got 255" in run.stdout + run.stderr
    assert not (tmp_path / "weights.pt").exists()
