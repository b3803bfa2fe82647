"""Nothing cut off (issue 24, item 9): no label, caption, tab, chip or button of a page ends in "…" for want of
room, in English or Chinese, on a desktop or a phone. Text a table draws on its canvas is not seen here."""
import pytest

from tests.browser import NEEDS_CHROMIUM, running_server

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [NEEDS_CHROMIUM, pytest.mark.timeout(900)]

PAGES = {"train": "", "compare": "compare", "learn": "learn"}
VIEWPORTS = {"desktop": {"width": 1400, "height": 1000}, "phone": {"width": 390, "height": 844}}
# each shown element that ends its text in "…" because the text is wider than its box: what a reader sees cut
# off (a box of no width, such as the phone's folded sidebar, shows nothing)
CUT_JS = """() => { const out = [];
  for (const el of document.querySelectorAll('[data-testid=stMain] *, [data-testid=stSidebar] *')) {
    if (getComputedStyle(el).textOverflow !== 'ellipsis' || el.clientWidth === 0) continue;
    if (el.scrollWidth > el.clientWidth + 1 && (el.innerText || '').trim()) out.push(el.innerText.trim().slice(0, 60));
  }
  return out; }"""


@pytest.fixture
def server(tmp_path):
    with running_server(tmp_path / "home", workers=1) as srv:
        yield srv


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_page_cuts_off_a_label_in_either_size(server, browser, lang):
    cut = {}
    for size, viewport in VIEWPORTS.items():
        for name, path in PAGES.items():
            page = browser.new_page(viewport=viewport)
            page.set_default_timeout(120_000)
            page.goto(f"{server.url}{path}?lang={lang}")
            page.locator("h1").first.wait_for()
            page.wait_for_function("() => document.querySelector('[data-testid=stApp]')"
                                   "?.getAttribute('data-test-script-state') === 'notRunning'")
            found = page.evaluate(CUT_JS)
            if found:
                cut[f"{name} ({size})"] = found
            page.close()
    assert cut == {}
