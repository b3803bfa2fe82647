"""modelkit: the dashboard's entry point. It routes, and holds what every page shares:
the language, the device line, the participant's seat and the host.

`streamlit run app.py` finds `app` below (an st.App) and serves this same file as the page script,
after its lifespan starts the warm-up (resources.warm_start): the heavy imports, the default task's
data and the runner are made once, in the background, as the server starts, never in a participant's
first rerun. The page script runs as __main__; the runner's worker processes may import this file as
__mp_main__, where nothing must be drawn or served.
"""
import streamlit as st

from modelkit.ui import access, lesson_view, room_view, seat
from modelkit.ui.guard import page_boundary
from modelkit.ui.i18n import LANGUAGES, init_language, redraw_choice_labels, t
from modelkit.ui.resources import device_name, get_runner, warm_start


def sidebar():
    with st.sidebar:
        st.markdown(f"## :material/neurology: modelkit\n{t('app.tagline')}")
        st.selectbox(t("app.language"), list(LANGUAGES), key="lang", format_func=LANGUAGES.get,
                     on_change=redraw_choice_labels)
        seat.name_field()
        room_view.seen()
        room_view.heartbeat()
        room_view.announced_key()
        seat.host_field()
        access.sound_toggle()
        gpu = device_name()
        st.caption(t("app.device_gpu", name=gpu) if gpu else t("app.device_cpu"))


# Streamlit's own "Running... Stop" corner is English on every page, and its Stop ends a page's drawing, not
# a run: a participant reads the run's own status and presses the run's own Stop instead.
HIDE_RUNNING_CORNER = ("<style>[data-testid=stStatusWidget]:has([data-testid=stStatusWidgetRunningIcon])"
                       "{display:none}</style>")
# A widget's label in a narrow column wraps onto a second line rather than ending in "…" as Streamlit cuts it
# ("Batch normal…" beside its toggle), in either language.
WHOLE_LABELS = ("<style>[data-testid=stWidgetLabel] .stMarkdownEllipsis, [data-testid=stWidgetLabel] .stMarkdownEllipsis p"
                "{white-space:normal !important;overflow:visible !important;text-overflow:clip !important}</style>")


def main():
    # An emoji, not a :material/ icon: Streamlit fetches a material page icon from a Google font server,
    # and a room without internet would see a failed request on every page; an emoji is drawn locally.
    st.set_page_config(page_title="modelkit", page_icon="🧠", layout="wide")
    init_language()
    access.page_chrome()   # first in the page: the skip link is the first thing Tab reaches
    st.html(HIDE_RUNNING_CORNER + WHOLE_LABELS)
    start_runner()   # first: its workers start while the rest of the page is drawn
    seat.restore()   # who this session is (host, seat) decides which pages it sees
    page = st.navigation([st.Page("app_pages/train.py", title=t("nav.train"), icon=":material/model_training:",
                                  url_path="train", default=True),
                          st.Page("app_pages/compare.py", title=t("nav.compare"), icon=":material/compare_arrows:",
                                  url_path="compare"),
                          st.Page("app_pages/runs.py", title=t("nav.runs"), icon=":material/history:",
                                  url_path="runs"),
                          st.Page("app_pages/learn.py", title=t("nav.learn"), icon=":material/school:", url_path="learn"),
                          st.Page("app_pages/gallery.py", title=t("nav.gallery"), icon=":material/collections:",
                                  url_path="gallery"),
                          # always there, so that a reload of it never meets "Page not found"; listed for the host
                          st.Page("app_pages/host.py", title=t("nav.host"), icon=":material/co_present:",
                                  url_path="host", visibility="visible" if seat.is_host() else "hidden")])
    sidebar()
    with page_boundary(page.url_path or "train"):
        lesson_view.open_if_moved()   # the host moved the lesson: this participant's page opens its step
        lesson_view.banner()          # on top of every page: the lesson's step
        try:
            page.run()
        finally:                      # also after a page that stops early (st.stop)
            lesson_view.watch()       # last: the poll that sees a move starts once the page is drawn


def start_runner():
    """The first page view of a server starts its workers, so that the first Train click finds them warm.

    Making the runner also marks `interrupted` the runs a killed server left running, before the page
    shows them, and runs left queued start training. It returns at once: the workers start behind it.
    """
    if "runner_started" not in st.session_state:   # once a session, not on every rerun
        st.session_state["runner_started"] = True
        get_runner()


if __name__ == "__main__":            # the page script, run for each rerun of each session
    main()
elif __name__ != "__mp_main__":       # imported by `streamlit run` to find the server
    app = st.App(__file__, lifespan=warm_start)
