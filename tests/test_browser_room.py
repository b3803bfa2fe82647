"""A room where a name is a seat, in real Chromium with two browser contexts (two people, two browsers).

ana trains; bob opens ?who=ana and types "ana": he is refused, and finds every control of her run disabled
on the Train and Compare pages while the engine keeps her run as it was; his own run is his. A challenge's
locked learning rate is disabled on the live slider of the participant's own run and refused by the engine.
A race of six under the default limits completes while another participant's single run starts before
its last runs, and a refused start is said in place. The taken-name refusal reads in Chinese too.
"""
import time

import pytest

from modelkit import room
from modelkit.fields import ConfigError
from modelkit.store import Store
from tests.browser import NEEDS_CHROMIUM, running_server, wait_for_rerun

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [NEEDS_CHROMIUM, pytest.mark.timeout(900)]
LONG_SECONDS = 500   # a run that outlasts the test on a busy machine (the test stops it)
LONG_RUN = f"task=moons&arch=mlp&train.epochs=null&train.time_budget={LONG_SECONDS}"
CRASH = "[data-testid=stException], .stAlert:has-text('Something went wrong'), .stAlert:has-text('出了点问题')"


@pytest.fixture
def served(tmp_path):
    """A server under the room's default limits, and its store."""
    with running_server(tmp_path / "home", workers=2) as srv:
        yield srv, Store(home=tmp_path / "home")


@pytest.fixture
def served_long(tmp_path, monkeypatch):
    """A server whose time limit lets a run outlast the test."""
    monkeypatch.setenv("MODELKIT_LIMIT_SECONDS", str(LONG_SECONDS + 100))
    with running_server(tmp_path / "home", workers=2) as srv:
        yield srv, Store(home=tmp_path / "home")


def person(browser, url: str):
    """A browser of its own (cookies, sessions), at `url`, once the Train page is drawn."""
    pg = browser.new_context(viewport={"width": 1400, "height": 2000}).new_page()
    pg.set_default_timeout(240_000)   # a busy machine: a first page can take minutes
    pg.goto(url)
    pg.locator(".st-key-train_task input").wait_for()
    return pg


def type_name(pg, name: str):
    box = pg.locator(".st-key-participant input")
    box.fill(name)
    box.press("Enter")
    wait_for_rerun(pg)


def wait_running(store, run_id: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while store.get_run(run_id).status != "running":
        assert time.monotonic() < deadline and store.get_run(run_id).status == "queued"
        time.sleep(0.3)


def seat_secret(pg) -> str:
    """The seat's secret from the participant's own link."""
    return pg.evaluate("() => new URLSearchParams(location.search).get('seat') || ''")


DISABLED_JS = """k => { const els = [...document.querySelectorAll(`.st-key-${k} [data-testid^=stBaseButton], .st-key-${k} input`)];
    return els.length > 0 && els.every(e => e.disabled || e.getAttribute('aria-disabled') === 'true'); }"""


def disabled(pg, key: str, within: float = 20) -> bool:
    """Every copy of the control `key` is disabled, once the page has drawn it (a polled view can briefly
    hold two copies of it, or none)."""
    deadline = time.monotonic() + within
    while not pg.evaluate(DISABLED_JS, key):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def said(pg, key: str) -> str:
    pg.locator(f".st-key-{key}").first.wait_for()
    return pg.locator(f".st-key-{key}").first.inner_text()


def test_bob_cannot_take_anas_name_nor_touch_her_run_from_any_page(served_long, browser):
    srv, store = served_long
    ana = person(browser, f"{srv.url}?who=ana&{LONG_RUN}")
    ana.locator(".st-key-train_start button").click()
    ana.wait_for_function("() => new URLSearchParams(location.search).get('run')")
    run_id = store.list_runs(owner="ana")[0].id
    wait_running(store, run_id)

    bob = person(browser, f"{srv.url}?who=ana")
    bob.get_by_text("The name “ana” is already taken").wait_for()
    assert bob.locator(".st-key-participant input").input_value() == ""
    type_name(bob, "ANA ")
    bob.get_by_text("is already taken").wait_for()
    type_name(bob, "bob")
    bob.wait_for_function("() => new URLSearchParams(location.search).get('who') === 'bob'")
    seat = f"who=bob&seat={seat_secret(bob)}"

    bob.goto(f"{srv.url}?{seat}&run={run_id}&task=moons&arch=mlp")   # ana's run, on his Train page
    assert "belongs to ana" in said(bob, "train_not_yours")
    assert disabled(bob, "train_stop") and disabled(bob, "train_pause") and disabled(bob, "train_live_lr")

    bob.goto(f"{srv.url}compare?{seat}&runs={run_id}")
    bob.locator(".st-key-compare_stop button").first.wait_for()
    assert disabled(bob, "compare_stop")
    assert bob.locator(CRASH).count() == 0

    bob.goto(f"{srv.url}?{seat}&task=moons&arch=linear&train.epochs=2")
    bob.locator(".st-key-train_start button").click()
    bob.wait_for_function("() => new URLSearchParams(location.search).get('run')")
    anas = store.get_run(run_id)
    assert (anas.status, anas.stop_requested) == ("running", False)
    assert store.controls(run_id) == {"lr": None, "paused": False, "stop": False}
    assert [r.owner for r in store.list_runs()].count("ana") == 1 and store.list_runs(owner="bob")
    room.actions.stop(store, run_id, by="ana")


def test_a_locked_learning_rate_is_disabled_live_and_refused_by_the_engine(served_long, browser):
    srv, store = served_long
    challenge = room.create_challenge(store, task="moons", archs=["mlp"], budget=LONG_SECONDS,
                                      locked=["train.lr=0.01", "train.epochs=100000"])
    pat = person(browser, f"{srv.url}?challenge={challenge}&who=pat")
    pat.locator(".st-key-train_start button").click()
    pat.wait_for_function("() => new URLSearchParams(location.search).get('run')")
    run_id = store.list_runs(owner="pat")[0].id
    wait_running(store, run_id)
    assert "fixes this setting at 0.01" in said(pat, "train_not_yours")
    assert disabled(pat, "train_live_lr")
    assert not disabled(pat, "train_pause")   # what the challenge leaves free
    with pytest.raises(ConfigError) as refused:
        room.actions.change_lr(store, run_id, 0.3, by="pat")
    assert refused.value.code == "locked_live"
    assert store.controls(run_id)["lr"] is None and store.get_run(run_id).challenge == challenge
    room.actions.stop(store, run_id, by="pat")


RACE = ("RNN (recurrent)", "LSTM", "GRU")   # added to the page's three: six architectures


def test_a_race_of_six_completes_while_a_neighbours_run_starts_before_its_last_runs(served, browser):
    srv, store = served
    ben = person(browser, f"{srv.url}?who=ben&task=moons&arch=linear&train.epochs=3")
    ana = person(browser, f"{srv.url}?who=ana")
    ana.goto(f"{srv.url}compare?who=ana&seat={seat_secret(ana)}")
    ana.locator(".st-key-compare_task input").wait_for()
    for arch in RACE:
        box = ana.locator(".st-key-compare_archs input")
        box.click()
        box.fill(arch)
        box.press("Enter")
        wait_for_rerun(ana)
    budget = ana.locator(".st-key-compare_time_budget input")
    budget.fill("20")   # long enough that the race still holds her share when she presses Start again
    budget.press("Enter")
    wait_for_rerun(ana)
    ana.locator(".st-key-compare_start button").click()
    ana.wait_for_function("() => (new URLSearchParams(location.search).get('runs') || '').split(',').length === 6")
    ben.locator(".st-key-train_start button").click()

    ana.locator(".st-key-compare_start button").click()   # a second race while the first holds her share
    ana.get_by_text("You already have 2 runs waiting or training").wait_for()
    assert ana.locator(CRASH).count() == 0

    deadline = time.monotonic() + 360
    while any(r.active for r in store.list_runs()) or len(store.list_runs()) < 7:
        assert time.monotonic() < deadline, [(r.owner, r.status) for r in store.list_runs()]
        time.sleep(1)
    race, (single,) = store.list_runs(owner="ana"), store.list_runs(owner="ben")
    assert len(race) == 6 and {r.status for r in race} == {"completed"}
    assert single.started < max(r.started for r in race)


def test_the_taken_name_is_refused_in_chinese_with_no_exception_note(served, browser):
    srv, store = served
    room.claim(store, "ana")
    bob = person(browser, f"{srv.url}?who=ana&lang=zh")
    bob.get_by_text("“ana”这个名字在本教室已经有人使用").wait_for()
    assert bob.locator(CRASH).count() == 0
    bob.goto(f"{srv.url}host?lang=zh")
    bob.get_by_text("此页面供工作坊主持人使用").wait_for()   # not Streamlit's English "Page not found"
    assert bob.get_by_text("Page not found").count() == 0
