"""Playing with training in a real browser: turn the learning rate of a running run and see the marker,
pause and resume it, scrub a finished moons run and see its decision boundary change, run a 2x2 sweep and see the heatmap fill."""
import pytest

from modelkit import room
from modelkit.config import make_config
from modelkit.execution.worker import execute_run
from modelkit.store import Store
from modelkit.ui.run_view import LR_LADDER
from tests.browser import NEEDS_CHROMIUM, running_server

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [NEEDS_CHROMIUM, pytest.mark.timeout(300)]
GUEST = "0123456789abcdef" * 2    # the browser's guest secret (its cookie): it has no name
MINE = room.guest_owner(GUEST)    # so a run stored with this owner is the browser's own

# the z values of the first heatmap drawn inside the element with this key class
HEATMAP_JS = """k => { const g = document.querySelector('.st-key-' + k + ' .js-plotly-plot');
    return g && g.data ? JSON.stringify(g.data.find(d => d.type === 'heatmap').z) : null; }"""


@pytest.fixture
def served(tmp_path):
    """(server URL, the server's store)."""
    with running_server(tmp_path / "home", workers=1) as srv:
        yield srv.url, Store(home=tmp_path / "home")


def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    page.set_default_timeout(90_000)
    page.context.add_cookies([{"name": room.GUEST_COOKIE, "value": GUEST, "url": url}])
    page.goto(url)
    return page


def test_turning_the_learning_rate_of_a_running_run_marks_the_loss_chart(served, browser):
    url, store = served
    config = make_config("moons", "mlp", ["train.epochs=null", "train.time_budget=120"])
    run_id = store.create_run(config, owner=MINE)
    page = open_page(browser, f"{url}?task=moons&arch=mlp&run={run_id}")
    page.wait_for_function("() => document.querySelector('.st-key-train_status_is_running')")
    higher = LR_LADDER[LR_LADDER.index(config.train.lr) + 1]
    page.locator(".st-key-train_live_lr input[type=range]").press("ArrowRight")   # one step up the ladder
    page.wait_for_function("t => (document.querySelector('.st-key-train_loss_chart') || {}).textContent"
                           "?.includes(t)", arg=f"lr → {higher:g}")
    assert store.controls(run_id)["lr"] == higher
    store.request_stop(run_id)


def test_pausing_a_running_run_holds_it_until_resume(served, browser):
    url, store = served
    run_id = store.create_run(make_config("moons", "mlp", ["train.epochs=null", "train.time_budget=120"]),
                              owner=MINE)
    page = open_page(browser, f"{url}?task=moons&arch=mlp&run={run_id}")
    page.wait_for_function("() => document.querySelector('.st-key-train_status_is_running')")
    page.locator(".st-key-train_pause button >> visible=true").first.click()
    page.locator(".st-key-train_paused").wait_for()
    assert store.controls(run_id)["paused"]
    page.locator(".st-key-train_pause button >> visible=true").first.click()
    page.locator(".st-key-train_paused").wait_for(state="detached")
    assert not store.controls(run_id)["paused"]
    store.request_stop(run_id)


def test_scrubbing_a_finished_moons_run_changes_the_boundary(served, browser):
    url, store = served
    run_id = store.create_run(make_config("moons", "mlp", ["train.epochs=12"]))
    store.claim_next()
    execute_run(store, run_id)
    steps = [step for step, _ in store.snapshots(run_id)]
    page = open_page(browser, f"{url}?task=moons&arch=mlp&run={run_id}")
    page.get_by_text("Replay the training").click()
    page.locator(f".st-key-train_replay_at_{steps[-1]}").wait_for()
    at_end = page.evaluate(HEATMAP_JS, "train_replay_frame")
    page.locator(".st-key-train_replay_step input[type=range]").press("Home")
    page.locator(f".st-key-train_replay_at_{steps[0]}").wait_for()
    page.wait_for_function(f"z => ({HEATMAP_JS})('train_replay_frame') !== z", arg=at_end)
    assert page.evaluate(HEATMAP_JS, "train_replay_frame") is not None


def test_a_two_by_two_sweep_fills_its_heatmap(served, browser):
    url, _ = served
    page = open_page(browser, f"{url}compare")
    page.locator(".st-key-compare_mode").get_by_text("Sweep").click()
    page.locator(".st-key-compare_sweep_values_train_lr input").fill("0.01, 0.1")
    page.locator(".st-key-compare_sweep_values_train_lr input").press("Enter")
    page.locator(".st-key-compare_sweep_y [role=combobox]").click()
    page.get_by_role("option", name="Hidden layers", exact=True).click()
    page.locator(".st-key-compare_sweep_values_model_hidden input").fill("4, 16")
    page.locator(".st-key-compare_sweep_values_model_hidden input").press("Enter")
    page.locator(".st-key-compare_epochs input, .st-key-compare_time_budget input").first.fill("2")
    page.locator(".st-key-compare_epochs input, .st-key-compare_time_budget input").first.press("Enter")
    page.get_by_role("button", name="Start the sweep (4 runs)").click()
    page.locator(".st-key-compare_sweep_heatmap_4").wait_for(timeout=180_000)
    cells_js = """() => { const g = document.querySelector('.st-key-compare_sweep_heatmap_4 .js-plotly-plot');
        return g && g.data ? g.data[0].text.flat() : []; }"""
    # the heatmap fills cell by cell as the runs report: wait until every cell has its value
    page.wait_for_function(f"() => {{ const c = ({cells_js})(); return c.length === 4 && c.every(v => v !== ''); }}",
                           timeout=180_000)
    cells = page.evaluate(cells_js)
    assert len(cells) == 4 and all(float(c) > 0 for c in cells)   # each cell's validation accuracy
    assert page.get_by_text("Best cell:").count() == 1


def test_opening_and_reloading_a_running_runs_page_never_changes_its_learning_rate(served, browser):
    url, store, lr = *served, 0.003
    config = make_config("moons", "mlp", ["train.epochs=null", "train.time_budget=120", f"train.lr={lr}"])
    run_id = store.create_run(config)
    page = open_page(browser, f"{url}?task=moons&arch=mlp&run={run_id}")
    page.wait_for_function("() => document.querySelector('.st-key-train_status_is_running')")
    for _ in range(2):                     # a reload, as a participant does, and a second look at it
        page.reload()
        page.wait_for_function("() => document.querySelector('.st-key-train_status_is_running')")
        page.wait_for_timeout(15_000)      # several polls of the live view, with no input at all
    assert store.controls(run_id)["lr"] is None
    assert page.locator(".st-key-train_live_lr").inner_text().count(f"{lr:g}") >= 1
    store.request_stop(run_id)
