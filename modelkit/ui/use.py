"""Use a finished run: try it on your own input, take it home (download), serve it (the curl line).

`use_sections(run, config)` is called by the run panels (Train, Runs) for a finished
run. Every prediction goes through modelkit.use.predict; nothing here touches a model.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from modelkit.config import RunConfig
from modelkit.data import forecast, rows, tasks
from modelkit.plots import figures, inside_words, words
from modelkit.ui import seat, task_views
from modelkit.ui.access import chart_words, show_chart
from modelkit.ui.i18n import bound, current, t
from modelkit.ui.labels import class_name, class_names
from modelkit.ui.resources import get_store
from modelkit.use import predict
from modelkit.use.export import bundle_zip
from modelkit.use.serve import curl_command
from modelkit.written import literal

CANVAS_PX, STROKE_PX = 224, 20       # 28 screen pixels per image pixel; a stroke about as wide as a pen line


def use_sections(run, config: RunConfig, prefix: str = "use"):
    """Try it, take it home and serve it, for a run that has trained weights (else nothing)."""
    key = f"{prefix}_{run.id}"
    predictor = try_it(run, config, key)
    if predictor is not None:
        take_home(run, predictor, key)


def try_it(run, config: RunConfig, key: str):
    """Try it, in the view its task's registry entry names (the gallery shows only this); the predictor,
    or None for a run without trained weights."""
    try:
        predictor = predict.load(get_store(), run.id)
    except predict.NoModelError:
        return None
    st.subheader(t("use.title"))
    st.caption(t("use.caption"))
    TRY_VIEWS[tasks.task_info(config.task.name).try_view](predictor, run, key)
    return predictor


def timed(call, *args, **kwargs):
    """The call's result, with how long it took shown under it."""
    start = time.perf_counter()
    out = call(*args, **kwargs)
    st.caption(t("use.latency", ms=f"{(time.perf_counter() - start) * 1000:.1f}"))
    return out


def probability_figure(predictor, probabilities) -> go.Figure:
    labels = [task_views.class_label(predictor.spec, i) for i in range(len(probabilities))]
    best = int(np.argmax(probabilities))
    colors = ["#1C7ED6" if i == best else "#A5D8FF" for i in range(len(labels))]
    fig = go.Figure(go.Bar(x=labels, y=probabilities, marker_color=colors, text=[f"{p:.0%}" for p in probabilities],
                           marker_pattern_shape=["/" if i == best else "" for i in range(len(labels))],
                           textposition="outside", hovertemplate="%{x}: %{y:.3f}<extra></extra>"))
    fig.update_xaxes(type="category", title=t("use.class"))
    fig.update_yaxes(range=[0, 1.15], title=t("use.probability"), tickformat=".0%")
    return fig.update_layout(height=300, margin=dict(l=10, r=10, t=10, b=10))


def show_classes(predictor, out: dict, key: str):
    sure = f"{max(out['probabilities'][0]):.0%}"
    st.markdown(f"**{t('use.answer', label=literal(class_name(out['labels'][0])), p=sure)}**")
    with st.container(key=f"{key}_probs"):
        show_chart(probability_figure(predictor, out["probabilities"][0]))
    names = [task_views.class_label(predictor.spec, i) for i in range(len(out["probabilities"][0]))]
    chart_words(words.describe_probabilities(out["probabilities"][0], names, current()),
                words.probabilities_table(out["probabilities"][0], names, (t("use.class"), t("use.probability"))))


# --- images: draw a digit ---------------------------------------------------------

def drawn_image(predictor, key: str) -> np.ndarray | None:
    """The drawing, scaled like the training images, or None when nothing has been drawn yet."""
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception:   # not installed, or unable to register with this Streamlit: type the pixels instead
        return typed_image(predictor, key)
    # the canvas's toolbar names its buttons in English only (the component takes no words for them):
    # this caption, read before the canvas, says what each does in the page's language
    st.caption(t("use.draw_caption"))
    result = st_canvas(stroke_width=STROKE_PX, stroke_color="#000000", background_color="", height=CANVAS_PX,
                       width=CANVAS_PX, drawing_mode="freedraw", return_image_data=True, key=f"{key}_canvas")
    if not (result.json_data or {}).get("objects"):
        return None
    return predict.image_from_drawing(result.image_data, size=predictor.spec.input_shape[-1])


def typed_image(predictor, key: str) -> np.ndarray:
    """The fallback without a canvas: a test image's pixels (0 blank to 16 ink, as in sklearn) to edit."""
    st.caption(t("use.no_canvas"))
    start = tasks.load(predictor.config.task).x_test[0, 0].numpy()
    table = st.data_editor(pd.DataFrame(np.rint(start * 16).astype(int)), key=f"{key}_pixels", hide_index=True)
    return np.clip(table.to_numpy(dtype=np.float32), 0, 16) / 16


def try_image(predictor, run, key: str):
    left, right = st.columns([1, 1.3], gap="large")
    with left:
        st.markdown(f"**{t('use.draw')}**")
        with st.container(key=f"{key}_draw"):
            image = drawn_image(predictor, key)
    if image is None:
        right.info(t("use.draw_first"))
        return
    with right:
        out = timed(predictor.predict, [image[None].tolist()])
        show_classes(predictor, out, key)
    with left:
        st.caption(t("use.seen_as"))
        fig = figures.digits_figure(image[None, None], [class_name(out["labels"][0])], columns=1)
        show_chart(fig.update_layout(height=200, width=200))
        chart_words(t("words.seen_as", shape=" × ".join(map(str, image.shape)), low=f"{image.min():.2g}",
                      high=f"{image.max():.2g}", label=class_name(out["labels"][0])),
                    inside_words.input_table(image, current()))


# --- 2-D points: click the plane or type x, y ------------------------------------------

def try_point(predictor, run, key: str):
    boundary = run.details.get("boundary")
    if f"{key}_x" not in st.session_state:
        st.session_state[f"{key}_x"], st.session_state[f"{key}_y"] = predict.example_inputs(predictor, 1)[0]
    left, right = st.columns([1.15, 1], gap="large")
    data = tasks.load(predictor.config.task)
    columns = task_views.feature_labels(data)
    if boundary:
        fig = figures.decision_boundary_figure(
            boundary, data.x_train, data.y_train, class_names(predictor.spec.class_names), height=420,
            labels={"x": columns[0], "y": columns[1], "value": t("plot.class1_prob")})
        fig.add_trace(click_grid(boundary))
        fig.add_trace(go.Scatter(x=[st.session_state[f"{key}_x"]], y=[st.session_state[f"{key}_y"]], mode="markers",
                                 marker=dict(symbol="star", size=18, color="#FAB005", line=dict(width=1.5)),
                                 name=t("use.your_point")))
        with left:
            st.caption(t("use.click_caption"))
            event = show_chart(fig, on_select="rerun", selection_mode="points",
                                    key=f"{key}_plane")
            chart_words(words.describe_boundary(boundary, class_names(predictor.spec.class_names), current()))
            points = (event or {}).get("selection", {}).get("points") or []
            if points and "x" in points[0] and (points[0]["x"], points[0]["y"]) != st.session_state.get(f"{key}_click"):
                st.session_state[f"{key}_click"] = (points[0]["x"], points[0]["y"])
                st.session_state[f"{key}_x"], st.session_state[f"{key}_y"] = points[0]["x"], points[0]["y"]
                st.rerun()
    with right:
        st.number_input(columns[0], key=f"{key}_x", step=0.1, format="%.2f")
        st.number_input(columns[1], key=f"{key}_y", step=0.1, format="%.2f")
        out = timed(predictor.predict, [[st.session_state[f"{key}_x"], st.session_state[f"{key}_y"]]])
        show_classes(predictor, out, key)


def click_grid(boundary: dict, n: int = 41) -> go.Scatter:
    """Invisible points over the whole plane: a click anywhere lands on one (a heatmap gives no selection)."""
    xs = np.linspace(min(boundary["xs"]), max(boundary["xs"]), n)
    ys = np.linspace(min(boundary["ys"]), max(boundary["ys"]), n)
    gx, gy = np.meshgrid(xs, ys)
    return go.Scatter(x=gx.ravel().round(3), y=gy.ravel().round(3), mode="markers", showlegend=False,
                      marker=dict(size=12, color="rgba(0,0,0,0)"), hovertemplate="(%{x:.2f}, %{y:.2f})<extra></extra>")


# --- tables: one input per feature ------------------------------------------------------

def try_table(predictor, run, key: str):
    """A test row in the table's own units to edit: a number column as a number, a text column as its values."""
    raw = predict.raw_table(predictor.config)
    names = task_views.feature_labels(tasks.load(predictor.config.task))
    columns = predictor.inputs or [{"name": n} for n in names]
    n_test = len(raw.x_test)
    classes = predictor.kind == "classification"
    example = st.selectbox(t("use.example"), range(n_test), key=f"{key}_example",
                           format_func=lambda i, tl=bound(): tl("use.example_n", n=i + 1, label=task_views.class_label(
                               predictor.spec, int(raw.y_test[i]))) if classes else tl(
                               "use.example_value", n=i + 1, value=f"{float(raw.y_test[i].reshape(-1)[0]):.4g}"))
    start = rows.to_people(predictor.inputs, [raw.x_test[example].tolist()])[0]
    low, high = raw.x_train.min(0).values, raw.x_train.max(0).values
    span = (high - low).clamp_min(1e-3)
    values, at = [], 0   # `at`: the column's first model column
    cols = st.columns(4 if len(columns) > 6 else 2)
    for c, column in enumerate(columns):
        with cols[c % len(cols)]:
            if column.get("values"):
                values.append(st.selectbox(column["name"], column["values"], key=f"{key}_f{c}_{example}",
                                           index=column["values"].index(start[c])))
                at += len(column["values"])
                continue
            lo, hi = float(low[at] - span[at] / 2), float(high[at] + span[at] / 2)
            values.append(st.number_input(names[at], min_value=lo, max_value=hi, value=min(max(start[c], lo), hi),
                                          step=float(span[at]) / 50, format="%.3g", key=f"{key}_f{c}_{example}"))
            at += 1
    out = timed(predictor.predict, [values])
    if classes:
        show_classes(predictor, out, key)
    else:   # a number in the target's own units
        value = ", ".join(f"{v:.4g}" for v in np.ravel(out["predictions"][0]))
        st.markdown(f"**{t('use.answer_number', value=value)}**")


# --- sequences: a test example, distorted -------------------------------------------------

def try_sequence(predictor, run, key: str):
    data = tasks.load(predictor.config.task)
    classes = predictor.kind == "classification"
    left, right = st.columns([1, 1.4], gap="large")
    with left:
        example = st.selectbox(t("use.example"), range(min(20, len(data.x_test))), key=f"{key}_example",
                               format_func=lambda i, tl=bound(): tl(
                                   "use.example_n", n=i + 1, label=task_views.class_label(predictor.spec, int(
                                       data.y_test[i]))) if classes else tl("use.example_plain", n=i + 1))
        noise = st.slider(t("use.noise"), 0.0, 1.0, 0.0, 0.05, key=f"{key}_noise")
        shift = st.slider(t("use.shift" if classes else "use.level"), *((-10, 10, 0, 1) if classes else
                                                                         (-1.0, 1.0, 0.0, 0.1)), key=f"{key}_shift")
    original = data.x_test[example].numpy()
    rng = np.random.default_rng(example)
    signal = original + noise * rng.standard_normal(original.shape).astype(np.float32)
    signal = np.roll(signal, shift) if classes else signal + shift
    with right:
        out = timed(predictor.predict, [signal.tolist()])
        if classes:
            fig = figures.signals_figure(np.stack([original, signal]), [t("use.original"), t("use.distorted")],
                                       labels={"x": t("plot.position"), "y": t("plot.value")})
            show_chart(fig)
            chart_words(words.describe_lines(fig, current()), words.lines_table(fig, t("plot.position")))
            show_classes(predictor, out, key)
        else:
            truth = data.y_test[example].numpy() + shift
            fig = figures.series_figure(signal[-24:], true_future=truth, predicted_future=out["predictions"][0],
                                      labels=task_views.series_labels(), height=300)
            show_chart(fig)
            chart_words(words.describe_lines(fig, current()), words.lines_table(fig, t("plot.time_step")))


# --- an uploaded series: its last window, edited ------------------------------------------

def try_series(predictor, run, key: str):
    """A test window in the series' own units, to edit value by value; the forecast follows the edits."""
    arrays = tasks.load(predictor.config.task).extra["series"]
    scale = predictor.series
    left, right = st.columns([1, 1.6], gap="large")
    with left:
        example = st.selectbox(t("use.example"), range(min(20, len(arrays["at_test"]))), key=f"{key}_example",
                               format_func=lambda i, tl=bound(): tl("use.example_plain", n=i + 1))
        window, future = forecast.test_window(arrays, example)
        names = [scale["names"][c] for c in scale["inputs"]]
        st.caption(t("use.series_edit"))
        edited = st.data_editor(pd.DataFrame(window, columns=names), key=f"{key}_window_{example}", height=260,
                                num_rows="fixed", width="stretch")
    values = edited.to_numpy(dtype=float)
    values = np.where(np.isfinite(values), values, window)   # an emptied cell keeps its value
    with right:
        out = timed(predictor.predict, [values.reshape(predictor.spec.input_shape).tolist()])
        first = scale["inputs"].index(scale["targets"][0])
        predicted = np.asarray(out["predictions"][0]).reshape(len(future), -1)[:, 0]
        labels = {**task_views.series_labels(), "y": scale["names"][scale["targets"][0]]}
        with st.container(key=f"{key}_forecast"):
            fig = figures.series_figure(values[:, first], true_future=future[:, 0], predicted_future=predicted,
                                        labels=labels, height=300)
            show_chart(fig)
            chart_words(words.describe_lines(fig, current()), words.lines_table(fig, labels["x"]))


# --- text: a prompt, continued ----------------------------------------------------------

def try_text(predictor, run, key: str):
    if f"{key}_prompt" not in st.session_state:
        st.session_state[f"{key}_prompt"] = predict.example_inputs(predictor, 1)[0]
    prompt = st.text_area(t("use.prompt"), key=f"{key}_prompt", height=80)
    cols = st.columns(3)
    length = cols[0].slider(t("use.length"), 20, 600, 200, 20, key=f"{key}_length")
    temperature = cols[1].slider(t("use.temperature"), 0.1, 2.0, 0.8, 0.1, key=f"{key}_temperature",
                                 help=t("use.temperature_help"))
    seed = cols[2].number_input(t("use.seed"), 0, 10_000, 0, key=f"{key}_seed")
    unknown = sorted(set(prompt) - set(predictor.spec.vocab))
    if unknown:
        st.warning(t("use.unknown_chars", chars=" ".join(repr(c) for c in unknown[:10])))
        prompt = "".join(c for c in prompt if c in predictor.spec.vocab)
    if st.button(t("use.generate"), key=f"{key}_generate", type="primary"):
        st.session_state[f"{key}_text"] = timed(predictor.generate, prompt, length, temperature, int(seed))
    if f"{key}_text" in st.session_state:
        with st.container(key=f"{key}_output"):
            st.code(st.session_state[f"{key}_text"], language=None, wrap_lines=True)


TRY_VIEWS = {"point": try_point, "table": try_table, "image": try_image, "sequence": try_sequence,
             "series": try_series, "text": try_text}


# --- take it home, serve it ------------------------------------------------------------------

def take_home(run, predictor, key: str):
    st.subheader(t("use.home_title"))
    st.caption(t("use.home_caption"))
    lang, refused = current(), seat.refusal(run, "export")
    st.download_button(t("use.download"), data=lambda: bundle_zip(get_store(), run.id, lang),
                       file_name=f"modelkit-{run.id}.zip", mime="application/zip", key=f"{key}_download",
                       icon=":material/download:", on_click="ignore", disabled=refused is not None, help=refused)
    if refused:
        st.caption(f":material/lock: {refused}")
    st.markdown(f"**{t('use.serve_title')}**")
    st.caption(t("use.serve_caption"))
    st.code(f"python -m modelkit serve {run.id}", language="bash")
    with st.container(key=f"{key}_curl"):
        st.code(curl_command(predictor), language="bash", wrap_lines=True)
