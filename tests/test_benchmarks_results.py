"""Comparison tables of benchmark results: units, spreads, ranks, Markdown."""

import numpy as np
import pandas as pd
import pytest
from _fixtures import synthetic_results

from sklearn_contrasim.benchmarks import comparison_table, summarize, to_markdown


def test_summarize_pools_layers_into_units_and_ranks_measures():
    summary = summarize(synthetic_results(), confidence=0.5)
    good, bad = summary.set_index("measure").loc[["good", "bad"]].itertuples()
    # good: units (pairs) at 1.0 and 0.5; bad: 0.5 and 0.0.
    assert good.mean == pytest.approx(0.75) and bad.mean == pytest.approx(0.25)
    assert good.std == pytest.approx(np.std([1, 0.5], ddof=1))
    assert (good.n_units, good.n_decisions, good.rank, bad.rank) == (2, 4, 1, 2)
    # 50 % Student t interval with 1 degree of freedom: mean ± 1.0 * std / sqrt(2).
    assert (good.ci_low, good.ci_high) == pytest.approx((0.5, 1.0))
    assert (bad.ci_low, bad.ci_high) == pytest.approx((0.0, 0.5))
    assert summarize(synthetic_results()).ci_low.min() == 0.0  # clipped to [0, 1]
    per_layer = summarize(synthetic_results(), by=["benchmark", "layer"])
    assert per_layer.set_index(["measure", "layer"])["mean"].to_dict() == {
        ("good", 0): 1.0, ("good", 1): 0.5, ("bad", 0): 0.0, ("bad", 1): 0.5}


def test_summarize_counts_integer_hits_not_rounded_accuracies():
    # Regression: hits were rebuilt as accuracy x n_decisions, so an accuracy rounded on
    # its way through a CSV file (1/3 written as 0.33) gave a unit accuracy of 0.33.
    results = synthetic_results().assign(accuracy=0.33, n_hits=1, n_decisions=3)
    summary = summarize(results)
    assert summary["mean"].tolist() == [1 / 3, 1 / 3]
    assert summary.n_decisions.tolist() == [12, 12]


def test_comparison_table_and_markdown():
    table = comparison_table(synthetic_results(), decimals=2)
    assert list(table.index) == ["good", "bad", "chance"]
    assert table.loc["good", "lp / d / examples / layers"] == "0.75 ± 0.35"
    assert table.loc["chance", "lp / d / examples / layers"] == "0.50"
    ci = comparison_table(synthetic_results(), interval="ci", decimals=2)
    assert ci.loc["good"].iloc[0].startswith("0.75 [")
    markdown = to_markdown(table)
    assert markdown.splitlines()[2].startswith("| good | 0.75 ± 0.35 |")
    with pytest.raises(ValueError, match="interval must be 'std' or 'ci'"):
        comparison_table(synthetic_results(), interval="iqr")
    with pytest.raises(ValueError, match=r"lacks the columns \['fold'\]"):
        summarize(synthetic_results().drop(columns="fold"))
    with pytest.raises(ValueError, match=r"lacks the columns \['n_hits'\]"):
        summarize(synthetic_results().drop(columns="n_hits"))


def test_comparison_table_marks_missing_results():
    results = synthetic_results()
    other = results[results.measure == "good"].assign(benchmark="other")
    table = comparison_table(pd.concat([results, other]), decimals=2)
    assert table.loc["bad", "other / d / examples / layers"] == "n/a"
    assert table.loc["bad", "mean rank"] == "2.0"


def test_rows_of_different_representations_are_kept_apart():
    raw = synthetic_results()
    # The same rows on relative representations, where "bad" hits everything.
    relative = raw.assign(representation="relative",
                          n_hits=np.where(raw.measure == "bad", 1, raw.n_hits))
    mixed = pd.concat([raw, relative])
    means = summarize(mixed).set_index(["representation", "measure"])["mean"].to_dict()
    assert means == {("raw", "good"): 0.75, ("raw", "bad"): 0.25,
                     ("relative", "good"): 0.75, ("relative", "bad"): 1.0}
    table = comparison_table(mixed, decimals=2)
    assert table.loc["bad", "lp / d / relative / examples / layers"] == "1.00 ± 0.00"
    assert table.loc["bad", "lp / d / raw / examples / layers"] == "0.25 ± 0.35"
    # One representation: the tables are those of before the column existed.
    assert list(comparison_table(raw).columns) == ["lp / d / examples / layers", "mean rank"]
