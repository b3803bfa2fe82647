"""What the accessibility browser tests share: axe-core in the page, sideways scrolling, tap target sizes.

axe-core is the npm package that tools/test.sh installs into .cache/axe (never fetched at run time).
"""
from __future__ import annotations

from pathlib import Path

from tests.browser import ROOT

AXE_JS = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PAGES = {"train": "", "compare": "compare", "runs": "runs", "learn": "learn"}   # name -> URL path
DESKTOP, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}
ZOOMED = {"width": 683, "height": 450}   # a 1366 px screen at 200 % zoom
MIN_TAP_PX = 44

# every control a finger taps: a switch or checkbox by its whole label, a slider by its track, the rest by
# its own box
TARGETS_JS = """min => [...document.querySelectorAll(
    'button, a[href], input, textarea, summary, [role=combobox], [role=slider], [role=tab], [role=switch]')]
  .map(e => (e.matches('input[type=checkbox], input[type=radio]') && e.closest('label'))
            || (e.matches('input[type=range]') && e.closest('[data-orientation]')) || e)
  .filter((e, i, all) => all.indexOf(e) === i)
  .map(e => [e, e.getBoundingClientRect()])
  .filter(([e, r]) => r.width > 0 && r.height > 0 && r.right > 0 && r.left < innerWidth
          && getComputedStyle(e).visibility !== 'hidden' && !e.closest('[aria-hidden=true]')
          && !['mk-skip'].includes(e.id) && e.getAttribute('data-testid') !== 'stSkipToContent')
  .filter(([e, r]) => r.width < min || r.height < min)
  .map(([e, r]) => `${e.tagName} ${e.getAttribute('aria-label') || e.innerText.slice(0, 30)} ${Math.round(r.width)}x${Math.round(r.height)}`)"""


# How tall the page would be if nothing scrolled: the main column and the sidebar scroll inside the window
FULL_HEIGHT_JS = """() => Math.max(innerHeight, document.documentElement.scrollHeight,
    ...[...document.querySelectorAll('[data-testid=stMain], [data-testid=stSidebarContent]')].map(e => e.scrollHeight))"""


def axe_serious(pg, within: str | None = None) -> list[str]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations on the whole page (or in the element the
    selector `within` finds), one line each.

    axe judges the colours of only what is on the screen, so the window is made as tall as the page first
    (its width, which the layout follows, stays) and put back after: a button below the fold is checked too."""
    if not pg.evaluate("() => !!window.axe"):
        pg.add_script_tag(content=Path(AXE_JS).read_text())
    shown = pg.viewport_size
    for _ in range(3):   # a taller window can lay the page out taller still (a chart's height in vh)
        height = pg.evaluate(FULL_HEIGHT_JS)
        if height <= pg.viewport_size["height"]:
            break
        pg.set_viewport_size({"width": shown["width"], "height": height})
        pg.wait_for_timeout(300)   # the layout and the charts follow the new size
    try:
        return pg.evaluate("""async ([tags, within]) => (await axe.run(within ? document.querySelector(within) : document,
                {runOnly: tags, resultTypes: ['violations']}))
            .violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .flatMap(v => v.nodes.map(n => `${v.id}: ${n.target.join(' ')} ${(n.any[0] || {}).message || ''}`))""",
                           [WCAG_AA, within])
    finally:
        pg.set_viewport_size(shown)


def open_expanders(pg) -> int:
    """Unfold every folded expander (a chart's table, the code, the advanced settings), so that axe judges
    what is inside them too; how many there were."""
    count = pg.evaluate("""() => { const folded = [...document.querySelectorAll(
        '[data-testid=stExpander] details:not([open]) > summary')]; folded.forEach(s => s.click()); return folded.length; }""")
    pg.wait_for_timeout(500)
    return count


def sideways_px(pg) -> int:
    """How far the page scrolls sideways (0: it fits the width)."""
    return pg.evaluate("""() => Math.max(document.documentElement.scrollWidth,
        ...[...document.querySelectorAll('[data-testid=stMain], [data-testid=stAppViewContainer]')]
           .map(e => e.scrollWidth)) - innerWidth""")


def small_targets(pg) -> list[str]:
    return pg.evaluate(TARGETS_JS, MIN_TAP_PX)


def settle(pg, timeout_ms: float = 120_000):
    """The page has drawn its title and its shared chrome, and its script has finished running."""
    pg.wait_for_selector("[data-testid=stMain] h1", timeout=timeout_ms)
    pg.wait_for_function("() => !!document.getElementById('mk-live')", timeout=timeout_ms)   # the page chrome ran
    pg.wait_for_function("() => document.querySelector('[data-testid=stApp]')"
                         ".getAttribute('data-test-script-state') !== 'running'", timeout=timeout_ms)
    pg.wait_for_timeout(500)   # charts draw after the script ends
