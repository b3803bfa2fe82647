"""Replay speeds and a jump to the end (issue 24, item 8): a replay of a finished run moves several steps per
frame when asked, and one press shows the end."""
from modelkit.config import make_config
from modelkit.execution import worker
from modelkit.store import Store
from modelkit.ui.replay import SPEEDS, next_step

STEPS = [10, 20, 30, 40, 50, 60]


def test_each_speed_moves_that_many_steps_per_frame_and_stops_at_the_last():
    assert [next_step(STEPS, 10, s) for s in SPEEDS] == [20, 30, 50, 60]
    assert next_step(STEPS, 50, 8) == 60 and next_step(STEPS, 60, 1) is None


def replay_page(run_id):
    import streamlit as st

    from modelkit.config import RunConfig
    from modelkit.ui.replay import replay_section
    from modelkit.ui.resources import get_store

    st.session_state["lang"] = "en"
    run = get_store().get_run(run_id)
    replay_section(run, RunConfig.from_dict(run.config), "r")


def test_end_shows_the_runs_last_step_at_once(app_resources):
    from streamlit.testing.v1 import AppTest

    store = Store()
    run_id = store.create_run(make_config("moons", "mlp", ["train.epochs=6"]), queued=False)
    worker.execute_run(store, run_id)
    at = AppTest.from_function(replay_page, args=(run_id,), default_timeout=90).run()
    slider = at.select_slider(key="r_replay_step")
    steps = [int(o.replace(",", "")) for o in slider.options]   # the options as the slider writes them
    last = steps[-1]
    slider.set_value(steps[1]).run()
    assert at.button(key="r_replay_end").disabled is False
    at.button(key="r_replay_end").click().run()
    assert not at.exception
    assert at.select_slider(key="r_replay_step").value == last
    assert at.button(key="r_replay_end").disabled is True
