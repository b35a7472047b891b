"""The Python client writes the EDD metrics protocol exactly; it never raises into training; outside a run it warns
once and does nothing. (The end-to-end test through `edd run` is test/unit/python.client.test.ts.)"""
from __future__ import annotations

import json
import os
import random
import sys
import threading
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import edd  # noqa: E402
from edd import _client  # noqa: E402


@pytest.fixture(autouse=True)
def fresh(monkeypatch, tmp_path):
    for k in ("EDD_METRICS_FILE", "EDD_CONFIG", "EDD_CONFIG_JSON", "EDD_ARTIFACT_DIR", "EDD_RUN_ID", "PYTHONHASHSEED"):
        monkeypatch.delenv(k, raising=False)
    _client._warned.clear()
    import edd._config as c

    c._cached = None
    yield


def records(path: Path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def metrics_file(monkeypatch, tmp_path):
    f = tmp_path / "metrics.jsonl"
    monkeypatch.setenv("EDD_METRICS_FILE", str(f))
    monkeypatch.setenv("EDD_ARTIFACT_DIR", str(tmp_path / "artifacts"))
    return f


def test_records_in_the_protocol(metrics_file, tmp_path):
    edd.log_metric("loss", 0.5, step=3)
    edd.log_metric("loss", 0.25)
    edd.log_metrics({"acc": 0.9, "f1": 0.8}, step=4)
    edd.log_param("lr", 0.01)
    edd.log_param("layers", [64, 32])
    edd.log_artifact("model.onnx", kind="model")
    edd.progress(0.5, "half")
    assert records(metrics_file) == [
        {"metric": "loss", "value": 0.5, "step": 3},
        {"metric": "loss", "value": 0.25},
        {"metric": "acc", "value": 0.9, "step": 4},
        {"metric": "f1", "value": 0.8, "step": 4},
        {"param": "lr", "value": 0.01},
        {"param": "layers", "value": [64, 32]},
        {"artifact": os.path.abspath("model.onnx"), "kind": "model"},
        {"progress": 0.5, "message": "half"},
    ]


def test_each_record_is_flushed_at_once(metrics_file):
    edd.log_metric("loss", 1.0, step=0)
    # Read by another open file: nothing buffered in the writer.
    assert metrics_file.read_text() == '{"metric":"loss","value":1.0,"step":0}\n'


def test_bad_values_warn_and_never_raise(metrics_file):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        edd.log_metric("loss", float("nan"), step=1)
        edd.log_metric("loss", float("inf"), step=2)
        edd.log_metric("acc", "high")
        edd.log_metric("acc", 0.5, step=-1)
        edd.log_metric("acc", 0.5, step=1.5)
        edd.progress("lots")
        edd.progress(7)
        edd.log_param("obj", object())
        edd.log_param("nan", float("nan"))
    assert all(issubclass(w.category, edd.EddWarning) for w in caught)
    recs = records(metrics_file)
    # NaN/inf are not recorded (EDD keeps finite values only), a bad step drops the step, progress is clamped.
    assert {"metric": "acc", "value": 0.5} in recs
    assert {"progress": 1.0} in recs
    assert not any(r.get("metric") == "loss" for r in recs)
    assert any(r.get("param") == "obj" and isinstance(r["value"], str) for r in recs)
    assert {"param": "nan", "value": "nan"} in recs


def test_a_failed_write_warns_once_and_training_goes_on(monkeypatch, tmp_path):
    monkeypatch.setenv("EDD_METRICS_FILE", str(tmp_path / "no-such-folder" / "m.jsonl"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(5):
            edd.log_metric("loss", 0.1, step=i)
    assert len(caught) == 1 and "cannot write" in str(caught[0].message)


def test_outside_a_run_warns_once_and_does_nothing(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(3):
            edd.log_metric("loss", 0.1, step=i)
        edd.log_param("lr", 0.1)
    assert len(caught) == 1 and "not inside an EDD run" in str(caught[0].message)
    assert not edd.in_run()
    assert list(tmp_path.iterdir()) == []


def test_threads_do_not_interleave_lines(metrics_file):
    def work(k: int) -> None:
        for i in range(500):
            edd.log_metric(f"m{k}", i * 0.5, step=i)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    recs = records(metrics_file)  # every line parses
    assert len(recs) == 4000
    for k in range(8):
        assert [r["step"] for r in recs if r["metric"] == f"m{k}"] == list(range(500))


def test_run_context_records_a_failure_with_its_traceback(metrics_file, tmp_path):
    with pytest.raises(ZeroDivisionError):
        with edd.run():
            1 / 0
    recs = records(metrics_file)
    failure = next(r for r in recs if r.get("param") == "failure")
    assert failure["value"]["type"] == "ZeroDivisionError"
    art = next(r for r in recs if "artifact" in r)
    assert art["kind"] == "traceback"
    text = Path(art["artifact"]).read_text()
    assert "ZeroDivisionError" in text and "1 / 0" in text


def test_run_context_records_nothing_on_success_or_clean_exit(metrics_file):
    with edd.run():
        edd.log_metric("loss", 0.1, step=0)
    with pytest.raises(SystemExit):
        with edd.run():
            sys.exit(0)
    assert records(metrics_file) == [{"metric": "loss", "value": 0.1, "step": 0}]


CONFIG = {
    "experiment": {
        "id": "exp_1",
        "name": "n",
        "hypothesis": "h",
        "parameters": {"model_type": "rf", "learning_rate": 0.1, "epochs": 5, "n_estimators": 200},
        "data": {"files": ["a.csv"], "train_size": 10},
        "environment": {"python_version": 3.11},
        "run": {"command": ["python", "train.py"], "env": {"A": 1}},
        "custom": {"x": 1},
    }
}


def test_config_from_json_is_typed_and_round_trips(monkeypatch, tmp_path):
    f = tmp_path / "config.json"
    f.write_text(json.dumps(CONFIG))
    monkeypatch.setenv("EDD_CONFIG_JSON", str(f))
    cfg = edd.config()
    assert isinstance(cfg, edd.ExperimentConfig)
    assert cfg.random_seed == 42  # the schema's default
    assert cfg.parameters.learning_rate == 0.1 and cfg.parameters.epochs == 5
    assert cfg.parameters.get("n_estimators") == 200 and cfg.parameters.extra == {"n_estimators": 200}
    assert cfg.data is not None and cfg.data.files == ["a.csv"]
    assert cfg.environment is not None and cfg.environment.python_version == "3.11"
    assert cfg.run is not None and cfg.run.env == {"A": "1"}
    assert cfg.extra == {"custom": {"x": 1}}
    again = edd.ExperimentConfig.from_dict({"experiment": cfg.to_dict()})
    assert again == cfg


def test_config_errors_say_where(monkeypatch, tmp_path):
    f = tmp_path / "config.json"
    f.write_text('{"experiment": {"id": "x", "parameters": {"epochs": "many"}}}')
    with pytest.raises(edd.ConfigError, match=r"experiment\.parameters\.epochs must be an integer"):
        edd.ExperimentConfig.from_json(f)
    f.write_text("{nope")
    with pytest.raises(edd.ConfigError, match=r"config\.json:1:2: not JSON"):
        edd.ExperimentConfig.from_json(f)
    with pytest.raises(edd.ConfigError, match="not inside an EDD run"):
        edd.config()


def test_seed_everything_seeds_random_and_numpy_and_advises_on_hash_seed(monkeypatch, tmp_path):
    f = tmp_path / "config.json"
    cfg = json.loads(json.dumps(CONFIG))
    cfg["experiment"]["random_seed"] = 7
    f.write_text(json.dumps(cfg))
    monkeypatch.setenv("EDD_CONFIG_JSON", str(f))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert edd.seed_everything() == 7
    assert any("PYTHONHASHSEED" in str(w.message) for w in caught)
    a = random.random()
    edd.seed_everything(7)
    assert random.random() == a
    np = pytest.importorskip("numpy")
    edd.seed_everything(3)
    x = np.random.rand()
    edd.seed_everything(3)
    assert np.random.rand() == x
