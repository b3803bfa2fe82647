"""The one door: every way a run starts (Train, Compare, sweep, scale, Learn, re-run, a challenge link, the CLI)
meets the same rules through the runner; a group counts as one submit whose runs beyond the share wait behind
everyone else's; every control on a run is refused to anyone but its owner and the host."""
import pytest

from modelkit import room
from modelkit.cli import main
from modelkit.compare import sweep
from modelkit.config import make_config
from modelkit.execution.runner import Runner
from modelkit.fields import ConfigError
from modelkit.store import Store
from modelkit.text import LANGUAGES, has

QUICK = ["train.epochs=2", "task.n_samples=200"]


class IdleExecutor:
    """Trains nothing: the runner's own rules, without worker processes."""

    def wake(self): pass
    def check(self, config): pass
    def workers(self): return []
    def warming_up(self): return False
    def wait_ready(self, timeout): return True
    def shutdown(self): pass


@pytest.fixture
def store(tmp_path):
    return Store(home=tmp_path / "home")


@pytest.fixture
def runner(store):
    runner = Runner(store, executor=IdleExecutor())
    yield runner
    runner.shutdown()


def quick(arch="mlp", *sets):
    return make_config("moons", arch, [*QUICK, *sets])


def comparison():
    return [quick(a) for a in ("linear", "mlp", "mlp")]


def a_sweep():
    return sweep.expand(quick(), {"train.lr": [0.001, 0.01, 0.1]})


def a_ladder():
    return sweep.scale_ladder(quick())


def learn_step():
    return [make_config("moons", "mlp", ["train.epochs=30"], base={"name": "learn: network"})]


GROUPS = {"compare": comparison, "sweep": a_sweep, "scale": a_ladder, "learn": learn_step}


def words(err: ConfigError) -> bool:
    return all(has(f"error.{err.code}", lang) for lang in LANGUAGES)


# --- each way in, refused over the limit --------------------------------------------------------

@pytest.mark.parametrize("way", GROUPS)
def test_each_way_in_is_refused_over_the_time_limit_with_words_in_both_languages(runner, monkeypatch, way):
    monkeypatch.setenv("MODELKIT_LIMIT_SECONDS", "5")
    configs = [c.__class__.from_dict({**c.to_dict(), "train": {**c.to_dict()["train"], "time_budget": 10}})
               for c in GROUPS[way]()]
    with pytest.raises(ConfigError) as refused:
        runner.submit_all(configs, owner="ana", by="ana")
    assert refused.value.code == "limit_seconds" and words(refused.value)
    assert runner.store.list_runs() == []   # a group is refused whole: no half comparison


@pytest.mark.parametrize("way", GROUPS)
def test_each_way_in_is_refused_once_the_share_is_full(runner, way):
    for _ in range(room.Limits().queued):
        runner.submit(quick(), owner="ana", by="ana")
    with pytest.raises(ConfigError) as refused:
        runner.submit_all(GROUPS[way](), owner="ana", by="ana")
    assert refused.value.code == "limit_queued" and words(refused.value)


def test_a_rerun_is_refused_once_the_share_is_full(runner):
    first = runner.submit(quick(), owner="ana", by="ana")
    runner.submit(quick(), owner="ana", by="ana")
    with pytest.raises(ConfigError, match="already have 2 runs"):
        runner.rerun(first, by="ana")


def test_a_group_larger_than_a_sweep_may_be_is_refused(runner):
    with pytest.raises(ConfigError) as refused:
        runner.submit_all([quick()] * (room.MAX_GROUP + 1), owner="ana", by="ana")
    assert refused.value.code == "limit_group" and words(refused.value)


# --- a challenge's locked values, through every way in ---------------------------------------------

@pytest.fixture
def challenge(store):
    return room.create_challenge(store, task="moons", archs=["mlp", "linear"], budget=10, locked=["train.lr=0.01"])


@pytest.mark.parametrize("way", ["compare", "sweep", "scale"])
def test_a_locked_value_changed_by_a_group_is_refused(runner, challenge, way):
    configs = [c.__class__.from_dict({**c.to_dict(), "train": {**c.to_dict()["train"], "lr": 0.3}})
               for c in GROUPS[way]()]
    with pytest.raises(ConfigError) as refused:
        runner.submit_all(configs, owner="ana", by="ana", challenge=challenge)
    assert (refused.value.path, refused.value.code) == ("train.lr", "locked") and words(refused.value)


def test_a_rerun_of_a_challenge_run_stays_in_the_challenge_with_its_budget(runner, challenge):
    first = runner.submit(room.challenge_config(runner.store.get_challenge(challenge)), owner="ana", by="ana",
                          challenge=challenge)
    again = runner.store.get_run(runner.rerun(first, by="ana"))
    assert (again.challenge, again.config["train"]["time_budget"], again.owner) == (challenge, 10, "ana")


# --- how a group counts against the share ------------------------------------------------------------

def test_a_race_of_six_is_admitted_and_its_runs_beyond_the_share_wait_behind_a_neighbour(runner):
    share = room.Limits().queued
    race = runner.submit_all([quick()] * 6, owner="ana", by="ana")
    single = runner.submit(quick(), owner="ben", by="ben")
    order = runner.store.queue()
    assert set(order[:share + 1]) == {single, *race[:share]}   # ben shares the front with ana's share ...
    assert order[share + 1:] == race[share:]                    # ... and her runs beyond it wait behind


def test_the_runs_beyond_the_share_still_start_when_nobody_else_waits(runner):
    race = runner.submit_all([quick()] * 4, owner="ana", by="ana")
    started = []
    while (run_id := runner.store.claim_next()) is not None:
        started.append(run_id)
        runner.store.finish_run(run_id, "completed", "")
    assert started == race


def test_the_host_and_the_cli_are_not_held_to_the_share(runner, capsys):
    runs = runner.submit_all([quick()] * 5, owner="host", by=None)
    assert len(runs) == 5 and not any(runner.store.get_run(r).queue_position is None for r in runs)
    assert main(["train", "--task", "moons", "--arch", "linear", "--set", "train.epochs=1",
                 "--set", "task.n_samples=100"]) == 0


# --- every control has an owner ------------------------------------------------------------------------

@pytest.mark.parametrize("action", room.actions.ACTIONS)
def test_every_control_on_someone_elses_run_is_refused(store, action):
    run = store.get_run(store.create_run(quick(), owner="ana"))
    refused = room.actions.refusal(store, run, action, "bob")
    assert (refused.code, refused.params["owner"]) == ("not_owner", "ana") and words(refused)
    assert room.actions.refusal(store, run, action, "ana") is None
    assert room.actions.refusal(store, run, action, None) is None   # the host


def test_bob_cannot_pause_or_change_the_learning_rate_of_anas_run(store):
    run_id = store.create_run(quick(), owner="ana")
    with pytest.raises(ConfigError, match="belongs to ana"):
        room.actions.pause(store, run_id, True, by="bob")
    with pytest.raises(ConfigError, match="belongs to ana"):
        room.actions.change_lr(store, run_id, 0.3, by="bob")
    assert store.controls(run_id) == {"lr": None, "paused": False, "stop": False}
    assert room.actions.change_lr(store, run_id, 0.3, by="ana") and store.controls(run_id)["lr"] == 0.3


def test_a_locked_learning_rate_cannot_change_mid_run_even_for_its_owner_or_the_host(store, challenge):
    run_id = store.create_run(quick(), owner="ana", challenge=challenge)
    for by in ("ana", None):
        with pytest.raises(ConfigError) as refused:
            room.actions.change_lr(store, run_id, 0.3, by=by)
        assert (refused.value.code, refused.value.path) == ("locked_live", "train.lr") and words(refused.value)
    assert store.controls(run_id)["lr"] is None
    assert room.actions.pause(store, run_id, True, by="ana")   # what the challenge does not lock stays free


def test_the_cli_refuses_a_live_change_of_a_locked_learning_rate(store, challenge, capsys):
    run_id = store.create_run(quick(), owner="ana", challenge=challenge)
    assert main(["set", run_id, "train.lr=0.3"]) == 2
    assert "fixes this setting" in capsys.readouterr().err
    assert store.controls(run_id)["lr"] is None
