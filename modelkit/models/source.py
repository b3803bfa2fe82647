"""One writer per model family: the nn.Module source of a configured model (a family entry names its
writer; modelkit.use.codegen puts the source into the exported train.py).

Each writer reads the sizes off the model modelkit built, so the source it writes
has the same layers, under the same names, as the weights a run saved.
"""
from __future__ import annotations

import math

import torch.nn as nn

from modelkit.models.mlp import ACTIVATIONS


def _act(name: str) -> str:
    return f"nn.{ACTIVATIONS[name].__name__}()"


STEP_WORDS = {"linear": "linear", "conv": "convolution", "norm": "batch norm", "act": "activation",
              "pool": "pooling", "drop": "dropout"}


def _steps(layers) -> str:
    return " -> ".join(STEP_WORDS[name] for name in layers).capitalize()


def _wrap(expr: str, *layers: str) -> str:
    for layer in layers:
        expr = f"self.{layer}({expr})"
    return expr


def _block_class(name: str, doc: str, params: str, init: list[str], steps: list[str]) -> str:
    """The source of a small layer class whose forward applies `steps` in order (a Dense, a ConvBlock)."""
    nl = "\n"
    return f'''
class {name}(nn.Module):
    """{doc}"""

    def __init__(self, {params}):
        super().__init__()
{nl.join(init)}

    def forward(self, x):
        return {_wrap("x", *steps)}
'''


def _model_class(name: str, init: list[str], forward: list[str]) -> str:
    """The source of the class train.py builds: its __init__ and forward lines, already indented."""
    nl = "\n"
    return f'''
class {name}(nn.Module):
    def __init__(self):
        super().__init__()
{nl.join(init)}

    def forward(self, x):
{nl.join(forward)}
'''


def mlp_source(cfg, spec, built) -> str:
    widths = [math.prod(spec.input_shape), *cfg.hidden]
    layers = ["linear"] + (["norm"] if cfg.batch_norm else []) + ["act"] + (["drop"] if cfg.dropout > 0 else [])
    init = ["        self.linear = nn.Linear(n_in, n_out)"] + \
        (["        self.norm = nn.BatchNorm1d(n_out)"] if cfg.batch_norm else []) + \
        [f"        self.act = {_act(cfg.activation)}"] + \
        ([f"        self.drop = nn.Dropout({cfg.dropout})"] if cfg.dropout > 0 else [])
    dense = _block_class("Dense", f"One hidden layer: {_steps(layers).lower()}.", "n_in, n_out", init, layers)
    return dense + f'''

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        widths = {widths}  # the inputs, then each hidden layer
        self.flatten = nn.Flatten()
        self.hidden = nn.ModuleList(Dense(a, b) for a, b in zip(widths, widths[1:]))
        self.out = nn.Linear({widths[-1]}, {spec.n_outputs})

    def forward(self, x):
        x = self.flatten(x)  # (B, {widths[0]})
        for layer in self.hidden:
            x = layer(x)  # (B, width of that layer)
        return self.out(x)  # (B, {spec.n_outputs})
'''


def cnn_source(cfg, spec, built) -> str:
    d = built.dims
    k = cfg.kernel_size
    pool_cls = {"max": f"nn.MaxPool{d}d(2)", "avg": f"nn.AvgPool{d}d(2)"}.get(cfg.pooling)
    steps = ["conv"] + (["norm"] if cfg.batch_norm else []) + ["act"] + (["pool"] if pool_cls else [])
    init = [f"        self.conv = nn.Conv{d}d(c_in, c_out, {k}, padding={k // 2})  # keeps the size"]
    init += [f"        self.norm = nn.BatchNorm{d}d(c_out)"] if cfg.batch_norm else []
    init += [f"        self.act = {_act(cfg.activation)}"]
    init += [f"        self.pool = {pool_cls} if pool else nn.Identity()  # halves the size"] if pool_cls else []
    blocks = [f"            ConvBlock({b.conv.in_channels}, {b.conv.out_channels}, "
              f"pool={not isinstance(getattr(b, 'pool', None), nn.Identity)}),"
              for b in built.blocks]
    n_flat = built.out.in_features if not cfg.head else built.hidden[0].in_features
    layers = ["        self.flatten = nn.Flatten()"]
    forward = ["        x = x.unsqueeze(1)  # (B, L) -> (B, 1, L): one input channel"] if d == 1 else []
    forward += ["        x = self.blocks(x)", f"        x = self.flatten(x)  # (B, {n_flat})"]
    if cfg.dropout > 0:
        layers.append(f"        self.drop = nn.Dropout({cfg.dropout})")
        forward.append("        x = self.drop(x)")
    if cfg.head:
        layers.append(f"        self.hidden = nn.Sequential(nn.Linear({n_flat}, {cfg.head}), {_act(cfg.activation)})")
        forward.append(f"        x = self.hidden(x)  # (B, {cfg.head})")
    layers.append(f"        self.out = nn.Linear({cfg.head or n_flat}, {spec.n_outputs})")
    forward.append(f"        return self.out(x)  # (B, {spec.n_outputs})")
    nl = "\n"
    block = _block_class("ConvBlock", f"{_steps(steps)}: one block of filters.", "c_in, c_out, pool", init, steps)
    return block + f'''

class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(
{nl.join(blocks)}
        )
{nl.join(layers)}

    def forward(self, x):
{nl.join(forward)}
'''


def rnn_source(cfg, spec, built) -> str:
    rnn = built.rnn
    cell = type(rnn).__name__
    args = [str(rnn.input_size), str(rnn.hidden_size), f"num_layers={rnn.num_layers}", "batch_first=True"]
    args += ["bidirectional=True"] if rnn.bidirectional else []
    args += [f"dropout={rnn.dropout}"] if rnn.dropout else []
    tokens = spec.input_kind == "tokens"
    init = [f"        self.embed = nn.Embedding({spec.n_outputs}, {cfg.embed_dim})"] if tokens else []
    init += [f"        self.rnn = nn.{cell}({', '.join(args)})",
             f"        self.out = nn.Linear({built.out.in_features}, {spec.n_outputs})"]
    if spec.input_kind == "tokens":
        steps = ["        x = self.embed(x)  # (B, T) -> (B, T, embedding): one character per step"]
    elif spec.input_kind == "image":
        steps = ["        b, c, h, w = x.shape",
                 "        x = x.permute(0, 2, 1, 3).reshape(b, h, c * w)  # one row of pixels per step"]
    else:
        pad = (-spec.input_shape[0]) % cfg.patch
        steps = [f"        x = F.pad(x, ({pad}, 0))  # left-pad so the newest values fill the last step"] if pad else []
        steps += [f"        x = x.view(x.shape[0], -1, {cfg.patch})  # (B, steps, {cfg.patch} values per step)"]
    steps.append(f"        out, h = self.rnn(x)  # out (B, T, {built.out.in_features})")
    if spec.kind == "lm":
        steps.append("        return self.out(out)  # (B, T, vocab): the next character at every step")
    elif cfg.pooling == "mean":
        steps.append("        return self.out(out.mean(dim=1))  # the average over all steps")
    else:
        steps += ["        h = h[0]  # an LSTM returns (h, c)"] if cell == "LSTM" else []
        last = "torch.cat([h[-2], h[-1]], dim=-1)" if rnn.bidirectional else "h[-1]"
        steps.append(f"        return self.out({last})  # the last layer's memory after the final step")
    return _model_class("RNN", init, steps)


def linear_source(cfg, spec, built) -> str:
    if spec.input_kind == "tokens":
        vocab, rank = spec.n_outputs, built.table.embedding_dim
        out = (f"nn.Linear({rank}, {vocab})  # the table in two thin factors: {vocab} x {rank}, then {rank} x {vocab}"
               if rank < vocab else "nn.Identity()")
        return f'''
class Bigram(nn.Module):
    """The next character from the current one alone: a table of logits, one row per character."""

    def __init__(self):
        super().__init__()
        self.table = nn.Embedding({vocab}, {rank})
        self.out = {out}

    def forward(self, idx):
        return self.out(self.table(idx))  # (B, T) -> (B, T, vocab)
'''
    return f'''
class Linear(nn.Module):
    """Every input straight to every output: logistic (or linear) regression."""

    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.out = nn.Linear({built.out.in_features}, {spec.n_outputs})

    def forward(self, x):
        return self.out(self.flatten(x))  # (B, {spec.n_outputs})
'''


def transformer_source(cfg, spec, built) -> str:
    init, forward, patches, sinusoid = _transformer_parts(cfg, spec, built)
    return _blocks_source(cfg, spec.kind == "lm") + patches + sinusoid + "\n" + _model_class("Transformer", init, forward)


def _transformer_parts(cfg, spec, built):
    """The Transformer's own lines (__init__, forward) and the helpers it needs (patches, sinusoid)."""
    d, lm = cfg.d_model, spec.kind == "lm"
    n_pos = built.pos.shape[1]
    if spec.input_kind == "tokens":
        embed = f"        self.embed = nn.Embedding({spec.n_outputs}, {d})  # one vector per character"
        patches = ""
    else:
        embed = "        self.embed = PatchEmbedding()"
        patches = _patch_source(cfg, spec)
    init = [embed]
    forward = ["        x = self.embed(x)  # (B, T, C)"]
    if built.cls is not None:
        init.append(f"        self.cls = nn.Parameter(torch.zeros(1, 1, {d}))  # the class token")
        forward.append("        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1)  # (B, 1+T, C)")
    if cfg.positional == "learned":
        init.append(f"        self.pos = nn.Parameter(0.02 * torch.randn(1, {n_pos}, {d}))  # a vector per position")
        sinusoid = ""
    else:
        init.append(f"        self.register_buffer(\"pos\", sinusoidal({n_pos}, {d}), persistent=False)")
        sinusoid = SINUSOIDAL
    forward.append("        x = x + self.pos[:, : x.shape[1]]")
    if cfg.dropout > 0:
        init.append(f"        self.drop = nn.Dropout({cfg.dropout})")
        forward.append("        x = self.drop(x)")
    init += [f"        self.blocks = nn.ModuleList(Block() for _ in range({cfg.layers}))",
             f"        self.ln_f = nn.LayerNorm({d})", f"        self.out = nn.Linear({d}, {spec.n_outputs})"]
    forward += ["        for block in self.blocks:", "            x = block(x)", "        x = self.ln_f(x)"]
    if lm:
        forward.append("        return self.out(x)  # (B, T, vocab): the next character at every position")
    elif built.cls is not None:
        forward.append("        return self.out(x[:, 0])  # the class token's final vector")
    else:
        forward.append("        return self.out(x.mean(dim=1))  # the mean of all tokens")
    return init, forward, patches, sinusoid


def _blocks_source(cfg, lm: bool) -> str:
    """SelfAttention, FeedForward and Block: the layers every Transformer block is made of."""
    d = cfg.d_model
    drop = f"nn.Dropout({cfg.dropout})" if cfg.dropout > 0 else "nn.Identity()"
    seen = "the tokens before it" if lm else "every token"
    attention_args = (", is_causal=True" if lm else "") + \
        (f", dropout_p={cfg.dropout} if self.training else 0.0" if cfg.dropout > 0 else "")
    return f'''
class SelfAttention(nn.Module):
    """Each token looks at {seen}: {cfg.heads} heads, {d // cfg.heads} values each."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear({d}, {3 * d})  # query, key and value for all heads at once
        self.proj = nn.Linear({d}, {d})
        self.drop = {drop}

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = (t.view(B, T, {cfg.heads}, C // {cfg.heads}).transpose(1, 2)
                   for t in self.qkv(x).split(C, dim=2))  # (B, heads, T, values per head)
        y = F.scaled_dot_product_attention(q, k, v{attention_args})
        y = y.transpose(1, 2).reshape(B, T, C)
        return self.drop(self.proj(y))


class FeedForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear({d}, {cfg.ff_width})
        self.act = nn.GELU()
        self.proj = nn.Linear({cfg.ff_width}, {d})
        self.drop = {drop}

    def forward(self, x):
        return self.drop(self.proj(self.act(self.fc(x))))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm({d})
        self.attn = SelfAttention()
        self.ln_2 = nn.LayerNorm({d})
        self.mlp = FeedForward()

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x
'''


SINUSOIDAL = '''

def sinusoidal(n, d):
    """Fixed position codes: sines and cosines of falling frequencies, (1, n, d)."""
    pos = torch.arange(n).unsqueeze(1)
    freq = torch.exp(torch.arange(0, d, 2) * (-math.log(10_000.0) / d))
    pe = torch.zeros(n, d)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq[: d // 2])
    return pe.unsqueeze(0)
'''


def _patch_source(cfg, spec) -> str:
    stride = cfg.stride or cfg.patch
    if spec.input_kind == "image":
        conv = f"nn.Conv2d({spec.input_shape[0]}, {cfg.d_model}, {cfg.patch}, {stride})"
        body = "x = self.conv(x)  # (B, C, H', W')"
        what = f"an image into {cfg.patch}x{cfg.patch} patches"
    else:
        conv = f"nn.Conv1d(1, {cfg.d_model}, {cfg.patch}, {stride})"
        body = "x = self.conv(x.unsqueeze(1))  # (B, C, T')"
        what = f"a signal into patches of {cfg.patch} values"
    return f'''

class PatchEmbedding(nn.Module):
    """Cuts {what} (every {stride}), one vector each."""

    def __init__(self):
        super().__init__()
        self.conv = {conv}

    def forward(self, x):
        {body}
        return x.flatten(2).transpose(1, 2)  # (B, T, C)
'''

