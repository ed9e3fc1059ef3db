"""gdlab.check.ch12: right answers PASS, planted mistakes FAIL with their hint, stubs say TODO."""
import math

import pytest

torch = pytest.importorskip("torch")
from conftest import assert_reports, stub  # noqa: E402
from gdlab import check  # noqa: E402

torch.set_num_threads(1)


def shard_indices(n, rank, world_size, drop_last=False):
    total = n // world_size * world_size if drop_last else math.ceil(n / world_size) * world_size
    return [i % n for i in range(total)][rank:total:world_size]


def unpadded(n, rank, world_size, drop_last=False):  # noqa: ARG001 (the check passes drop_last)
    return list(range(rank, n, world_size))


def blocks(n, rank, world_size, drop_last=False):  # noqa: ARG001
    per_rank = math.ceil(n / world_size)
    return [i % n for i in range(rank * per_rank, (rank + 1) * per_rank)]


def one_based(n, rank, world_size, drop_last=False):
    return shard_indices(n, rank + 1, world_size, drop_last) if rank + 1 < world_size else []


def full_gradient(shard_grads, shard_sizes, weigh=True, divide_by_n=True, divide_by_k=False):
    n = sum(shard_sizes) if divide_by_n else 1
    total = sum((size if weigh else 1) * g for g, size in zip(shard_grads, shard_sizes)) / n
    return total / len(shard_sizes) if divide_by_k else total


def all_reduce_mean(worker_grads, divide=True, only_first=False, in_place=True, count=len):
    for i in range(len(worker_grads[0])):
        mean = sum(grads[i] for grads in worker_grads) / (count(worker_grads) if divide else 1)
        for grads in worker_grads[:1] if only_first else worker_grads:
            if in_place:
                grads[i].copy_(mean)
            else:
                grads[i] = mean


def all_reduce_by_size(worker_grads):
    for i in range(len(worker_grads[0])):
        total = sum(grads[i] for grads in worker_grads)
        for grads in worker_grads:
            grads[i].copy_(total / total.numel())


def all_reduce_one_by_one(worker_grads):
    for i in range(len(worker_grads[0])):
        for grads in worker_grads:
            grads[i].copy_(sum(g[i] for g in worker_grads) / len(worker_grads))


def returns_new_lists(worker_grads):
    means = [sum(column) / len(worker_grads) for column in zip(*worker_grads)]
    return [list(means) for _ in worker_grads]


def linear_rule(base_lr, base_batch, workers, per_worker_batch):
    return base_lr * workers * per_worker_batch / base_batch


CH12 = [
    ("task1", shard_indices, "PASS", "examples 0, 1 are used twice per epoch, with drop_last examples 8, 9 not at all"),
    ("task1", lambda *a, **k: torch.tensor(shard_indices(*a, **k)), "PASS", "matches DistributedSampler on 5 splits"),
    ("task1", stub(1), "TODO", "not implemented yet"),
    ("task1", unpadded, "FAIL", "ranks get different numbers of indices: pad by repeating the first indices"),
    ("task1", lambda n, r, k, drop_last=False: shard_indices(n, r, k, True), "FAIL",
     "with drop_last=False no index may be left out"),
    ("task1", lambda n, r, k, drop_last=False: shard_indices(n, r, k, False), "FAIL",
     "drop the remainder: every rank gets n // world_size indices, no padding"),
    ("task1", lambda n, r, k, drop_last=False: shard_indices(n, r, k) if not drop_last else unpadded(n, r, k), "FAIL",
     "with drop_last=True drop the remainder"),
    ("task1", blocks, "FAIL", "you gave each rank a contiguous block"),
    ("task1", lambda *a, **k: shard_indices(*a, **k)[:-1], "FAIL", "has shape (2,), expected (3,)"),
    ("task1", one_based, "FAIL", "ranks count from 0: rank r starts at index r, not r + 1"),
    ("task2", full_gradient, "PASS", "the plain average of shards of 100 and 412 would be off by up to 0.0189"),
    ("task2", lambda g, s: torch.stack(g).T @ torch.tensor(s, dtype=torch.float64) / sum(s), "PASS", "round-off"),
    ("task2", stub(2), "TODO", "not implemented yet"),
    ("task2", lambda g, s: full_gradient(g, s, weigh=False, divide_by_n=False, divide_by_k=True), "FAIL",
     "that is the plain average of the shard gradients, right only when the shards are equal"),
    ("task2", lambda g, s: full_gradient(g, s, weigh=False, divide_by_n=False), "FAIL",
     "that is the sum of the shard gradients"),
    ("task2", lambda g, s: full_gradient(g, s, divide_by_n=False), "FAIL", "then divide by n"),
    ("task2", lambda g, s: full_gradient(g, s, divide_by_k=True), "FAIL", "do not divide by the number of shards too"),
    ("task2", lambda g, s: torch.stack(g), "FAIL", "has shape (4, 1185), expected (1185,)"),
    ("task2", lambda g, s: sum(sum(s) / size * grad for grad, size in zip(g, s)), "FAIL",
     "the weights are upside down"),
    ("task3", all_reduce_mean, "PASS", "largest difference below 1e-12"),
    ("task3", stub(3), "TODO", "not implemented yet"),
    ("task3", lambda w: all_reduce_mean(w, divide=False), "FAIL", "every worker holds the sum"),
    ("task3", lambda w: all_reduce_mean(w, count=lambda w: len(w[0])), "FAIL",
     "you divided the sum by the number of parameter tensors (2); divide by the number of workers (4)"),
    ("task3", lambda w: all_reduce_mean(w, count=lambda w: len(w) - 1), "FAIL", "you divided the sum by 3"),
    ("task3", all_reduce_by_size, "FAIL", "you divided each sum by the number of entries of its tensor"),
    ("task3", lambda w: all_reduce_mean(w, only_first=True), "FAIL", "only worker 0 got the average"),
    ("task3", lambda w: all_reduce_mean(w, in_place=False), "FAIL", "you replaced the tensors in the lists"),
    ("task3", returns_new_lists, "FAIL", "nothing changed: change the workers' tensors in place"),
    ("task3", all_reduce_one_by_one, "FAIL", "you overwrote worker 0's gradient before the others read it"),
    ("task4", linear_rule, "PASS", "batch 32: lr 0.02, loss 0.2881 (unscaled 1.2999)"),
    ("task4", lambda *a: 2 * linear_rule(*a), "PASS", "one worker (batch 8, lr 0.005) reaches loss 0.2897"),
    ("task4", stub(4), "TODO", "not implemented yet"),
    ("task4", lambda base_lr, *a: base_lr, "FAIL", "Scale the lr with the effective batch size"),
    ("task4", lambda base_lr, base_batch, workers, per_worker: base_lr * workers, "FAIL",
     "you scaled by the number of workers only; the batch grew 16 times"),
    ("task4", lambda *a: math.sqrt(linear_rule(*a) * a[0]), "FAIL", "too small: with fewer steps per epoch"),
    ("task4", lambda *a: 40 * linear_rule(*a), "FAIL", "diverged"),
    ("task4", lambda *a: 6 * linear_rule(*a), "FAIL",
     "loss 1.4486, more than 10% above one worker's 0.2897 (4 steps per epoch instead of 128): too large"),
    ("task4", lambda *a: -linear_rule(*a), "FAIL", "it must be positive"),
]


@pytest.mark.parametrize("task, answer, status, hint", CH12, ids=[f"{t}-{s}-{h[:30]}" for t, _, s, h in CH12])
def test_ch12(task, answer, status, hint, capsys):
    assert_reports(capsys, getattr(check.ch12, task)(answer), status, hint)
