"""Checks for exercises/12_data_parallel_sgd.ipynb.

The workers are simulated in one process, on the CPU in float64, so every line is the same on any machine.
"""
import collections
import itertools

import numpy as np

from gdlab.check.core import Chapter, as_array, call, close, fail, number

_SPLITS = [(12, 4, False), (10, 4, False), (10, 4, True), (7, 3, False), (7, 3, True)]


def _sampler(n, rank, world_size, drop_last):
    from torch.utils.data import DistributedSampler

    return list(DistributedSampler(range(n), num_replicas=world_size, rank=rank, shuffle=False, drop_last=drop_last))


def _spirals_model():
    import torch

    from gdlab.nn import make_mlp, spirals

    X, y = spirals(512, seed=0, dtype=torch.float64)
    torch.manual_seed(0)
    return make_mlp([2, 32, 32, 1]).double(), X, y


def _gradient(model, X, y):
    """The gradient of the mean BCE loss on (X, y), one flat vector."""
    import torch

    model.zero_grad()
    torch.nn.BCEWithLogitsLoss()(model(X), y).backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])


def _average_one_by_one(worker_grads):
    """A known bug: each worker's tensor is overwritten before the next worker's average reads it."""
    for i in range(len(worker_grads[0])):
        for grads in worker_grads:
            grads[i].copy_(sum(g[i] for g in worker_grads) / len(worker_grads))


def _data_parallel(all_reduce_mean, workers=4, steps=30):
    """Simulated data-parallel training: the largest weight gap between any replica and one process."""
    import copy

    import torch

    model, X, y = _spirals_model()
    replicas = [copy.deepcopy(model) for _ in range(workers)]
    optimizers = [torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9) for m in [model] + replicas]
    loss_fn = torch.nn.BCEWithLogitsLoss()
    for _ in range(steps):
        for rank, replica in enumerate(replicas):
            replica.zero_grad()
            loss_fn(replica(X[rank::workers]), y[rank::workers]).backward()
        call(all_reduce_mean, [[p.grad for p in replica.parameters()] for replica in replicas])
        model.zero_grad()
        loss_fn(model(X), y).backward()
        for optimizer in optimizers:
            optimizer.step()
    return max((p - q).abs().max().item() for replica in replicas
               for p, q in zip(replica.parameters(), model.parameters()))


def _regression():
    import torch

    g = torch.Generator().manual_seed(0)
    X = torch.randn(1024, 10, generator=g, dtype=torch.float64)
    y = X @ torch.randn(10, 1, generator=g, dtype=torch.float64) + 0.5 * torch.randn(1024, 1, generator=g,
                                                                                       dtype=torch.float64)
    return X, y


def _sgd_loss(batch, lr, epochs=2):
    """Mini-batch SGD on a linear regression of 1024 examples: the mean squared error after `epochs`."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    X, y = _regression()
    torch.manual_seed(0)
    model = torch.nn.Linear(10, 1).double()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch, shuffle=True, generator=torch.Generator().manual_seed(0))
    for _ in range(epochs):
        for xb, yb in loader:
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(model(xb), yb).backward()
            optimizer.step()
    with torch.no_grad():
        loss = torch.nn.functional.mse_loss(model(X), y).item()
    return loss if np.isfinite(loss) else np.inf


class ch12(Chapter):
    """12 · Data-parallel SGD."""

    def task1(shard_indices):
        "shard a dataset by rank"
        got = {}
        for n, world_size, drop_last in _SPLITS:
            per_rank = -(-n // world_size)  # ceil
            padded = list(range(n)) + list(range(n))[:per_rank * world_size - n]
            for rank in range(world_size):
                answer = call(shard_indices, n, rank, world_size, drop_last=drop_last)
                got[n, world_size, drop_last, rank] = [int(i) for i in as_array(answer, "your indices").ravel()]
                if drop_last:
                    mistakes = {"with drop_last=True drop the remainder: every rank gets n // world_size indices, "
                                "no padding": _sampler(n, rank, world_size, False)}
                else:
                    padding = "pad by repeating the first indices so that every rank gets ceil(n / world_size)"
                    mistakes = {f"ranks get different numbers of indices: {padding}, as DistributedSampler does":
                                    list(range(rank, n, world_size)),
                                f"with drop_last=False no index may be left out: {padding}":
                                    _sampler(n, rank, world_size, True)}
                mistakes["DistributedSampler deals the indices out like cards: rank r gets r, r + world_size, "
                         "r + 2 world_size, ...; you gave each rank a contiguous block"] = \
                    padded[rank * per_rank:(rank + 1) * per_rank]
                total = n // world_size * world_size if drop_last else per_rank * world_size
                if rank < world_size - 1:
                    mistakes["ranks count from 0: rank r starts at index r, not r + 1"] = \
                        [i % n for i in range(total)][rank + 1:total:world_size]
                close(answer, _sampler(n, rank, world_size, drop_last),
                      f"rank {rank} of {world_size} with n = {n}, drop_last={drop_last}", mistakes)
        padded = collections.Counter(i for rank in range(4) for i in got[10, 4, False, rank])
        dropped = set(range(10)) - {i for rank in range(4) for i in got[10, 4, True, rank]}
        return (f"matches DistributedSampler on {len(_SPLITS)} splits. 10 examples on 4 ranks: with padding "
                f"examples {', '.join(str(i) for i, c in sorted(padded.items()) if c > 1)} are used twice per epoch, "
                f"with drop_last examples {', '.join(str(i) for i in sorted(dropped))} not at all.")

    def task2(full_gradient):
        "the full gradient from shard gradients"
        import torch

        model, X, y = _spirals_model()
        full = _gradient(model, X, y)
        for sizes in ([128, 128, 128, 128], [100, 412], [64, 192, 256]):
            bounds = [0, *itertools.accumulate(sizes)]
            shards = torch.stack([_gradient(model, X[a:b], y[a:b]) for a, b in zip(bounds, bounds[1:])])
            weights = torch.tensor(sizes, dtype=torch.float64)[:, None]
            got = call(full_gradient, [g.clone() for g in shards], list(sizes))
            close(got, full, f"your gradient from shards of {' + '.join(map(str, sizes))} examples", {
                "that is the plain average of the shard gradients, right only when the shards are equal: weight "
                "shard k by n_k / n": shards.mean(dim=0),
                "that is the sum of the shard gradients: every shard's gradient is already a mean, so average them, "
                "weighting shard k by n_k / n": shards.sum(dim=0),
                "weight shard k by n_k, then divide by n, the total number of examples": (weights * shards).sum(dim=0),
                "the weights n_k / n already add up to 1: do not divide by the number of shards too":
                    (weights * shards).sum(dim=0) / weights.sum() / len(sizes),
                "the weights are upside down: shard k counts n_k / n, its share of the examples, not n / n_k":
                    (weights.sum() / weights * shards).sum(dim=0),
            }, rtol=1e-9, atol=1e-15)
        first, second = _gradient(model, X[:100], y[:100]), _gradient(model, X[100:], y[100:])
        off = ((first + second) / 2 - full).abs().max().item()
        return (f"equals the full-batch gradient to round-off for shards of 4 x 128, 100 + 412 and 64 + 192 + 256 "
                f"examples; the plain average of shards of 100 and 412 would be off by up to {off:.4f}.")

    def task3(all_reduce_mean):
        "a simulated all-reduce"
        import torch

        g = torch.Generator().manual_seed(0)
        shapes, workers = [(4, 2), (4,)], 4

        def fresh():
            return [[torch.randn(shape, generator=g, dtype=torch.float64) for shape in shapes] for _ in range(workers)]

        grads = fresh()
        held = [list(w) for w in grads]
        before = [[t.clone() for t in w] for w in grads]
        call(all_reduce_mean, grads)
        if any(a is not b for w, v in zip(grads, held) for a, b in zip(w, v)):
            fail("you replaced the tensors in the lists (grads[k][i] = ...); all_reduce changes them in place, "
                 "e.g. g.copy_(mean): each worker's optimizer reads the very tensors p.grad it holds.")

        def flat(worker_grads):
            return torch.stack([torch.cat([t.flatten() for t in w]) for w in worker_grads])

        values = flat(before)
        mean = values.mean(dim=0)
        total = values.sum(dim=0)
        sizes = torch.cat([torch.full((t.numel(),), float(t.numel()), dtype=torch.float64) for t in before[0]])
        one_by_one = [[t.clone() for t in w] for w in before]
        _average_one_by_one(one_by_one)
        close(flat(held), mean.expand(workers, -1), f"the gradients the {workers} workers hold afterwards", {
            "nothing changed: change the workers' tensors in place (g.copy_(mean))": values,
            "every worker holds the sum: all_reduce adds up (ReduceOp.SUM); divide by the number of workers, "
            "as DDP does": total.expand(workers, -1),
            f"you divided the sum by the number of parameter tensors ({len(shapes)}); divide by the number of "
            f"workers ({workers}), len(worker_grads)": (total / len(shapes)).expand(workers, -1),
            f"you divided the sum by {workers - 1}: every one of the {workers} workers counts, itself included":
                (total / (workers - 1)).expand(workers, -1),
            "you divided each sum by the number of entries of its tensor; divide by the number of workers":
                (total / sizes).expand(workers, -1),
            "only worker 0 got the average; every worker must receive it": torch.cat([mean[None], values[1:]]),
            "the workers after the first got other values: you overwrote worker 0's gradient before the others "
            "read it; compute each mean once, then copy it into every worker": flat(one_by_one),
        })
        gap = _data_parallel(all_reduce_mean)
        if not gap < 1e-12:
            fail(f"simulated data-parallel training drifted from one-process training by {gap:.2g}.")
        return ("4 simulated workers, each on a quarter of the spirals, 30 steps of SGD with momentum: every "
                "replica ends with the weights of one process on all the data (largest difference below 1e-12).")

    def task4(scaled_lr):
        "scale the learning rate with the batch"
        base_lr, base_batch = 0.005, 8
        baseline = _sgd_loss(base_batch, base_lr)
        report = []
        for workers, per_worker in ((4, 8), (8, 16), (64, 4)):
            batch = workers * per_worker
            lr = number(call(scaled_lr, base_lr, base_batch, workers, per_worker), "your learning rate")
            where = f"{workers} workers x {per_worker} examples (effective batch {batch})"
            if not 0 < lr < np.inf:
                fail(f"{where}: your learning rate is {lr:g}; it must be positive.")
            loss = _sgd_loss(batch, lr)
            if loss > 100 * baseline:
                fail(f"{where}: lr = {lr:g} diverged (loss {loss:.3g} after 2 epochs): too large.")
            if loss > 1.1 * baseline:
                steps = f"{1024 // batch} steps per epoch instead of {1024 // base_batch}"
                if lr == base_lr:
                    fail(f"{where}: with the same lr and {steps}, 2 epochs end at loss {loss:.4f} instead of "
                         f"{baseline:.4f}. Scale the lr with the effective batch size.")
                if per_worker != base_batch and np.isclose(lr, base_lr * workers):
                    fail(f"{where}: you scaled by the number of workers only; the batch grew {batch // base_batch} "
                         f"times ({workers} x {per_worker} / {base_batch}), and the run ends at loss {loss:.4f} "
                         f"instead of {baseline:.4f}.")
                size = ("too small: with fewer steps per epoch each step must go further"
                        if lr < base_lr * batch / base_batch else "too large")
                fail(f"{where}: lr = {lr:g} ends 2 epochs at loss {loss:.4f}, more than 10% above one worker's "
                     f"{baseline:.4f} ({steps}): {size}.")
            report.append(f"batch {batch}: lr {lr:g}, loss {loss:.4f} (unscaled {_sgd_loss(batch, base_lr):.4f})")
        return (f"after 2 epochs, one worker (batch {base_batch}, lr {base_lr}) reaches loss {baseline:.4f}; "
                f"{'; '.join(report)}.")
