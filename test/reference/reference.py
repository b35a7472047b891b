"""The live reference libraries' answers for the cases test/reference/run.ts generated.

Usage: python reference.py cases.json answers.json
Each case is {"method": ..., "input": {...}}; the answer is a dict of named numbers (NaN and ±inf as the strings
"nan", "inf", "-inf") or {"error": "..."} when the library refuses the input.
"""
import json
import math
import sys
import warnings

import numpy as np
from fairlearn import metrics as fm
from scipy import stats
from scipy.spatial import distance
from sklearn import metrics as skm
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint


def num(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def ttest(inp, equal_var):
    r = stats.ttest_ind(inp["a"], inp["b"], equal_var=equal_var)
    return {"statistic": num(r.statistic), "pValue": num(r.pvalue), "df": num(r.df)}


def ks(inp, method):
    r = stats.ks_2samp(inp["a"], inp["b"], method=method)
    return {"statistic": num(r.statistic), "pValue": num(r.pvalue)}


def mcnemar_case(inp, exact, correction):
    b, c = inp["b"], inp["c"]
    r = mcnemar([[inp["a"], b], [c, inp["d"]]], exact=exact, correction=correction)
    return {"statistic": num(r.statistic), "pValue": num(r.pvalue)}


def confint(inp, method):
    low, high = proportion_confint(inp["successes"], inp["n"], alpha=1 - inp["confidence"], method=method)
    return {"low": num(low), "high": num(high)}


def prf(inp, average):
    kw = {"average": average, "zero_division": 0}
    if average == "binary":
        kw["pos_label"] = inp["posLabel"]
    p, r, f, _ = skm.precision_recall_fscore_support(inp["yTrue"], inp["yPred"], **kw)
    return {"precision": num(p), "recall": num(r), "f1": num(f)}


def fair(inp):
    y_true = np.array([1 if y == inp["positive"] else 0 for y in inp["yTrue"]])
    y_pred = np.array([1 if y == inp["positive"] else 0 for y in inp["yPred"]])
    g = np.array(inp["groups"])
    return {
        "demographic_parity_difference": num(fm.demographic_parity_difference(y_true, y_pred, sensitive_features=g)),
        "demographic_parity_ratio": num(fm.demographic_parity_ratio(y_true, y_pred, sensitive_features=g)),
        "equal_opportunity_difference": num(fm.equal_opportunity_difference(y_true, y_pred, sensitive_features=g)),
        "equal_opportunity_ratio": num(fm.equal_opportunity_ratio(y_true, y_pred, sensitive_features=g)),
        "equalized_odds_difference": num(fm.equalized_odds_difference(y_true, y_pred, sensitive_features=g)),
    }


METHODS = {
    "welch_t": lambda i: ttest(i, False),
    "student_t": lambda i: ttest(i, True),
    "ks_exact": lambda i: ks(i, "exact"),
    "ks_asymp": lambda i: ks(i, "asymp"),
    "wasserstein": lambda i: {"distance": num(stats.wasserstein_distance(i["u"], i["v"], i.get("uWeights"), i.get("vWeights")))},
    "jensenshannon": lambda i: {"distance": num(distance.jensenshannon(i["p"], i["q"], base=2))},
    "mcnemar_exact": lambda i: mcnemar_case(i, True, True),
    "mcnemar_chi2": lambda i: mcnemar_case(i, False, False),
    "mcnemar_chi2_corrected": lambda i: mcnemar_case(i, False, True),
    "wilson": lambda i: confint(i, "wilson"),
    "clopper_pearson": lambda i: confint(i, "beta"),
    "accuracy": lambda i: {"accuracy": num(skm.accuracy_score(i["yTrue"], i["yPred"]))},
    "prf_binary": lambda i: prf(i, "binary"),
    "prf_macro": lambda i: prf(i, "macro"),
    "prf_weighted": lambda i: prf(i, "weighted"),
    "roc_auc_binary": lambda i: {"auc": num(skm.roc_auc_score(i["yTrue"], i["scores"]))},
    "roc_auc_ovr": lambda i: {"auc": num(skm.roc_auc_score(i["yTrue"], i["scores"], multi_class="ovr", average="macro", labels=i["labels"]))},
    "fairness": fair,
}


def main():
    cases = json.load(open(sys.argv[1]))
    answers = []
    for case in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                answers.append(METHODS[case["method"]](case["input"]))
            except Exception as e:  # the library refuses the input: EDD must refuse it too
                answers.append({"error": f"{type(e).__name__}: {e}"})
    json.dump(answers, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
