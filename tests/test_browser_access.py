"""Everyone in the room can use it, checked in Chromium: axe-core on every page, all of its height (both
languages, desktop, phone, light and dark theme, and a finished run), no sideways scrolling, the page's language on <html>,
training from the keyboard alone with the live region saying what happens, drawing a digit by touch."""
from __future__ import annotations

import pytest
from trained import train_tiny

from modelkit.store import Store
from tests.access import (DESKTOP, PAGES, PHONE, ZOOMED, axe_serious, open_expanders, settle, sideways_px,
                          small_targets)
from tests.browser import NEEDS_CHROMIUM, running_server

pytestmark = [NEEDS_CHROMIUM, pytest.mark.timeout(900)]
SHOWN_TAB = ".st-key-train_inside_view [role=tabpanel]:not([hidden])"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One server for the module, its store holding a finished digits CNN run: (server, run id)."""
    home = tmp_path_factory.mktemp("access") / "home"
    run_id = train_tiny(Store(home=home), "digits", "cnn")
    with running_server(home, workers=1) as srv:
        yield srv, run_id


def views(browser, viewport: dict, **options):
    """One browser context for a test's many page views: Streamlit's scripts load once and come from
    the context's cache after (a page of its own each time loaded and compiled them afresh)."""
    context = browser.new_context(viewport=viewport, **options)
    context.set_default_timeout(120_000)
    return context


def open_page(context, url: str):
    pg = context.new_page()
    pg.goto(url)
    settle(pg)
    return pg


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_passes_axe_in_both_languages_without_sideways_scrolling(served, browser, viewport):
    srv, _ = served
    found, context = [], views(browser, viewport)
    for lang in ("en", "zh"):
        for name, path in PAGES.items():
            pg = open_page(context, f"{srv.url}{path}?lang={lang}")
            found += findings(pg, f"{name} {lang}")
            pg.close()
    assert found == []


def findings(pg, view: str) -> list[str]:
    """What axe finds serious on the page, and how far it scrolls sideways, each named by `view`."""
    found = [f"{view}: {v}" for v in axe_serious(pg)]
    if sideways_px(pg) > 0:
        found.append(f"{view}: scrolls sideways by {sideways_px(pg)} px")
    return found


def test_the_dark_theme_passes_axe_on_every_page_and_a_finished_run(served, browser):
    srv, run_id = served
    found, context = [], views(browser, DESKTOP, color_scheme="dark")
    for name, path in {**PAGES, "finished run": f"?run={run_id}"}.items():
        pg = open_page(context, f"{srv.url}{path}{'&' if '?' in path else '?'}lang=en")
        if path.startswith("?run="):
            pg.locator(".st-key-train_loss_chart .js-plotly-plot").wait_for()
            open_expanders(pg)
        assert pg.evaluate("() => getComputedStyle(document.querySelector('[data-testid=stApp]'))"
                           ".backgroundColor") != "rgb(255, 255, 255)"   # the dark theme is the one shown
        found += [f"{name}: {v}" for v in axe_serious(pg)]
        pg.close()
    assert found == []


def test_a_finished_run_with_its_curves_confusion_matrix_look_inside_and_try_it_passes_axe(served, browser):
    srv, run_id = served
    found = []
    for viewport in (DESKTOP, PHONE):
        pg = open_page(views(browser, viewport), f"{srv.url}?run={run_id}&lang=en")
        pg.locator(".st-key-train_loss_chart .js-plotly-plot").wait_for()
        pg.locator(f".st-key-train_use_{run_id}_draw").wait_for()   # Try it: the drawing canvas
        assert pg.get_by_text("Confusion matrix").count() > 0
        assert open_expanders(pg) > 0   # each chart's table, the code, the settings: judged unfolded
        found += findings(pg, f"{viewport['width']}px")
        if viewport is DESKTOP:   # the other parts of Look inside, one tab at a time
            tabs = pg.locator(".st-key-train_inside_view [role=tab]")
            for i in range(1, tabs.count()):
                tabs.nth(i).click()
                open_expanders(pg)
                found += [f"Look inside tab {i + 1}: {v}" for v in axe_serious(pg, within=SHOWN_TAB)]
        pg.close()
    assert found == []


def test_pages_fit_the_width_at_200_percent_zoom(served, browser):
    srv, run_id = served
    wide, context = {}, views(browser, ZOOMED)
    for name, path in {**PAGES, "finished run": f"?run={run_id}"}.items():
        pg = open_page(context, f"{srv.url}{path}")
        wide[name] = sideways_px(pg)
        pg.close()
    assert wide == {name: 0 for name in wide}


def test_chinese_pages_say_so_on_html(served, browser):
    srv, _ = served
    pg = open_page(views(browser, DESKTOP), f"{srv.url}learn?lang=zh")
    pg.wait_for_function("() => document.documentElement.lang === 'zh-Hans'")
    pg.locator(".st-key-lang [role=combobox]").click()
    pg.get_by_role("option", name="English").click()
    pg.wait_for_function("() => document.documentElement.lang === 'en'")
    pg.close()


def test_on_a_phone_every_control_is_at_least_44_px_to_tap(served, browser):
    srv, run_id = served
    small, context = {}, views(browser, PHONE, has_touch=True, is_mobile=True)
    for name, path in {**PAGES, "finished run": f"?run={run_id}"}.items():
        pg = open_page(context, f"{srv.url}{path}")
        small[name] = small_targets(pg)
        pg.close()
    assert small == {name: [] for name in small}


LIVE_JS = "() => (document.getElementById('mk-live') || {}).textContent || ''"
MAX_TABS = 20


def test_from_the_keyboard_alone_tab_to_train_press_enter_and_hear_the_first_point_and_the_end(served, browser):
    srv, _ = served
    pg = open_page(views(browser, DESKTOP), f"{srv.url}?lang=zh&train.epochs=3")
    pg.locator(".st-key-train_start button:not([disabled])").wait_for()
    tabs, path = 0, []
    while not pg.evaluate("() => !!document.activeElement.closest('.st-key-train_start')"):
        assert tabs < MAX_TABS, f"the Train button is not reached in {MAX_TABS} Tab presses: {path}"
        pg.keyboard.press("Tab")
        tabs += 1
        path.append(pg.evaluate("() => document.activeElement.id || document.activeElement.innerText.slice(0, 20)"))
        if pg.evaluate("() => document.activeElement.id === 'mk-skip'"):
            pg.keyboard.press("Enter")   # the skip link: straight to the Train button
    pg.keyboard.press("Enter")
    assert pg.evaluate("() => document.getElementById('mk-live').getAttribute('aria-live')") == "polite"
    pg.wait_for_function(f"() => ({LIVE_JS})().includes('第一个数据点')", timeout=240_000)
    pg.wait_for_function(f"() => ({LIVE_JS})().includes('训练结束')", timeout=240_000)
    assert pg.evaluate("() => document.getElementById('mk-live').lang") == "zh-Hans"
    pg.close()


def touch_stroke(pg, box, points):
    """A finger drawing through `points` (fractions of `box`), as touch events from the browser's own input."""
    cdp = pg.context.new_cdp_session(pg)
    at = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    send = lambda kind, x, y: cdp.send("Input.dispatchTouchEvent",  # noqa: E731
                                       {"type": kind, "touchPoints": [] if kind == "touchEnd" else [{"x": x, "y": y}]})
    send("touchStart", *at[0])
    for a, b in zip(at, at[1:]):
        for k in range(1, 11):
            send("touchMove", a[0] + (b[0] - a[0]) * k / 10, a[1] + (b[1] - a[1]) * k / 10)
            pg.wait_for_timeout(15)
    send("touchEnd", *at[-1])


def test_on_a_phone_a_finger_draws_a_digit_and_the_model_answers(served, browser):
    srv, run_id = served
    pg = open_page(views(browser, PHONE, has_touch=True, is_mobile=True), f"{srv.url}?run={run_id}&lang=en")
    canvas = pg.locator(f".st-key-train_use_{run_id}_draw canvas.upper-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]   # all of it on the screen
    touch_stroke(pg, box, [(0.5, 0.15), (0.5, 0.85)])
    pg.locator(f".st-key-train_use_{run_id}_probs text.bartext").nth(9).wait_for()
    assert pg.get_by_text("The model says").count() > 0
    assert sideways_px(pg) == 0
    pg.close()
