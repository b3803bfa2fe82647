"""python -m modelkit bench: is modelkit as fast as hand-written PyTorch, and do its defaults train well?

1. overhead     samples/s of runs executed as the dashboard executes them (a runner
                worker, every event recorded to the store) against a bare PyTorch
                loop written here: same model, same initial weights, same batches,
                same thread count, alternated A B A B so that drift cancels.
2. first_point  submit -> first loss point readable from the store, warm and cold worker.
3. race         the MNIST-1D race: default settings, one time budget each, several
                seeds, beside the MNIST-1D paper's reference accuracies.
"""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time

import torch

from modelkit.compare import PAPER_ACCURACY, PAPER_RACE_ARCHS as RACE_ARCHS
from modelkit.config import make_config
from modelkit.runner import Runner, cpu_cores
from modelkit.store import Store

OVERHEAD_CASES = [("mnist1d", "mlp"), ("mnist1d", "cnn"), ("mnist1d", "gru"), ("mnist1d", "transformer"),
                  ("digits", "cnn")]
TERMINAL = ("completed", "stopped", "diverged", "failed", "interrupted")


def case_name(task: str, arch: str) -> str:
    return arch if task == "mnist1d" else f"{arch}_{task}"


# --- 1. trainer overhead ------------------------------------------------------------

def bare_loop_samples_per_s(config, device: str, threads: int) -> float:
    """The same training as `config` in the fewest lines of plain PyTorch; samples/s of its loop."""
    from modelkit import models, tasks
    from modelkit.evaluate import loss_fn
    from modelkit.train import make_optimizer

    torch.set_num_threads(threads)
    data = tasks.load(config.task)
    torch.manual_seed(config.train.seed)
    model = models.build(config.model, data.spec).to(device).train()
    x, y = data.x_train.to(device), data.y_train.to(device)
    optimizer = make_optimizer(config.train, model.parameters())
    loss_of = loss_fn(config.train.loss, data.spec)
    gen = torch.Generator().manual_seed(config.train.seed)
    batch, n, seen = config.train.batch_size, len(x), 0
    start = time.perf_counter()
    for _ in range(config.train.epochs):
        order = torch.randperm(n, generator=gen).to(device)
        for i in range(0, n, batch):
            idx = order[i:i + batch]
            loss = loss_of(model(x[idx]), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            seen += len(idx)
    if device == "cuda":
        torch.cuda.synchronize()
    return seen / (time.perf_counter() - start)


def wait_for(store: Store, run_id: str, timeout: float = 900.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = store.get_run(run_id)
        if run.status in TERMINAL:
            return run
        time.sleep(0.05)
    raise TimeoutError(f"run {run_id} did not finish within {timeout:.0f} s")


def measure_overhead(runner: Runner, device: str, threads: int, epochs: int, rounds: int, log) -> dict:
    out = {}
    for task, arch in OVERHEAD_CASES:
        config = make_config(task, arch, [f"train.epochs={epochs}", "train.time_budget=null",
                                          f'train.device="{device}"', "train.schedule=\"constant\""])
        ours, bare = [], []
        for _ in range(rounds):   # A B A B: the machine's drift hits both alike
            run = wait_for(runner.store, runner.submit(config, owner="bench"))
            if run.status != "completed":
                raise RuntimeError(f"bench run {arch} on {task} ended {run.status}: {run.message}")
            ours.append(run.metrics["samples_per_s"])
            bare.append(bare_loop_samples_per_s(config, device, threads))
        name = case_name(task, arch)
        out[name] = {"modelkit_samples_per_s": statistics.median(ours),
                     "bare_samples_per_s": statistics.median(bare)}
        out[name]["ratio"] = out[name]["modelkit_samples_per_s"] / out[name]["bare_samples_per_s"]
        log(f"  overhead {name:<14} modelkit {out[name]['modelkit_samples_per_s']:>9,.0f}/s   "
            f"bare {out[name]['bare_samples_per_s']:>9,.0f}/s   ratio {out[name]['ratio']:.3f}")
    return out


# --- 2. time to first point ------------------------------------------------------------

def first_point_seconds(runner: Runner, config) -> float:
    """Seconds from submit until the run's first loss point can be read from the store."""
    start = time.perf_counter()
    run_id = runner.submit(config, owner="bench")
    while runner.store.points(run_id, names=["loss"]).empty:
        time.sleep(0.005)
    seconds = time.perf_counter() - start
    wait_for(runner.store, run_id)
    return seconds


def measure_first_point(runner: Runner, device: str, log) -> dict:
    config = make_config("moons", "mlp", ["train.epochs=3", f'train.device="{device}"'])
    runner.wait_ready(120)
    warm = statistics.median(first_point_seconds(runner, config) for _ in range(5))
    # Cold: a store of its own, so that the warm worker above cannot take the run.
    with tempfile.TemporaryDirectory(prefix="modelkit-bench-cold-") as home:
        cold_runner = Runner(Store(home=home), workers=1)   # spawn, import torch, warm up, then train
        try:
            cold = first_point_seconds(cold_runner, config)
        finally:
            cold_runner.shutdown()
    log(f"  first point    warm worker {warm:.3f} s   cold worker {cold:.3f} s")
    return {"warm_s": warm, "cold_s": cold}


# --- 3. the MNIST-1D race ----------------------------------------------------------------

def measure_race(runner: Runner, device: str, budget: float, seeds: int, log) -> dict:
    out = {}
    for arch in RACE_ARCHS:
        accs = []
        for seed in range(seeds):
            config = make_config("mnist1d", arch, [f"train.time_budget={budget}", "train.epochs=null",
                                                   f"train.seed={seed}", f'train.device="{device}"'])
            run = wait_for(runner.store, runner.submit(config, owner="bench"))
            accs.append(run.metrics.get("test_accuracy", float("nan")))
        out[arch] = {"accuracy_mean": statistics.fmean(accs),
                     "accuracy_std": statistics.pstdev(accs) if len(accs) > 1 else 0.0,
                     "runs": len(accs), "paper": PAPER_ACCURACY.get(arch)}
        paper = f"paper {PAPER_ACCURACY[arch]:.2f}" if arch in PAPER_ACCURACY else "paper  -  "
        log(f"  race {arch:<12} accuracy {out[arch]['accuracy_mean']:.3f} ± {out[arch]['accuracy_std']:.3f}"
            f"   {paper}   ({len(accs)} x {budget:g} s)")
    return out


def bench(device: str = "auto", quick: bool = False, log=print) -> dict:
    """Run all three measurements in a throwaway store; returns the figures as nested dicts."""
    from modelkit.train import resolve_device

    device = resolve_device(device).type
    threads = cpu_cores()
    rounds, epochs = (2, 1) if quick else (3, 5)
    budget, seeds = (5.0, 1) if quick else (60.0, 3)
    with tempfile.TemporaryDirectory(prefix="modelkit-bench-") as home:
        store = Store(home=home)
        runner = Runner(store, workers=1)   # one worker with every core: the same threads as the bare loop
        try:
            runner.wait_ready(120)
            log(f"modelkit bench on {device}, {threads} CPU threads{' (quick)' if quick else ''}")
            result = {"machine": {"device": device, "threads": threads, "torch": torch.__version__,
                                  "quick": quick},
                      "overhead": measure_overhead(runner, device, threads, epochs, rounds, log),
                      "first_point": measure_first_point(runner, device, log),
                      "race": measure_race(runner, device, budget, seeds, log)}
        finally:
            runner.shutdown()
    return result


def main(args) -> int:
    log = (lambda text: print(text, file=sys.stderr, flush=True)) if args.json else print
    result = bench(device=args.device or "auto", quick=args.quick, log=log)
    if args.json:
        print(json.dumps(result))
    return 0
