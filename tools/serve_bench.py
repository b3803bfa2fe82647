"""Requests per second of `python -m modelkit serve`, for a batch of 1 and of 64 examples, on loopback.

    python tools/serve_bench.py                 # trains a digits CNN (default sizes, 3 epochs) in a temp store
    python tools/serve_bench.py --run RUN_ID    # a run of the store under MODELKIT_HOME

One client sends requests one after another over a kept-alive connection to a
server on 127.0.0.1, for at most --seconds (and at most 20,000 requests) per
batch size, after a short warm-up; then the server is stopped.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MAX_REQUESTS = 20_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def trained_run(home: Path) -> str:
    from modelkit.config import make_config
    from modelkit.execution.worker import execute_run
    from modelkit.store import Store

    store = Store(home=home)
    run_id = store.create_run(make_config("digits", "cnn", ["train.epochs=3"]), owner="bench", queued=False)
    execute_run(store, run_id)
    return run_id


def start_server(run_id: str, home: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "modelkit", "serve", run_id, "--port", str(port)], cwd=ROOT,
                            env={**os.environ, "MODELKIT_HOME": str(home), "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise SystemExit("the service did not start")
            time.sleep(0.2)


def measure(port: int, body: bytes, seconds: float) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}

    def one() -> float:
        start = time.perf_counter()
        conn.request("POST", "/predict", body, headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"the service answered {response.status}")
        return time.perf_counter() - start

    for _ in range(20):
        one()
    latencies, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds and len(latencies) < MAX_REQUESTS:
        latencies.append(one())
    elapsed = time.perf_counter() - start
    conn.close()
    return {"requests": len(latencies), "requests_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(1000 * statistics.median(latencies), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="a finished run of the store under MODELKIT_HOME (default: train one)")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per batch size (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(os.environ.get("MODELKIT_HOME", ".modelkit")).resolve() if args.run else Path(tmp)
        run_id = args.run or trained_run(home)
        from modelkit.store import Store
        from modelkit.use import predict

        example = predict.example_inputs(predict.load(Store(home=home), run_id), 1)[0]
        port = free_port()
        server = start_server(run_id, home, port)
        try:
            results = {}
            for batch in (1, 64):
                body = json.dumps({"inputs": [example] * batch}).encode()
                results[f"batch_{batch}"] = {**measure(port, body, args.seconds), "examples_per_request": batch}
        finally:
            server.terminate()
            server.wait(10)
    for name, r in results.items():
        print(f"{name:<9} {r['requests_per_s']:>8,.1f} requests/s  "
              f"{r['requests_per_s'] * r['examples_per_request']:>10,.0f} examples/s  p50 {r['p50_ms']} ms")
    print(json.dumps({"run": run_id, **results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
