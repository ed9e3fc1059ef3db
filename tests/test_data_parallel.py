"""Data-parallel SGD (chapter 12): shard gradients average to the full gradient, and the training script
gdlab.ddp_train, run as real processes by torchrun, trains the model that one process trains."""
import os
import subprocess
import time

import pytest

torch = pytest.importorskip("torch")

from torch.utils.data import DataLoader, DistributedSampler, TensorDataset  # noqa: E402

from gdlab import ddp_train  # noqa: E402
from gdlab.nn import make_mlp, spirals  # noqa: E402

# a small run of the script: 256 examples, batches of 32, 6 epochs of 8 steps
CONFIG = {"examples": 256, "batch_size": 32, "epochs": 6, "lr": 0.2, "momentum": 0.9}
ARGS = ["--sizes", "2", "32", "32", "1", "--examples", "256", "--batch-size", "32", "--lr", "0.2", "--momentum", "0.9"]


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


def data_parallel(workers, epochs, examples, batch_size, lr, momentum, seed=0, set_epoch=True):
    """The script's training in this process: `workers` simulated ranks, their gradients averaged (workers=1:
    one process). Returns the weights and the loss of every step."""
    X, y = spirals(examples, seed=seed, dtype=torch.float64)
    dataset = TensorDataset(X, y)
    samplers = [DistributedSampler(dataset, num_replicas=workers, rank=k, seed=seed) for k in range(workers)]
    loaders = [DataLoader(dataset, batch_size=batch_size // workers, sampler=s) for s in samplers]
    torch.manual_seed(seed)
    model = make_mlp([2, 32, 32, 1]).double()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    losses = []
    for epoch in range(epochs):
        for sampler in samplers:
            sampler.set_epoch(epoch if set_epoch else 0)
        for batches in zip(*loaders):
            gradients, step_loss = [], 0.0
            for xb, yb in batches:
                model.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                gradients.append([p.grad.clone() for p in model.parameters()])
                step_loss += loss.item()
            for p, *worker_grads in zip(model.parameters(), *gradients):
                p.grad = sum(worker_grads) / workers
            optimizer.step()
            losses.append(step_loss / workers)
    return model.state_dict(), losses


def largest_gap(a, b):
    return max((a[name] - w).abs().max().item() for name, w in b.items())


def torchrun(out, nproc, *args):
    log = ddp_train.finish(ddp_train.launch(["--standalone", f"--nproc_per_node={nproc}"], ["--out", str(out), *args]))
    return log, torch.load(out, map_location="cpu", weights_only=True)


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    return torchrun(tmp_path_factory.mktemp("ddp") / "two.pt", 2, *ARGS, "--epochs", "6")


def test_two_processes_train_the_model_of_one_process(two_processes):
    log, result = two_processes
    assert "2 processes (gloo on cpu), 16 examples per step in each: epochs 1-6, 48 steps" in log
    weights, losses = data_parallel(1, **CONFIG)
    assert result["model"].keys() == weights.keys() and len(result["losses"]) == 48
    assert 0 < largest_gap(result["model"], weights) < 1e-10  # round-off: two half-batch means vs one mean
    assert max(abs(a - b) for a, b in zip(result["losses"], losses)) < 1e-10
    assert sum(losses[-8:]) < sum(losses[:8])  # the last epoch's mean loss is lower
    assert result["epoch"] == 6 and result["world_size"] == 2 and result["device"] == "cpu"
    assert set(result["seconds"]) == {"imports", "model and optimizer", "rendezvous", "data and DDP",
                                      "training"}


def test_two_processes_do_the_arithmetic_of_the_simulation_bit_for_bit(two_processes):
    _, result = two_processes
    weights, losses = data_parallel(2, **CONFIG)
    assert all(torch.equal(result["model"][name], w) for name, w in weights.items())
    assert result["losses"] == losses


def test_every_epoch_gets_a_new_shuffle(two_processes):
    _, result = two_processes
    weights, _ = data_parallel(2, **CONFIG, set_epoch=False)
    assert largest_gap(result["model"], weights) > 1e-3


def test_hand_written_all_reduce_gives_what_ddp_gives(tmp_path, two_processes):
    log, result = torchrun(tmp_path / "allreduce.pt", 2, *ARGS, "--epochs", "6", "--sync", "allreduce")
    assert "48 steps" in log
    assert all(torch.equal(result["model"][name], w) for name, w in two_processes[1]["model"].items())


def test_a_checkpoint_resumes_with_another_number_of_processes(tmp_path, two_processes):
    two = tmp_path / "two.pt"
    torch.save(two_processes[1], two)
    log, result = torchrun(tmp_path / "resumed.pt", 1, *ARGS, "--epochs", "8", "--resume", str(two))
    assert "1 process (gloo on cpu), 32 examples per step in each: epochs 7-8, 16 steps" in log
    weights, losses = data_parallel(1, **{**CONFIG, "epochs": 8})
    assert result["epoch"] == 8 and len(result["losses"]) == 64
    assert largest_gap(result["model"], weights) < 1e-10
    assert max(abs(a - b) for a, b in zip(result["losses"], losses)) < 1e-10


def test_a_failed_launch_shows_its_log(tmp_path):
    with pytest.raises(RuntimeError, match=r"torchrun failed with exit code 1:(.|\n)*--resume .*missing.pt: no such"):
        torchrun(tmp_path / "out.pt", 1, *ARGS, "--resume", str(tmp_path / "missing.pt"))


def test_a_launch_that_runs_too_long_is_stopped_with_its_workers(tmp_path):
    process = ddp_train.launch(["--standalone", "--nproc_per_node=2"], [*ARGS, "--out", str(tmp_path / "w.pt")])
    for _ in range(300):  # stop it once a worker runs (still importing torch then)
        if [line for line in running_lines(tmp_path) if "torch.distributed.run" not in line]:
            break
        time.sleep(0.1)
    with pytest.raises(RuntimeError, match="torchrun did not finish within 1 s and was stopped"):
        ddp_train.finish(process, timeout=1)
    assert process.poll() is not None
    if hasattr(os, "killpg"):  # nothing of its process group is left, and no worker (each has a session of its own)
        with pytest.raises(ProcessLookupError):
            os.killpg(process.pid, 0)
        assert not running_lines(tmp_path)


def running_lines(tmp_path):
    """`ps` lines of the live processes whose command line names tmp_path."""
    table = subprocess.run(["ps", "-A", "-ww", "-o", "stat=", "-o", "args="], capture_output=True, text=True,
                           check=True).stdout
    return [line for line in table.splitlines() if str(tmp_path) in line and not line.lstrip().startswith("Z")]


@pytest.mark.parametrize("argv, message", [
    (["--out", "w.pt", "--examples", "250", "--batch-size", "64"],
     "--examples (250) must be a multiple of --batch-size (64)"),
    (["--out", "w.pt", "--epochs", "0"], "--epochs must be at least 1, got 0"),
    (["--out", "w.pt", "--sync", "nccl"], "argument --sync: invalid choice: 'nccl'"),
    (["--epochs", "3"], "the following arguments are required: --out"),
])
def test_bad_arguments_are_named(argv, message, capsys):
    with pytest.raises(SystemExit):
        ddp_train.parse_args(argv)
    assert message in capsys.readouterr().err


def test_unequal_shares_of_a_batch_are_refused():
    assert ddp_train.local_batch_size(64, 4) == 16
    with pytest.raises(SystemExit, match=r"--batch-size \(63\) must be a multiple of the 2 processes"):
        ddp_train.local_batch_size(63, 2)


def test_each_rank_takes_the_gpu_of_its_local_rank(monkeypatch):
    chosen = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_device", chosen.append)
    assert ddp_train.pick_device("auto", 1) == torch.device("cuda", 1) and chosen == [1]
    assert ddp_train.pick_device("cpu", 1) == torch.device("cpu")
    with pytest.raises(SystemExit, match="LOCAL_RANK 2 but only 2 GPUs"):
        ddp_train.pick_device("auto", 2)


def test_without_cuda_every_rank_uses_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert ddp_train.pick_device("auto", 3) == torch.device("cpu")
