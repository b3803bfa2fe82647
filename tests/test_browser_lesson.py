"""A lesson in real Chromium: one host and three participants, each in a browser of their own.

The host starts a ready lesson and moves the room to step 2: all three pages show step 2 (the seconds
each took are printed: the poll is lesson_view.FOLLOW_EVERY_S, plus one rerun). The CLI's
`lesson step 4` moves the open pages to the step's challenge, which has a hidden test; each participant
trains, and the challenge's hidden leaderboard ranks all three. The host moves on to the gallery round:
one participant shares their model, another opens it and tries it on a drawing.
"""
import time

import pytest

from modelkit.cli import main
from modelkit.room import gallery, hidden, lessons
from modelkit.store import Store
from tests.browser import NEEDS_CHROMIUM, running_server, wait_for_rerun
from tests.polling import wait_until
from tests.test_browser_use import stroke

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [NEEDS_CHROMIUM, pytest.mark.timeout(1800)]
KEY = "lesson-key-42"
PEOPLE = ("ana", "ben", "cai")
LESSON = "Why convolutions: MLP vs CNN on digits"
BUSY_S = 300                 # deadlines of a machine shared by many: a rerun there can take a minute
BUSY_MS = BUSY_S * 1000


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A server with a known host key, on the test's own store (the one the CLI below opens too)."""
    monkeypatch.setenv("MODELKIT_HOST_KEY", KEY)
    with running_server(tmp_path / "home", workers=2) as srv:
        yield srv, Store(home=tmp_path / "home")


def person(browser, url: str):
    """A browser of its own at `url`, once the Train page is drawn (a busy machine: minutes, at worst)."""
    pg = browser.new_context(viewport={"width": 1400, "height": 2000}).new_page()
    pg.set_default_timeout(BUSY_MS)
    pg.goto(url, wait_until="commit", timeout=600_000)
    pg.locator(".st-key-train_task input").wait_for(timeout=600_000)
    return pg


def become_host(pg):
    pg.get_by_text("Host", exact=True).first.click()            # the sidebar's Host expander
    key = pg.locator(".st-key-host_key_input input")
    key.fill(KEY)
    key.press("Enter")
    pg.get_by_role("link", name="Host").click()
    pg.get_by_role("heading", name="Host the room").wait_for()


def on_step(pg, n: int, of: int = 5, timeout_ms: float = BUSY_MS):
    """The page's lesson banner says step `n` (the deadline is a busy machine's, where a rerun can take
    many seconds; the seconds it took are printed, not asserted)."""
    pg.wait_for_function("t => (document.querySelector('.st-key-lesson_banner') || {}).innerText?.includes(t)",
                         arg=f"Step {n} of {of}", timeout=timeout_ms)


def shows(srv, pg, selector: str, text: str, timeout_ms: float = BUSY_MS):
    """The element `selector` holds `text`; else fail with what the page and the server said."""
    try:
        pg.wait_for_function("([s, t]) => (document.querySelector(s) || {}).innerText?.includes(t)",
                             arg=[selector, text], timeout=timeout_ms)
    except playwright.TimeoutError:
        raise AssertionError(f"{selector} never showed {text!r} at {pg.url}:\n{pg.inner_text('body')[:1500]}"
                             f"\n--- server ---\n{''.join(srv.output)}") from None


def seconds_until_all_follow(pages, n: int) -> list[float]:
    start = time.monotonic()
    took = []
    for pg in pages:
        on_step(pg, n)
        took.append(round(time.monotonic() - start, 1))
    return took


def test_a_host_paces_three_participants_through_a_lesson_with_a_gallery_and_a_hidden_test(served, browser):
    srv, store = served
    pupils = {name: person(browser, f"{srv.url}?who={name}") for name in PEOPLE}
    for pg in pupils.values():
        pg.wait_for_function("() => new URLSearchParams(location.search).get('seat')")
    host = person(browser, srv.url)
    become_host(host)

    host.locator(".st-key-host_lesson").click()
    host.get_by_role("option", name=LESSON).click()
    wait_for_rerun(host, timeout_ms=BUSY_MS)
    host.locator(".st-key-host_lesson_start button").click()
    wait_until(lambda: lessons.current(store), BUSY_S, 0.2, "the lesson started")
    seconds_until_all_follow(pupils.values(), 1)
    host.locator(".st-key-host_lesson_next button").click()
    wait_until(lambda: lessons.current(store).step == 2, BUSY_S, 0.2, "the room on step 2")
    print("seconds until each page showed step 2:", seconds_until_all_follow(pupils.values(), 2))
    for pg in pupils.values():   # step 2 is the Learn step on convolutions: each page opened it
        shows(srv, pg, ".st-key-learn_text", "Convolution and pooling")

    assert main(["lesson", "step", "4"]) == 0   # the CLI, as the host: the open pages follow it too
    print("seconds until each page showed step 4:", seconds_until_all_follow(pupils.values(), 4))
    challenge = store.get_challenge(lessons.current(store).challenge)
    assert challenge.hidden == hidden.HELD_BACK and challenge.task == "digits"
    for pg in pupils.values():   # the Train page in the challenge: its hidden board under the form
        shows(srv, pg, "body", "Ranked on the hidden test")
        pg.locator(".st-key-train_start button").click()
    wait_until(lambda: len([r for r in store.list_runs(challenge=challenge.id) if r.status == "completed"]) == 3,
               600, 1, "three challenge runs completed")
    board = hidden.hidden_board(store, challenge)
    assert sorted(board.participant) == sorted(PEOPLE) and list(board["rank"]) == [1, 2, 3]
    shown = pupils["cai"].locator(".st-key-challenge_board [data-testid=stTable]")
    wait_until(lambda: all(name in shown.inner_text() for name in PEOPLE), BUSY_S, 0.5, "the hidden board on a page")
    assert "Ranked on the hidden test" in pupils["cai"].inner_text("body")

    host.locator(".st-key-host_lesson_next button").click()   # step 5: the gallery round
    seconds_until_all_follow(pupils.values(), 5)
    ana, ben = pupils["ana"], pupils["ben"]
    ana.get_by_text("Share one of your models").click()
    name = ana.locator(".st-key-gallery_name input")
    name.fill("Ana's eyes")
    name.press("Tab")
    wait_for_rerun(ana, timeout_ms=BUSY_MS)
    ana.locator(".st-key-gallery_share button").click()
    wait_until(lambda: gallery.shared(store), BUSY_S, 0.3, "ana's model in the gallery")
    (shared,) = gallery.shared(store)
    assert shared.owner == "ana" and shared.name == "Ana's eyes"

    ben.reload()   # his gallery was drawn before she shared; a reload keeps his seat and his step
    on_step(ben, 5)
    ben.locator(".st-key-gallery_card", has_text="Ana's eyes").wait_for()
    canvas = ben.locator(f".st-key-gallery_{shared.run_id}_draw canvas.upper-canvas")
    canvas.wait_for()
    stroke(ben, canvas.bounding_box(), [(0.5, 0.15), (0.5, 0.85)])   # a "1"
    probabilities = ben.locator(f".st-key-gallery_{shared.run_id}_probs text.bartext")
    probabilities.nth(9).wait_for()
    assert len(probabilities.all_text_contents()) == 10
    assert "stay hidden until the host reveals them" in ben.inner_text("body")
