"""The parts of the standalone train.py besides the model: data per task, loss, optimizer, loop, metrics.

Everything here is source text that codegen.script_source fills in and joins; the
script it makes needs only torch, numpy and the package the data comes from.
"""
from __future__ import annotations

import torch

from modelkit.data import tasks, uploads


def install_command(task: str) -> str:
    """The one pip line that makes a fresh Python ready for train.py and model.onnx (the bundle's README)."""
    package = tasks.task_info(task).package
    extra = [] if package.startswith("nothing more") else [package]
    return " ".join(["pip install", TORCH, "numpy", *extra, "onnxruntime"])


TORCH = "'torch>=2.4,<2.14'"   # as requirements.txt bounds it: the platform's ordinary build, not a CUDA one by surprise

SCRIPT_HEADER = '''\
"""Train a {arch} on {task}: a standalone PyTorch script exported from modelkit{run}.

    python train.py               train from scratch with the settings below, save trained.safetensors
    python train.py --evaluate    load model.safetensors and print its test metrics as JSON

Needs torch, numpy and {data_package} (for the data).
"""
import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F'''


# --- data ------------------------------------------------------------------------

SPLIT = '''
def split(x, y, test=None):
    """Shuffle with DATA_SEED, then cut the test share (unless given) and the validation share off."""
    g = torch.Generator().manual_seed(DATA_SEED)
    x, y = torch.as_tensor(x), torch.as_tensor(y){hold}
    order = torch.randperm(len(x), generator=g)
    x, y = x[order], y[order]
    if test is None:
        n_test = max(1, int(round(len(x) * TEST_FRACTION)))
        test, x, y = (x[:n_test], y[:n_test]), x[n_test:], y[n_test:]
    n_val = max(1, int(round(len(x) * VAL_FRACTION)))
    return (x[n_val:], y[n_val:]), (x[:n_val], y[:n_val]), (torch.as_tensor(test[0]), torch.as_tensor(test[1]))
'''

TOY_POINTS = {
    "moons": "x, y = datasets.make_moons(N_SAMPLES, noise=NOISE, random_state=DATA_SEED)",
    "circles": "x, y = datasets.make_circles(N_SAMPLES, noise=NOISE, factor=0.5, random_state=DATA_SEED)",
    "blobs": "x, y = datasets.make_blobs(N_SAMPLES, centers=3, cluster_std=1.0 + 4 * NOISE, random_state=DATA_SEED)",
    "xor": """rng = np.random.default_rng(DATA_SEED)
    x = rng.uniform(-1, 1, size=(N_SAMPLES, 2))
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(np.int64)  # opposite corners share a class
    x = x + rng.normal(0, NOISE, size=x.shape)""",
    "spiral": """rng = np.random.default_rng(DATA_SEED)
    y = np.arange(N_SAMPLES) % 2
    r = rng.uniform(0.05, 1.0, size=N_SAMPLES)
    angle = 3.5 * np.pi * r + np.pi * y  # two arms, each turning 1.75 times
    x = np.stack([r * np.cos(angle), r * np.sin(angle)], 1) + rng.normal(0, NOISE * 0.3, size=(N_SAMPLES, 2))""",
}


HOLD_BACK = '''
def hold_back(x, y):
    """Without the HOLDOUT share of the rows, which the challenge's hidden test keeps: chosen by a seed of
    their own (HOLDOUT_SEED, whatever DATA_SEED), so every run of the challenge leaves out the same rows."""
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(HOLDOUT_SEED))
    kept = order[max(1, int(round(len(x) * HOLDOUT))):].sort().values
    return x[kept], y[kept]
'''
HOLD = "\n    x, y = hold_back(x, y)  # rows no run of the challenge trains, validates or is tested on"


def holds_back(task) -> bool:
    """Whether train.py itself leaves out a hidden test's rows (task.holdout): for data it makes or loads
    from a package. An upload's rows travel in the bundle already without them (bundled_arrays): the
    hidden rows never leave the store, and the rows kept are in the order tasks.hold_back leaves them."""
    return bool(task.holdout) and uploads.from_task(task.name) is None


def bundled_arrays(task) -> dict:
    """An uploaded dataset's arrays as its run's bundle carries them (data.npz): without the rows a hidden
    test holds back (modelkit.data.tasks.hold_back), so that no one takes them home."""
    arrays = uploaded_arrays(task.name)
    if not task.holdout or "x" not in arrays:
        return arrays
    x, y, _ = tasks.hold_back(task, torch.from_numpy(arrays["x"]), torch.from_numpy(arrays["y"]))
    return {"x": x.numpy(), "y": y.numpy()}


def data_source(task) -> str:
    """The script's load_data (and split) for the task, or its read_text for a text task; with
    task.holdout (a hidden test's challenge) the split leaves out the same rows as modelkit.data.tasks.hold_back."""
    body = _data_body(task.name)
    if body is None:
        return SPLIT_TEXT
    split = SPLIT.strip().replace("{hold}", HOLD if holds_back(task) else "")
    return (HOLD_BACK.strip() + "\n\n\n" if holds_back(task) else "") + split + "\n\n\n" + body.strip()


def _data_body(name: str) -> str | None:
    uploaded = uploads.from_task(name)
    if uploaded is not None:
        arrays = uploaded_arrays(name)
        if "values" in arrays:   # a series: one row per time step
            return UPLOADED_SERIES
        if "x" not in arrays:
            return None
        return UPLOADED_TABLE if arrays["x"].ndim == 2 else UPLOADED_IMAGES
    if name in TOY_POINTS:
        return TOY_SOURCE.format(points=TOY_POINTS[name])
    if tasks.task_info(name).table:
        return TABLE_SOURCE.format(name=name)
    return DATA_SOURCES.get(name)


TOY_SOURCE = '''
def load_data():
    """2-D points of two or more classes, standardised, split into train / validation / test."""
    from sklearn import datasets

    {points}
    x = torch.tensor(x, dtype=torch.float32)
    x = (x - x.mean(0)) / x.std(0)
    return split(x, torch.tensor(y, dtype=torch.int64))
'''

TABLE_SOURCE = '''
def load_data():
    """A table of measurements; each column standardised with the training rows' mean and spread."""
    from sklearn import datasets

    bunch = datasets.load_{name}()
    train, val, test = split(torch.tensor(bunch.data, dtype=torch.float32), torch.tensor(bunch.target))
    mean, std = train[0].mean(0, keepdim=True), train[0].std(0, keepdim=True).clamp_min(1e-6)
    return [((x - mean) / std, y) for x, y in (train, val, test)]
'''

DATA_SOURCES = {   # the tasks whose data needs no parameter of its own
    "digits": '''
def load_data():
    """8x8 images of handwritten digits, pixel values scaled to [0, 1]: (N, 1, 8, 8)."""
    from sklearn import datasets

    bunch = datasets.load_digits()
    x = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    return split(x, torch.tensor(bunch.target))
''',
    "mnist1d": '''
def load_data():
    """MNIST-1D signals of length 40 from the mnist1d generator (its default settings; no download)."""
    from mnist1d.data import get_dataset_args, make_dataset

    ds = make_dataset(get_dataset_args())
    test = (torch.tensor(np.asarray(ds["x_test"]), dtype=torch.float32), torch.tensor(np.asarray(ds["y_test"])))
    return split(torch.tensor(np.asarray(ds["x"]), dtype=torch.float32), torch.tensor(np.asarray(ds["y"])), test)
''',
    "sine": '''
def load_data():
    """Noisy sine waves: the past SEQ_LEN values in, the next HORIZON clean values out."""
    g = torch.Generator().manual_seed(DATA_SEED)
    length = SEQ_LEN + HORIZON
    freq = 0.02 + 0.10 * torch.rand(N_SAMPLES, 1, generator=g)  # periods of 8 to 50 steps
    phase = 2 * torch.pi * torch.rand(N_SAMPLES, 1, generator=g)
    amp = 0.5 + torch.rand(N_SAMPLES, 1, generator=g)
    t = torch.arange(length, dtype=torch.float32)
    clean = amp * torch.sin(2 * torch.pi * freq * t + phase)
    series = clean + NOISE * torch.randn(N_SAMPLES, length, generator=g)
    return split(series[:, :SEQ_LEN], clean[:, SEQ_LEN:])
''',
}


def uploaded_arrays(name: str) -> dict:
    ds = uploads.from_task(name)
    return uploads.arrays(ds) if ds is not None and ds.kind != "text" else {}


UPLOADED_TABLE = '''
def load_data():
    """Your table as modelkit encoded it (data.npz: x, y); columns standardised with the training rows."""
    with np.load("data.npz", allow_pickle=False) as f:
        train, val, test = split(torch.from_numpy(f["x"]), torch.from_numpy(f["y"]))
    mean, std = train[0].mean(0, keepdim=True), train[0].std(0, keepdim=True).clamp_min(1e-6)
    return [((x - mean) / std, y) for x, y in (train, val, test)]
'''

UPLOADED_SERIES = '''
def load_data():
    """Your series (data.npz: values, one row per time step; series.json: which columns go in and which are
    forecast): windows of SEQ_LEN steps forecasting HORIZON, split by time (the last part is the test set,
    never shuffled), scaled with the training part alone, each window relative to its last value."""
    with open("series.json", encoding="utf-8") as f:
        columns = json.load(f)
    inputs, targets = columns["inputs"], columns["targets"]
    with np.load("data.npz", allow_pickle=False) as f:
        values = torch.from_numpy(f["values"]).double()  # (T, columns)
    n = len(values)
    n_test, n_val = max(1, round(n * TEST_FRACTION)), max(1, round(n * VAL_FRACTION))
    cut_val, cut_test = n - n_test - n_val, n - n_test
    mean, std = values[:cut_val].mean(0), values[:cut_val].std(0, unbiased=False)
    scaled = (values - mean) / torch.where(std > 1e-9, std, torch.ones_like(std))

    def windows(start, stop):
        at = torch.arange(max(start - 1, SEQ_LEN - 1), stop - HORIZON)  # each window's last step
        past = at[:, None] - SEQ_LEN + 1 + torch.arange(SEQ_LEN)
        future = at[:, None] + 1 + torch.arange(HORIZON)
        x = scaled[past][:, :, inputs] - scaled[at][:, None, inputs]  # (N, SEQ_LEN, inputs)
        y = (scaled[future][:, :, targets] - scaled[at][:, None, targets]).reshape(len(at), -1)
        return (x[:, :, 0] if len(inputs) == 1 else x).float(), y.float()

    return windows(0, cut_val), windows(cut_val, cut_test), windows(cut_test, n)
'''

UPLOADED_IMAGES = '''
def load_data():
    """Your images as modelkit resized them (data.npz: x as (N, C, 28, 28) in [0, 1], y the class ids)."""
    with np.load("data.npz", allow_pickle=False) as f:
        return split(torch.from_numpy(f["x"]), torch.from_numpy(f["y"]))
'''


SPLIT_TEXT = '''
def read_text():
    """Your uploaded text (data.txt), else the run's own text (config.json), else Python's English docs."""
    try:
        with open("data.txt", encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        pass
    with open("config.json", encoding="utf-8") as f:
        text = json.load(f)["task"]["text"]
    if text:
        return text
    from pydoc_data.topics import topics

    return "\\n\\n".join(topics[k] for k in sorted(topics))


def windows(ids, stride):
    """Windows of SEQ_LEN characters and, for each, the same window shifted one character on."""
    starts = torch.arange(0, len(ids) - SEQ_LEN - 1, stride)
    offsets = torch.arange(SEQ_LEN)
    return ids[starts[:, None] + offsets], ids[starts[:, None] + offsets + 1]  # (N, T) each


def load_data():
    """Characters as ids; training, validation and test are consecutive pieces of the text."""
    text = read_text()
    vocab = "".join(sorted(set(text)))
    ids = torch.tensor([vocab.index(c) for c in text], dtype=torch.int64)
    n = len(ids)
    cut_val = int(n * (1 - TEST_FRACTION / 2 - VAL_FRACTION / 2))
    cut_test = int(n * (1 - TEST_FRACTION / 2))
    return (windows(ids[:cut_val], SEQ_LEN // 2 or 1), windows(ids[cut_val:cut_test], SEQ_LEN),
            windows(ids[cut_test:], SEQ_LEN))
'''


# --- the loss, the optimizer, the loop and the metrics ---------------------------------

LOSSES = {
    "cross_entropy": "F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))",
    "class_mse": "F.mse_loss(out.softmax(-1), F.one_hot(y, out.shape[-1]).to(out.dtype))  # probabilities vs one-hot",
    "mse": "F.mse_loss(out, y)",
    "mae": "F.l1_loss(out, y)",
}

OPTIMIZERS = {
    "gd": "torch.optim.SGD(params, lr=LR, weight_decay=WEIGHT_DECAY)  # one step per pass over all the data",
    "sgd": "torch.optim.SGD(params, lr=LR, momentum=MOMENTUM, nesterov=NESTEROV and MOMENTUM > 0, "
           "weight_decay=WEIGHT_DECAY)",
    "adam": "torch.optim.Adam(params, lr=LR, weight_decay=WEIGHT_DECAY)",
    "adamw": "torch.optim.AdamW(params, lr=LR, weight_decay=WEIGHT_DECAY)",
    "rmsprop": "torch.optim.RMSprop(params, lr=LR, weight_decay=WEIGHT_DECAY)",
}

SCHEDULES = {
    "constant": "return 1.0",
    "step": "return STEP_GAMMA ** int(epoch // STEP_EVERY)",
    "cosine": "return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))",
    "warmup_cosine": """if progress < WARMUP_FRACTION:
        return max(progress / WARMUP_FRACTION, 0.01)
    rest = (progress - WARMUP_FRACTION) / max(1 - WARMUP_FRACTION, 1e-9)
    return 0.5 * (1 + math.cos(math.pi * min(rest, 1.0)))""",
}

METRICS = {
    "classification": """
    pred, true, n = out.argmax(-1).numpy(), y.numpy(), out.shape[-1]
    hits = np.array([np.sum((pred == c) & (true == c)) for c in range(n)])
    said = np.array([np.sum(pred == c) for c in range(n)])      # how often the model said c
    truly = np.array([np.sum(true == c) for c in range(n)])     # how often c was the answer
    precision = np.divide(hits, said, out=np.zeros(n), where=said > 0)
    recall = np.divide(hits, truly, out=np.zeros(n), where=truly > 0)
    f1 = np.divide(2 * hits, said + truly, out=np.zeros(n), where=said + truly > 0)
    metrics.update(accuracy=float(np.mean(pred == true)), precision=float(precision.mean()),
                   recall=float(recall.mean()), f1=float(f1.mean()))""",
    "regression": """
    p, t = out.numpy().astype(np.float64).ravel(), y.numpy().astype(np.float64).ravel()
    metrics.update(mse=float(np.mean((p - t) ** 2)), mae=float(np.mean(np.abs(p - t))),
                   r2=float(1 - np.sum((t - p) ** 2) / np.sum((t - t.mean()) ** 2)))""",
    "lm": """
    cross_entropy = float(F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1)))
    metrics["perplexity"] = math.exp(min(cross_entropy, 50.0))  # characters it is choosing between""",
}


def train_source(config, spec) -> str:
    t = config.train
    loss = t.loss if t.loss != "auto" else ("mse" if spec.kind == "regression" else "cross_entropy")
    if loss == "mse" and spec.kind == "classification":
        loss = "class_mse"
    clip = ("\n            torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)  # cap the step"
            if t.grad_clip else "")
    return TRAIN.format(loss=LOSSES[loss], optimizer=OPTIMIZERS[t.optimizer], schedule=SCHEDULES[t.schedule],
                        clip=clip, metrics=METRICS[spec.kind].strip("\n"))


TRAIN = '''
def loss_fn(out, y):
    return {loss}


def make_optimizer(params):
    return {optimizer}


def lr_factor(progress, epoch):
    """The learning rate's multiplier; progress runs from 0 to 1 over the training budget."""
    {schedule}


def train(model, train_data, val_data):
    x, y = train_data
    batch = len(x) if OPTIMIZER == "gd" else min(BATCH_SIZE, len(x))
    steps_per_epoch = math.ceil(len(x) / batch)
    max_steps = steps_per_epoch * EPOCHS if EPOCHS else None
    optimizer = make_optimizer(model.parameters())
    torch.manual_seed(SEED)
    order_gen = torch.Generator().manual_seed(SEED)
    start, step = time.perf_counter(), 0
    model.train()
    while True:
        order = torch.randperm(len(x), generator=order_gen)  # a new shuffle every epoch
        for i in range(0, len(x), batch):
            progress = max(step / max_steps if max_steps else 0.0,
                           (time.perf_counter() - start) / TIME_BUDGET if TIME_BUDGET else 0.0)
            for group in optimizer.param_groups:
                group["lr"] = LR * lr_factor(progress, step / steps_per_epoch)
            idx = order[i:i + batch]
            loss = loss_fn(model(x[idx]), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward(){clip}
            optimizer.step()
            step += 1
            if step % steps_per_epoch == 0:
                val_loss = evaluate(model, *val_data)["loss"]
                print(f"epoch {{step // steps_per_epoch}}  train loss {{loss.item():.4f}}  val loss {{val_loss:.4f}}")
            out_of_time = TIME_BUDGET and time.perf_counter() - start >= TIME_BUDGET
            if (max_steps and step >= max_steps) or out_of_time:
                return


@torch.no_grad()
def evaluate(model, x, y):
    """The loss and the task's metrics on (x, y), computed in batches."""
    model.eval()
    out = torch.cat([model(x[i:i + 2048]) for i in range(0, len(x), 2048)]).float()
    model.train()
    metrics = {{"loss": float(loss_fn(out, y))}}
{metrics}
    return metrics
'''


SAFETENSORS = '''
DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8, "BOOL": torch.bool}


def load_safetensors(path):
    """{name: tensor} from a safetensors file: 8 bytes of header size, a JSON header, then raw bytes."""
    with open(path, "rb") as f:
        size = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(size))
        body = bytearray(f.read())
    tensors = {}
    for name, info in header.items():
        if name != "__metadata__":
            start, end = info["data_offsets"]
            dtype = DTYPES[info["dtype"]]
            flat = torch.frombuffer(body, dtype=dtype, offset=start, count=(end - start) // dtype.itemsize)
            tensors[name] = flat.reshape(info["shape"]).clone()
    return tensors


def save_safetensors(state, path):
    names = {dtype: name for name, dtype in DTYPES.items()}
    header, chunks, offset = {}, [], 0
    for name, tensor in state.items():
        data = tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        header[name] = {"dtype": names[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)  # the data starts on an 8-byte boundary
    with open(path, "wb") as f:
        f.write(len(head).to_bytes(8, "little") + head + b"".join(chunks))
'''


MAIN = '''
def main():
    parser = argparse.ArgumentParser(description="Train or evaluate the model.")
    parser.add_argument("--evaluate", action="store_true", help="test the weights instead of training")
    parser.add_argument("--weights", help="weights file (default: model.safetensors to evaluate, "
                                          "trained.safetensors to train)")
    args = parser.parse_args()
    train_data, val_data, test_data = load_data()
    torch.manual_seed(SEED)
    model = {model}()
    if args.evaluate:
        model.load_state_dict(load_safetensors(args.weights or "model.safetensors"))
    else:
        train(model, train_data, val_data)
        save_safetensors(model.state_dict(), args.weights or "trained.safetensors")
    print(json.dumps({{"test_" + name: value for name, value in evaluate(model, *test_data).items()}}))


if __name__ == "__main__":
    main()
'''
