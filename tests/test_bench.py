"""The benchmark is a command, not a test: this only checks that --quick produces its table and figures."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelkit.bench import OVERHEAD_CASES, SLICES, case_name, paired_figures
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
        assert row["ratio"] > 0 and row["rounds"] == 2   # the median of the paired per-slice ratios
        assert row["pairs"] == 2 * SLICES and row["ratio_spread"][0] <= row["ratio"] <= row["ratio_spread"][1]
        assert isinstance(row["conclusive"], bool) and len(row["load_average"]) == 2
        assert f"overhead {case_name(task, arch)}" in done.stderr and f"ratio {row['ratio']:.3f}" in done.stderr
    assert all(figures["first_point"][k] > 0 for k in ("submit_s", "warm_s", "cold_s"))
    assert figures["stop"]["median_s"] > 0 and figures["stop"]["rounds"] == 2
    assert "first point    submit returns" in done.stderr and "stop           median" in done.stderr
    for arch in PAPER_RACE_ARCHS:
        assert 0.0 <= figures["race"][arch]["accuracy_mean"] <= 1.0
        assert f"race {arch}" in done.stderr


def test_the_overhead_ratio_is_the_median_of_the_paired_ratios_not_a_ratio_of_medians():
    figures = paired_figures([(90, 100), (200, 100), (105, 100)])   # 0.9, 2.0, 1.05
    assert figures["ratio"] == 1.05 and figures["modelkit_samples_per_s"] == 105 and figures["pairs"] == 3


def test_paired_ratios_that_agree_conclude_and_ones_that_swing_do_not():
    steady = paired_figures([(99, 100), (100, 100), (101, 100), (100, 101), (98, 99), (102, 100)])
    swinging = paired_figures([(60, 100), (100, 100), (150, 100), (80, 100), (120, 100), (100, 90)])
    assert steady["conclusive"] and steady["ratio_spread"][0] < 1.0 < steady["ratio_spread"][1]
    assert not swinging["conclusive"]


@pytest.mark.timeout(600)
def test_bench_parts_runs_only_the_measurements_named_and_refuses_an_unknown_one():
    done = subprocess.run([sys.executable, "-m", "modelkit", "bench", "--quick", "--parts", "stop", "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=580,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout)
    assert set(figures) == {"machine", "stop"} and figures["stop"]["rounds"] == 2
    assert len(figures["machine"]["load_average_after"]) == 3
    refused = subprocess.run([sys.executable, "-m", "modelkit", "bench", "--parts", "stop,speed"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert refused.returncode == 2 and "unknown part 'speed'" in refused.stderr
