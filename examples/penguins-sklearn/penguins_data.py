"""The penguins rows and the example's split, with the standard library only (make_gate_data.py needs no packages).

Rows: data/penguins.csv, a copy of `data/penguins.json` of the npm package vega-datasets (make_data.py); `row_id` is
the index of the record in that JSON file, as in the Node example (stable across runs, for paired tests). Two penguins have no measurement at all and are dropped (nothing
to learn from or predict); other missing values stay missing (None) — the pipeline's imputer deals with them.

Split (`split`): a shuffle seeded by the constant TEST_SPLIT_SEED sets aside the test rows, the same for every run
and every seed, so per-example comparisons between runs (McNemar, paired bootstrap) are valid and the gate evaluates
on rows no run trained on. The rest is shuffled again with the run's seed into train and validation: each seed sees
another train/validation draw, which is what makes the spread across seeds real for every model type, the
deterministic logistic regression included.
"""
from __future__ import annotations

import csv
import hashlib
import random
from typing import Any, Dict, List, Optional, Tuple

#: The measurements as vega-datasets names them (the model's metadata), in input order.
FEATURES = ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"]
#: The same measurements under the column names of the gate's CSV files.
FEATURE_COLUMNS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
CLASSES = ["Adelie", "Chinstrap", "Gentoo"]
TEST_SPLIT_SEED = 20250301


class DataError(ValueError):
    """The data file is missing or not the penguins table."""


def load_rows(path: str) -> Tuple[List[Dict[str, Any]], str]:
    """The usable rows of data/penguins.csv (dicts with row_id, x, y, island, sex) and the file's sha256."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise DataError(f"{path}: cannot read the penguins data ({e.strerror or e})") from e
    lines = raw.decode("utf-8").splitlines()
    reader = csv.DictReader(lines)
    missing = [c for c in ["row_id", "species", "island", "sex", *FEATURE_COLUMNS] if c not in (reader.fieldnames or [])]
    if missing:
        raise DataError(f"{path}: not the penguins table: no column {', '.join(missing)}")
    rows = []
    for line, r in enumerate(reader, start=2):
        try:
            x: List[Optional[float]] = [float(r[c]) if r[c] != "" else None for c in FEATURE_COLUMNS]
        except ValueError as e:
            raise DataError(f"{path}:{line}: a measurement is not a number ({e})") from e
        if all(v is None for v in x):
            continue
        if r["species"] not in CLASSES:
            raise DataError(f"{path}:{line}: species {r['species']!r} is not one of {', '.join(CLASSES)}")
        rows.append({"row_id": int(r["row_id"]), "x": x, "y": r["species"], "island": r["island"], "sex": r["sex"] or None})
    return rows, hashlib.sha256(raw).hexdigest()


def split(rows: List[Dict[str, Any]], test_size: int, val_size: int, train_size: int, seed: int) -> Dict[str, List[Dict[str, Any]]]:
    """Test rows from the constant seed; train and validation rows from `seed` among the others."""
    if min(test_size, val_size, train_size) <= 0:
        raise DataError("train, validation and test sizes must all be > 0")
    if test_size + val_size + train_size > len(rows):
        raise DataError(f"train {train_size} + validation {val_size} + test {test_size} rows is more than the {len(rows)} rows there are")
    order = list(range(len(rows)))
    random.Random(TEST_SPLIT_SEED).shuffle(order)
    test = sorted(order[:test_size])
    pool = sorted(order[test_size:])
    random.Random(seed).shuffle(pool)
    pick = lambda ids: [rows[i] for i in ids]  # noqa: E731
    return {
        "train": pick(sorted(pool[:train_size])),
        "val": pick(sorted(pool[train_size:train_size + val_size])),
        "test": pick(test),
        "pool": pick(sorted(pool)),
    }
