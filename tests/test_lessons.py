"""Lessons, the gallery and hidden tests in the engine: what the host paces, what participants share,
what the hidden board scores on."""
import re
from pathlib import Path

import pytest
import torch

from modelkit import room
from modelkit.config import make_config
from modelkit.data import tasks
from modelkit.execution.worker import execute_run
from modelkit.fields import ConfigError
from modelkit.room import gallery, hidden, lessons
from modelkit.store import Store
from tests.trained import train_tiny

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def store(tmp_path):
    return Store(home=tmp_path / "home")


def other_process(store) -> Store:
    """The same room as another process (a participant's server session, the CLI) opens it."""
    return Store(home=store.home)


# --- lessons ---------------------------------------------------------------------

def test_a_hosts_lesson_round_trips_through_the_store(store):
    made = lessons.lesson_from("evening", "Evening class", [
        {"kind": "note", "title": "Hello", "note": "Type your name"},
        {"kind": "learn", "title": "Loss", "learn": "loss"},
        {"kind": "challenge", "task": "moons", "archs": ["mlp", "linear"], "budget": 12, "hidden": True},
        {"kind": "compare", "task": "digits", "archs": ["mlp", "cnn"]},
        {"kind": "gallery", "title": "Swap"}])
    lessons.save_lesson(store, made)
    kept = lessons.find_lesson(other_process(store), "evening")
    assert kept == made
    assert [s.kind for s in kept.steps] == ["note", "learn", "challenge", "compare", "gallery"]
    assert kept.steps[2].archs == ("mlp", "linear") and kept.steps[2].hidden
    assert lessons.lesson_names(store) == [*lessons.READY, "evening"]


def test_a_step_the_engine_cannot_run_is_refused_naming_it(store):
    with pytest.raises(ConfigError) as refused:
        lessons.lesson_from("x", "", [{"kind": "challenge", "task": "text", "archs": ["cnn"]}])
    assert refused.value.path == "model.arch"
    with pytest.raises(ConfigError) as refused:
        lessons.lesson_from("x", "", [{"kind": "learn", "learn": "nowhere"}])
    assert refused.value.path == "lesson.learn"


def test_every_ready_lesson_has_its_words_in_both_languages():
    from modelkit.text import table

    for lang in ("en", "zh"):
        for lesson in lessons.READY.values():
            assert f"lesson.{lesson.name}.title" in table(lang)
            for step in lesson.steps:
                assert {f"{step.words}.title", f"{step.words}.note"} <= set(table(lang)), step


def test_the_learn_steps_a_lesson_may_name_are_the_learn_pages():
    page = (ROOT / "app_pages" / "learn.py").read_text(encoding="utf-8")
    assert tuple(re.findall(r'Step\("([a-z]+)"', page)) == lessons.LEARN_STEPS


def test_moving_to_a_step_is_seen_by_a_participants_poll(store):
    participant = other_process(store)
    assert lessons.current(participant) is None
    lessons.start(store, "first_network")
    seen = lessons.current(participant)
    assert (seen.lesson.name, seen.step, seen.current.kind) == ("first_network", 1, "note")
    lessons.move(store, 2)
    moved = lessons.current(participant)
    assert (moved.step, moved.current.kind, moved.current.learn) == (2, "learn", "network")
    assert moved.mark != seen.mark


def test_a_participant_who_joins_late_finds_the_current_step(store):
    lessons.start(store, "convolutions")
    lessons.move(store, 4)
    late = lessons.current(Store(home=store.home))
    assert late.step == 4 and late.current.kind == "challenge" and late.challenge is not None


def test_a_challenge_step_makes_its_challenge_once_with_a_hidden_test(store):
    lessons.start(store, "first_network")
    first = lessons.move(store, 3).challenge
    lessons.move(store, 2)
    assert lessons.move(store, 3).challenge == first
    made = store.get_challenge(first)
    assert (made.task, made.archs, made.hidden) == ("moons", ["mlp"], "held_back")
    assert made.locked["task.holdout"] == hidden.HOLDOUT


def test_running_free_leaves_the_step_and_moving_again_ends_it(store):
    lessons.start(store, "first_network")
    lessons.move(store, 2)
    loose = lessons.free(store)
    assert lessons.current(store).free and loose.mark == ""
    assert not lessons.move(store, 3).free


def test_only_the_host_paces_the_lesson(store):
    with pytest.raises(ConfigError) as refused:
        lessons.start(store, "first_network", by="ana")
    assert refused.value.code == "host_only" and lessons.current(store) is None
    lessons.start(store, "first_network")
    with pytest.raises(ConfigError):
        lessons.move(store, 2, by="ana")
    with pytest.raises(ConfigError) as refused:
        lessons.move(store, 99)
    assert refused.value.code == "lesson_step" and lessons.current(store).step == 1


def test_progress_says_who_has_done_the_step_and_who_is_stuck(store):
    lessons.start(store, "first_network")
    now = lessons.move(store, 3)
    config = room.challenge_config(store.get_challenge(now.challenge))
    done = store.create_run(config, owner="ana", challenge=now.challenge)
    store.finish_run(done, "completed", "", only_if=("queued",))
    lost = store.create_run(config, owner="ben", challenge=now.challenge)
    store.finish_run(lost, "diverged", "", only_if=("queued",))
    store.create_run(config, owner="cai", challenge=now.challenge)
    table = lessons.progress(store, now, ["ana", "ben", "cai", "dan"], at=now.since + 5)
    assert dict(zip(table.participant, table.state)) == {"ana": "done", "ben": "stuck", "cai": "working",
                                                          "dan": "waiting"}
    later = lessons.progress(store, now, ["dan"], at=now.since + lessons.STUCK_AFTER_S + 1)
    assert dict(zip(later.participant, later.state))["dan"] == "stuck"


# --- the gallery --------------------------------------------------------------------

@pytest.fixture
def anas_run(store):
    run_id = train_tiny(store, "moons", "mlp")
    with store.engine.begin() as c:   # a participant's run (train_tiny trains as "test")
        c.exec_driver_sql("UPDATE runs SET owner = 'ana' WHERE id = ?", (run_id,))
    return run_id


def test_a_shared_model_is_visible_to_others_and_withdrawn_by_its_owner_only(store, anas_run):
    gallery.share(store, anas_run, by="ana", name="  Wiggly ", line="two layers")
    (seen,) = gallery.shared(other_process(store))
    assert (seen.run_id, seen.owner, seen.name, seen.line, seen.revealed) == (anas_run, "ana", "Wiggly",
                                                                               "two layers", False)
    for someone in ("ben", None):   # another participant, and not even the host
        with pytest.raises(ConfigError) as refused:
            gallery.withdraw(store, anas_run, by=someone)
        assert refused.value.code == "gallery_owner"
    assert [s.run_id for s in gallery.shared(store)] == [anas_run]
    assert gallery.withdraw(store, anas_run, by="ana")
    assert gallery.shared(other_process(store)) == []


def test_only_the_owner_shares_and_only_a_finished_model(store, anas_run):
    with pytest.raises(ConfigError) as refused:
        gallery.share(store, anas_run, by="ben", name="mine now")
    assert refused.value.code == "gallery_owner"
    queued = store.create_run(make_config("moons", "mlp"), owner="ana")
    with pytest.raises(ConfigError) as refused:
        gallery.share(store, queued, by="ana", name="not yet")
    assert refused.value.code == "gallery_unfinished" and gallery.shared(store) == []


def test_only_the_host_reveals_a_shared_models_settings(store, anas_run):
    gallery.share(store, anas_run, by="ana", name="Guess me")
    with pytest.raises(ConfigError):
        gallery.reveal(store, anas_run, True, by="ana")
    assert gallery.reveal(store, anas_run, True)
    assert gallery.shared(store)[0].revealed


def test_a_shared_models_settings_are_masked_for_other_participants_until_revealed(store, anas_run):
    whole = store.get_run(anas_run)
    gallery.share(store, anas_run, by="ana", name="Guess me")
    masked = gallery.visible(store, whole, by="ben")
    assert gallery.is_masked(masked) and masked.arch == gallery.MASKED
    assert (masked.config, masked.params, masked.details) == ({"task": {"name": "moons"}, "model": {"arch": "masked"}},
                                                              None, {})
    assert (masked.id, masked.owner, masked.task, masked.metrics) == (anas_run, "ana", "moons", whole.metrics)
    for viewer in ("ana", None):   # its owner and the host see it whole
        assert gallery.visible(store, whole, by=viewer) == whole
    seen = gallery.Seen(store, by="ben")
    assert [r.arch for r in seen.list_runs()] == [gallery.MASKED] and seen.get_run(anas_run) == masked
    assert seen.has_weights(anas_run)   # the rest is the store's own
    gallery.reveal(store, anas_run, True)
    assert gallery.visible(store, whole, by="ben") == whole


def test_a_run_no_one_shared_is_not_masked(store, anas_run):
    assert gallery.Seen(store, by="ben").get_run(anas_run) == store.get_run(anas_run)


def test_the_clis_runs_as_a_participant_mask_a_shared_model(anas_run, capsys):
    from modelkit.cli import main

    gallery.share(Store(), anas_run, by="ana", name="Guess me")
    assert main(["runs", "--as", "ben"]) == 0
    line = next(li for li in capsys.readouterr().out.splitlines() if li.startswith(anas_run))
    assert line.split()[3] == gallery.MASKED
    assert main(["runs"]) == 0   # as the host
    line = next(li for li in capsys.readouterr().out.splitlines() if li.startswith(anas_run))
    assert line.split()[3] == "mlp"
    assert main(["show", anas_run, "--as", "ben"]) == 0
    shown = capsys.readouterr().out
    assert "arch masked" in shown and '"hidden"' not in shown and "params -" in shown


# --- hidden tests ---------------------------------------------------------------------

def rows(*tensors) -> set[bytes]:
    return {row.numpy().tobytes() for t in tensors for row in t.flatten(1)}


def test_the_hidden_rows_are_in_no_participants_data(store):
    made = store.get_challenge(room.create_challenge(store, task="digits", archs=["mlp"], budget=10,
                                                     locked=[], hidden="held_back"))
    x_hidden, _ = hidden.hidden_rows(room.challenge_config(made))
    for seed in (0, 1, 7):   # participants may pick any data seed: the held-back rows are the same
        config = room.admit(store, make_config("digits", "mlp", [f"task.seed={seed}", "task.holdout=0.2"]),
                            owner=f"p{seed}", by=f"p{seed}", challenge=made.id)
        data = tasks.load(config.task)
        assert not rows(x_hidden) & rows(data.x_train, data.x_val, data.x_test)
        assert torch.equal(hidden.hidden_rows(config)[0], x_hidden)
    assert len(x_hidden) == round(1797 * hidden.HOLDOUT)   # of sklearn's 1,797 digits


def test_a_challenge_run_without_the_hidden_rows_held_back_is_refused(store):
    made = room.create_challenge(store, task="moons", archs=["mlp"], budget=10, locked=[], hidden="held_back")
    with pytest.raises(ConfigError) as refused:
        room.admit(store, make_config("moons", "mlp"), owner="ana", by="ana", challenge=made)
    assert refused.value.path == "task.holdout"


def test_a_text_task_cannot_keep_a_hidden_test(store):
    with pytest.raises(ConfigError) as refused:
        room.create_challenge(store, task="text", archs=["gru"], budget=10, locked=[], hidden="held_back")
    assert refused.value.code == "hidden_task"


def test_the_hidden_board_ranks_finished_runs_on_the_hidden_rows(store):
    made = store.get_challenge(room.create_challenge(store, task="moons", archs=["mlp", "linear"], budget=10,
                                                     locked=[], hidden="held_back"))
    for owner, arch in (("ana", "mlp"), ("ben", "linear")):
        config = room.admit(store, room.challenge_config(made, arch), owner=owner, by=owner, challenge=made.id)
        run_id = store.create_run(config, owner=owner, queued=False, challenge=made.id)
        assert execute_run(store, run_id).status == "completed"
    board = hidden.hidden_board(store, made)
    assert list(board.participant) == ["ana", "ben"] and board.score.between(0, 1).all()
    scores = store.hidden_scores(made.id)   # kept: the next read does not score again
    assert sorted(scores.values(), reverse=True) == list(board.score)
    both = hidden.public_and_hidden(store, made)
    assert list(both.columns) == ["participant", "rank_public", "score_public", "rank_hidden", "score_hidden"]
    assert list(both.participant) == ["ana", "ben"]


# --- the command line, as the host ------------------------------------------------------

def test_the_cli_lists_starts_moves_and_frees_the_lesson(capsys):
    from modelkit.cli import main

    assert main(["lesson", "list"]) == 0
    assert "First network: moons → spiral → what depth buys" in capsys.readouterr().out
    assert main(["lesson", "start", "first_network"]) == 0
    assert main(["lesson", "step", "3"]) == 0
    out = capsys.readouterr().out
    assert "step 3 of 6 of first_network: challenge · Challenge: the two moons (challenge " in out
    assert lessons.current(Store()).step == 3
    assert main(["lesson", "free"]) == 0 and lessons.current(Store()).free
    assert main(["lesson", "list"]) == 0 and "(running free)" in capsys.readouterr().out


def test_the_cli_refuses_a_step_the_lesson_does_not_have_with_status_2(capsys):
    from modelkit.cli import main

    assert main(["lesson", "step", "2"]) == 2
    assert "No lesson has been started" in capsys.readouterr().err
    main(["lesson", "start", "sequences"])
    assert main(["lesson", "step", "9"]) == 2
    assert "this lesson has steps 1 to 5" in capsys.readouterr().err
