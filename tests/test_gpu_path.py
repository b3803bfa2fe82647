"""The GPU path's pieces that the CPU can check: the amp setting's refusals and the batched loss read-back.
On a GPU machine, tools/gpu_check.sh trains with them for real."""
import pytest
import torch

from modelkit.config import ConfigError, make_config
from modelkit.training.loop import READ_LOSS_EVERY, LossReadback, run


class Steps:
    """A callback that keeps what on_step reported."""

    def __init__(self):
        self.steps = []

    def on_step(self, step, loss, **info):
        self.steps.append((step, loss))


class NoValidation:
    seconds = 0.0


def test_mixed_precision_on_the_cpu_is_refused_in_the_settings():
    with pytest.raises(ConfigError) as refused:
        make_config("moons", "mlp", ['train.device="cpu"', "train.amp=true"])
    assert (refused.value.path, refused.value.code) == ("train.amp", "amp_needs_cuda")


def test_mixed_precision_on_automatic_is_refused_when_the_machine_has_no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    config = make_config("moons", "mlp", ["train.amp=true", "train.epochs=1", "task.n_samples=100"])
    with pytest.raises(ConfigError) as refused:
        run(config)
    assert refused.value.code == "amp_needs_cuda"


def test_cuda_reads_the_loss_back_every_few_steps_and_the_cpu_every_step():
    assert READ_LOSS_EVERY["cuda"] > 1 and READ_LOSS_EVERY.get("cpu", 1) == 1


def test_losses_read_back_in_a_batch_are_reported_in_order_once_each():
    seen = Steps()
    losses = LossReadback(lambda hook, **info: seen.on_step(**info), 10, 0.1, 0.0, NoValidation(), every=3)
    reports = [losses.add(step, 0.1, step * 8, torch.tensor(1.0 / step)) for step in range(1, 8)]
    assert reports == [None] * 7 and [s for s, _ in seen.steps] == [1, 2, 3, 4, 5, 6]
    assert losses.read() is None
    assert [s for s, _ in seen.steps] == list(range(1, 8))
    assert seen.steps[3][1] == pytest.approx(0.25)


def test_a_diverged_loss_is_caught_when_its_batch_is_read_back_naming_its_own_step():
    seen = Steps()
    losses = LossReadback(lambda hook, **info: seen.on_step(**info), 10, 0.1, 0.0, NoValidation(), every=4)
    values = [1.0, 0.9, float("nan"), 0.8]
    reports = [losses.add(step, 0.1, step, torch.tensor(v)) for step, v in enumerate(values, start=1)]
    assert reports[:3] == [None] * 3
    assert reports[3].startswith("The loss became NaN (not a number) at step 3")


def test_cuda_asked_of_a_machine_without_it_is_refused_by_the_cli_in_one_line_and_stores_no_run(monkeypatch,
                                                                                                 capsys):
    from modelkit.cli import main
    from modelkit.store import Store

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["train", "--task", "moons", "--arch", "mlp", "--device", "cuda"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "CUDA" in err and "\n" not in err
    assert Store().list_runs() == []


def test_cuda_asked_of_a_pool_on_a_machine_without_it_is_refused_at_submit(monkeypatch):
    from modelkit.execution.runner import LocalExecutor, Runner
    from modelkit.store import Store

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    store = Store()
    runner = Runner(store, executor=LocalExecutor(store, workers=1))
    try:
        with pytest.raises(ConfigError) as refused:
            runner.submit(make_config("moons", "mlp", ['train.device="cuda"']))
    finally:
        runner.shutdown()
    assert (refused.value.path, refused.value.code) == ("train.device", "no_cuda")
    assert store.list_runs() == []
