"""The benchmark is a command, not a test: this only checks that --quick produces its table and figures."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelkit.bench import OVERHEAD_CASES, case_name
from modelkit.compare.race import PAPER_RACE_ARCHS

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(900)
def test_quick_bench_prints_its_table_and_one_json_object():
    done = subprocess.run([sys.executable, "-m", "modelkit", "bench", "--quick", "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=880, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout)
    for task, arch, _ in OVERHEAD_CASES:
        row = figures["overhead"][case_name(task, arch)]
        assert row["bare_samples_per_s"] > 0 and row["modelkit_samples_per_s"] > 0
        assert row["ratio"] > 0 and row["rounds"] == 2   # the median of the paired per-round ratios
        assert f"overhead {case_name(task, arch)}" in done.stderr and f"ratio {row['ratio']:.3f}" in done.stderr
    assert all(figures["first_point"][k] > 0 for k in ("submit_s", "warm_s", "cold_s"))
    assert figures["stop"]["median_s"] > 0 and figures["stop"]["rounds"] == 2
    assert "first point    submit returns" in done.stderr and "stop           median" in done.stderr
    for arch in PAPER_RACE_ARCHS:
        assert 0.0 <= figures["race"][arch]["accuracy_mean"] <= 1.0
        assert f"race {arch}" in done.stderr
