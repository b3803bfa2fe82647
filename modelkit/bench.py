"""python -m modelkit bench: is modelkit as fast as hand-written PyTorch, and do its defaults train well?

1. overhead     samples/s of runs executed as the dashboard executes them (a runner
                worker, every event recorded to the store) against a bare PyTorch
                loop written here: same model, same initial weights, same batches,
                same thread count, in short slices alternated inside each round
                (A B, B A, ...) so that a busy machine's drift hits both alike; the
                median of the paired ratios with its spread and the machine's load,
                and whether that spread is too wide to conclude anything.
2. first_point  submit -> first loss point readable from the store, warm and cold worker;
   stop         stop -> the run stopped in the store. (Click -> first point in a real
                browser, fresh server: tools/first_click.py.)
3. race         the MNIST-1D race: default settings, one time budget each, several
                seeds, beside the MNIST-1D paper's reference accuracies.
4. gpu_sharing  (CUDA only) N small runs at once on one GPU, one worker each: total and
                per-run samples/s, and the most runs that each keep half their solo speed.

--executor ray measures the same through the Ray executor (RAY_ADDRESS, or a local Ray).
"""
from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

import torch

from modelkit.compare.race import PAPER_ACCURACY, PAPER_RACE_ARCHS
from modelkit.config import make_config
from modelkit.execution.runner import Runner, make_executor
from modelkit.settings import cpu_cores
from modelkit.store import Store

# (task, arch, epochs per measurement): about two seconds of training each on two CPU cores.
OVERHEAD_CASES = [("mnist1d", "mlp", 20), ("mnist1d", "cnn", 8), ("mnist1d", "gru", 5), ("mnist1d", "transformer", 5),
                  ("digits", "cnn", 30)]
TERMINAL = ("completed", "stopped", "diverged", "failed", "interrupted")
SLICES = 3           # A/B slices inside each round (each a third of a round's epochs), their order alternating
WIDE_SPREAD = 0.10   # paired ratios spread wider than this (interquartile range / median) settle nothing


def case_name(task: str, arch: str) -> str:
    return arch if task == "mnist1d" else f"{arch}_{task}"


# --- 1. trainer overhead ------------------------------------------------------------

def _bare_process_init(threads: int):
    """The bare loop's process gets the thread settings a runner worker gets."""
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)


def bare_loop_samples_per_s(config_dict: dict, device: str) -> float:
    """The same training as the config in the fewest lines of plain PyTorch; samples/s of its loop."""
    from modelkit import models
    from modelkit.config import RunConfig
    from modelkit.data import tasks
    from modelkit.training.evaluation import loss_fn
    from modelkit.training.loop import make_optimizer

    config = RunConfig.from_dict(config_dict)
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


def measure_overhead(runner: Runner, device: str, threads: int, scale: float, rounds: int, log) -> dict:
    """modelkit in a runner worker against the bare loop in a process of its own with the same threads."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context, initializer=_bare_process_init, initargs=(threads,)) as bare_pool:
        return _overhead_cases(runner, bare_pool, device, scale, rounds, log)


def _overhead_cases(runner: Runner, bare_pool, device: str, scale: float, rounds: int, log) -> dict:
    out = {}
    for task, arch, epochs in OVERHEAD_CASES:
        config = make_config(task, arch, [f"train.epochs={max(1, round(epochs * scale / SLICES))}",
                                          "train.time_budget=null", f'train.device="{device}"',
                                          "train.schedule=\"constant\"",
                                          "train.eval_every=1000000"])   # the loop alone: no validation passes
        load_before = os.getloadavg()[0]
        pairs = [paired_slice(runner, bare_pool, config, device, modelkit_first=i % 2 == 0)
                 for i in range(rounds * SLICES)]
        name = case_name(task, arch)
        log(f"    slices {name}: modelkit {[round(a) for a, _ in pairs]} bare {[round(b) for _, b in pairs]}")
        out[name] = {**paired_figures(pairs), "rounds": rounds,
                     "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)]}
        row = out[name]
        log(f"  overhead {name:<14} modelkit {row['modelkit_samples_per_s']:>9,.0f}/s   "
            f"bare {row['bare_samples_per_s']:>9,.0f}/s   ratio {row['ratio']:.3f} "
            f"(middle half {row['ratio_spread'][0]:.3f} to {row['ratio_spread'][1]:.3f}, load {row['load_average']})"
            + ("" if row["conclusive"] else "   spread too wide to conclude"))
    return out


def paired_slice(runner: Runner, bare_pool, config, device: str, modelkit_first: bool) -> tuple[float, float]:
    """One short slice of each, back to back: (modelkit samples/s, bare loop samples/s)."""
    def ours() -> float:
        run = wait_for(runner.store, runner.submit(config, owner="bench"))
        if run.status != "completed":
            raise RuntimeError(f"bench run {config.arch} on {config.task.name} ended {run.status}: {run.message}")
        return run.metrics["samples_per_s"]

    def bare() -> float:
        return bare_pool.submit(bare_loop_samples_per_s, config.to_dict(), device).result()

    if modelkit_first:
        a = ours()
        return a, bare()
    b = bare()
    return ours(), b


def paired_figures(pairs: list[tuple[float, float]]) -> dict:
    """The median of the paired ratios, their middle half (quartiles), and whether it is narrow enough to
    say anything (WIDE_SPREAD)."""
    ratios = sorted(a / b for a, b in pairs)
    low, _, high = statistics.quantiles(ratios, n=4, method="inclusive") if len(ratios) > 1 else ratios * 3
    ratio = statistics.median(ratios)
    return {"modelkit_samples_per_s": statistics.median(a for a, _ in pairs),
            "bare_samples_per_s": statistics.median(b for _, b in pairs), "ratio": ratio, "pairs": len(pairs),
            "ratio_spread": [low, high], "conclusive": (high - low) / ratio <= WIDE_SPREAD}


# --- 2. time to first point, and to a stop ----------------------------------------------

def wait_for_first_point(store: Store, run_id: str):
    while store.points(run_id, names=["loss"]).empty:
        if store.get_run(run_id).status in TERMINAL:
            raise RuntimeError(f"the bench run ended without a point: {store.get_run(run_id).message}")
        time.sleep(0.005)


def first_point_seconds(runner: Runner, config) -> tuple[float, float]:
    """Seconds from submit until it returned, and until the run's first loss point can be read from the store."""
    start = time.perf_counter()
    run_id = runner.submit(config, owner="bench")
    submitted = time.perf_counter() - start
    wait_for_first_point(runner.store, run_id)
    seconds = time.perf_counter() - start
    wait_for(runner.store, run_id)
    return submitted, seconds


def measure_first_point(runner: Runner, device: str, log, executor: str = "local") -> dict:
    config = make_config("moons", "mlp", ["train.epochs=3", f'train.device="{device}"'])
    runner.wait_ready(120)
    submits, warms = zip(*(first_point_seconds(runner, config) for _ in range(5)))
    if executor != "local":   # the warm actors hold the cluster's CPUs: a second pool would wait for them
        out = {"submit_s": statistics.median(submits), "warm_s": statistics.median(warms), "cold_s": None}
        log(f"  first point    submit returns {out['submit_s'] * 1000:.1f} ms   warm {executor} actor "
            f"{out['warm_s']:.3f} s")
        return out
    # Cold: a new pool on a store of its own (so that the warm workers above cannot take the run); its
    # processes come from the running fork server, as a replacement worker does. A fresh server: tools/first_click.py
    with tempfile.TemporaryDirectory(prefix="modelkit-bench-cold-") as home:
        cold_runner = Runner(Store(home=home), workers=runner.executor.size)
        try:
            _, cold = first_point_seconds(cold_runner, config)
        finally:
            cold_runner.shutdown()
    out = {"submit_s": statistics.median(submits), "warm_s": statistics.median(warms), "cold_s": cold}
    log(f"  first point    submit returns {out['submit_s'] * 1000:.1f} ms   warm worker {out['warm_s']:.3f} s   "
        f"cold worker {cold:.3f} s")
    return out


def stop_seconds(runner: Runner, config) -> float:
    """Seconds from asking a training run to stop until the store says it has stopped."""
    run_id = runner.submit(config, owner="bench")
    wait_for_first_point(runner.store, run_id)
    start = time.perf_counter()
    runner.stop(run_id)
    run = wait_for(runner.store, run_id, timeout=60)
    if run.status != "stopped":
        raise RuntimeError(f"the stop run ended {run.status}: {run.message}")
    return time.perf_counter() - start


def measure_stop(runner: Runner, device: str, rounds: int, log) -> dict:
    config = make_config("moons", "mlp", ["train.epochs=null", "train.time_budget=120", f'train.device="{device}"'])
    seconds = [stop_seconds(runner, config) for _ in range(rounds)]
    out = {"median_s": statistics.median(seconds), "max_s": max(seconds), "rounds": rounds}
    log(f"  stop           median {out['median_s']:.3f} s   slowest {out['max_s']:.3f} s   ({rounds} runs)")
    return out


# --- 3. the MNIST-1D race ----------------------------------------------------------------

def measure_race(runner: Runner, device: str, budget: float, seeds: int, log) -> dict:
    """Every architecture and seed queued at once: the pool trains them as it trains a Compare race."""
    submitted = {(arch, seed): runner.submit(make_config("mnist1d", arch, [
        f"train.time_budget={budget}", "train.epochs=null", f"train.seed={seed}", f'train.device="{device}"']),
        owner="bench") for arch in PAPER_RACE_ARCHS for seed in range(seeds)}
    out = {}
    for arch in PAPER_RACE_ARCHS:
        runs = [wait_for(runner.store, submitted[arch, seed], timeout=budget * len(submitted) + 600)
                for seed in range(seeds)]
        accs = [r.metrics.get("test_accuracy", float("nan")) for r in runs]
        out[arch] = {"accuracy_mean": statistics.fmean(accs),
                     "accuracy_std": statistics.pstdev(accs) if len(accs) > 1 else 0.0,
                     "steps_mean": statistics.fmean(r.metrics.get("steps", 0) for r in runs),
                     "runs": len(accs), "paper": PAPER_ACCURACY.get(arch)}
        paper = f"paper {PAPER_ACCURACY[arch]:.2f}" if arch in PAPER_ACCURACY else "paper  -  "
        log(f"  race {arch:<12} accuracy {out[arch]['accuracy_mean']:.3f} ± {out[arch]['accuracy_std']:.3f}"
            f"   {paper}   ({len(accs)} x {budget:g} s, {out[arch]['steps_mean']:,.0f} steps)")
    return out


# --- 4. how many small runs one GPU sustains ------------------------------------------------

def measure_gpu_sharing(counts, seconds: float, log) -> dict:
    """N MNIST-1D MLP runs at once on the GPU, each in a worker of its own, for `seconds` each."""
    out = {}
    for n in counts:
        with tempfile.TemporaryDirectory(prefix="modelkit-bench-gpu-") as home:
            runner = Runner(Store(home=home), workers=n)
            try:
                runner.wait_ready(300)
                ids = [runner.submit(make_config("mnist1d", "mlp", [
                    f"train.time_budget={seconds}", "train.epochs=null", f"train.seed={i}", 'train.device="cuda"',
                    "train.eval_every=1000000"]), owner="bench") for i in range(n)]
                speeds = [wait_for(runner.store, run_id, timeout=seconds * 4 + 120).metrics.get("samples_per_s", 0.0)
                          for run_id in ids]
            finally:
                runner.shutdown()
        out[n] = {"total_samples_per_s": sum(speeds), "per_run_samples_per_s": statistics.fmean(speeds)}
        log(f"  gpu sharing    {n:>2} runs at once: {sum(speeds):>11,.0f} samples/s in all, "
            f"{statistics.fmean(speeds):>10,.0f} each")
    solo = out[counts[0]]["per_run_samples_per_s"]
    sustained = max(n for n in counts if out[n]["per_run_samples_per_s"] >= 0.5 * solo)
    log(f"  gpu sharing    {sustained} runs at once each keep at least half their solo speed")
    return {"runs": out, "sustained_at_half_speed": sustained}


PARTS = ("overhead", "first_point", "stop", "race")


def bench(device: str = "auto", quick: bool = False, log=print, executor: str = "local",
          parts: tuple[str, ...] = PARTS) -> dict:
    """Run the measurements named in `parts` in a throwaway store; returns the figures as nested dicts."""
    from modelkit.training.loop import resolve_device

    device = resolve_device(device).type
    rounds, scale = (2, 0.2) if quick else (7, 1.0)
    budget, seeds = (5.0, 1) if quick else (60.0, 3)
    with tempfile.TemporaryDirectory(prefix="modelkit-bench-") as home:
        store = Store(home=home)
        runner = Runner(store, executor=make_executor(store, None, executor))   # the dashboard's own pool
        threads = runner.executor.threads   # each worker's share of the cores; the bare loop gets the same
        try:
            runner.wait_ready(120)
            log(f"modelkit bench on {device}: {runner.executor.size} workers x {threads} threads, "
                f"{cpu_cores()} cores{' (quick)' if quick else ''}")
            result = {"machine": {"device": device, "cores": cpu_cores(), "workers": runner.executor.size,
                                  "threads_per_run": threads, "torch": torch.__version__, "quick": quick,
                                  "executor": executor, "load_average": [round(v, 2) for v in os.getloadavg()]}}
            measures = {"overhead": lambda: measure_overhead(runner, device, threads, scale, rounds, log),
                        "first_point": lambda: measure_first_point(runner, device, log, executor),
                        "stop": lambda: measure_stop(runner, device, rounds, log),
                        "race": lambda: measure_race(runner, device, budget, seeds, log)}
            for part in PARTS:
                if part in parts:
                    result[part] = measures[part]()
            result["machine"]["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
        finally:
            runner.shutdown()
    if device == "cuda" and "race" in parts:
        result["gpu_sharing"] = measure_gpu_sharing((1, 2, 4) if quick else (1, 2, 4, 8, 16), 5.0 if quick else 20.0,
                                                    log)
    return result


def main(args) -> int:
    log = (lambda text: print(text, file=sys.stderr, flush=True)) if args.json else print
    parts = tuple(args.parts.split(",")) if args.parts else PARTS
    result = bench(device=args.device or "auto", quick=args.quick, log=log, executor=args.executor, parts=parts)
    if args.json:
        print(json.dumps(result))
    return 0
