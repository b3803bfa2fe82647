"""What every page shares so that everyone in the room can use it: readable contrast, a skip link, the
page's language on <html>, one live region that screen readers hear, and a short sound when a run ends.

Streamlit draws captions, help text and placeholders faded (its text colour at 60 %), under WCAG AA on
the sidebar's grey; PAGE_CSS draws them in the text colour itself, a little lighter, in either theme.
The live region sits at the top of <body>, outside what Streamlit redraws, so that a screen reader
hears each new announcement (a region created together with its text is not read). Nothing here
plays a sound by itself: the run-end chime is Web Audio the participant switched on with a click.
"""
from __future__ import annotations

import html
import json

import pandas as pd
import streamlit as st

from modelkit.ui.i18n import current, t
from modelkit.written import plain_chart

CHART_CONFIG = {"displayModeBar": False}   # no Plotly toolbar: its tooltips are English only

SOUND_KEY = "access_sound"   # the sidebar toggle: a short sound when a followed run ends

PAGE_CSS = """<style>
/* faded text (captions, help, placeholders) in the text colour itself, softened by opacity only:
   over 4.5:1 on both themes' backgrounds */
[data-testid="stCaptionContainer"], [data-testid="stWidgetLabel"] [data-testid="stCaptionContainer"] {
  color: inherit; opacity: .82; }
input::placeholder, textarea::placeholder { color: inherit; opacity: .7; }
/* a multiselect's chosen options: outlined in the text colour (white on the dark theme's light primary failed) */
[data-testid="stMultiSelect"] :has(> span[title]) { background-color: transparent !important;
  color: inherit !important; border: 1px solid currentColor; }
[data-testid="stMultiSelect"] span[title] { color: inherit !important; }
/* a primary button's label: Streamlit draws it white, 2.3:1 on the dark theme's light primary. It takes
   the page's text colour turned to black or white, whichever that text is not (dark text in the light
   theme: white on the primary, 6:1; light text in the dark theme: black, 8:1), so it follows a theme
   switched in the menu without knowing which theme is shown */
[data-testid^="stBaseButton-primary"]:not(:disabled), [data-testid="stBaseLinkButton-primary"] {
  color: rgb(from currentColor clamp(0, (128 - r) * 1000, 255) clamp(0, (128 - r) * 1000, 255)
             clamp(0, (128 - r) * 1000, 255)) !important; }
/* code: Streamlit colours its tokens in the same mid-tone hues in either theme (2.6:1 on the light code
   block); each hue is mixed half and half with the code's own text colour, so it darkens on the light
   theme and lightens on the dark one: over 5:1 on both */
.stCode .token.comment, .stCode .token.punctuation, .stCode .token.prolog {
  color: color-mix(in srgb, #808495 50%, currentColor) !important; }
.stCode .token.attr-name, .stCode .token.property, .stCode .token.variable {
  color: color-mix(in srgb, #00A4D4 50%, currentColor) !important; }
.stCode .token.boolean, .stCode .token.constant, .stCode .token.symbol {
  color: color-mix(in srgb, #21C354 50%, currentColor) !important; }
.stCode .token.number, .stCode .token.regex {
  color: color-mix(in srgb, #29B09D 50%, currentColor) !important; }
.stCode .token.string, .stCode .token.char, .stCode .token.attr-value {
  color: color-mix(in srgb, #09AB3B 50%, currentColor) !important; }
.stCode .token.operator, .stCode .token.entity, .stCode .token.decorator, .stCode .token.atrule {
  color: color-mix(in srgb, #ED6F13 50%, currentColor) !important; }
.stCode .token.url {
  color: color-mix(in srgb, #6D3FC0 50%, currentColor) !important; }
.stCode .token.keyword, .stCode .token.tag, .stCode .token.function, .stCode .token.class-name,
.stCode .token.selector {
  color: color-mix(in srgb, #1C83E1 50%, currentColor) !important; }
.stCode .token.important {
  color: color-mix(in srgb, #FF4B4B 50%, currentColor) !important; }
/* line numbers: the code's colour, a little softer (Streamlit's grey was 2.3:1 on the light code block) */
.stCode .react-syntax-highlighter-line-number { color: inherit !important; opacity: .75 !important; }
/* code wraps instead of scrolling sideways: a box that scrolls must take the keyboard's focus, and
   Streamlit's code box cannot */
.stCode pre, .stCode code { white-space: pre-wrap !important; word-break: break-word; }
.mk-skip { position: absolute; left: 8px; top: -60px; z-index: 1000001; padding: 10px 16px;
  background: #1F2937; color: #FFFFFF; border-radius: 6px; text-decoration: none; }
.mk-skip:focus { top: 8px; }
.mk-sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap; }
:focus-visible { outline: 3px solid #3B5BDB !important; outline-offset: 2px; }
[class*="st-key-access_"] { display: none; }
/* phones and tablets: every control at least 44 px to tap; small icons get a larger invisible hit area
   (negative margins keep the layout as it was) */
@media (max-width: 640px), (pointer: coarse) {
  button, summary, [role="tab"], [data-testid="stSidebarNavLink"] { min-height: 44px !important; }
  input:not([type="checkbox"]):not([type="radio"]):not([type="range"]), textarea { min-height: 44px !important; }
  [data-testid="stNumberInputStepDown"], [data-testid="stNumberInputStepUp"] { min-width: 44px !important; }
  label:has(input[type="checkbox"]), label:has(input[type="radio"]) { min-height: 44px; align-items: center; }
  [data-testid="stTooltipIcon"] button { min-width: 44px; min-height: 44px; margin: -14px; }
  [data-testid="stHeaderActionElements"] { display: none; }   /* heading links: a hover aid on desktops */
  [data-testid="stExpandSidebarButton"], [data-testid="stMainMenuButton"], [data-testid="stBaseButton-header"],
  [data-testid="stBaseButton-headerNoPadding"] { min-width: 44px; min-height: 44px; }
  [data-testid="stMultiSelect"] [role="button"], [data-testid="stMultiSelect"] button,
  [data-testid="stNumberInput"] [aria-label="Clear value"], [data-testid="stSelectbox"] button {
    min-width: 44px; min-height: 44px; margin: -10px; }
  [data-testid="stSlider"] [data-orientation="horizontal"] { min-height: 44px; }   /* the track takes the finger */
  [data-testid="stElementToolbar"] button { min-width: 44px !important; }
  [role="tab"], button[aria-label^="Scroll tabs"] { min-width: 44px !important; }
}
</style>"""

# Runs once per language: puts the skip link and the live region at the top of <body> (where Tab starts
# and where React never redraws them), and the page's language on <html>.
CHROME_JS = """<script>
(() => {
  const cfg = %s;
  document.documentElement.lang = cfg.lang;
  if (!document.getElementById('mk-css')) {   // in the document head, where no rerun takes it away
    const style = document.createElement('style'); style.id = 'mk-css'; style.textContent = cfg.css;
    document.head.append(style);
  }
  let skip = document.getElementById('mk-skip');
  if (!skip) {
    skip = document.createElement('a'); skip.id = 'mk-skip'; skip.className = 'mk-skip'; skip.href = '#';
    skip.addEventListener('click', ev => {
      ev.preventDefault();
      const target = document.querySelector('.st-key-train_start button:not([disabled])')
        || document.querySelector('[data-testid="stMain"] h1');
      if (!target) return;
      if (!target.matches('button, a, input')) target.setAttribute('tabindex', '-1');   // a heading takes focus
      target.focus();
    });
    document.body.prepend(skip);
  }
  skip.textContent = cfg.skip;
  if (!document.getElementById('mk-live')) {
    const live = document.createElement('div'); live.id = 'mk-live'; live.className = 'mk-sr-only';
    live.setAttribute('role', 'status'); live.setAttribute('aria-live', 'polite');
    document.body.prepend(live);
  }
  document.getElementById('mk-live').lang = cfg.lang;
  if (!window.mkScrollFocus) {   // a table wider than its column scrolls: it takes the keyboard's focus, so
    window.mkScrollFocus = new MutationObserver(() => {   // that arrow keys scroll it (Streamlit's cannot)
      document.querySelectorAll('.stTable > div:not([tabindex])').forEach(e => e.setAttribute('tabindex', '0'));
    });
    window.mkScrollFocus.observe(document.body, {childList: true, subtree: true});
  }
  if (!window.mkAnnouncer) {   // each announcement (an element the page draws) said once, in the live region
    window.mkSaid = new Set();
    const say = () => document.querySelectorAll('.mk-announce').forEach(e => {
      const live = document.getElementById('mk-live');
      if (!live || window.mkSaid.has(e.dataset.id)) return;
      window.mkSaid.add(e.dataset.id); live.textContent = e.dataset.text;
      if (e.dataset.chime && window.mkChime) { try { window.mkChime(e.dataset.chime === 'ok'); } catch (x) {} }
    });
    window.mkAnnouncer = new MutationObserver(say);
    window.mkAnnouncer.observe(document.body, {childList: true, subtree: true, characterData: true,
                                               attributes: true, attributeFilter: ['data-id']});
    say();
  }
  window.mkChime = (ok) => {   // a short rising (finished) or falling (failed) pair of tones
    const ctx = window.mkAudio || (window.mkAudio = new AudioContext());
    [0, 1].forEach(i => {
      const osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = ok ? [523, 784][i] : [392, 262][i];
      gain.gain.setValueAtTime(0.2, ctx.currentTime + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + i * 0.18 + 0.3);
      osc.connect(gain).connect(ctx.destination);
      osc.start(ctx.currentTime + i * 0.18); osc.stop(ctx.currentTime + i * 0.18 + 0.3);
    });
  };
})();
</script>"""

# One announcement: an element holding the live region's new text, which the page chrome's observer says once
# (a script drawn by st.html runs only where its element is new, and a run's end is drawn where its poll drew
# the first point, so a script of its own said nothing)
ANNOUNCE_HTML = '<div class="mk-announce" hidden data-id="{id}" data-text="{text}" data-chime="{chime}"></div>'

HTML_LANG = {"en": "en", "zh": "zh-Hans"}


def _js_value(value) -> str:
    """`value` as a JavaScript literal inside <script>. Streamlit drops an st.html body whose script holds
    anything tag-like (even "<head>" in a comment), so no "<" may appear in it."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def page_chrome():
    """The shared CSS, skip link, live region and <html lang>: call once per page view, before the page."""
    config = {"lang": HTML_LANG.get(current(), current()), "skip": t("access.skip"),
              "css": PAGE_CSS.removeprefix("<style>").removesuffix("</style>")}
    with st.container(key="access_chrome"):
        # the CSS twice: in the page's own tree on every run (an st.html of only a <style> goes to a
        # container Streamlit clears), and in the document head once the script has run
        st.markdown(PAGE_CSS, unsafe_allow_html=True)
        st.html(CHROME_JS % _js_value(config), unsafe_allow_javascript=True)


def announce(where: str, event_id: str, text: str, *, ended: bool | None = None):
    """Say `text` in the live region once per `event_id` (from the view whose keys start with `where`);
    `ended` True/False (finished/failed) also chimes when the participant switched run-end sounds on."""
    chime = ended if ended is not None and st.session_state.get(SOUND_KEY) else None
    with st.container(key=f"access_announce_{where}"):
        st.html(ANNOUNCE_HTML.format(id=html.escape(event_id), text=html.escape(text),
                                     chime="" if chime is None else "ok" if chime else "bad"))


def sound_toggle():
    """The sidebar's switch for the run-end sound (off until clicked: nothing plays without a click)."""
    st.toggle(t("access.sound"), key=SOUND_KEY, help=t("access.sound_help"))


def show_chart(fig, **kwargs):
    """A Plotly chart as every page draws it: without the toolbar, and with what participants wrote (class
    and column names, run names) drawn as typed, never as Plotly's HTML (modelkit.written.plain_chart)."""
    kwargs.setdefault("config", CHART_CONFIG)
    return st.plotly_chart(plain_chart(fig), **kwargs)


def chart_words(sentence: str, table: pd.DataFrame | None = None):
    """A chart's words, under it: its one-sentence summary (what a screen reader reads in its place) and,
    folded away, its numbers as a static table (not st.dataframe: its canvas grid is a picture again)."""
    st.caption(sentence)
    if table is not None and len(table):
        with st.expander(t("access.show_table"), icon=":material/table:"):
            rows = table.set_index(table[table.columns[0]].astype(str)).drop(columns=table.columns[0])
            st.table(rows.rename_axis(table.columns[0]))   # a real HTML table: a screen reader reads it cell by cell
            # (the first column, as text, names the rows: Streamlit hides a plain number index such as steps)
