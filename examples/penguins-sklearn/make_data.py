#!/usr/bin/env python3
"""Writes the example's data files (standard library only; deterministic; the outputs are committed):

  data/penguins.csv   the 344 penguins of vega-datasets' data/penguins.json, one row per record, `row_id` = its index
                      there; missing values are empty cells. The training reads this copy, so the example needs no
                      node_modules and its configs name a file inside the repository.
  data/eval.csv       the test rows (the gate's evaluation data: no run ever trains or validates on them)
  data/reference.csv  the other rows (what the runs train and validate on: the drift reference)

Usage, from the repository root after `npm install`: python3 examples/penguins-sklearn/make_data.py
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from penguins_data import FEATURE_COLUMNS, FEATURES, load_rows, split  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "..", "..", "node_modules", "vega-datasets", "data", "penguins.json")
COLUMNS = ["row_id", *FEATURE_COLUMNS, "species", "island", "sex"]
#: The configs' data sizes (experiment.data): only test_size matters here, the other rows are the reference.
TEST_SIZE = 70


def cell(v) -> str:
    if v is None:
        return ""
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def main() -> None:
    with open(SOURCE, encoding="utf-8") as f:
        records = json.load(f)
    out = os.path.join(HERE, "data")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "penguins.csv"), "w", encoding="utf-8", newline="") as f:
        f.write(",".join(COLUMNS) + "\n")
        for i, r in enumerate(records):
            sex = r.get("Sex") if r.get("Sex") in ("MALE", "FEMALE") else None
            f.write(",".join([str(i), *(cell(r.get(k)) for k in FEATURES), r["Species"], r["Island"], cell(sex)]) + "\n")
    rows, _ = load_rows(os.path.join(out, "penguins.csv"))
    sets = split(rows, TEST_SIZE, 1, 1, 0)
    for name, part in (("eval.csv", sets["test"]), ("reference.csv", sets["pool"])):
        with open(os.path.join(out, name), "w", encoding="utf-8", newline="") as f:
            f.write(",".join(COLUMNS) + "\n")
            for r in part:
                f.write(",".join([str(r["row_id"]), *(cell(v) for v in r["x"]), r["y"], r["island"], cell(r["sex"])]) + "\n")
    print(f"wrote data/penguins.csv ({len(records)} rows), eval.csv ({len(sets['test'])}) and reference.csv ({len(sets['pool'])})")


if __name__ == "__main__":
    main()
