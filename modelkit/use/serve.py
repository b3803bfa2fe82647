"""A stored run as an HTTP prediction service, on the Starlette and uvicorn that Streamlit brings.

    python -m modelkit serve RUN_ID [--host 127.0.0.1] [--port 8600]

    GET  /          the model card as JSON: task, architecture, metrics, what to send
    POST /predict   {"inputs": [...]} -> {"predictions": [...], "labels": [...], "probabilities": [...]}
                    text runs: {"inputs": ["prompt"], "length": 200, "temperature": 0.8} -> {"generated": [...]}

A bad request gets a 4xx and a one-line JSON error; nothing a client sends can
show a traceback or stop the server. Numbers are parsed with a length cap and must be
finite, nesting is bounded by the parser's recursion limit, and a client that does
not finish its headers (or its body) in time is answered 408 and its connection closed,
so stalled half-sent requests cannot pile up.
"""
from __future__ import annotations

import asyncio
import json
import math
import shlex

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from modelkit.use import predict

MAX_BODY = 2 * 1024 * 1024      # bytes: 256 examples of the largest task fit with room to spare
MAX_NUMBER = 40                 # characters of one number in a body (a float32 needs 9 significant digits)
HEADER_TIMEOUT, BODY_TIMEOUT = 10.0, 30.0   # seconds a client may take to send a request's headers, then its body
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8600


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def error(status: int, message: str, close: bool = False) -> JSONResponse:
    """A one-line JSON refusal; `close` ends the connection, whose unread body cannot be trusted."""
    return JSONResponse({"error": message}, status_code=status, headers={"Connection": "close"} if close else None)


async def read_json(request: Request, limit: int = MAX_BODY, timeout: float = BODY_TIMEOUT):
    """The request's JSON body: refused (413) past `limit` bytes before all of it is read, 408 after `timeout` s."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BadRequest(413, f"the body is larger than {limit:,} bytes")
    try:
        body = await asyncio.wait_for(_read_body(request, limit), timeout)
    except asyncio.TimeoutError:
        raise BadRequest(408, f"the body did not arrive within {timeout:g} seconds") from None
    return parse_json(body)


async def _read_body(request: Request, limit: int) -> bytearray:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BadRequest(413, f"the body is larger than {limit:,} bytes")
    return body


def parse_json(body: bytes):
    """JSON whose numbers are short and finite, refused (400) in one line otherwise."""
    try:
        return json.loads(body, parse_int=_whole, parse_float=_number, parse_constant=_constant)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequest(400, 'the body is not valid JSON; send {"inputs": [...]}') from None
    except RecursionError:
        raise BadRequest(400, "the body's JSON is nested too deeply") from None


def _short(text: str) -> str:
    if len(text) > MAX_NUMBER:
        raise BadRequest(400, f"a number in the body has more than {MAX_NUMBER} characters")
    return text


def _whole(text: str) -> int:
    return int(_short(text))


def _number(text: str) -> float:
    value = float(_short(text))
    if not math.isfinite(value):
        raise BadRequest(400, f"{text} is too large for a number (inputs must be finite)")
    return value


def _constant(text: str):
    raise BadRequest(400, f"{text} is not a number a model can take (inputs must be finite)")


def answer(predictor: predict.Predictor, payload) -> dict:
    """The prediction for one parsed request body (runs in a worker thread)."""
    if not isinstance(payload, dict) or "inputs" not in payload:
        raise predict.InputError('send a JSON object with an "inputs" list, e.g. {"inputs": [...]}')
    inputs = payload["inputs"]
    if not isinstance(inputs, list) or not inputs:
        raise predict.InputError('"inputs" must be a non-empty list')
    if len(inputs) > predict.MAX_INPUTS:
        raise predict.InputError(f"at most {predict.MAX_INPUTS} inputs per request; got {len(inputs)}")
    if predictor.kind != "lm":
        return predictor.predict(inputs)
    length, temperature, seed = payload.get("length", 200), payload.get("temperature", 0.8), payload.get("seed", 0)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (length, temperature, seed)) \
            or int(length) != length or int(seed) != seed:
        raise predict.InputError("length and seed must be whole numbers, temperature a number")
    if not 0 <= seed < 2**32:
        raise predict.InputError(f"seed must be a whole number from 0 to {2**32 - 1}")
    if len(inputs) * length > 8 * predict.MAX_LENGTH:
        raise predict.InputError(f"at most {8 * predict.MAX_LENGTH} characters per request in all")
    return {"generated": [predictor.generate(p, int(length), float(temperature), int(seed)) for p in inputs]}


def make_app(store, run_id: str, body_timeout: float = BODY_TIMEOUT) -> Starlette:
    """The service for one run; raises predict.NoModelError at once if the run has no trained model."""
    predictor = predict.load(store, run_id)
    card = service_card(store.get_run(run_id), predictor)

    async def home(request: Request):
        return JSONResponse(card)

    async def predict_route(request: Request):
        try:
            payload = await read_json(request, timeout=body_timeout)
            return JSONResponse(await run_in_threadpool(answer, predictor, payload))
        except BadRequest as e:
            return error(e.status, e.message, close=e.status in (408, 413))
        except predict.InputError as e:
            return error(422, str(e))

    async def http_error(request: Request, exc: HTTPException):
        return error(exc.status_code, exc.detail if isinstance(exc.detail, str) else "bad request")

    async def server_error(request: Request, exc: Exception):
        return error(500, f"the model could not answer: {type(exc).__name__}")

    return Starlette(routes=[Route("/", home, methods=["GET"]), Route("/predict", predict_route, methods=["POST"])],
                     exception_handlers={HTTPException: http_error, Exception: server_error})


def service_card(run, predictor: predict.Predictor) -> dict:
    """What GET / answers: the model, how well it did, and what to send."""
    spec = predictor.spec
    return {"run": run.id, "name": run.name, "task": run.task, "arch": run.arch, "kind": spec.kind,
            "params": run.params, "owner": run.owner, "status": run.status,
            "trained": run.finished.isoformat(timespec="seconds") if run.finished else None,
            "metrics": {k: v for k, v in run.metrics.items() if k.startswith("test_")},
            "input": {"kind": spec.input_kind, "shape": list(spec.input_shape),
                      "units": "raw measurements" if predictor.mean is not None else "as in the dashboard",
                      **({"columns": predictor.inputs} if predictor.inputs else {})},   # a row by value or name
            "classes": list(spec.class_names), "max_inputs": predict.MAX_INPUTS,
            "example": example_body(predictor)}


def example_body(predictor: predict.Predictor) -> dict:
    first = predict.example_inputs(predictor, 1)
    if predictor.kind == "lm":
        return {"inputs": first, "length": 100, "temperature": 0.8}
    return {"inputs": _round(first)}


def _round(value):
    if isinstance(value, str):   # a text column's value
        return value
    if isinstance(value, list):
        return [_round(v) for v in value]
    return round(float(value), 3)


def curl_command(predictor: predict.Predictor, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> str:
    """The exact shell line that asks the running service for a prediction on a test example."""
    body = json.dumps(example_body(predictor), ensure_ascii=False, separators=(",", ":"))
    return (f"curl -s -X POST http://{host}:{port}/predict -H 'Content-Type: application/json' "
            f"-d {shlex.quote(body)}")


def server_config(app, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, header_timeout: float = HEADER_TIMEOUT):
    """uvicorn's settings for the service: quiet, and with a clock on every request's headers."""
    import uvicorn

    from modelkit.use.timed_http import TimedH11Protocol

    protocol = type("TimedH11", (TimedH11Protocol,), {"header_timeout": header_timeout})
    return uvicorn.Config(app, host=host, port=port, http=protocol, log_level="warning", access_log=False)


def serve(store, run_id: str, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          header_timeout: float = HEADER_TIMEOUT, body_timeout: float = BODY_TIMEOUT):
    """Answer requests until Ctrl-C."""
    import uvicorn

    app = make_app(store, run_id, body_timeout)
    print(f"serving run {run_id} at http://{host}:{port}  (Ctrl-C stops)\ntry:\n  "
          f"{curl_command(predict.load(store, run_id), host, port)}", flush=True)
    uvicorn.Server(server_config(app, host, port, header_timeout)).run()
