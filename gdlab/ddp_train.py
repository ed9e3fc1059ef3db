"""Data-parallel mini-batch SGD with torch.distributed: the training script of chapter 12.

torchrun starts one process per worker (a rank) and gives each RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and
MASTER_PORT. The script ships inside gdlab, so launch it as a module, from anywhere gdlab is installed:

    torchrun --standalone --nproc_per_node=2 -m gdlab.ddp_train --out checkpoint.pt
    python -m torch.distributed.run --standalone --nproc_per_node=2 -m gdlab.ddp_train --out checkpoint.pt

Each rank works on the GPU of its LOCAL_RANK with the nccl backend when CUDA is there, else on the CPU with gloo.
Every rank builds the same model from the same seed: by default a 2-256-256-1 tanh network (chapter 10's, wider)
for the two spirals, 4,096 examples. A DistributedSampler deals each rank its share of every
epoch's shuffle (set_epoch makes a new shuffle each epoch), and each step a rank takes --batch-size / WORLD_SIZE
examples of it, so that every step follows the gradient of the mean loss over --batch-size examples, whatever
the number of ranks. DistributedDataParallel averages the gradients over the ranks during backward (--sync ddp),
or average_gradients does it with all_reduce (--sync allreduce). Rank 0 saves a checkpoint (weights, optimizer
state, epochs done, the loss of every step, timings) at the end; --resume continues a run from one.

launch, finish and free_port start the script from a notebook (chapter 12) or a test.
"""
import time

STARTED = time.perf_counter()  # before the imports below, so that the start-up time printed at the end counts them

import argparse  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
from torch.nn.parallel import DistributedDataParallel  # noqa: E402
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset  # noqa: E402

from gdlab.nn import make_mlp, spirals  # noqa: E402

DTYPES = {"float64": torch.float64, "float32": torch.float32}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m gdlab.ddp_train", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="where rank 0 saves the checkpoint (torch.save)")
    parser.add_argument("--resume", help="a checkpoint to continue from: its weights, optimizer state and epoch")
    parser.add_argument("--epochs", type=int, default=6, help="epochs to reach (a resumed run counts the saved ones)")
    parser.add_argument("--batch-size", type=int, default=512,
                        help="examples per step over all ranks, a multiple of the number of ranks")
    parser.add_argument("--examples", type=int, default=4096, help="dataset size, a multiple of --batch-size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 256, 256, 1], help="layer widths of the MLP")
    parser.add_argument("--lr", type=float, default=0.2)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0, help="seeds the dataset, the model and the shuffles")
    parser.add_argument("--sync", choices=["ddp", "allreduce"], default="ddp", help="how gradients are averaged")
    parser.add_argument("--dtype", choices=list(DTYPES), default="float64",
                        help="float64 on a CPU (exact comparisons); float32 on a GPU (float64 is slow on most)")
    parser.add_argument("--device", choices=["auto", "cpu"], default="auto",
                        help="auto: the GPU of LOCAL_RANK when CUDA is available, else the CPU; cpu: the CPU")
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size", "examples"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if args.resume and not os.path.isfile(args.resume):
        parser.error(f"--resume {args.resume}: no such file")
    if args.examples % args.batch_size:
        parser.error(f"--examples ({args.examples}) must be a multiple of --batch-size ({args.batch_size}), "
                     "so that every step has a full batch")
    return args


def pick_device(choice, local_rank):
    """This rank's device: the GPU numbered LOCAL_RANK on a CUDA machine, else the CPU."""
    if choice == "auto" and torch.cuda.is_available():
        if local_rank >= torch.cuda.device_count():
            raise SystemExit(f"LOCAL_RANK {local_rank} but only {torch.cuda.device_count()} GPUs: start at most one "
                             "process per GPU (--nproc_per_node), or pass --device cpu")
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


def local_batch_size(batch_size, world_size):
    """Examples per step in each rank: an equal share of the batch, so that their mean losses average to its mean."""
    if batch_size % world_size:
        raise SystemExit(f"--batch-size ({batch_size}) must be a multiple of the {world_size} processes, so that "
                         "every rank gets the same number of examples per step")
    return batch_size // world_size


def average_gradients(model):
    """The average DDP computes during backward, after it: sum each gradient over the ranks, divide by their number
    (DDP divides first, then sums: with two ranks the same bits, since halving is exact)."""
    for p in model.parameters():
        dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
        p.grad /= dist.get_world_size()


def main(argv=None):
    args = parse_args(argv)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(args.device, local_rank)
    if device.type == "cuda":  # the CPU kernels used here are deterministic already; some GPU ones only when asked
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # what deterministic cuBLAS needs
        torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # one core per process: on the CPU the ranks are the parallelism
    dtype = DTYPES[args.dtype]
    imported = time.perf_counter()

    # The same model on every rank (same seed), built before the process group: in torch 2.13, when the first
    # optimizer (which loads torch._dynamo) comes after init_process_group, the group's threads outlive
    # destroy_process_group and can crash the process as it exits.
    torch.manual_seed(args.seed)
    model = make_mlp(args.sizes).to(device=device, dtype=dtype)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    first_epoch, losses = 0, []
    if args.resume:  # every rank reads the file, onto its own device
        checkpoint = torch.load(args.resume, map_location=device, weights_only=True)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        first_epoch, losses = checkpoint["epoch"], checkpoint["losses"]
    built = time.perf_counter()

    backend = "nccl" if device.type == "cuda" else "gloo"
    # rank, world size and the rendezvous address come from torchrun's environment variables
    dist.init_process_group(backend, device_id=device if device.type == "cuda" else None)
    rank, world_size = dist.get_rank(), dist.get_world_size()
    batch_size = local_batch_size(args.batch_size, world_size)
    connected = time.perf_counter()

    X, y = spirals(args.examples, seed=args.seed, dtype=dtype)
    dataset = TensorDataset(X, y)
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=args.seed)
    loader = DataLoader(dataset, batch_size=batch_size, sampler=sampler, pin_memory=device.type == "cuda")
    # DDP broadcasts rank 0's weights and, during backward, divides each gradient by world_size and all-reduces it
    net = DistributedDataParallel(model, device_ids=[local_rank] if device.type == "cuda" else None) \
        if args.sync == "ddp" else model
    loss_fn = torch.nn.BCEWithLogitsLoss()
    ready = time.perf_counter()

    for epoch in range(first_epoch, args.epochs):
        sampler.set_epoch(epoch)  # without it, every epoch would repeat the first epoch's shuffle
        step_losses = torch.zeros(len(loader), device=device, dtype=dtype)
        for step, (X_batch, y_batch) in enumerate(loader):
            xb, yb = X_batch.to(device, non_blocking=True), y_batch.to(device, non_blocking=True)
            optimizer.zero_grad()
            loss = loss_fn(net(xb), yb)  # the mean over this rank's share of the batch
            loss.backward()  # with DDP, backward also averages the gradients over the ranks
            if args.sync == "allreduce":
                average_gradients(model)
            optimizer.step()
            step_losses[step] = loss.detach()  # no .item() here: on a GPU it would wait for every step
        dist.all_reduce(step_losses)  # once per epoch: the mean loss of each step over all ranks
        losses += (step_losses / world_size).tolist()
    trained = time.perf_counter()

    if rank == 0:
        seconds = {"imports": imported - STARTED, "model and optimizer": built - imported,
                   "rendezvous": connected - built, "data and DDP": ready - connected, "training": trained - ready}
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": args.epochs,
                    "losses": losses, "world_size": world_size, "device": str(device), "seconds": seconds}, args.out)
        processes = f"{world_size} process" + ("es" if world_size > 1 else "")
        print(f"{processes} ({backend} on {device.type}), {batch_size} examples per step in each: "
              f"epochs {first_epoch + 1}-{args.epochs}, {(args.epochs - first_epoch) * len(loader)} steps, loss "
              f"{losses[first_epoch * len(loader)]:.4f} -> {losses[-1]:.4f}; start-up {ready - STARTED:.1f} s ("
              + ", ".join(f"{what} {spent:.1f}" for what, spent in seconds.items() if what != "training")
              + f"), training {seconds['training']:.2f} s", flush=True)
    dist.barrier()  # no rank leaves before the checkpoint is written
    del net  # DDP keeps a reference to the process group: drop it, so destroy_process_group can free it
    dist.destroy_process_group()


def launch(torchrun_args, script_args=()):
    """Start `torchrun TORCHRUN_ARGS -m gdlab.ddp_train SCRIPT_ARGS` in the background; returns the process.

    The processes talk over the loopback interface (GLOO_SOCKET_IFNAME), which any machine has, with one
    thread each. Wait for it with finish(process).
    """
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if sys.platform in ("linux", "darwin"):
        env["GLOO_SOCKET_IFNAME"] = "lo" if sys.platform == "linux" else "lo0"
    command = [sys.executable, "-m", "torch.distributed.run", *torchrun_args, "-m", "gdlab.ddp_train", *script_args]
    # its own process group, so that finish() can stop the launcher and its workers together
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            start_new_session=sys.platform != "win32")


def finish(process, timeout=300):
    """Wait for a launch; return its log, or raise RuntimeError with the log if it failed or ran over `timeout`
    seconds (then it is stopped, workers included)."""
    try:
        log = process.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        stop(process)
        log = process.communicate()[0]
        raise RuntimeError(f"torchrun did not finish within {timeout} s and was stopped:\n{log}") from None
    if process.returncode:
        raise RuntimeError(f"torchrun failed with exit code {process.returncode}:\n{log}")
    return log


def stop(process):
    """Kill a launch: torchrun, its process group and its workers (torchrun starts each in a session of its own,
    so they are found as the launcher's descendants before it dies)."""
    if sys.platform == "win32":
        process.kill()
        return
    table = subprocess.run(["ps", "-A", "-o", "pid=", "-o", "ppid="], capture_output=True, text=True,
                           check=True).stdout
    children = {}
    for pid, ppid in (map(int, line.split()) for line in table.splitlines()):
        children.setdefault(ppid, []).append(pid)
    family, queue = [], [process.pid]
    while queue:
        found = children.get(queue.pop(), [])
        family += found
        queue += found
    os.killpg(process.pid, signal.SIGKILL)
    for pid in family:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def free_port():
    """A TCP port that no program listens on now, for rank 0's machine to wait on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
