"""The lesson, the gallery and the hidden board on the pages, headless (streamlit.testing.v1.AppTest)."""
import time

import pytest
from streamlit.testing.v1 import AppTest
from test_host_page import _fresh_resources, host_page  # noqa: F401  (the same store, key and Host page)

from modelkit import room
from modelkit.room import gallery, lessons
from modelkit.store import Store
from modelkit.ui import lesson_view
from tests.trained import train_tiny

TIMEOUT = 180


def seated(page: str, name: str, lang="en") -> AppTest:
    """A page as participant `name` sees it, seated."""
    secret = room.claim(Store(), name)[1]
    at = AppTest.from_file(page, default_timeout=TIMEOUT)
    at.session_state["lang"], at.session_state["seat"] = lang, {"name": name, "secret": secret}
    return at.run()


def test_the_host_starts_a_ready_lesson_and_moves_the_room_to_step_2():
    at = host_page()
    assert not at.exception
    at.selectbox(key="host_lesson").set_value("first_network")
    at.button(key="host_lesson_start").click().run()
    assert lessons.current(Store()).step == 1
    at.button(key="host_lesson_next").click().run()
    assert not at.exception
    now = lessons.current(Store())
    assert (now.step, now.current.kind) == (2, "learn")
    at.button(key="host_lesson_free").click().run()
    assert lessons.current(Store()).free and not at.exception


def test_the_host_page_paces_a_lesson_in_chinese():
    lessons.start(Store(), "convolutions")
    lessons.move(Store(), 2)
    at = host_page("zh")
    assert not at.exception
    assert any("教室正在第 2 步（共 5 步）：卷积" in c.value for c in at.caption)


def test_the_host_saves_a_lesson_of_their_own_from_its_rows():
    at = host_page()
    at.text_input(key="host_lesson_name").input("evening")
    at.text_input(key="host_lesson_title").input("Evening class")
    at.button(key="host_lesson_save").click().run()
    assert not at.exception and not at.error
    kept = lessons.find_lesson(Store(), "evening")
    assert kept.title == "Evening class" and [s.kind for s in kept.steps] == ["note"]


def test_the_host_sees_who_has_done_a_challenge_step_and_both_rankings():
    store = Store()
    lessons.start(store, "first_network")
    now = lessons.move(store, 3)
    run_id = store.create_run(room.challenge_config(store.get_challenge(now.challenge)), owner="ana", queued=False,
                              challenge=now.challenge)
    store.finish_run(run_id, "completed", "", metrics={"test_accuracy": 0.9})
    store.keep_hidden_score(run_id, now.challenge, 0.8)
    at = host_page()
    assert not at.exception
    progress = next(d.value for d in at.dataframe if "state" in d.value.columns)
    assert dict(zip(progress.participant, progress.state))["ana"] == "done"
    both = [tb.value for tb in at.table if "Hidden test" in tb.value.columns]
    assert both and list(both[0]["Hidden test"]) == ["80.0%"] and list(both[0]["Public test"]) == ["90.0%"]


def test_a_shared_model_is_tried_by_another_participant_without_its_settings():
    store = Store()
    run_id = train_tiny(store, "moons", "mlp")
    with store.engine.begin() as c:
        c.exec_driver_sql("UPDATE runs SET owner = 'ana' WHERE id = ?", (run_id,))
    gallery.share(store, run_id, by="ana", name="Wiggly", line="guess my layers")
    at = seated("../app_pages/gallery.py", "ben")
    assert not at.exception
    card = " ".join(m.value for m in at.markdown)
    assert "Wiggly" in card and "guess my layers" in card
    assert "Its architecture and settings stay hidden" in " ".join(c.value for c in at.caption)
    assert not at.code or all('"hidden"' not in c.value for c in at.code)
    assert not [b for b in at.button if b.key == "gallery_withdraw"]   # not his to take back
    assert at.number_input(key=f"gallery_{run_id}_x")   # Try it: the point view of a 2-D task
    gallery.reveal(store, run_id, True)
    at.run()
    assert any('"hidden"' in c.value for c in at.code)   # the MLP's settings, revealed by the host


def test_a_participant_shares_a_finished_run_from_the_gallery_page_and_takes_it_back():
    store = Store()
    run_id = train_tiny(store, "moons", "mlp")
    with store.engine.begin() as c:
        c.exec_driver_sql("UPDATE runs SET owner = 'ana' WHERE id = ?", (run_id,))
    at = seated("../app_pages/gallery.py", "ana")
    at.text_input(key="gallery_name").input("Mine")
    at.button(key="gallery_share").click().run()
    assert not at.error, at.error
    assert [s.name for s in gallery.shared(store)] == ["Mine"] and not at.exception
    at.button(key="gallery_withdraw").click().run()
    assert gallery.shared(store) == []


def app_as(name: str) -> AppTest:
    """The whole app (navigation, the lesson's poll) as participant `name` opens it."""
    secret = room.claim(Store(), name)[1]
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.session_state["lang"], at.session_state["seat"] = "en", {"name": name, "secret": secret}
    return at.run()


def test_a_participant_who_opens_the_app_late_lands_on_the_current_step():
    lessons.start(Store(), "convolutions")
    lessons.move(Store(), 2)
    at = app_as("ana")
    assert not at.exception
    assert at.session_state["learn_step"] == "cnn" and [h.value for h in at.header] == ["Convolution and pooling"]
    assert "Step 2 of 5" in at.info[0].value


def test_the_clis_lesson_step_moves_an_open_page_to_the_challenge(capsys):
    from modelkit.cli import main

    lessons.start(Store(), "convolutions")
    at = app_as("ben")
    assert "Step 1 of 5" in at.info[0].value
    assert main(["lesson", "step", "4"]) == 0
    time.sleep(lesson_view.MARK_FRESH_S)   # the server reads the room's step at most this often for all pages
    at.run()   # the page's next poll
    challenge = lessons.current(Store()).challenge
    assert not at.exception and at.query_params["challenge"] in (challenge, [challenge])
    assert at.session_state["challenge_id"] == challenge and at.session_state["train_task"] == "digits"
    assert at.query_params["who"] in ("ben", ["ben"])   # the seat travels with the page


@pytest.mark.parametrize("task, arch", [("moons", "mlp"), ("iris", "mlp"), ("digits", "cnn"), ("mnist1d", "gru"),
                                        ("sine", "gru"), ("text", "transformer")])
def test_the_gallery_opens_every_kind_of_run_in_its_try_it_view(task, arch):
    """Each Try it view of the task registry (point, table, image, sequence, text) drawn in the gallery for
    another participant; an uploaded series is the journey matrix's (tests/test_journeys.py)."""
    store = Store()
    run_id = train_tiny(store, task, arch)
    gallery.share(store, run_id, by="test", name=f"{task} {arch}")
    at = seated("../app_pages/gallery.py", "zoe")
    assert not at.exception, at.exception
    assert [s.value for s in at.subheader] == ["Try it"]
    assert "Its architecture and settings stay hidden" in " ".join(c.value for c in at.caption)


@pytest.fixture
def anas_shared_mlp():
    """Ana's finished MLP on moons, shared to the gallery and not revealed."""
    store = Store()
    run_id = train_tiny(store, "moons", "mlp")
    with store.engine.begin() as c:
        c.exec_driver_sql("UPDATE runs SET owner = 'ana' WHERE id = ?", (run_id,))
    gallery.share(store, run_id, by="ana", name="Guess me")
    return run_id


def runs_table(at):
    return next(d.value for d in at.dataframe if "arch" in d.value.columns)


def test_the_runs_page_hides_a_shared_models_architecture_from_other_participants(anas_shared_mlp):
    at = seated("../app_pages/runs.py", "ben")
    assert not at.exception
    table = runs_table(at)
    assert list(table["arch"]) == ["hidden until the host reveals it"]
    assert list(table["params"].isna()) == [True] and "MLP" not in " ".join(map(str, table.iloc[0]))
    host = AppTest.from_file("../app_pages/runs.py", default_timeout=TIMEOUT)
    host.session_state["lang"], host.session_state["host_unlocked"] = "en", True
    for at in (seated("../app_pages/runs.py", "ana"), host.run()):   # its owner, and the host
        assert list(runs_table(at)["arch"]) == ["MLP (deep network)"]
    gallery.reveal(Store(), anas_shared_mlp, True)
    assert list(runs_table(seated("../app_pages/runs.py", "cai"))["arch"]) == ["MLP (deep network)"]


def test_a_shared_models_own_page_shows_its_scores_not_its_settings(anas_shared_mlp):
    secret = room.claim(Store(), "ben")[1]
    at = AppTest.from_file("../app_pages/train.py", default_timeout=TIMEOUT)
    at.session_state["lang"], at.session_state["seat"] = "en", {"name": "ben", "secret": secret}
    at.query_params["run"] = anas_shared_mlp
    at.run()
    assert not at.exception
    assert "Its architecture and settings stay hidden" in " ".join(c.value for c in at.caption)
    assert any(m.label == "Test accuracy" for m in at.metric)
    assert not at.code and not at.json   # no train.py, no settings
    assert all("MLP" not in m.value for m in at.markdown)


def test_compare_names_a_shared_model_by_what_may_be_said_of_it(anas_shared_mlp):
    own = train_tiny(Store(), "moons", "mlp")   # one of ben's own
    with Store().engine.begin() as c:
        c.exec_driver_sql("UPDATE runs SET owner = 'ben' WHERE id = ?", (own,))
    secret = room.claim(Store(), "ben")[1]
    at = AppTest.from_file("../app_pages/compare.py", default_timeout=TIMEOUT)
    at.session_state["lang"], at.session_state["seat"] = "en", {"name": "ben", "secret": secret}
    at.query_params["runs"] = f"{own},{anas_shared_mlp}"
    at.run()
    assert not at.exception
    board = next(d.value for d in at.dataframe if "run" in getattr(d.value, "columns", []))
    assert sorted(board["run"]) == ["MLP (deep network)", "hidden until the host reveals it"]
