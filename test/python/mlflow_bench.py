"""The MLflow side of `npm run bench:import`.

  mlflow_bench.py make DB RUNS POINTS   an mlflow.db of RUNS runs x POINTS points of one metric: the schema made by
                                        MLflow itself (a first run logged with its client), the rest inserted in bulk
                                        into MLflow's own tables (the client would take many minutes for 10,000 runs)
  mlflow_bench.py read DB               MLflow's search_runs + get_metric_history over every run; prints JSON with the
                                        seconds measured inside this process (interpreter start-up not counted)
"""
import json
import os
import sqlite3
import sys
import time
import uuid

os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")

from mlflow.tracking import MlflowClient  # noqa: E402


def make(db, runs, points):
    uri = f"sqlite:///{db}"
    client = MlflowClient(uri)
    exp = client.create_experiment("bench")
    first = client.create_run(exp, run_name="run-0")
    client.set_terminated(first.info.run_id)
    con = sqlite3.connect(db)
    base = 1_700_000_000_000
    run_rows, metric_rows, latest_rows, param_rows, tag_rows = [], [], [], [], []
    for r in range(1, runs):
        rid = uuid.uuid4().hex
        run_rows.append((rid, f"run-{r}", "UNKNOWN", "", "", "bench", "FINISHED", base + r, base + r + 1000, "", "active", f"/tmp/art/{rid}", int(exp)))
        for s in range(points):
            metric_rows.append(("loss", 1.0 / (s + 1) + r * 1e-6, base + s, rid, s, 0))
        latest_rows.append(("loss", 1.0 / points + r * 1e-6, base + points - 1, points - 1, 0, rid))
        param_rows.append(("lr", str(r), rid))
        tag_rows.append(("mlflow.runName", f"run-{r}", rid))
    con.executemany("INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", run_rows)
    con.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)", metric_rows)
    con.executemany("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?,?,?,?,?,?)", latest_rows)
    con.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?,?,?)", param_rows)
    con.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?,?,?)", tag_rows)
    con.commit()
    con.close()


def read(db):
    client = MlflowClient(f"sqlite:///{db}")
    start = time.perf_counter()
    exps = [e.experiment_id for e in client.search_experiments()]
    runs, token = [], None
    while True:
        page = client.search_runs(exps, max_results=50000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            break
    points = 0
    for run in runs:
        for key in run.data.metrics:
            points += len(client.get_metric_history(run.info.run_id, key))
    print(json.dumps({"seconds": time.perf_counter() - start, "runs": len(runs), "points": points}))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        read(sys.argv[2])
