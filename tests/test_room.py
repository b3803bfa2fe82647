"""The room: whose runs a participant may change, the host key, limits at submit, the fair queue, challenges."""
import pytest

from modelkit import room
from modelkit.cli import main
from modelkit.config import make_config
from modelkit.fields import ConfigError
from modelkit.store import Store

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
