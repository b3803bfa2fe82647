"""The room: whose runs a participant may change, the host key, limits at submit, the fair queue, challenges."""
import pytest

from modelkit import room
from modelkit.cli import main
from modelkit.config import make_config
from modelkit.fields import ConfigError
from modelkit.store import Store, schema

QUICK = ["train.epochs=2", "task.n_samples=200"]


@pytest.fixture
def store(tmp_path):
    return Store(home=tmp_path / "home")


@pytest.fixture(scope="module")
def config():
    return make_config("moons", "mlp", QUICK)


# --- roles and ownership ----------------------------------------------------------

def test_a_participant_may_not_stop_another_participants_run(store, config):
    run_id = store.create_run(config, owner="ana")
    with pytest.raises(ConfigError) as refused:
        store.request_stop(run_id, by="ben")
    assert (refused.value.code, refused.value.params["owner"]) == ("not_owner", "ana")
    assert store.get_run(run_id).status == "queued"


def test_a_participant_may_not_delete_another_participants_run(store, config):
    run_id = store.create_run(config, owner="ana")
    with pytest.raises(ConfigError, match="belongs to ana"):
        store.delete_run(run_id, by="ben")
    assert store.get_run(run_id) is not None


def test_a_participant_may_stop_and_delete_their_own_run(store, config):
    run_id = store.create_run(config, owner="ana")
    assert store.request_stop(run_id, by="ana")
    assert store.delete_run(run_id, by="ana")
    assert store.get_run(run_id) is None


def test_the_host_may_stop_and_delete_anyones_run(store, config):
    run_id = store.create_run(config, owner="ana")
    assert store.request_stop(run_id, by=None)
    assert store.get_run(run_id).status == "stopped"
    assert store.delete_run(run_id, by=None)


def test_the_cli_acts_as_the_host(config, capsys):
    run_id = Store().create_run(config, owner="ana")
    assert main(["stop", run_id]) == 0
    assert Store().get_run(run_id).status == "stopped"


class IdleExecutor:
    """An executor that trains nothing: the runner's own rules, without worker processes."""

    def wake(self): pass
    def workers(self): return []
    def wait_ready(self, timeout): return True
    def shutdown(self): pass
    def check(self, config): pass


@pytest.fixture
def runner(store):
    from modelkit.execution.runner import Runner

    runner = Runner(store, executor=IdleExecutor())
    yield runner
    runner.shutdown()


def test_the_runner_refuses_a_participants_stop_of_another_participants_run(runner, config):
    run_id = runner.submit(config, owner="ana", by="ana")
    with pytest.raises(ConfigError, match="belongs to ana"):
        runner.stop(run_id, by="ben")
    assert runner.stop(run_id, by=None) and runner.store.get_run(run_id).status == "stopped"


def test_a_participant_may_rerun_only_their_own_run(runner, config):
    run_id = runner.submit(config, owner="ana", by="ana")
    with pytest.raises(ConfigError, match="belongs to ana"):
        runner.rerun(run_id, by="ben")
    again = runner.store.get_run(runner.rerun(run_id, by="ana"))
    assert (again.owner, again.config) == ("ana", runner.store.get_run(run_id).config)


# --- the host key -----------------------------------------------------------------

def test_the_host_key_is_made_once_and_kept_under_modelkit_home(tmp_path, monkeypatch):
    monkeypatch.delenv(room.HOST_KEY_ENV, raising=False)
    first = room.host_key(tmp_path)
    assert len(first) >= 12 and room.host_key(tmp_path) == first
    assert (tmp_path / room.HOST_KEY_FILE).stat().st_mode & 0o077 == 0   # only its owner reads it
    assert room.is_host_key(first, tmp_path) and not room.is_host_key("guess", tmp_path)


def test_modelkit_host_key_overrides_the_stored_key(tmp_path, monkeypatch):
    monkeypatch.setenv(room.HOST_KEY_ENV, "teacher-42")
    assert room.host_key(tmp_path) == "teacher-42"
    assert not (tmp_path / room.HOST_KEY_FILE).exists()


def test_python_m_modelkit_host_key_prints_the_key(monkeypatch, capsys):
    monkeypatch.delenv(room.HOST_KEY_ENV, raising=False)
    assert main(["host-key"]) == 0
    assert capsys.readouterr().out.strip() == room.host_key()


# --- limits -------------------------------------------------------------------------

def test_a_time_budget_over_the_limit_is_refused_naming_the_limit(store):
    over = make_config("moons", "mlp", ["train.time_budget=500"])
    with pytest.raises(ConfigError, match="at most 120 s") as refused:
        room.admit(store, over, "ana", by="ana")
    assert (refused.value.path, refused.value.code) == ("train.time_budget", "limit_seconds")


def test_a_run_without_a_time_budget_is_capped_at_the_limit(store, config):
    assert config.train.time_budget is None
    assert room.admit(store, config, "ana", by="ana").train.time_budget == room.Limits().seconds


def test_a_model_over_the_parameter_limit_is_refused(store, config, monkeypatch):
    monkeypatch.setenv("MODELKIT_LIMIT_PARAMS", "1000")
    with pytest.raises(ConfigError, match="at most 1,000 per model") as refused:
        room.admit(store, config, "ana", by="ana")
    assert refused.value.params["params"] == f"{room.param_count(config):,}"


def test_a_participant_may_have_only_so_many_runs_queued(store, config):
    for _ in range(room.Limits().queued):
        store.create_run(room.admit(store, config, "ana", by="ana"), owner="ana")
    with pytest.raises(ConfigError, match="already have 2 runs"):
        room.admit(store, config, "ana", by="ana")
    room.admit(store, config, "ben", by="ben")          # another participant is not held up
    room.admit(store, config, "ana", by=None)           # nor is the host


def test_the_hosts_limits_win_over_the_environment(store, config, monkeypatch):
    monkeypatch.setenv("MODELKIT_LIMIT_SECONDS", "30")
    assert room.current_limits(store).seconds == 30
    room.set_limits(store, room.Limits(seconds=10, params=5000, queued=1))
    assert room.current_limits(Store(home=store.home)) == room.Limits(seconds=10, params=5000, queued=1)
    room.set_limits(store, None)
    assert room.current_limits(store).seconds == 30


def test_the_cli_refuses_a_run_over_a_limit_with_exit_status_2(capsys):
    assert main(["train", "--task", "moons", "--arch", "mlp", "--time-budget", "500"]) == 2
    assert "at most 120 s" in capsys.readouterr().err
    assert Store().list_runs() == []


@pytest.fixture
def fresh_app(monkeypatch):
    """Streamlit's process-wide store and runner made anew under this test's MODELKIT_HOME."""
    import streamlit as st

    monkeypatch.setenv("MODELKIT_WORKERS", "1")
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()   # shuts the runner's worker down


def test_the_train_page_refuses_a_run_from_a_url_over_the_time_limit(fresh_app):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file("../app_pages/train.py", default_timeout=120)
    at.session_state["lang"], at.session_state["participant"] = "zh", "ana"
    for name, value in {"task": "moons", "arch": "mlp", "train.epochs": "null", "train.time_budget": "500"}.items():
        at.query_params[name] = value
    at.run()
    at.button(key="train_start").click().run()
    assert any("最多 120 秒" in c.value for c in at.caption if c.value.startswith(":red["))
    assert "train_run" not in at.session_state and Store().list_runs() == []


# --- the fair queue -----------------------------------------------------------------

def test_runs_from_three_participants_start_round_robin(store, config):
    for owner in ("ana", "ana", "ana", "ben", "ben", "cy"):
        store.create_run(config, owner=owner)
    started = []
    while (run_id := store.claim_next()) is not None:
        started.append(store.get_run(run_id).owner)
        store.finish_run(run_id, "completed", "")
    assert started == ["ana", "ben", "cy", "ana", "ben", "ana"]


def test_a_participant_whose_run_is_training_waits_behind_one_whose_run_is_not(store, config):
    first = store.create_run(config, owner="ana")
    assert store.claim_next() == first
    again = store.create_run(config, owner="ana")
    other = store.create_run(config, owner="ben")
    assert store.queue() == [other, again]
    assert (store.get_run(other).queue_position, store.get_run(again).queue_position) == (1, 2)
    assert {r.id: r.queue_position for r in store.list_runs(status="queued")} == {other: 1, again: 2}


def test_the_wait_is_estimated_from_the_runs_before_and_the_workers(store, config):
    assert room.estimate_wait(store, position=3, workers=2) == 2 * room.Limits().seconds
    run_id = store.create_run(config, owner="ana", queued=False)
    with store.engine.begin() as c:   # a run that trained for 30 s
        c.execute(schema.runs_table.update().values(started=1000.0, finished=1030.0, status="completed"))
    assert store.typical_run_seconds() == 30.0 and store.get_run(run_id).status == "completed"
    assert room.estimate_wait(store, position=1, workers=2) == 30.0


# --- challenges -----------------------------------------------------------------------

def test_a_database_of_schema_1_is_migrated_and_keeps_its_runs(tmp_path, config):
    old = Store(home=tmp_path / "old")
    run_id = old.create_run(config, owner="ana")
    with old.engine.begin() as c:   # as modelkit wrote it before challenges existed
        c.exec_driver_sql("ALTER TABLE runs DROP COLUMN challenge")
        c.exec_driver_sql("DROP TABLE challenges")
        c.exec_driver_sql("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    old.engine.dispose()
    store = Store(home=tmp_path / "old")
    assert store.schema_version == schema.SCHEMA_VERSION
    run = store.get_run(run_id)
    assert (run.owner, run.status, run.challenge) == ("ana", "queued", None)
    assert Store(home=tmp_path / "old").list_runs()[0].id == run_id   # a second process finds it done


@pytest.fixture
def challenge(store):
    return room.create_challenge(store, task="moons", archs=["mlp"], budget=20,
                                 locked=["train.lr=0.01", "model.hidden=[8, 8]"], instruction="Beat 90 %.")


def test_a_challenge_run_starts_from_its_locked_settings_and_budget(store, challenge):
    config = room.challenge_config(store.get_challenge(challenge))
    assert (config.train.lr, config.model.hidden, config.train.time_budget) == (0.01, [8, 8], 20.0)
    assert room.admit(store, config, "ana", by="ana", challenge=challenge).train.lr == 0.01


def test_a_locked_setting_sent_anyway_is_refused(store, challenge):
    config = make_config("moons", "mlp", ["train.lr=0.1", "model.hidden=[8, 8]"])
    with pytest.raises(ConfigError) as refused:
        room.admit(store, config, "ana", by="ana", challenge=challenge)
    assert (refused.value.path, refused.value.code) == ("train.lr", "locked")


def test_a_challenge_refuses_other_architectures_and_longer_budgets(store, challenge):
    with pytest.raises(ConfigError, match="only these architectures: mlp"):
        room.admit(store, make_config("moons", "linear"), "ana", by="ana", challenge=challenge)
    longer = make_config("moons", "mlp", ["train.lr=0.01", "model.hidden=[8, 8]", "train.time_budget=60"])
    with pytest.raises(ConfigError, match="at most 20 s"):
        room.admit(store, longer, "ana", by="ana", challenge=challenge)


def test_a_challenge_past_its_deadline_takes_no_more_runs(store):
    closed = room.create_challenge(store, task="moons", archs=["mlp"], budget=20, locked=[], deadline=1.0)
    with pytest.raises(ConfigError, match="has closed"):
        room.admit(store, make_config("moons", "mlp"), "ana", by="ana", challenge=closed)


def test_a_challenge_whose_locked_value_an_architecture_refuses_is_not_created(store):
    with pytest.raises(ConfigError) as refused:
        room.create_challenge(store, task="moons", archs=["mlp", "linear"], budget=20, locked=["model.hidden=[8]"])
    assert refused.value.code == "unknown_setting"
    assert store.list_challenges() == []


# --- the class leaderboard -------------------------------------------------------------

def test_the_leaderboard_ranks_each_participants_best_finished_run(store, config):
    for owner, accuracy, status in [("ana", 0.80, "completed"), ("ana", 0.90, "stopped"), ("ben", 0.85, "completed"),
                                    ("cy", 0.99, "failed")]:
        run_id = store.create_run(config, owner=owner, queued=False)
        store.finish_run(run_id, status, "", metrics={"test_accuracy": accuracy, "seconds": 3.0})
    store.create_run(config, owner="dee")   # queued: not on the board yet
    board = room.leaderboard(store.list_runs(), "moons")
    assert board[["rank", "participant", "score"]].values.tolist() == [[1, "ana", 0.90], [2, "ben", 0.85]]
    assert board.loc[0, "seconds"] == 3.0 and board.loc[0, "arch"] == "mlp"


@pytest.mark.parametrize("text, code", [("ten", "type_number"), ("inf", "not_finite"), ("0", "above")])
def test_a_limit_from_the_environment_that_is_not_a_positive_number_is_refused(store, monkeypatch, text, code):
    monkeypatch.setenv("MODELKIT_LIMIT_SECONDS", text)
    with pytest.raises(ConfigError) as refused:
        room.current_limits(store)
    assert (refused.value.path, refused.value.code) == ("MODELKIT_LIMIT_SECONDS", code)
