"""serve: a run as an HTTP service on a free loopback port; good requests answered, bad ones refused in one line."""
import asyncio
import json
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
import uvicorn
from starlette.requests import Request
from trained import train_tiny

from modelkit.store import Store
from modelkit.use import predict, serve


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return Store(home=tmp_path_factory.mktemp("home"))


def start(store, run_id):
    """The run's service in a thread on a free port; (base url, stop function)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(serve.make_app(store, run_id), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the service never started"
        time.sleep(0.05)

    def stop():
        server.should_exit = True
        thread.join(timeout=10)
    return f"http://127.0.0.1:{port}", port, stop


@pytest.fixture(scope="module")
def digits(store):
    run_id = train_tiny(store, "digits", "cnn")
    url, port, stop = start(store, run_id)
    yield run_id, url, port
    stop()


@pytest.fixture(scope="module")
def text(store):
    run_id = train_tiny(store, "text", "transformer")
    url, _, stop = start(store, run_id)
    yield url
    stop()


def call(url, body=None, method=None, raw: bytes | None = None):
    """(status, parsed JSON answer) of one request."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_get_root_answers_the_model_card(digits):
    run_id, url, _ = digits
    status, card = call(url + "/")
    assert status == 200
    assert (card["run"], card["task"], card["arch"], card["input"]["shape"]) == (run_id, "digits", "cnn", [1, 8, 8])
    assert "test_accuracy" in card["metrics"]


def test_a_batch_of_images_gets_a_prediction_and_probabilities_each(store, digits):
    run_id, url, _ = digits
    images = predict.example_inputs(predict.load(store, run_id), 3)
    status, out = call(url + "/predict", {"inputs": images})
    assert status == 200
    assert len(out["predictions"]) == 3 and len(out["probabilities"][0]) == 10
    assert out == predict.load(store, run_id).predict(images)


@pytest.mark.parametrize("body, status, message", [
    ({"inputs": [[1, 2, 3]]}, 422, "shape"),
    ({"inputs": [["x"] * 64]}, 422, "list of examples"),
    ({"inputs": "not a list"}, 422, "non-empty list"),
    ({"values": [[0] * 64]}, 422, '"inputs"'),
    ({"inputs": [[0] * 64] * (predict.MAX_INPUTS + 1)}, 422, f"at most {predict.MAX_INPUTS}"),
])
def test_a_bad_request_gets_a_4xx_and_one_line_of_json(digits, body, status, message):
    _, url, _ = digits
    got, out = call(url + "/predict", body)
    assert got == status and message in out["error"] and "\n" not in out["error"]
    assert "Traceback" not in out["error"]


def test_a_body_that_is_not_json_is_refused_with_400(digits):
    _, url, _ = digits
    assert call(url + "/predict", raw=b"{inputs: nope")[0] == 400


def test_a_body_declared_too_large_is_refused_with_413_before_it_is_read(digits):
    _, _, port = digits
    body = b"[" + b"0," * serve.MAX_BODY + b"0]"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(f"POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len(body)}\r\n"
                  f"Connection: close\r\n\r\n".encode())
        answer = b""
        while chunk := s.recv(65536):     # the answer comes without a byte of the body sent
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert int(status_line.split()[1]) == 413
    assert "larger than" in json.loads(rest.partition(b"\r\n\r\n")[2])["error"]


def test_a_streamed_body_is_cut_off_at_the_limit():
    chunks = [{"type": "http.request", "body": b"[1,2,3,", "more_body": True}] * 5

    async def receive():
        return chunks.pop(0)

    request = Request({"type": "http", "method": "POST", "headers": []}, receive)
    with pytest.raises(serve.BadRequest) as refused:
        asyncio.run(serve.read_json(request, limit=20))
    assert refused.value.status == 413


def test_unknown_paths_and_methods_answer_json_errors(digits):
    _, url, _ = digits
    assert call(url + "/nothing") == (404, {"error": "Not Found"})
    assert call(url + "/predict", method="GET") == (405, {"error": "Method Not Allowed"})


def test_the_service_still_answers_after_bad_requests(digits):
    _, url, _ = digits
    call(url + "/predict", raw=b"\xff\xfe")
    call(url + "/predict", {"inputs": [[None] * 64]})
    status, out = call(url + "/predict", {"inputs": [[0.5] * 64]})
    assert status == 200 and len(out["predictions"]) == 1


def test_the_curl_line_shown_to_participants_gets_a_prediction(store, digits):
    run_id, _, port = digits
    line = serve.curl_command(predict.load(store, run_id), port=port)
    done = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=30)
    assert len(json.loads(done.stdout)["predictions"]) == 1


def test_a_text_service_continues_each_prompt(text):
    status, out = call(text + "/predict", {"inputs": ["the ", "lazy "], "length": 30, "temperature": 0.5})
    assert status == 200
    assert [g[:4] for g in out["generated"]] == ["the ", "lazy"] and len(out["generated"][0]) == 34


def test_a_text_service_refuses_a_length_that_is_not_a_whole_number(text):
    status, out = call(text + "/predict", {"inputs": ["the"], "length": "long"})
    assert status == 422 and "whole numbers" in out["error"]


def test_raw_rows_of_an_uploaded_table_are_classified_as_well_as_the_test_split_says(store):
    from uploaded_files import plants_measured_csv, plants_rows

    from modelkit.data import uploads

    ds = uploads.add_table(plants_measured_csv(), "plants.csv", target="kind")
    run_id = train_tiny(store, ds.task, "mlp", ["train.epochs=30"])
    rows, kinds = plants_rows(50, seed=7)              # new plants, measured in the table's own units
    url, _, stop = start(store, run_id)
    try:
        status, out = call(url + "/predict", {"inputs": rows.tolist()})
    finally:
        stop()
    assert status == 200
    accuracy = float(np.mean(np.array(out["labels"]) == kinds))
    assert accuracy >= store.get_run(run_id).metrics["test_accuracy"] - 0.08
    assert out["predictions"] == predict.load(store, run_id).predict(rows.tolist())["predictions"]
