"""Writes a known set of MLflow runs with MLflow's own client, then reads them back with the same client and dumps
what MLflow sees as JSON: the import tests compare EDD's import with this, value by value.

Usage: mlflow_write.py TRACKING_URI OUT_JSON [--registry] [--runs N --points P] [--dump]

--dump only reads back (what a push from EDD left on a server).

--runs/--points write N plain runs of P points per metric (the benchmark's data set) and skip the dump.
"""
import json
import math
import os
import sys

# MLflow 3 refuses its file store unless told otherwise; the tests write one on purpose (users still have them).
os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")

import mlflow  # noqa: E402
from mlflow.entities import Metric, Param  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402


def write_fixture(client, registry):
    base = 1_700_000_000_000
    exp_a = client.create_experiment("penguins-mlflow", artifact_location=None)
    exp_b = client.create_experiment("gone")
    client.delete_experiment(exp_b)
    runs = []
    for i, status in enumerate(["FINISHED", "FAILED", "FINISHED"]):
        run = client.create_run(exp_a, start_time=base + i * 60_000, run_name=f"trial-{i}",
                                tags={"mlflow.user": "kim", "mlflow.source.git.commit": f"abc{i}def",
                                      "mlflow.note.content": f"note {i}\nsecond line", "team": "vision"})
        rid = run.info.run_id
        client.log_batch(rid, params=[Param("lr", str(0.1 / (i + 1))), Param("model/depth", str(3 + i)),
                                      Param("optimizer", "adam")])
        metrics = []
        for step in range(5):
            metrics.append(Metric("loss", 1.0 / (step + 1 + i), base + i * 60_000 + step * 1000, step))
            metrics.append(Metric("val/acc", 0.5 + 0.1 * step - 0.01 * i, base + i * 60_000 + step * 1000 + 1, step))
        if i == 2:
            metrics.append(Metric("diverged", float("nan"), base + 5, 0))
            metrics.append(Metric("big", float("inf"), base + 6, 0))
        client.log_batch(rid, metrics=metrics)
        client.set_tag(rid, "stage/name", f"s{i}")
        client.set_terminated(rid, status=status, end_time=base + i * 60_000 + 30_000)
        runs.append(rid)
    deleted = client.create_run(exp_a, run_name="deleted-run")
    client.log_param(deleted.info.run_id, "x", "1")
    client.set_terminated(deleted.info.run_id)
    client.delete_run(deleted.info.run_id)
    if registry:
        client.create_registered_model("penguins-clf", description="the classifier")
        for rid in runs[:2] + [runs[2]]:
            client.create_model_version("penguins-clf", f"runs:/{rid}/model", run_id=rid)
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            client.transition_model_version_stage("penguins-clf", "1", "Archived")
            client.transition_model_version_stage("penguins-clf", "2", "Production")
            client.transition_model_version_stage("penguins-clf", "3", "Staging")
        client.set_registered_model_alias("penguins-clf", "champion", "2")
        client.set_registered_model_alias("penguins-clf", "challenger", "3")
        # a deleted version: the file store keeps its folder with the stage Deleted_Internal
        client.create_model_version("penguins-clf", f"runs:/{runs[0]}/model", run_id=runs[0])
        client.set_registered_model_alias("penguins-clf", "gone", "4")
        client.delete_model_version("penguins-clf", "4")
        client.create_registered_model("dropped")
        client.create_model_version("dropped", f"runs:/{runs[0]}/model", run_id=runs[0])
        client.delete_registered_model("dropped")


def num(v):
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return repr(v)
    return v


def dump(client, registry):
    out = {"experiments": [], "models": []}
    for exp in client.search_experiments():
        runs = []
        for run in client.search_runs([exp.experiment_id], max_results=50000):
            info = run.info
            history = {}
            for key in run.data.metrics:
                history[key] = sorted([[m.step, m.timestamp, num(m.value)] for m in client.get_metric_history(info.run_id, key)])
            runs.append({"run_id": info.run_id, "run_name": info.run_name, "status": info.status,
                         "start_time": info.start_time, "end_time": info.end_time, "user_id": info.user_id,
                         "artifact_uri": info.artifact_uri,
                         "params": run.data.params, "tags": run.data.tags, "history": history})
        out["experiments"].append({"id": exp.experiment_id, "name": exp.name, "artifact_location": exp.artifact_location, "runs": runs})
    if registry:
        for m in client.search_registered_models():
            versions = []
            for v in client.search_model_versions(f"name='{m.name}'"):
                versions.append({"version": int(v.version), "stage": v.current_stage, "run_id": v.run_id, "source": v.source,
                                 # search_model_versions leaves aliases out; get_model_version has them
                                 "aliases": sorted(client.get_model_version(m.name, v.version).aliases)})
            out["models"].append({"name": m.name, "versions": sorted(versions, key=lambda v: v["version"])})
    return out


def write_many(client, n_runs, points):
    exp = client.create_experiment("bench")
    base = 1_700_000_000_000
    for r in range(n_runs):
        run = client.create_run(exp, start_time=base + r, run_name=f"run-{r}")
        rid = run.info.run_id
        metrics = [Metric("loss", 1.0 / (s + 1) + r * 1e-6, base + s, s) for s in range(points)]
        for chunk in range(0, len(metrics), 1000):
            client.log_batch(rid, metrics=metrics[chunk:chunk + 1000], params=[Param("lr", str(r))] if chunk == 0 else [])
        client.set_terminated(rid, end_time=base + r + 1000)


def main():
    uri, out_path = sys.argv[1], sys.argv[2]
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    if "--runs" in sys.argv:
        write_many(client, int(sys.argv[sys.argv.index("--runs") + 1]), int(sys.argv[sys.argv.index("--points") + 1]))
        return
    registry = "--registry" in sys.argv
    if "--dump" not in sys.argv:
        write_fixture(client, registry)
    with open(out_path, "w") as f:
        json.dump(dump(client, registry), f, indent=1)


if __name__ == "__main__":
    main()
