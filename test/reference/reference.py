"""The live reference libraries' answers for the cases test/reference/run.ts generated.

Usage: python reference.py cases.json answers.json
Each case is {"method": ..., "input": {...}}; the answer is a dict of named numbers (NaN and ±inf as the strings
"nan", "inf", "-inf") or {"error": "..."} when the library refuses the input.
"""
import gc
import json
import math
import sys
import warnings

import numpy as np
from fairlearn import metrics as fm
from scipy import stats
from scipy.spatial import distance
from sklearn import metrics as skm
from sklearn.preprocessing import label_binarize
import statsmodels.api as sm
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint


def num(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def unjson(v):
    if isinstance(v, list):
        return [unjson(x) for x in v]
    return float(v) if v in ("inf", "-inf") else v


def ttest(inp, equal_var):
    r = stats.ttest_ind(inp["a"], inp["b"], equal_var=equal_var, alternative=inp.get("alternative", "two-sided"))
    return {"statistic": num(r.statistic), "pValue": num(r.pvalue), "df": num(r.df)}


def ks(inp, method):
    r = stats.ks_2samp(inp["a"], inp["b"], method=method, alternative=inp.get("alternative", "two-sided"))
    return {"statistic": num(r.statistic), "pValue": num(r.pvalue), "location": num(r.statistic_location), "sign": num(r.statistic_sign)}


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
    kw = {"sensitive_features": np.array(inp["groups"]), "method": inp.get("method", "between_groups")}
    if "weights" in inp:
        kw["sample_weight"] = np.array(inp["weights"], dtype=float)
    names = ["demographic_parity_difference", "demographic_parity_ratio", "equal_opportunity_difference",
             "equal_opportunity_ratio", "equalized_odds_difference", "equalized_odds_ratio"]
    return {name: num(getattr(fm, name)(y_true, y_pred, **kw)) for name in names}


def pr_curve(inp):
    p, r, t = skm.precision_recall_curve(inp["yTrue"], inp["scores"], pos_label=1)
    out = {"points": len(t)}
    out.update({f"p{k}": num(v) for k, v in enumerate(p)})
    out.update({f"r{k}": num(v) for k, v in enumerate(r)})
    out.update({f"t{k}": num(v) for k, v in enumerate(t)})
    return out


def ap_ovr(inp):
    y = label_binarize(inp["yTrue"], classes=inp["labels"])
    return {"ap": num(skm.average_precision_score(y, np.array(inp["scores"]), average=inp["average"]))}


def linf(inp):
    p = np.array(inp["p"], dtype=float)
    q = np.array(inp["q"], dtype=float)
    return {"distance": num(distance.chebyshev(p / p.sum(), q / q.sum()))}


def holm_case(inp):
    reject, adjusted, _, _ = multipletests(inp["p"], alpha=inp["alpha"], method="holm")
    out = {f"p{k}": num(v) for k, v in enumerate(adjusted)}
    out.update({f"reject{k}": num(bool(v)) for k, v in enumerate(reject)})
    return out


def anova_case(inp):
    groups = [g for g in inp["groups"] if len(g) > 0]
    res = stats.f_oneway(*groups)
    f = res.statistic
    # eta² is the R² of the one-way model: an OLS fit of the value on a constant and k - 1 group indicators.
    y = np.array([x for g in groups for x in g], dtype=float)
    labels = np.array([k for k, g in enumerate(groups) for _ in g])
    x = np.column_stack([np.ones(len(y))] + [(labels == k).astype(float) for k in range(1, len(groups))])
    total = float(((y - y.mean()) ** 2).sum())
    eta = sm.OLS(y, x).fit().rsquared if total > 0 else float("nan")
    # How much a relative error in F moves p: |d log p / d log F| = F·pdf(F) / sf(F) (the comparison scales p's tolerance by it).
    dfb, dfw = len(groups) - 1, len(y) - len(groups)
    cond = float(f * stats.f.pdf(f, dfb, dfw) / res.pvalue) if np.isfinite(f) and dfw > 0 and res.pvalue > 0 else 0.0
    return {"statistic": num(f), "pValue": num(res.pvalue), "etaSquared": num(eta), "ssTotal": num(total), "pCondition": num(cond)}


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
    "fairness_to_overall": fair,
    "fairness_weighted": fair,
    "welch_t_one_sided": lambda i: ttest(i, False),
    "student_t_one_sided": lambda i: ttest(i, True),
    "student_t_n1": lambda i: ttest(i, True),
    "ks_exact_one_sided": lambda i: ks(i, "exact"),
    "ks_asymp_one_sided": lambda i: ks(i, "asymp"),
    "ks_infinite": lambda i: ks(i, "exact"),
    "normal_interval": lambda i: confint(i, "normal"),
    "agresti_coull": lambda i: confint(i, "agresti_coull"),
    "jeffreys": lambda i: confint(i, "jeffreys"),
    "fbeta": lambda i: {"fbeta": num(skm.fbeta_score(i["yTrue"], i["yPred"], beta=i["beta"], average=i["average"], zero_division=0,
                                                     **({"pos_label": i["posLabel"]} if i["average"] == "binary" else {})))},
    "matthews_corrcoef": lambda i: {"mcc": num(skm.matthews_corrcoef(i["yTrue"], i["yPred"]))},
    "cohen_kappa": lambda i: {"kappa": num(skm.cohen_kappa_score(i["yTrue"], i["yPred"], weights=i.get("weights")))},
    "average_precision": lambda i: {"ap": num(skm.average_precision_score(i["yTrue"], i["scores"], pos_label=1))},
    "average_precision_ovr": ap_ovr,
    "precision_recall_curve": pr_curve,
    "linf": linf,
    "holm": holm_case,
    "anova_oneway": anova_case,
}


def main():
    # ±Infinity travel as the strings "inf" / "-inf" (JSON has no infinity).
    cases = json.load(open(sys.argv[1]), object_hook=lambda d: {k: unjson(v) for k, v in d.items()})
    answers = []
    # statsmodels' multipletests calls gc.collect() on every call; with scipy, sklearn and the cases loaded that
    # takes ~0.1 s. Frozen objects are not scanned, which keeps the holm cases as fast as the others.
    gc.freeze()
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
