"""A challenge's architectures default to what fits (issue 24, item 12): the host's form offers every
architecture that fits the task, and a participant starts on the link's `arch=` or on a network, not on
the linear baseline."""
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from modelkit import models, room
from modelkit.store import Store

TIMEOUT = 120


@pytest.fixture(autouse=True)
def _fresh_resources(monkeypatch):
    monkeypatch.setenv("MODELKIT_WORKERS", "1")
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def test_the_hosts_form_starts_with_every_architecture_that_fits_the_task():
    at = AppTest.from_file("../app_pages/host.py", default_timeout=TIMEOUT)
    at.session_state["lang"], at.session_state["host_unlocked"] = "en", True
    at.run()
    assert at.multiselect(key="host_ch_archs").value == models.archs_for(at.selectbox(key="host_ch_task").value)


def train_page(**query) -> AppTest:
    at = AppTest.from_file("../app_pages/train.py", default_timeout=TIMEOUT)
    at.session_state["lang"], at.session_state["participant"] = "en", "ana"
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


@pytest.mark.parametrize("link, starts_on", [({}, "mlp"), ({"arch": "mlp"}, "mlp"), ({"arch": "linear"}, "linear"),
                                             ({"arch": "cnn"}, "mlp")])
def test_a_participant_starts_on_the_links_architecture_or_a_network(link, starts_on):
    challenge = room.create_challenge(Store(), task="moons", archs=["linear", "mlp"], budget=20, locked=[],
                                      instruction="Beat the baseline with an MLP.")
    at = train_page(challenge=challenge, **link)
    assert not at.exception
    assert at.selectbox(key="train_arch").value == starts_on
