"""A run as plain PyTorch source: the model class with its configured sizes, and a standalone script.

    model_source(config)    # the nn.Module classes, e.g. for a "show the code" view
    script_source(config)   # train.py: data, model, loss, optimizer, loop; --evaluate reads model.safetensors

The generated model has the same layer names as modelkit's own, so the weights a
run saved load into it unchanged. The script needs only torch, numpy and the
package the data comes from (scikit-learn, mnist1d, or Python itself for text).
"""
from __future__ import annotations

import textwrap

from modelkit import codegen_templates as parts
from modelkit.config import RunConfig


def _spec(config: RunConfig, spec):
    if spec is not None:
        return spec
    from modelkit import tasks

    return tasks.load(config.task).spec


def model_source(config: RunConfig, spec=None) -> str:
    """The model's classes as PyTorch source, sizes filled in; the last class is the one to build."""
    from modelkit import models

    spec = _spec(config, spec)
    built = models.build(config.model, spec)   # for sizes computed at build time (flattened width, tokens)
    family = "rnn" if config.arch in ("lstm", "gru") else config.arch
    source = parts.MODEL_BUILDERS[family](config.model, spec, built)
    return textwrap.dedent(source).strip() + "\n"


def model_class_name(config: RunConfig, spec=None) -> str:
    spec = _spec(config, spec)
    if config.arch == "linear":
        return "Bigram" if spec.input_kind == "tokens" else "Linear"
    return {"mlp": "MLP", "cnn": "CNN", "transformer": "Transformer"}.get(config.arch, "RNN")


def script_source(config: RunConfig, spec=None, run_id: str = "") -> str:
    """A standalone train.py for this run: `python train.py` trains, `--evaluate` tests model.safetensors."""
    spec = _spec(config, spec)
    settings = {**_task_settings(config), **_train_settings(config)}
    header = parts.SCRIPT_HEADER.format(arch=config.arch, task=config.task.name,
                                        run=f" (run {run_id})" if run_id else "",
                                        data_package=parts.DATA_PACKAGES[config.task.name])
    sections = [
        header,
        _section("settings", "\n".join(f"{k.upper()} = {v!r}" for k, v in settings.items()), blank=""),
        _section("data", parts.data_source(config.task)),
        _section("model", model_source(config, spec)),
        _section("loss, optimizer, loop", train_source(config, spec)),
        _section("weights as safetensors, read and written with torch alone", SAFETENSORS),
        MAIN.format(model=model_class_name(config, spec)).strip(),
    ]
    return "\n\n\n".join(sections) + "\n"


def _section(title: str, body: str, blank: str = "\n") -> str:
    return f"# --- {title} " + "-" * (72 - len(title)) + "\n" + blank + textwrap.dedent(body).strip()


def _train_settings(config: RunConfig) -> dict:
    t = config.train
    out = {"seed": t.seed, "optimizer": t.optimizer, "lr": t.lr}
    if t.optimizer == "sgd":
        out.update(momentum=t.momentum, nesterov=t.nesterov)
    out.update(weight_decay=t.weight_decay, batch_size=t.batch_size, epochs=t.epochs, time_budget=t.time_budget,
               schedule=t.schedule)
    if t.schedule == "warmup_cosine":
        out["warmup_fraction"] = t.warmup_fraction
    if t.schedule == "step":
        out.update(step_every=t.step_every, step_gamma=t.step_gamma)
    out["grad_clip"] = t.grad_clip
    return out


def _task_settings(config: RunConfig) -> dict:
    task = config.task
    keep = {"data_seed": task.seed, "val_fraction": task.val_fraction, "test_fraction": task.test_fraction}
    if task.name in ("moons", "circles", "spiral", "xor", "blobs", "sine"):
        keep.update(n_samples=task.n_samples, noise=task.noise)
    if task.name in ("sine", "text"):
        keep["seq_len"] = task.seq_len
    if task.name == "sine":
        keep["horizon"] = task.horizon
    return keep


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


def train_source(config: RunConfig, spec) -> str:
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
