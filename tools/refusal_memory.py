"""Peak memory and time of each hostile-input refusal, at full size, each in a child process of its own.

    python tools/refusal_memory.py            # uploads (CSV, ZIP), the upload page, and the HTTP service
    python tools/refusal_memory.py --no-serve # without the service (which trains a small digits MLP first)

A child builds its hostile file, notes its peak resident memory (ru_maxrss), refuses the file the way
the dashboard does, and prints what the refusal added to that peak and how long it took. The service
is `python -m modelkit serve` in a child: hostile bodies and 2,000 stalled half-sent requests are sent
to it, and its peak memory is read from /proc (VmHWM). Figures depend on the machine's load, printed first.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD = """
import io, json, resource, sys, time, zipfile
sys.path.insert(0, {root!r})
from modelkit.data import uploads
def peak(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
{build}
before, start = peak(), time.perf_counter()
try:
    {refuse}
    code = "accepted"
except Exception as e:
    code = getattr(e, "code", type(e).__name__)
print(json.dumps({{"code": code, "input_mb": len(raw) / 1024**2, "before_mb": before,
                  "added_mb": peak() - before, "seconds": time.perf_counter() - start}}))
"""
WIDE = 'raw = b",".join(b"c%d" % i for i in range(1_000_000))'
CASES = {   # name: (how the child builds `raw`, how it refuses it)
    "CSV header of 1,000,000 columns, no rows": (WIDE, 'uploads.read_table(raw, "wide.csv")'),
    "CSV header of 1,000,000 columns, 10 rows": (WIDE + '\nraw += (b"\\n" + b"1," * 999_999 + b"1") * 10',
                                                 'uploads.read_table(raw, "wide.csv")'),
    "CSV of 12,000,000 short rows (48 MB)": ('raw = b"a,b\\n" + b"1,2\\n" * 12_000_000',
                                             'uploads.read_table(raw, "long.csv")'),
    "CSV of 32 MB with an inf cell": ('raw = b"a,b,kind\\n" + b"0.5,1.5,x\\n0.25,inf,y\\n" * 1_600_000\n'
                                      'import os; os.environ["MODELKIT_UPLOAD_ROWS"] = "4000000"',
                                      'uploads.add_table(raw, "cells.csv", target="kind")'),
    "ZIP of one 190 MB entry of zeros": (
        'out = io.BytesIO()\nwith zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:\n'
        '    z.writestr("a/zeros.png", bytes(190 * 1024**2)); z.writestr("b/1.png", b"x")\n'
        'raw = out.getvalue()', 'uploads.add_images(raw, "bomb.zip")'),
    "ZIP of 400,000 empty entries (40 MB)": (
        'out = io.BytesIO()\nwith zipfile.ZipFile(out, "w") as z:\n'
        '    [z.writestr(f"a/{i}.png", b"") for i in range(400_000)]\nraw = out.getvalue()',
        'uploads.add_images(raw, "entries.zip")'),
    "ZIP of 200 PNGs of 4000x4000 zeros (3 MB)": (
        'from PIL import Image\npng = io.BytesIO(); Image.new("L", (4000, 4000)).save(png, "PNG")\n'
        'out = io.BytesIO()\nwith zipfile.ZipFile(out, "w") as z:\n'
        '    [z.writestr(f"{c}/{i}.png", png.getvalue()) for c in "ab" for i in range(100)]\nraw = out.getvalue()',
        'uploads.add_images(raw, "pixels.zip")'),
    "Upload page (AppTest): CSV header of 1,000,000 columns": (
        WIDE + '\nfrom streamlit.testing.v1 import AppTest\n'
        'at = AppTest.from_file(PAGE, default_timeout=300); at.run()',
        'at.file_uploader(key="train_upload").set_value(("wide.csv", raw, "text/csv")).run()\n'
        '    assert not at.exception, at.exception\n'
        '    code = "refused: " + next(e.value for e in at.error if "wide.csv" in e.value)[:60]\n'
        '    raise type("Shown", (Exception,), {"code": code})()'),
}


def run_case(name: str, build: str, refuse: str, home: str) -> dict:
    code = CHILD.format(root=str(ROOT), build=build.replace("PAGE", repr(str(ROOT / "app_pages" / "train.py"))),
                        refuse=refuse)
    env = {**os.environ, "MODELKIT_HOME": home, "MODELKIT_WORKERS": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=home)
    if done.returncode != 0:
        return {"code": f"child failed: {done.stderr.strip().splitlines()[-1][:100]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def uploads_report(home: str):
    for name, (build, refuse) in CASES.items():
        out = run_case(name, build, refuse, home)
        if "added_mb" not in out:
            print(f"{name:55s} {out['code']}", flush=True)
            continue
        print(f"{name:55s} {out['code']:28s} input {out['input_mb']:5.0f} MB  peak before {out['before_mb']:5.0f} MB"
              f"  refusal added {out['added_mb']:5.0f} MB  {out['seconds']:6.2f} s", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vm(pid: int, field: str) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":")) / 1024


def post(port: int, body: bytes, declared_only: bool = False) -> int:
    """The status of one request; `declared_only` sends the headers and waits for the answer before the body."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
                  % (len(body), b"" if declared_only else body))
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return int(answer.split()[1])


def serve_report(home: str):
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tests"))
    os.environ["MODELKIT_HOME"] = home
    from trained import train_tiny

    from modelkit.store import Store

    run_id, port = train_tiny(Store(home=home), "digits", "mlp"), free_port()
    child = subprocess.Popen([sys.executable, "-m", "modelkit", "serve", run_id, "--port", str(port)], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _serve_figures(child, port)
    finally:
        child.terminate()
        log = child.communicate(timeout=60)[1]
    print(f"service log: {len(log.splitlines())} lines, traceback: {'Traceback' in log}")


def _serve_figures(child, port: int):
    row = ",0" * 63
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    ready = vm(child.pid, "VmRSS")
    bodies = {"10^400": '{"inputs": [[1' + "0" * 400 + row + "]]}",
              "5,000 digits": '{"inputs": [[' + "7" * 5000 + row + "]]}",
              "1e400": '{"inputs": [[1e400' + row + "]]}",
              "100k levels": '{"inputs": ' + "[" * 100_000 + "]" * 100_000 + "}"}
    for name, body in bodies.items():
        print(f"service, {name:12s} -> HTTP {post(port, body.encode())}", flush=True)
    print(f"service, 3 MB body   -> HTTP {post(port, b'0' * 3 * 1024**2, declared_only=True)}", flush=True)
    start = time.perf_counter()
    stalled = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(2000)]
    for s in stalled:
        s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\n")
    answered = post(port, ('{"inputs": [[0.5' + row + "]]}").encode())
    print(f"service, 2,000 stalled half-sent requests open: a normal request -> HTTP {answered} "
          f"after {time.perf_counter() - start:.1f} s", flush=True)
    closed = sum(s.recv(100).startswith(b"HTTP/1.1 408") for s in stalled)
    print(f"service closed {closed} of 2,000 stalled requests with 408 after {time.perf_counter() - start:.1f} s")
    for s in stalled:
        s.close()
    print(f"service memory: {ready:.0f} MB ready, peak {vm(child.pid, 'VmHWM'):.0f} MB, "
          f"now {vm(child.pid, 'VmRSS'):.0f} MB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-serve", action="store_true", help="leave out the HTTP service")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory() as home:
        uploads_report(home)
        if not args.no_serve:
            serve_report(home)


if __name__ == "__main__":
    main()
