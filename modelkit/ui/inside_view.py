"""The "Look inside" view of a finished run: what its trained model does with one test example.

`inside_section(run, config)` draws every part that applies to the run's architecture;
the Learn page passes `parts` to show one idea at a time. All arrays come from
modelkit.inside, all charts from modelkit.plots.inside_charts.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from modelkit import inside
from modelkit.config import RunConfig
from modelkit.data import tasks
from modelkit.plots import figures, inside_charts, inside_words, words
from modelkit.store import NoModelError
from modelkit.ui import task_views
from modelkit.ui.access import chart_words, show_chart
from modelkit.ui.i18n import bound, current, t
from modelkit.ui.labels import class_name, layer_name
from modelkit.ui.resources import get_store


@st.cache_resource(show_spinner=False, max_entries=16)
def trained_model(run_id: str) -> inside.Trained:
    return inside.load(get_store(), run_id)


@st.cache_data(show_spinner=False, max_entries=16)
def test_probabilities(run_id: str) -> np.ndarray:
    return inside.test_probabilities(trained_model(run_id))


def parts_for(trained: inside.Trained) -> list[str]:
    """The parts that apply to this run, in the order the ideas are taught."""
    kind = trained.data.spec.kind
    parts = ["forward", "loss", "gradients"]
    if trained.part:
        parts.append(trained.part)
    if kind == "classification":
        parts.append("metrics")
    return parts


def chart(key: str, title_key: str, fig, sentence: str, table: pd.DataFrame | None = None):
    """A chart under its title and the sentence that says what it shows, with the one that says what it
    shows now (a screen reader's text for it) and its numbers as a table under it (container key:
    key_chart_title_key)."""
    with st.container(key=f"{key}_chart_{title_key}"):
        st.markdown(f"**{t(f'inside.{title_key}.title')}**")
        st.caption(t(f"inside.{title_key}.caption"))
        show_chart(fig)
        chart_words(sentence, table)


def inside_section(run, config: RunConfig, parts: list[str] | None = None, key: str = "inside"):
    """Everything inside the run's model that applies (or only `parts`), for a test example the participant picks."""
    if run.active or run.status in ("failed", "interrupted", "diverged"):
        return
    try:
        trained = trained_model(run.id)
    except NoModelError:
        st.info(t("inside.no_weights"))
        return
    with st.container(key=f"{key}_view"), inside.one_thread():
        shown = [p for p in (parts or parts_for(trained)) if p in parts_for(trained)]
        if parts is None:
            st.subheader(t("inside.title"))
            st.caption(t("inside.intro"))
        example = example_picker(run, trained, key) if set(shown) - {"gradients", "metrics"} else 0
        if len(shown) == 1:
            PARTS[shown[0]](run, trained, example, key)
            return
        for tab, part in zip(st.tabs([t(f"inside.part.{p}") for p in shown]), shown):
            with tab:
                PARTS[part](run, trained, example, key)


# --- choosing the example ---------------------------------------------------------------

def _move(key: str, n: int, how: str, wrong: list[int]):
    current = st.session_state.get(f"{key}_example", 0)
    if how == "next":
        current = (current + 1) % n
    elif how == "previous":
        current = (current - 1) % n
    elif how == "random":
        current = int(np.random.default_rng().integers(n))
    elif wrong:
        later = [i for i in wrong if i > current]
        current = later[0] if later else wrong[0]
    st.session_state[f"{key}_example"] = current


def example_picker(run, trained: inside.Trained, key: str) -> int:
    n = len(trained.data.x_test)
    wrong = (inside.wrong_examples(trained, test_probabilities(run.id))
             if trained.data.spec.kind == "classification" else [])
    cols = st.columns([2, 1, 1, 1, 1.4], vertical_alignment="bottom")
    example = cols[0].number_input(t("inside.example"), 0, n - 1, key=f"{key}_example",
                                   help=t("inside.example_help", n=n))
    for col, how in zip(cols[1:], ("previous", "next", "random", "wrong")):
        col.button(t(f"inside.{how}"), key=f"{key}_{how}", on_click=_move, args=(key, n, how, wrong),
                   disabled=how == "wrong" and not wrong, width="stretch")
    return int(example)


# --- the parts ----------------------------------------------------------------------------

def show_input(trained: inside.Trained, example: int, look: dict):
    """The example drawn the way the task preview draws its data."""
    spec, x = trained.data.spec, trained.example(example)[0]
    st.markdown(f"**{t('inside.input.title')}**")
    if spec.input_kind == "image":
        fig = figures.digits_figure(x[None], [task_views.class_label(spec, int(look['target']))], columns=1,
                                  height=220)
    elif spec.input_kind == "sequence" and spec.kind == "classification":
        fig = figures.signals_figure(x[None], [task_views.class_label(spec, int(look["target"]))],
                                   labels={"x": t("plot.position"), "y": t("plot.value")}, height=220)
    elif spec.kind == "regression":
        fig = figures.series_figure(x if x.dim() == 1 else x[:, 0],   # a series: its first column, the target
                                    true_future=look["target"], predicted_future=look["output"],
                                  labels=task_views.series_labels(), height=240)
    elif spec.input_kind == "tokens":
        st.code(task_views.decode(spec, x.tolist()), language=None, wrap_lines=True)
        return
    else:
        row = tasks.in_own_units(trained.data, x[None])[0]   # a table's row as its file has it
        st.dataframe(pd.DataFrame([row.numpy()], columns=task_views.feature_labels(trained.data)), hide_index=True)
        return
    show_chart(fig)
    label = task_views.class_label(spec, int(look["target"])) if spec.kind == "classification" else None
    chart_words(inside_words.describe_input(x, example, f"({label})" if label is not None else "", current()),
                inside_words.input_table(x, current()))


def class_names(spec) -> list[str]:
    if spec.kind == "lm":
        return [inside_charts.shown_char(c) for c in spec.vocab]
    return [task_views.class_label(spec, c) for c in range(spec.n_outputs)]


def forward_part(run, trained: inside.Trained, example: int, key: str):
    look = inside.forward(trained, example)
    spec = trained.data.spec
    left, right = st.columns(2, gap="large")
    with left:
        show_input(trained, example, look)
    if "probabilities" in look:
        with right:
            probs, names = look["probabilities"], class_names(spec)
            target = int(look["target"]) if spec.kind == "classification" else None
            if len(probs) > 12:  # a vocabulary: the twelve likeliest characters
                top = np.argsort(probs)[::-1][:12]
                probs, names = probs[top], [names[i] for i in top]
            said = words.describe_probabilities(probs, names, current())
            if target is not None:
                said += " " + t("words.inside.right_answer", name=class_names(spec)[target])
            chart(key, "probabilities", inside_charts.probabilities_figure(probs, names, target, labels={
                "x": t("inside.axis.class_axis"), "y": t("inside.axis.probability")}), said,
                words.probabilities_table(probs, names, (t("words.col.class"), t("words.col.probability"))))
    layers = [{**layer, "name": layer_name(layer["name"])} for layer in look["layers"]]
    chart(key, "activations", inside_charts.activations_figure(layers, labels={"x": t("inside.axis.neuron"),
                                                                         "value": t("inside.axis.activation")}),
          inside_words.describe_activations(layers, current()), inside_words.activations_table(layers, current()))
    regions = inside.neuron_regions(trained)
    if regions is not None:
        chart(key, "regions", inside_charts.regions_figure(regions), inside_words.describe_regions(regions, current()),
              inside_words.regions_table(regions, current()))


def loss_part(run, trained: inside.Trained, example: int, key: str):
    look = inside.forward(trained, example)
    cols = st.columns(len(look["loss"]) + 1)
    for col, (name, value) in zip(cols, look["loss"].items()):
        col.metric(t(f"inside.loss_name.{name}"), f"{max(value, 0.0) + 0.0:.4f}")  # + 0.0: never "-0.0000"
    if trained.data.spec.kind != "classification":
        return
    n = trained.data.spec.n_outputs
    if st.session_state.get(f"{key}_p_example") != example:   # a new example: the slider starts at its probability
        st.session_state[f"{key}_p_example"] = example
        st.session_state[f"{key}_p"] = round(float(np.clip(look["probabilities"][int(look["target"])], 0.01, 1)), 2)
    p = st.slider(t("inside.loss_p"), 0.01, 1.0, step=0.01, key=f"{key}_p", help=t("inside.loss_p_help"))
    curves = inside.ce_vs_mse(n)
    chart(key, "loss_compare", inside_charts.loss_compare_figure(curves, p, labels={
        "x": t("inside.loss_p"), "y": t("plot.loss"), "cross_entropy": t("inside.loss_name.cross_entropy"),
        "mse": t("inside.loss_name.mse")}), inside_words.describe_loss_compare(curves, p, current()),
          inside_words.loss_compare_table(curves, current()))


def gradients_part(run, trained: inside.Trained, example: int, key: str):
    norms = inside.grad_norms(get_store().points(run.id))
    if not norms:
        st.info(t("inside.grad_none"))
        return
    verdict = inside.gradient_verdict(norms)
    norms = {layer_name(layer): series for layer, series in norms.items()}
    (st.success if verdict == "healthy" else st.warning)(t(f"inside.grad_verdict.{verdict}"))
    chart(key, "gradients", inside_charts.grad_norms_figure(norms, labels={"x": t("plot.step"), "y": t("inside.axis.grad_norm")}),
          inside_words.describe_gradients(norms, current()), inside_words.gradients_table(norms, current()))


def cnn_part(run, trained: inside.Trained, example: int, key: str):
    look = inside.cnn(trained, example)
    n_layers, tl = len(look["filters"]), bound()
    layer = st.selectbox(t("inside.conv_layer"), range(n_layers), key=f"{key}_conv_layer",
                         format_func=lambda i: tl("inside.layer_n", n=i + 1))
    dims = look["dims"]
    filters, maps = look["filters"][layer], look["feature_maps"][layer]
    chart(key, "filters", inside_charts.filters_figure(filters, dims, labels={"y": t("inside.axis.weight")}),
          inside_words.describe_filters(filters, layer + 1, current()), inside_words.filters_table(filters, current()))
    chart(key, "feature_maps", inside_charts.feature_maps_figure(maps, dims, labels={
        "x": t("plot.position"), "y": t("inside.axis.filter")}),
          inside_words.describe_feature_maps(maps, current()), inside_words.feature_maps_table(maps, current()))
    channels = len(look["feature_maps"][layer])
    channel = st.slider(t("inside.channel"), 1, channels, 1, key=f"{key}_channel") - 1 if channels > 1 else 0
    before, after = look["feature_maps"][layer][channel], look["pooled"][layer][channel]
    chart(key, "pooling", inside_charts.pooling_figure(before, after, dims,
                                       labels={"before": t("inside.pool_before"), "after": t("inside.pool_after")}),
          inside_words.describe_pooling(before, after, current()), inside_words.pooling_table(after, current()))


def rnn_part(run, trained: inside.Trained, example: int, key: str):
    look = inside.rnn(trained, example)
    chart(key, "hidden", inside_charts.hidden_figure(look["hidden"], steps=look.get("steps"), tokens=look.get("tokens"), labels={
        "x": t("plot.time_step"), "input": t("inside.input.title"), "hidden": t("inside.axis.hidden_unit")}),
          inside_words.describe_hidden(look["hidden"], current()),
          inside_words.hidden_table(look["hidden"], current(), tokens=look.get("tokens"), steps=look.get("steps")))
    guesses = inside.next_char_guesses(trained, example)
    if guesses is not None:
        chart(key, "guesses", inside_charts.guesses_figure(guesses, labels={"x": t("inside.axis.char_read"),
                                                                 "y": t("inside.axis.guess")}),
              inside_words.describe_guesses(guesses, current()), inside_words.guesses_table(guesses, current()))


def transformer_part(run, trained: inside.Trained, example: int, key: str):
    look = inside.transformer(trained, example)
    n_layers, n_heads = look["attention"].shape[:2]
    left, right, tl = *st.columns(2), bound()
    layer = left.selectbox(t("inside.attn_layer"), range(n_layers), key=f"{key}_attn_layer",
                           format_func=lambda i: tl("inside.layer_n", n=i + 1))
    head = right.selectbox(t("inside.attn_head"), range(n_heads), key=f"{key}_attn_head",
                           format_func=lambda i: tl("inside.head_n", n=i + 1))
    attention, kind = look["attention"][layer, head], t(f"inside.positional.{look['positional']}")
    chart(key, "attention", inside_charts.attention_figure(attention, look["labels"], labels={
        "x": t("inside.axis.looks_at"), "y": t("plot.position")}),
          inside_words.describe_attention(attention, look["labels"], current()),
          inside_words.attention_table(attention, look["labels"], current()))
    chart(key, "positional", inside_charts.positional_figure(look["positional_encoding"], look["position_similarity"], labels={
        "encoding": kind, "similarity": t("inside.axis.similarity"),
        "position": t("plot.position"), "dimension": t("inside.axis.dimension")}),
          inside_words.describe_positional(look["positional_encoding"], look["position_similarity"], kind, current()),
          inside_words.positional_table(look["position_similarity"], current()))


def metrics_part(run, trained: inside.Trained, example: int, key: str):
    details = run.details
    if "confusion_matrix" not in details:
        return
    names = [class_name(n) for n in details["class_names"]] if details.get("class_names") \
        else class_names(trained.data.spec)
    c = st.selectbox(t("inside.metric_class"), range(len(names)), key=f"{key}_metric_class",
                     format_func=lambda i: str(names[i]))
    cells = inside.class_cells(details["confusion_matrix"], c)
    cols = st.columns(2)
    cols[0].metric(t("metric.test_precision"), f"{cells['precision']:.1%}",
                   help=t("inside.precision_cells", right=cells["right"], predicted=cells["predicted"]))
    cols[1].metric(t("metric.test_recall"), f"{cells['recall']:.1%}",
                   help=t("inside.recall_cells", right=cells["right"], actual=cells["actual"]))
    chart(key, "class_cells", inside_charts.class_cells_figure(details["confusion_matrix"], names, c, labels={
        "true": t("plot.true_class"), "pred": t("plot.pred_class"), "precision": t("metric.test_precision"),
        "recall": t("metric.test_recall")}), inside_words.describe_class_cells(cells, str(names[c]), current()),
          words.confusion_table(details["confusion_matrix"], [str(n) for n in names], t("plot.true_class")))
    if len(names) == 2:
        threshold_view(run, trained, key, c, names[c])


def threshold_view(run, trained: inside.Trained, key: str, c: int, name: str):
    """The threshold on the probability of the class picked above, `c`, the one precision and recall are of."""
    p_positive, y = test_probabilities(run.id)[:, c], (trained.data.y_test.numpy() == c).astype(int)
    st.caption(t("inside.threshold_class", name=name))
    threshold = st.slider(t("inside.threshold"), 0.0, 1.0, 0.5, 0.01, key=f"{key}_threshold",
                          help=t("inside.threshold_help"))
    scores = inside.threshold_scores(p_positive, y, threshold)
    cols = st.columns(3)
    for col, name in zip(cols, ("precision", "recall", "f1")):
        col.metric(t(f"metric.test_{name}"), f"{scores[name]:.1%}")
    curve = inside.threshold_curve(p_positive, y)
    names = {name: t(f"metric.test_{name}") for name in ("precision", "recall", "f1")}
    chart(key, "threshold", inside_charts.threshold_figure(curve, threshold, labels={
        "x": t("inside.threshold"), "y": t("inside.axis.score"), **names}),
          inside_words.describe_threshold(curve, threshold, current()),
          inside_words.threshold_table(curve, current(), names))


PARTS = {"forward": forward_part, "loss": loss_part, "gradients": gradients_part, "cnn": cnn_part,
         "rnn": rnn_part, "transformer": transformer_part, "metrics": metrics_part}


def loss_surface(key: str = "learn"):
    """GD, SGD with noise, momentum and Adam on one 2-D surface (real torch.optim), no run needed."""
    left, right, tl = *st.columns(2), bound()
    surface = left.segmented_control(t("inside.surface"), list(inside.SURFACES), default="valley", required=True,
                                     key=f"{key}_surface", format_func=lambda s: tl(f"inside.surface_name.{s}"))
    lr = right.select_slider(t("inside.surface_lr"), [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 0.6, 1.0], value=0.1,
                             key=f"{key}_surface_lr")
    surface = surface or "valley"
    paths = inside.optimizer_paths(surface, float(lr))
    names = {name: t(f"inside.optimizer.{name}") for name in inside.OPTIMIZER_PATHS}
    losses = inside.path_losses(surface, paths)
    chart(key, "surface", inside_charts.surface_figure(inside.surface_grid(surface), paths, labels=names),
          inside_words.describe_race(losses, names, current()), inside_words.race_table(losses, names, current()))
