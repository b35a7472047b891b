#!/usr/bin/env python3
"""Palmer penguins with scikit-learn: species from four body measurements with a pipeline (impute → scale → model),
exported to ONNX with skl2onnx. Reports to EDD through its Python client (python/edd).

Run it with EDD: `edd run examples/penguins-sklearn/experiments/logistic-regression.yaml`. It reads:
  - the run's config (`edd.config()`, from $EDD_CONFIG_JSON): random_seed, parameters, data sizes and files;
  - the penguins table named by `data.files` (examples/penguins-sklearn/data/penguins.csv);
and writes model.onnx, predictions.csv and metrics.json into $EDD_ARTIFACT_DIR.
Exit: 0 on success, 2 for a bad config, 1 for any other failure (the traceback is recorded with the run).
"""
from __future__ import annotations

import json
import os
import sys
import time

import edd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from penguins_data import CLASSES, FEATURES, DataError, load_rows, split  # noqa: E402

MODEL_TYPES = ("logistic_regression", "gradient_boosting", "random_forest")
#: Hyperparameters each model type reads from `experiment.parameters`, with their defaults.
DEFAULTS = {
    "logistic_regression": {"C": 1.0, "max_iter": 500},
    "gradient_boosting": {"n_estimators": 60, "learning_rate": 0.1, "max_depth": 2, "subsample": 0.8},
    "random_forest": {"n_estimators": 50, "max_depth": 5},
}
COMMON = {"impute": "median"}


class UsageError(Exception):
    """A config this script cannot train (exit 2)."""


def settings(cfg: edd.ExperimentConfig) -> dict:
    p = cfg.parameters
    if p.model_type not in MODEL_TYPES:
        raise UsageError(f"`experiment.parameters.model_type` must be one of {', '.join(MODEL_TYPES)}, got {p.model_type!r}")
    out = {"model_type": p.model_type}
    for name, default in {**COMMON, **DEFAULTS[p.model_type]}.items():
        value = p.get(name, default)
        if isinstance(default, (int, float)):
            kind = "an integer" if isinstance(default, int) else "a number"
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0 or (isinstance(default, int) and value != int(value)):
                raise UsageError(f"`experiment.parameters.{name}` must be {kind} > 0, got {value!r}")
            value = type(default)(value)
        out[name] = value
    if out["impute"] not in ("mean", "median"):
        raise UsageError(f"`experiment.parameters.impute` must be mean or median, got {out['impute']!r}")
    if out["model_type"] == "gradient_boosting" and not out["subsample"] <= 1:
        raise UsageError(f"`experiment.parameters.subsample` must be in (0, 1], got {out['subsample']}")
    ignored = sorted(set(p.to_dict()) - set(out))
    for name in ignored:
        print(f"warning: parameter `{name}` is not used by this script (ignored)")
    return out


def build_pipeline(s: dict, seed: int):
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    if s["model_type"] == "logistic_regression":
        model = LogisticRegression(C=s["C"], max_iter=s["max_iter"])
    elif s["model_type"] == "gradient_boosting":
        model = GradientBoostingClassifier(
            n_estimators=s["n_estimators"], learning_rate=s["learning_rate"], max_depth=s["max_depth"], subsample=s["subsample"], random_state=seed
        )
    else:
        model = RandomForestClassifier(n_estimators=s["n_estimators"], max_depth=s["max_depth"], random_state=seed, n_jobs=1)
    return Pipeline([("impute", SimpleImputer(strategy=s["impute"])), ("scale", StandardScaler()), ("model", model)])


def matrix(rows):
    import numpy as np

    return np.array([[np.nan if v is None else v for v in r["x"]] for r in rows], dtype=np.float32)


def scores(y_true, proba) -> dict:
    from sklearn.metrics import accuracy_score, f1_score, log_loss

    pred = [CLASSES[i] for i in proba.argmax(axis=1)]
    return {
        "accuracy": float(accuracy_score(y_true, pred)),
        "f1_macro": float(f1_score(y_true, pred, labels=CLASSES, average="macro", zero_division=0)),
        "log_loss": float(log_loss(y_true, proba, labels=CLASSES)),
    }


def export_onnx(pipe, cfg: edd.ExperimentConfig, s: dict):
    """The whole pipeline as one ONNX graph: float32 [N, 4] `features` in, float32 [N, 3] `probabilities` out (no
    ZipMap, so the probabilities are a plain tensor the gate can read), class names in the metadata."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    onx = convert_sklearn(
        pipe,
        initial_types=[("features", FloatTensorType([None, len(FEATURES)]))],
        options={id(pipe.named_steps["model"]): {"zipmap": False}},
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    onx.doc_string = f"Palmer penguins species classifier: {s['impute']} imputation + standardisation + {s['model_type']}."
    for key, value in {
        "class_names": json.dumps(CLASSES),
        "feature_names": json.dumps(FEATURES),
        "experiment_id": cfg.id,
        "random_seed": str(cfg.random_seed),
        "model_type": s["model_type"],
    }.items():
        prop = onx.metadata_props.add()
        prop.key, prop.value = key, value
    return onx


def main() -> int:
    started = time.perf_counter()
    cfg = edd.config()
    seed = edd.seed_everything()
    s = settings(cfg)
    data = cfg.data
    if data is None or not data.files:
        raise UsageError("`experiment.data.files` must name the penguins table (examples/penguins-sklearn/data/penguins.csv)")
    if data.train_size is None or data.val_size is None or data.test_size is None:
        raise UsageError("`experiment.data` needs train_size, val_size and test_size")
    print(f"penguins-sklearn: experiment {cfg.id} {cfg.name} — {s['model_type']}, seed {seed}")

    try:
        rows, sha256 = load_rows(data.files[0])
        sets = split(rows, data.test_size, data.val_size, data.train_size, seed)
    except DataError as e:
        raise UsageError(str(e)) from e
    print(f"data: {data.files[0]} — {len(rows)} rows; train {len(sets['train'])}, val {len(sets['val'])}, test {len(sets['test'])}")
    for name, value in s.items():
        edd.log_param(name, value)
    edd.progress(0.1, "data loaded")

    import numpy as np

    X = {k: matrix(v) for k, v in sets.items()}
    y = {k: [r["y"] for r in v] for k, v in sets.items()}
    pipe = build_pipeline(s, seed)
    pipe.fit(X["train"], y["train"])
    if list(pipe.classes_) != CLASSES:
        raise RuntimeError(f"the training split lacks a species: classes {list(pipe.classes_)}")
    edd.progress(0.5, "trained")

    # Gradient boosting has a curve: the validation scores after each boosting stage (staged_predict_proba runs the
    # stages one by one on the already scaled rows).
    if s["model_type"] == "gradient_boosting":
        gb = pipe.named_steps["model"]
        val_scaled = pipe[:-1].transform(X["val"])
        for stage, proba in enumerate(gb.staged_predict_proba(val_scaled), start=1):
            v = scores(y["val"], proba)
            edd.log_metrics({"train_loss": float(gb.train_score_[stage - 1]), "val_log_loss": v["log_loss"], "val_accuracy": v["accuracy"]}, step=stage)
    step = s["n_estimators"] if s["model_type"] == "gradient_boosting" else None

    final = {}
    for part in ("train", "val", "test"):
        for name, value in scores(y[part], pipe.predict_proba(X[part])).items():
            final[f"{part}_{name}"] = value
    edd.log_metrics(final, step=step)
    print("  ".join(f"{k} {v:.4f}" for k, v in final.items()))
    edd.progress(0.7, "evaluated")

    out_dir = os.environ.get("EDD_ARTIFACT_DIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "out", time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(out_dir, exist_ok=True)
    onx = export_onnx(pipe, cfg, s)
    model_file = os.path.join(out_dir, "model.onnx")
    with open(model_file, "wb") as f:
        f.write(onx.SerializeToString())

    # predictions.csv holds what the exported model says (onnxruntime), the scores the gate and the registry see.
    import onnxruntime as ort

    session = ort.InferenceSession(model_file, providers=["CPUExecutionProvider"])
    onnx_proba = session.run(["probabilities"], {"features": X["test"]})[0]
    max_diff = float(np.max(np.abs(onnx_proba - pipe.predict_proba(X["test"]))))
    print(f"onnx: {model_file} ({os.path.getsize(model_file)} bytes); largest difference from scikit-learn on the test rows {max_diff:.2e}")
    pred_file = os.path.join(out_dir, "predictions.csv")
    with open(pred_file, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(["row_id", "y_true", "y_pred", *(f"score_{c}" for c in CLASSES), "sex", "island"]) + "\n")
        for r, p in zip(sets["test"], onnx_proba):
            fields = [r["row_id"], r["y"], CLASSES[int(p.argmax())], *(f"{float(v):.7g}" for v in p), r["sex"] or "", r["island"]]
            f.write(",".join(str(v) for v in fields) + "\n")
    metrics_file = os.path.join(out_dir, "metrics.json")
    with open(metrics_file, "w", encoding="utf-8") as f:
        summary = {
            "experiment_id": cfg.id,
            "random_seed": seed,
            "settings": s,
            "data": {"file": data.files[0], "sha256": sha256, **{f"{k}_size": len(v) for k, v in sets.items() if k != "pool"}},
            "classes": CLASSES,
            "features": FEATURES,
            "metrics": final,
            "onnx_max_abs_difference_from_sklearn": max_diff,
        }
        json.dump(summary, f, indent=2)
        f.write("\n")
    edd.log_artifact(model_file, kind="model")
    edd.log_artifact(pred_file, kind="predictions")
    edd.log_artifact(metrics_file, kind="metrics")
    edd.progress(1.0, "done")
    print(f"done in {time.perf_counter() - started:.2f} s")
    return 0


if __name__ == "__main__":
    try:
        with edd.run():
            code = main()
    except (UsageError, edd.ConfigError) as e:
        print(f"penguins-sklearn/train.py: config error: {e}", file=sys.stderr)
        code = 2
    sys.exit(code)
