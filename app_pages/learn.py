"""Learn: the ideas of deep learning one step at a time, each shown inside a small model trained here.

deep network -> loss -> backpropagation -> optimizers -> CNN -> RNN -> Transformer -> metrics.
Each step trains its model through the runner (a few seconds) or reuses one already trained.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from modelkit import room
from modelkit.config import ConfigError, RunConfig, make_config
from modelkit.ui import lesson_view, seat
from modelkit.ui.forms import error_text
from modelkit.ui.i18n import bound, t
from modelkit.ui.inside_view import inside_section, loss_surface
from modelkit.ui.resources import get_store


@dataclass(frozen=True)
class Step:
    id: str
    task: str | None = None      # None: the step needs no trained model
    arch: str | None = None
    sets: tuple = ()
    parts: tuple = ()


STEPS = [Step("network", "moons", "mlp", ("train.epochs=30",), ("forward",)),
         Step("loss", "moons", "mlp", ("train.epochs=30",), ("loss",)),
         Step("backprop", "digits", "mlp", ("train.epochs=4",), ("gradients",)),
         Step("optimizers"),
         Step("cnn", "digits", "cnn", ("train.epochs=3",), ("cnn",)),
         Step("rnn", "digits", "gru", ("train.epochs=4",), ("rnn",)),
         Step("transformer", "digits", "transformer", ("train.epochs=4",), ("transformer",)),
         Step("metrics", "breast_cancer", "mlp", ("train.epochs=20",), ("metrics",))]
BY_ID = {s.id: s for s in STEPS}
POLL_SECONDS = 1.0


def step_config(step: Step) -> RunConfig:
    return make_config(step.task, step.arch, list(step.sets), base={"name": room.lessons.learn_run_name(step.id)})


def reusable_run(step: Step):
    """The newest finished run of this step's task and architecture that still has its weights (another's
    shared model only once the host has revealed what it is)."""
    store = seat.seen_store()
    for run in store.list_runs(status="completed", limit=200):
        if run.task == step.task and run.arch == step.arch and store.has_weights(run.id):
            return store.get_run(run.id)
    return None


def train_step_model(step: Step):
    """The step's model, trained for this session through the one door; a refusal shows where its button was."""
    try:
        st.session_state[f"learn_run_{step.id}"], = seat.submit([step_config(step)])
    except ConfigError as err:
        st.session_state["learn_refused"] = err


@st.fragment(run_every=POLL_SECONDS)
def wait_for(run_id: str):
    """While the step's model trains: its status; once it has finished, the whole page again."""
    run = get_store().get_run(run_id)
    if run is not None and run.active:
        st.info(t("learn.training"), icon=":material/hourglass_top:")
    else:
        st.rerun()


def show_model(step: Step):
    store = get_store()
    if "learn_refused" in st.session_state:   # the room's limits refused the last Train
        st.error(error_text(st.session_state.pop("learn_refused")), icon=":material/block:")
    mine = st.session_state.get(f"learn_run_{step.id}")
    run = store.get_run(mine) if mine else None
    if run is not None and run.active:
        wait_for(run.id)
        return
    if run is None or run.status != "completed":
        run = reusable_run(step)
    if run is None:
        st.button(t("learn.train"), key="learn_train", type="primary", icon=":material/play_arrow:",
                  on_click=train_step_model, args=(step,))
        st.caption(t("learn.train_caption", task=t(f"task.{step.task}.title"), arch=t(f"arch.{step.arch}.title")))
        return
    st.caption(t("learn.shown_on", run=run.id, task=t(f"task.{step.task}.title"),
                 arch=t(f"arch.{step.arch}.title")))
    inside_section(run, RunConfig.from_dict(run.config), parts=list(step.parts), key="learn_inside")
    st.button(t("learn.train_again"), key="learn_train", icon=":material/refresh:", on_click=train_step_model,
              args=(step,))


def go(offset: int):
    ids = [s.id for s in STEPS]
    st.session_state["learn_step"] = ids[(ids.index(st.session_state["learn_step"]) + offset) % len(ids)]


st.title(t("learn.title"))
st.caption(t("learn.intro"))
asked = lesson_view.take("learn")   # the room's lesson moved to a Learn step
if asked in BY_ID:
    st.session_state["learn_step"] = asked
if st.session_state.get("learn_step") not in BY_ID:
    st.session_state["learn_step"] = STEPS[0].id
tl = bound()
choice = st.radio(t("learn.path"), [s.id for s in STEPS], key="learn_step", horizontal=True,
                  format_func=lambda s: f"{list(BY_ID).index(s) + 1}. {tl(f'learn.{s}.title')}")
step = BY_ID[choice]
with st.container(key="learn_text"):
    st.header(t(f"learn.{step.id}.title"))
    st.markdown(t(f"learn.{step.id}.text"))
if step.task is None:
    loss_surface("learn")
else:
    show_model(step)
left, right = st.columns(2)
left.button(t("learn.previous"), key="learn_previous", icon=":material/arrow_back:", on_click=go, args=(-1,),
            disabled=step is STEPS[0])
right.button(t("learn.next"), key="learn_next", icon=":material/arrow_forward:", on_click=go, args=(1,),
             disabled=step is STEPS[-1])
