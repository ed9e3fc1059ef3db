"""Data-parallel full-batch gradient descent with torch.distributed (chapter 12).

Launch one process per rank with torchrun, which sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and
MASTER_PORT in each process's environment:

    torchrun --standalone --nproc_per_node=2 notebooks/ddp_train.py --out weights.pt

Every rank builds the same chapter 10 model (same seed) in float64, keeps its shard of the spirals
(every WORLD_SIZE-th example) and takes --steps steps of gradient descent with momentum on its
whole shard. The shard gradients are averaged over the ranks, by DistributedDataParallel
(--sync ddp) or by an explicit all_reduce (--sync allreduce), so every step uses the gradient of
the mean loss over the whole dataset. Rank 0 saves the final weights and the loss before each step.
"""
import argparse

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from gdlab.nn import make_mlp, spirals


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="where rank 0 saves {'weights', 'losses'} (torch.save)")
    parser.add_argument("--examples", type=int, default=512, help="dataset size, a multiple of the number of processes")
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 32, 32, 1], help="layer widths of the MLP")
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0, help="seeds the dataset and the model")
    parser.add_argument("--sync", choices=["ddp", "allreduce"], default="ddp", help="how gradients are averaged")
    return parser.parse_args()


def average_gradients(model):
    """What DDP does during backward: sum each gradient over the ranks, divide by their number."""
    for p in model.parameters():
        dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
        p.grad /= dist.get_world_size()


def main():
    args = parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    dist.init_process_group("gloo")  # rank, world size and rendezvous address come from torchrun's variables
    rank, world_size = dist.get_rank(), dist.get_world_size()
    if args.examples % world_size:
        raise SystemExit(f"--examples must be a multiple of the {world_size} processes (equal shards), got {args.examples}")

    X, y = spirals(args.examples, seed=args.seed, dtype=torch.float64)
    X_shard, y_shard = X[rank::world_size], y[rank::world_size]
    torch.manual_seed(args.seed)
    model = make_mlp(args.sizes).double()
    net = DistributedDataParallel(model) if args.sync == "ddp" else model
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    losses = []
    for _ in range(args.steps):
        optimizer.zero_grad()
        loss = loss_fn(net(X_shard), y_shard)
        loss.backward()  # with DDP, backward also averages the gradients over the ranks
        if args.sync == "allreduce":
            average_gradients(model)
        optimizer.step()
        mean_loss = loss.detach().clone()
        dist.all_reduce(mean_loss)
        losses.append(mean_loss.item() / world_size)

    print(f"rank {rank} of {world_size}: {len(X_shard)} examples, loss {losses[0]:.6f} -> {losses[-1]:.6f}")
    if rank == 0:
        torch.save({"weights": model.state_dict(), "losses": losses}, args.out)
    del net  # DDP holds the process group: freeing it first avoids a known exit deadlock (pytorch#75097)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
