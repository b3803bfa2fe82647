"""Seats: a name belongs to the first browser that takes it; the host stays the host by a token, never the key;
guessing the key makes a session (and past a point the whole server) wait; what participants write stays text."""
import itertools

import pandas as pd
import pytest
import sqlalchemy as sa

from modelkit import room
from modelkit.fields import ConfigError
from modelkit.written import csv_bytes, literal
from modelkit.store import SCHEMA_VERSION, Store
from modelkit.text import LANGUAGES, has


@pytest.fixture
def store(tmp_path):
    return Store(home=tmp_path / "home")


def test_the_first_to_take_a_name_gets_a_128_bit_secret(store):
    seat, secret = room.claim(store, "Ana")
    assert (seat.name, len(bytes.fromhex(secret))) == ("Ana", 16)


def test_a_taken_name_without_its_secret_is_refused_with_a_free_name_offered(store):
    room.claim(store, "ana")
    with pytest.raises(ConfigError) as refused:
        room.claim(store, "ana")
    assert (refused.value.code, refused.value.params["suggestion"]) == ("name_taken", "ana 2")


@pytest.mark.parametrize("same", ["Ana", "ana ", "ＡＮＡ", "  ａｎａ", "aNa"])
def test_names_are_one_after_unicode_normalisation_and_case_folding(store, same):
    room.claim(store, "ana")
    with pytest.raises(ConfigError, match="already taken"):
        room.claim(store, same)


def test_a_wrong_secret_is_refused_like_none(store):
    room.claim(store, "ana")
    with pytest.raises(ConfigError, match="already taken"):
        room.claim(store, "ana", "0" * 32)


def test_the_secret_restores_the_seat_under_any_spelling_of_its_name(store):
    _, secret = room.claim(store, "Ana")
    again, same_secret = room.claim(store, "ＡＮＡ ", secret)
    assert (again.name, same_secret) == ("Ana", secret)


def test_the_store_keeps_no_secret_only_its_hash(store):
    _, secret = room.claim(store, "ana")
    with store.engine.connect() as c:
        rows = [tuple(map(str, r)) for r in c.execute(sa.text("SELECT * FROM seats")).all()]
    assert rows and not any(secret in value for row in rows for value in row)


def test_the_host_frees_a_seat_and_the_next_browser_takes_it(store):
    _, old = room.claim(store, "ana")
    assert room.free_seat(store, "ANA")
    _, new = room.claim(store, "ana")
    assert new != old and [s.name for s in room.taken_seats(store)] == ["ana"]
    with pytest.raises(ConfigError, match="already taken"):
        room.claim(store, "ana", old)   # the lost link opens nothing now


@pytest.mark.parametrize("name, code", [("   ", "name_empty"), ("x" * 61, "name_long"), ("ana\u202e", "name_chars"),
                                        ("Anonymous", "name_reserved"), ("cli", "name_reserved"),
                                        ("anonymous:0123", "name_reserved")])
def test_a_name_that_cannot_be_a_seat_is_refused_in_both_languages(store, name, code):
    with pytest.raises(ConfigError) as refused:
        room.claim(store, name)
    assert refused.value.code == code
    assert all(has(f"error.{code}", lang) for lang in LANGUAGES)


def test_two_nameless_browsers_are_two_guests_and_neither_controls_the_others_run(store):
    from modelkit.config import make_config

    ada, lin = room.new_guest(), room.new_guest()
    assert len(ada) == 32 and ada != lin                 # 128 bits each
    run = store.get_run(store.create_run(make_config("moons", "linear"), owner=room.guest_owner(ada)))
    assert room.is_anonymous(run.owner) and ada not in run.owner   # shown as anonymous; the secret never stored
    assert room.actions.refusal(store, run, "stop", room.guest_owner(ada)) is None
    for action in room.actions.ACTIONS:
        assert room.actions.refusal(store, run, action, room.guest_owner(lin)).code == "not_owner"
    assert room.guest_owner("not a secret") is None and room.guest_owner(None) is None


def test_a_database_of_schema_3_gets_its_seats_table(tmp_path):
    old = Store(home=tmp_path / "old")
    with old.engine.begin() as c:
        c.execute(sa.text("DROP TABLE seats"))
        c.execute(sa.text("UPDATE meta SET value = '3' WHERE key = 'schema_version'"))
    old.engine.dispose()
    reopened = Store(home=tmp_path / "old")
    assert reopened.schema_version == SCHEMA_VERSION
    assert room.claim(reopened, "ana")[0].name == "ana"


# --- the host --------------------------------------------------------------------------

def test_a_host_token_keeps_the_host_until_they_leave_and_is_not_the_key(store, monkeypatch):
    monkeypatch.setenv(room.HOST_KEY_ENV, "teacher-42")
    token = room.open_host_session(store)
    assert "teacher-42" not in token and room.is_host_session(store, token)
    assert not room.is_host_session(store, token + "x") and not room.is_host_session(store, None)
    room.close_host_session(store, token)
    assert not room.is_host_session(store, token)


def test_a_new_host_key_ends_every_host_session(store, monkeypatch):
    monkeypatch.setenv(room.HOST_KEY_ENV, "teacher-42")
    token = room.open_host_session(store)
    monkeypatch.setenv(room.HOST_KEY_ENV, "teacher-43")
    assert not room.is_host_session(store, token)


def test_wrong_keys_make_a_session_wait_longer_each_time():
    waits = [room.key_wait(n) for n in range(1, 12)]
    assert waits[:room.host.FREE_TRIES - 1] == [0.0] * (room.host.FREE_TRIES - 1)
    assert all(b >= a for a, b in itertools.pairwise(waits)) and 0 < waits[room.host.FREE_TRIES] < waits[-1]
    assert waits[-1] == room.host.MAX_WAIT_S


def test_many_wrong_keys_across_sessions_make_every_session_wait():
    guard = room.RoomKeyGuard(tries=5, window=60.0)
    for i in range(4):
        guard.wrong(100.0 + i)
    assert guard.wait(104.0) == 0
    guard.wrong(104.0)
    assert guard.wait(104.0) > 0 and guard.wait(170.0) == 0


# --- the room's address ------------------------------------------------------------------

def test_the_join_link_is_never_the_loopback_address(monkeypatch):
    monkeypatch.delenv(room.PUBLIC_URL_ENV, raising=False)
    monkeypatch.setattr(room.host, "network_address", lambda: "192.168.1.20")
    assert room.join_url("http://127.0.0.1:8501/host") == "http://192.168.1.20:8501/"
    assert room.join_url("http://class.local:8501/") == "http://class.local:8501/"


def test_modelkit_public_url_is_the_join_link(monkeypatch):
    monkeypatch.setenv(room.PUBLIC_URL_ENV, "https://ml.example.org/room")
    assert room.join_url("http://127.0.0.1:8501/") == "https://ml.example.org/room/"


def test_the_join_check_finds_a_listening_server_and_not_a_closed_port():
    import socket

    address = room.host.network_address()
    if address is None:   # a machine without a network: only the closed case can be told
        assert not room.answers("http://127.0.0.1:9/")
        return
    with socket.socket() as listening:
        listening.bind((address, 0))
        listening.listen()
        port = listening.getsockname()[1]
        assert room.answers(f"http://{address}:{port}/")
    assert not room.answers(f"http://{address}:{port}/", timeout=0.5)


# --- what participants write ---------------------------------------------------------------

def test_markdown_a_participant_writes_is_shown_as_typed():
    from markdown_it import MarkdownIt

    for text in ("![q](http://10.0.0.9/x.png)", ":red[**BIG**]", "<img src=x onerror=alert(1)>", "$x^2$", "# big"):
        html = MarkdownIt("commonmark").render(literal(text))
        assert "<img" not in html and "<strong>" not in html and "<h1>" not in html
        assert html.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"') \
            .replace("&amp;", "&").strip() == f"<p>{text}</p>"


def test_csv_cells_that_a_spreadsheet_would_run_are_written_as_text():
    table = pd.DataFrame({"owner": ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "ana"], "score": [-1.0, 2, 3, 4, 5]})
    read = pd.read_csv(__import__("io").BytesIO(csv_bytes(table)))
    assert list(read["owner"]) == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "ana"]
    assert list(read["score"]) == [-1.0, 2, 3, 4, 5]   # numbers, negative ones too, stay numbers
