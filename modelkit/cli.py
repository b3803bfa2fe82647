"""python -m modelkit ...: train, tasks, archs, doctor, export, serve (and the run-store commands).

Exit status: 0 the run finished; 1 it failed, diverged or was stopped; 2 the
configuration was refused (one line on stderr naming the field).
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from modelkit import settings
from modelkit.fields import SECTIONS, ConfigError
from modelkit.store import STATUSES, NoModelError, StoreError
from modelkit.text import translate


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m modelkit",
                                     description="Train and compare neural-network architectures.")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_train(sub)
    _add_run_commands(sub)
    sub.add_parser("tasks", help="list the tasks").set_defaults(func=cmd_tasks)
    sub.add_parser("archs", help="list the architectures and the tasks they fit").set_defaults(func=cmd_archs)
    sub.add_parser("doctor", help="versions, devices and threads").set_defaults(func=cmd_doctor)
    data = sub.add_parser("datasets", help="the uploaded datasets (web page or train --data)")
    data.add_argument("--json", action="store_true", help="print a JSON list")
    data.set_defaults(func=cmd_datasets)
    sub.add_parser("host-key", help="print the key that opens the Host page (made once if there is none)") \
        .set_defaults(func=cmd_host_key)
    _add_lesson(sub)
    _add_challenge(sub)
    settings_cmd = sub.add_parser("settings", help="every setting with its default, allowed values and meaning")
    settings_cmd.add_argument("--arch", default="mlp", help="whose model settings to list (default mlp)")
    settings_cmd.add_argument("--section", choices=SECTIONS, help="only this section")
    settings_cmd.set_defaults(func=cmd_settings)
    _add_use_commands(sub)
    return parser


def _add_train(sub):
    train = sub.add_parser("train", help="train one model and print its test metrics")
    train.add_argument("--task", help="task name (see: python -m modelkit tasks)")
    train.add_argument("--arch", help="architecture (see: python -m modelkit archs)")
    train.add_argument("--epochs", type=int, help="passes over the training data")
    train.add_argument("--time-budget", type=float, help="seconds to train (alone: no epoch limit)")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a setting, e.g. train.lr=0.01 or model.hidden=[64,64]")
    train.add_argument("--config", help="a RunConfig JSON file to start from")
    train.add_argument("--data", metavar="FILE", help="your own data instead of --task: a CSV table, a UTF-8 .txt "
                       "or a .zip of image folders (one folder per class)")
    train.add_argument("--target", help="with a CSV: the column to predict (default: guessed, as the upload panel does); with "
                       "--kind forecast, the column or columns (a,b) to forecast")
    train.add_argument("--kind", choices=("classification", "regression", "forecast"),
                       help="with a CSV: what predicting the target is (default: guessed from its values); "
                            "forecast: the rows are time steps, forecast the target's next values")
    train.add_argument("--inputs", help="with --kind forecast: more columns the model sees (a,b), besides the target")
    train.add_argument("--window", type=int, help="with --kind forecast: the past steps the model sees (task.seq_len)")
    train.add_argument("--horizon", type=int, help="with --kind forecast: the steps ahead it forecasts (task.horizon)")
    train.add_argument("--seed", type=int, help="random seed (train.seed)")
    train.add_argument("--device", help="auto, cpu, cuda or mps")
    train.add_argument("--json", action="store_true", help="print one JSON object at the end")
    train.add_argument("--executor", choices=settings.EXECUTORS,
                       help="local: train in this process (default); ray: on the Ray cluster at RAY_ADDRESS, or a "
                            "local Ray started now (default: MODELKIT_EXECUTOR)")
    train.set_defaults(func=cmd_train)


AS_HELP = ("as participant NAME sees them: another's model shared to the gallery keeps its architecture "
           "and settings hidden until the host reveals them (default: as the host, everything)")


def _add_run_commands(sub):
    """The commands on one recorded run, and the run list."""
    runs = sub.add_parser("runs", help="list the recorded runs, newest first")
    runs.add_argument("--status", choices=STATUSES, help="only runs with this status")
    runs.add_argument("--limit", type=int, default=50, help="at most this many (default 50; 0 = all)")
    runs.add_argument("--json", action="store_true", help="print a JSON list")
    runs.add_argument("--as", dest="viewer", metavar="NAME", help=AS_HELP)
    runs.set_defaults(func=cmd_runs)
    for name, func, text in [("show", cmd_show, "print a run's status, message, metrics and config"),
                             ("stop", cmd_stop, "ask a running run to stop, whichever process trains it"),
                             ("delete", cmd_delete, "remove a run with its points and artifacts")]:
        command = sub.add_parser(name, help=text)
        command.add_argument("run", help="the run id (see: python -m modelkit runs)")
        if name == "show":
            command.add_argument("--json", action="store_true", help="print one JSON object")
            command.add_argument("--as", dest="viewer", metavar="NAME", help=AS_HELP)
        command.set_defaults(func=func)

    live = sub.add_parser("set", help="change a training run's learning rate from its next step: set RUN train.lr=0.001")
    live.add_argument("run", help="the run id (see: python -m modelkit runs)")
    live.add_argument("setting", help="train.lr=VALUE (the one setting that can change while a run trains)")
    live.set_defaults(func=cmd_set)
    for name, text in (("pause", "hold a training run between two steps"), ("resume", "go on with a paused run")):
        command = sub.add_parser(name, help=text)
        command.add_argument("run", help="the run id (see: python -m modelkit runs)")
        command.set_defaults(func=cmd_pause, paused=name == "pause")

    inspect = sub.add_parser("inspect", help="what is inside a finished run's model, for one test example")
    inspect.add_argument("run", help="the run id (see: python -m modelkit runs)")
    inspect.add_argument("--example", type=int, default=0, help="which test example (default 0)")
    inspect.add_argument("--json", action="store_true", help="print one JSON object (the only output for now)")
    inspect.set_defaults(func=cmd_inspect)


def _add_lesson(sub):
    """The host's lesson, as the Host page paces it: every open participant page follows."""
    lesson = sub.add_parser("lesson", help="pace the room's lesson: list, start NAME, step N, free")
    what = lesson.add_subparsers(dest="lesson_command", required=True)
    what.add_parser("list", help="the lessons (ready ones, then the host's) and where the room is") \
        .set_defaults(func=cmd_lesson_list)
    start = what.add_parser("start", help="start a lesson at its step 1")
    start.add_argument("name", help="the lesson (see: python -m modelkit lesson list)")
    start.set_defaults(func=cmd_lesson_start)
    step = what.add_parser("step", help="move the room to step N of its lesson")
    step.add_argument("n", type=int, help="the step, from 1")
    step.set_defaults(func=cmd_lesson_step)
    what.add_parser("free", help="let the room run free again").set_defaults(func=cmd_lesson_free)


def _add_challenge(sub):
    """A challenge, as the Host page's form makes one."""
    made = sub.add_parser("challenge", help="create a challenge for the room and print its id (the link: ?challenge=ID)")
    made.add_argument("--task", required=True, help="task name, or an uploaded dataset's ds-... (see: datasets)")
    made.add_argument("--arch", action="append", required=True,
                      help="an allowed architecture (repeat for more; the first is where participants start)")
    made.add_argument("--budget", type=float, default=30.0, help="seconds one run may train (default 30)")
    made.add_argument("--lock", action="append", default=[], metavar="KEY=VALUE",
                      help="a locked setting, e.g. --lock train.lr=0.01 (repeatable)")
    made.add_argument("--title", default="", help="its title")
    made.add_argument("--instruction", default="", help="what participants read on top of the Train page")
    made.add_argument("--minutes", type=float, help="open for this many minutes (default: until closed)")
    hidden = made.add_mutually_exclusive_group()
    hidden.add_argument("--held-back", action="store_true",
                        help="rank on a hidden test: a fifth of the task's rows held back from every run")
    hidden.add_argument("--hidden-file", metavar="PATH",
                        help="rank on a hidden test: a labelled CSV with the task's columns that only the host sees")
    made.set_defaults(func=cmd_challenge)


def _add_use_commands(sub):
    """Using a finished run (export, serve) and measuring modelkit itself (bench)."""
    export = sub.add_parser("export", help="write a finished run's take-home bundle: weights, ONNX, train.py, "
                                           "curves, metrics and a model card")
    export.add_argument("run", help="the run id (see: python -m modelkit runs)")
    export.add_argument("--out", help="folder to write (default: modelkit-RUN_ID)")
    export.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the model card")
    export.set_defaults(func=cmd_export)

    serve = sub.add_parser("serve", help="answer predictions of a finished run over HTTP (POST /predict)")
    serve.add_argument("run", help="the run id (see: python -m modelkit runs)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8600, help="port to listen on (default 8600)")
    serve.add_argument("--header-timeout", type=float, metavar="S",
                       help="seconds a client may take to send a request's headers (default 10)")
    serve.add_argument("--body-timeout", type=float, metavar="S",
                       help="seconds a client may take to send a request's body (default 30)")
    serve.set_defaults(func=cmd_serve)

    bench = sub.add_parser("bench", help="trainer overhead vs bare PyTorch, time to first point, MNIST-1D race")
    bench.add_argument("--json", action="store_true", help="print one JSON object of the figures at the end")
    bench.add_argument("--device", help="auto (default), cpu, cuda or mps")
    bench.add_argument("--quick", action="store_true", help="a short version: fewer rounds, 5 s race runs, one seed")
    bench.add_argument("--executor", choices=settings.EXECUTORS, default="local",
                       help="measure through local worker processes (default) or the Ray executor")
    bench.add_argument("--parts", type=_bench_parts, metavar="PART[,PART]",
                       help="only these measurements: overhead, first_point, stop, race (default all)")
    bench.set_defaults(func=cmd_bench)


def config_from_args(args):
    """The RunConfig an invocation asks for: file, then task/arch defaults, then flags and --set."""
    from modelkit.config import make_config

    base = {}
    if args.config:
        try:
            with open(args.config, encoding="utf-8") as f:
                base = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise ConfigError("--config", "config_file", detail=str(e)[:200]) from None
        except (UnicodeDecodeError, ValueError, RecursionError):   # binary, or not JSON at all
            raise ConfigError("--config", "config_file", detail="not a UTF-8 JSON file") from None
        if not isinstance(base, dict):
            raise ConfigError("--config", "not_object")
    for section in SECTIONS:
        if not isinstance(base.get(section) or {}, dict):
            raise ConfigError(section, "not_mapping")
    task = args.task or (base.get("task") or {}).get("name")
    if getattr(args, "data", None):
        task = add_data(args).task
    arch = args.arch or (base.get("model") or {}).get("arch")
    if not task or not arch:
        raise ConfigError("--task" if not task else "--arch", "required")
    sets = list(args.set)
    if args.epochs is not None:
        sets.append(f"train.epochs={args.epochs}")
    if args.time_budget is not None:
        sets.append(f"train.time_budget={args.time_budget}")
        if args.epochs is None:
            sets.append("train.epochs=null")
    if args.seed is not None:
        sets.append(f"train.seed={args.seed}")
    if getattr(args, "window", None) is not None:
        sets.append(f"task.seq_len={args.window}")
    if getattr(args, "horizon", None) is not None:
        sets.append(f"task.horizon={args.horizon}")
    if args.device:
        sets.append(f"train.device={json.dumps(args.device)}")
    return make_config(task, arch, sets, base)


def add_data(args):
    """Store --data as a dataset (once per content) and return it; refusals name the file and the limit."""
    from pathlib import Path

    from modelkit.data import series, uploads

    path = Path(args.data)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError("--data", "config_file", detail=str(e)[:200]) from None
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return uploads.add_images(raw, path.name, owner="cli")
    if suffix.lstrip(".") in uploads.TEXT_SUFFIXES:
        return uploads.add_text(raw, path.name, owner="cli")
    if args.kind == "forecast":
        frame = uploads.read_table(raw, path.name, min_columns=1)
        targets = (args.target or str(frame.columns[-1])).split(",")
        inputs = args.inputs.split(",") if args.inputs else []
        return series.add_series(raw, path.name, [t.strip() for t in targets], [c.strip() for c in inputs],
                                 owner="cli")
    frame = uploads.read_table(raw, path.name)
    return uploads.add_table(raw, path.name, args.target or str(uploads.guess_target(frame)[0]), args.kind, owner="cli")


class ProgressLine:
    """A one-line progress bar on stderr with the live loss and samples/s (at most 10 redraws a second)."""

    def __init__(self, stream=sys.stderr):
        self.stream, self.last, self.max_steps, self.budget = stream, 0.0, None, None

    def on_fit_begin(self, max_steps=None, config=None, **info):
        self.max_steps, self.budget = max_steps, config.time_budget

    def on_step(self, step, seconds, loss, samples_per_s, **info):
        now = time.monotonic()
        if now - self.last < 0.1:
            return
        self.last = now
        fractions = [step / self.max_steps if self.max_steps else 0, seconds / self.budget if self.budget else 0]
        done = min(max(fractions), 1.0)
        bar = "#" * int(done * 24)
        self.stream.write(f"\r[{bar:<24}] {done:4.0%}  step {step}  loss {loss:.4f}  "
                          f"{samples_per_s:,.0f} samples/s  {seconds:.1f}s ")
        self.stream.flush()

    def on_fit_end(self, **info):
        self.stream.write("\n")
        self.stream.flush()


def open_store():
    """The run store, with the runs of vanished processes (a killed server or terminal) marked interrupted."""
    from modelkit.store import Store

    store = Store()
    store.recover_orphans()
    return store


def cmd_train(args) -> int:
    """Train in this process, recorded in the run store like a run started from the dashboard."""
    from modelkit.execution.worker import execute_run
    from modelkit.room import admit
    from modelkit.training.loop import check_device

    store = open_store()
    # the room's limits, as the host, and the memory estimate: a model too big for a worker is refused now
    config = admit(store, config_from_args(args), owner="cli")
    if (args.executor or settings.executor()) == "ray":
        return train_on_ray(config, args.json)
    check_device(config.train.device)   # refused before a run is stored: exit 2, one line
    callbacks = [] if args.json and not sys.stderr.isatty() else [ProgressLine()]
    run_id = store.create_run(config, owner="cli", queued=False)
    if not args.json:
        print(f"run {run_id}", file=sys.stderr)
    result = execute_run(store, run_id, callbacks, should_stop=StopOnCtrlC())
    return report(result, args.json, run_id=run_id)


def train_on_ray(config, as_json: bool) -> int:
    """Queue the run and wait while an actor of the Ray cluster trains it; print it as `show` does, node included."""
    from modelkit.execution.ray_executor import RayExecutor
    from modelkit.execution.runner import Runner

    store = open_store()
    runner = Runner(store, executor=RayExecutor(store, workers=1))
    try:
        run_id = runner.submit(config, owner="cli")
        if not as_json:
            print(f"run {run_id} (queued for the Ray cluster)", file=sys.stderr)
        ctrl_c = StopOnCtrlC()
        while (run := store.get_run(run_id)).active:
            if ctrl_c() and not run.stop_requested:
                runner.stop(run_id)
            time.sleep(0.2)
    finally:
        runner.shutdown()
    print_run(run, as_json)
    return 0 if run.status == "completed" else 1


class StopOnCtrlC:
    """should_stop for a terminal run: the first Ctrl-C stops at the next step, a second at once."""

    def __init__(self):
        import signal

        self.pressed = False
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum, frame):
        if self.pressed:
            raise KeyboardInterrupt
        self.pressed = True

    def __call__(self) -> bool:
        return self.pressed


def report(result, as_json: bool, **extra) -> int:
    """Print how a run ended (a JSON object last, with --json); the exit status for it."""
    if as_json:
        out = {"status": result.status, "message": result.message, "seconds": round(result.seconds, 3),
               "params": result.params, "device": result.device, "steps": result.steps,
               "epochs": round(result.epochs, 3), "samples_per_s": round(result.samples_per_s, 1),
               "metrics": result.metrics, **extra}
        if "sample_text" in result.details:
            out["sample_text"] = result.details["sample_text"]
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(f"{result.status}: {result.message}")
        for name, value in result.metrics.items():
            print(f"  {name:<26} {value:.4f}")
        if "sample_text" in result.details:
            print("\nsample:\n" + result.details["sample_text"])
    if result.status != "completed":
        print(f"the run {result.status}: {result.message}", file=sys.stderr)
        return 1
    return 0


def seen_store(args):
    """The store as `--as NAME` reads runs (modelkit.room.gallery.Seen); without it, as the host."""
    from modelkit.room import gallery

    return gallery.Seen(open_store(), args.viewer)


def cmd_runs(args) -> int:
    runs = seen_store(args).list_runs(status=args.status, limit=args.limit or None)
    if args.json:
        print(json.dumps([r.to_dict() for r in runs], ensure_ascii=False))
        return 0
    rows = [[r.id, r.status, r.task, r.arch, r.owner[:24], r.created.strftime("%Y-%m-%d %H:%M:%S"), headline(r)]
            for r in runs]
    print(aligned(["id", "status", "task", "arch", "owner", "created (UTC)", "result"], rows))
    return 0


def aligned(header: list[str], rows: list[list[str]], gap: int = 2) -> str:
    """A plain-text table: each column as wide as its widest cell, `gap` spaces apart (the last one free)."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    return "\n".join((" " * gap).join(str(cell).ljust(w) for cell, w in zip(line[:-1], widths)) + " " * gap
                     + str(line[-1]) for line in [header, *rows])


def headline(run) -> str:
    """The one figure that says how a run did, or where it stands."""
    from modelkit.data import tasks

    if run.status == "queued":
        return f"position {run.queue_position} in the queue"
    for name in (*(kind.metric for kind in tasks.KINDS.values()), "test_loss"):
        if name in run.metrics:
            return f"{name} {run.metrics[name]:.4f}"
    return run.message[:60]


def find_run(store, run_id):
    run = store.get_run(run_id)
    if run is None:
        raise ConfigError("run", "no_run", run=repr(run_id)[:60])
    return run


def cmd_show(args) -> int:
    print_run(find_run(seen_store(args), args.run), args.json)
    return 0


def print_run(run, as_json: bool):
    """A stored run: one JSON object, or its status, settings and metrics as lines."""
    if as_json:
        print(json.dumps(run.to_dict(), ensure_ascii=False))
        return
    print(f"run      {run.id}  {run.name}".rstrip())
    print(f"status   {run.status}" + (f" (position {run.queue_position} in the queue)" if run.queue_position else ""))
    print(f"message  {run.message}")
    print(f"task     {run.task}   arch {run.arch}   owner {run.owner}   device {run.device or '-'}   "
          f"params {run.params if run.params is not None else '-'}" + (f"   node {run.node}" if run.node else ""))
    for name, value in run.metrics.items():
        print(f"  {name:<26} {value:.4f}" if isinstance(value, float) else f"  {name:<26} {value}")
    print("config   " + json.dumps(run.config, indent=2, ensure_ascii=False).replace("\n", "\n         "))


def cmd_stop(args) -> int:
    store = open_store()
    run = find_run(store, args.run)
    if not store.request_stop(run.id):
        print(f"run {run.id} is not running (it is {run.status})", file=sys.stderr)
        return 1
    print(f"asked run {run.id} to stop")
    return 0


def live_lr(setting: str) -> float:
    """The learning rate of `train.lr=VALUE`, checked as the config checks it; anything else is refused."""
    from modelkit.config import TrainConfig
    from modelkit.fields import parse, parse_value

    path, sep, text = setting.partition("=")
    if not sep:
        raise ConfigError("setting", "set_syntax")
    if path.strip() != "train.lr":
        raise ConfigError(path.strip(), "live_setting")
    return parse(TrainConfig, {"lr": parse_value(text.strip(), "train.lr")}, "train").lr


def cmd_set(args) -> int:
    store = open_store()
    lr = live_lr(args.setting)
    run = find_run(store, args.run)
    from modelkit.room import actions

    return changed(run, actions.change_lr(store, run.id, lr),   # as the host; a locked challenge rate is refused
                   f"trains at learning rate {lr:g} from its next step")


def cmd_pause(args) -> int:
    store = open_store()
    run = find_run(store, args.run)
    from modelkit.room import actions

    return changed(run, actions.pause(store, run.id, args.paused),   # as the host
                   "pauses after its current step" if args.paused else "goes on")


def changed(run, done: bool, what: str) -> int:
    """The line and exit status of a change to a training run: `what` it does now, or that it is not training."""
    if not done:
        print(f"run {run.id} is not training (it is {run.status})", file=sys.stderr)
        return 1
    print(f"run {run.id} {what}")
    return 0


def cmd_delete(args) -> int:
    store = open_store()
    run = find_run(store, args.run)
    if run.active:   # stop it first and give it a few seconds to end
        store.request_stop(run.id)
        deadline = time.monotonic() + 10
        while store.get_run(run.id).active and time.monotonic() < deadline:
            time.sleep(0.2)
    store.delete_run(run.id)   # a StoreError (still training) is main's one-line refusal
    print(f"deleted run {run.id}")
    return 0


def cmd_inspect(args) -> int:
    """One JSON object: probabilities, layers, and filters / hidden states / attention as the family has them."""
    from modelkit import inside
    from modelkit.store import Store

    store = Store()
    run = find_run(store, args.run)
    look = inside.inspect_run(store, run.id, args.example)   # NoModelError: main's one-line refusal
    print(json.dumps(look, ensure_ascii=False))
    return 0


def cmd_tasks(args) -> int:
    from modelkit.data.tasks import TASKS
    from modelkit.models import archs_for

    for info in TASKS.values():
        print(f"{info.name:<14} {info.kind:<15} {translate('en', f'task.{info.name}.desc')}  "
              f"[archs: {', '.join(archs_for(info.name))}]")
    return 0


def cmd_archs(args) -> int:
    from modelkit.data.tasks import TASKS
    from modelkit.models import ARCHS, archs_for

    for arch in ARCHS:
        fits = [t for t in TASKS if arch in archs_for(t)]
        print(f"{arch:<12} {translate('en', f'arch.{arch}.desc')}  [tasks: {', '.join(fits)}]")
    return 0


def cmd_datasets(args) -> int:
    from dataclasses import asdict

    from modelkit.data import uploads

    open_store()   # the datasets are in the store (an older home's files move in as it opens)
    found = uploads.list_datasets()
    if args.json:
        print(json.dumps([{**asdict(d), "task": d.task} for d in found], ensure_ascii=False))
        return 0
    for d in found:
        print(f"{d.task:<16} {d.kind:<7} {d.task_kind:<15} {d.rows:>8,} rows  {len(d.class_names) or '-':>4} classes  {d.name}")
    return 0


def cmd_settings(args) -> int:
    """Every setting of a section with its default, allowed values and help: the pages' words, in English."""
    from modelkit import models
    from modelkit.fields import TaskConfig, TrainConfig, describe

    sections = {"task": TaskConfig, "train": TrainConfig, "model": models.model_config_class(args.arch)}
    family = models.family_name(args.arch)
    for section, cls in sections.items():
        if args.section and section != args.section:
            continue
        print(f"[{section}]" + (f" ({args.arch})" if section == "model" else ""))
        for name, meta in describe(cls).items():
            help_key = f"help.model.{family}.{name}" if section == "model" and name != "arch" else f"help.{section}.{name}"
            print(f"  {section}.{name} = {json.dumps(meta['default'])}  {_allowed(meta)}")
            print(f"      {translate('en', help_key)}")
    return 0


def _allowed(meta: dict) -> str:
    if meta.get("choices"):
        return "(" + " | ".join(map(str, meta["choices"])) + ")"
    low, high = meta.get("low"), meta.get("high")
    if low is None and high is None:
        return f"({meta['type']})"
    return f"({meta['type']}, {'>' if meta.get('low_open') else '>='} {low:g}" + (f", <= {high:g})" if high is not None else ")")




def cmd_export(args) -> int:
    from modelkit.store import Store
    from modelkit.use.export import export_run

    store = Store()
    run = find_run(store, args.run)
    try:
        folder = export_run(store, run.id, args.out or f"modelkit-{run.id}", args.lang)
    except (NoModelError, StoreError):
        raise   # main's one-line refusal
    except Exception as e:   # the run is fine; only writing its bundle went wrong
        print(f"error: the export of run {run.id} failed (the run itself is unchanged): {type(e).__name__}: {e}",
              file=sys.stderr)
        return 1
    print(f"wrote {folder}")
    for path in sorted(folder.iterdir()):
        print(f"  {path.name:<20} {path.stat().st_size:>10,} bytes")
    return 0


def cmd_serve(args) -> int:
    from modelkit.store import Store
    from modelkit.use.serve import serve

    if not 0 < args.port < 65536:
        raise ConfigError("--port", "range", low=1, high=65535, value=args.port)
    timeouts = {name: seconds for name, seconds in (("header_timeout", args.header_timeout),
                                                    ("body_timeout", args.body_timeout)) if seconds is not None}
    for name, seconds in timeouts.items():
        if not 0 < seconds <= 3600:
            raise ConfigError("--" + name.replace("_", "-"), "range", low=0, high=3600, value=seconds)
    store = Store()
    run = find_run(store, args.run)
    serve(store, run.id, args.host, args.port, **timeouts)
    return 0


def _bench_parts(text: str) -> str:
    from modelkit.bench import PARTS

    unknown = [part for part in text.split(",") if part not in PARTS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown part {unknown[0]!r}; choose from {', '.join(PARTS)}")
    return text


def cmd_bench(args) -> int:
    from modelkit import bench

    return bench.main(args)


def cmd_host_key(args) -> int:
    from modelkit.room import host_key

    print(host_key())
    return 0


def cmd_challenge(args) -> int:
    """Create a challenge as the host; its id on stdout."""
    from pathlib import Path

    from modelkit import room

    file = None
    if args.hidden_file:
        path = Path(args.hidden_file)
        try:
            file = (path.read_bytes(), path.name)
        except OSError as e:
            raise ConfigError("--hidden-file", "config_file", detail=str(e)[:200]) from None
    hidden = room.hidden.UPLOAD if file else room.hidden.HELD_BACK if args.held_back else None
    made = room.create_challenge(open_store(), task=args.task, archs=args.arch, budget=args.budget,
                                 locked=args.lock, title=args.title, instruction=args.instruction,
                                 deadline=time.time() + 60 * args.minutes if args.minutes else None,
                                 hidden=hidden, hidden_file=file)
    print(made)
    return 0


def cmd_lesson_list(args) -> int:
    from modelkit.room import lessons

    store = open_store()
    now = lessons.current(store)
    for name in lessons.lesson_names(store):
        lesson = lessons.find_lesson(store, name)
        title = translate("en", f"lesson.{name}.title") if lesson.ready else lesson.title
        here = ""
        if now is not None and now.lesson.name == name:
            here = "  (running free)" if now.free else f"  (the room is on step {now.step})"
        print(f"{name:<16} {len(lesson.steps):>2} steps  {title}{here}")
    return 0


def print_step(now) -> int:
    step = now.current
    title = translate("en", f"{step.words}.title") if step.words else step.title
    print(f"the room is on step {now.step} of {len(now.lesson.steps)} of {now.lesson.name}: {step.kind}"
          + (f" · {title}" if title else "") + (f" (challenge {now.challenge})" if now.challenge else ""))
    return 0


def cmd_lesson_start(args) -> int:
    from modelkit.room import lessons

    return print_step(lessons.start(open_store(), args.name))   # as the host


def cmd_lesson_step(args) -> int:
    from modelkit.room import lessons

    return print_step(lessons.move(open_store(), args.n))


def cmd_lesson_free(args) -> int:
    from modelkit.room import lessons

    now = lessons.free(open_store())
    print("the room runs free" if now is None else f"the room runs free (the lesson {now.lesson.name} stays at step {now.step})")
    return 0


def cmd_doctor(args) -> int:
    import platform

    import torch

    print(f"python      {platform.python_version()} ({platform.platform()})")
    print(f"torch       {torch.__version__}")
    print(f"threads     {torch.get_num_threads()} (intra-op), {torch.get_num_interop_threads()} (inter-op)")
    print(f"cuda        {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'not available'}")
    mps = getattr(torch.backends, "mps", None)
    print(f"mps         {'available' if mps is not None and mps.is_available() else 'not available'}")
    for name in ("numpy", "sklearn", "streamlit", "sqlalchemy", "plotly", "pandas", "mnist1d"):
        try:
            module = __import__(name)
            print(f"{name:<11} {getattr(module, '__version__', 'installed')}")
        except ImportError:
            print(f"{name:<11} missing")
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (NoModelError, StoreError) as e:   # no trained model, or a store that refuses: one line, exit 1
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 1
    except Exception as e:  # a crash is reported in one line, never as a traceback
        print(f"error: the run failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
