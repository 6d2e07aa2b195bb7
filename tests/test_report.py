"""write_report, the output folder's checks and the terminal tables."""

import json
import os

import pandas as pd
import pytest

from sklearn_contrasim.benchmarks import comparison_table, write_report
from sklearn_contrasim.benchmarks._report import format_tables, prepare_output, report_files


def result_rows(benchmarks=("toy",), heldout=("pairs",), negatives=("random",), n_folds=2,
                layers=(0,), measures=("good", "bad")):
    """A result table: ``good`` always right, ``bad`` right half of the time."""
    rows = [
        {"benchmark": benchmark, "dataset": f"{benchmark}-data", "heldout": held,
         "fold": fold, "trained_on": "", "x": "a", "y": "b", "layer": layer,
         "layer_name": f"layer{layer}", "measure": measure, "negatives": mode,
         "accuracy": 1.0 if measure == "good" else 0.5, "n_hits": 10 if measure == "good" else 5,
         "n_decisions": 10, "chance": 0.25,
         "fit_time": 0.0, "score_time": 0.0}
        for benchmark in benchmarks for held in heldout for mode in negatives
        for fold in range(n_folds) for layer in layers for measure in measures
    ]
    return pd.DataFrame(rows)


def test_write_report_writes_every_file(tmp_path):
    results = result_rows(layers=(0, 1))
    similarities = pd.DataFrame({
        "benchmark": "toy", "dataset": "toy-data", "heldout": "examples", "fold": 0,
        "x": "a", "y": "b", "measure": "good", "layer_x": [0, 0, 1, 1],
        "layer_y": [0, 1, 0, 1], "similarity": [1.0, 0.2, 0.2, 1.0]})
    tables = write_report(results, tmp_path / "new", similarities=similarities,
                          run={"preset": "toy"})
    assert sorted(path.name for path in (tmp_path / "new").iterdir()) == [
        "accuracy_by_measure.png", "accuracy_per_layer_toy_toy-data_pairs_random.png",
        "results.csv", "run.json", "similarities.csv", "similarity_heatmaps_toy-data.png",
        "summary.csv", "tables.md"]
    assert json.loads((tmp_path / "new" / "run.json").read_text()) == {"preset": "toy"}
    assert tables["std"].loc["good"].iloc[0] == "1.000 ± 0.000"
    assert tables["ci"].loc["bad"].iloc[0] == "0.500 [0.500, 0.500]"
    written = pd.read_csv(tmp_path / "new" / "results.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(written, results, check_dtype=False)


def test_heat_maps_never_average_raw_and_relative_grids(tmp_path, monkeypatch):
    from sklearn_contrasim import plotting

    drawn = {}
    original = plotting.plot_similarity_heatmaps

    def recording(grid, **params):
        drawn[params["title"].split(":")[0]] = sorted(grid.similarity)
        return original(grid, **params)

    monkeypatch.setattr(plotting, "plot_similarity_heatmaps", recording)
    grid = {"benchmark": "toy", "dataset": "toy-data", "heldout": "examples", "fold": 0,
            "x": "a", "y": "b", "measure": "good", "layer_x": [0, 0, 1, 1],
            "layer_y": [0, 1, 0, 1]}
    similarities = pd.concat([
        pd.DataFrame({**grid, "representation": "raw", "similarity": [1.0, 0.2, 0.2, 1.0]}),
        pd.DataFrame({**grid, "representation": "relative", "similarity": [0.9, 0.5, 0.5, 0.9]}),
    ])
    write_report(result_rows(layers=(0, 1)), tmp_path, similarities=similarities)
    assert drawn == {"toy-data, raw": [0.2, 0.2, 1.0, 1.0],
                     "toy-data, relative": [0.5, 0.5, 0.9, 0.9]}
    assert {path.name for path in tmp_path.glob("similarity_heatmaps_*")} == {
        "similarity_heatmaps_toy-data_raw.png", "similarity_heatmaps_toy-data_relative.png"}


def test_report_refuses_a_folder_with_a_report_unless_overwrite(tmp_path):
    write_report(result_rows(benchmarks=("toy", "other"), layers=(0, 1)), tmp_path)
    stale = tmp_path / "accuracy_per_layer_other_other-data_pairs_random.png"
    assert stale.exists()
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"already holds a report \(\d+ files, such as "
                                              r"accuracy_by_measure.png\); pass overwrite=True"):
        write_report(result_rows(), tmp_path)
    write_report(result_rows(), tmp_path, overwrite=True)
    assert not stale.exists()  # no file of the old run is left to mix with the new one
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert set(pd.read_csv(tmp_path / "results.csv").benchmark) == {"toy"}


def test_prepare_output_creates_and_checks_the_folder(tmp_path):
    output = prepare_output(tmp_path / "a" / "b")
    assert output.is_dir() and list(output.iterdir()) == []  # the test file is gone
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError, match=r"Cannot create the output folder .*file/out: Not a "
                                      r"directory\."):
        prepare_output(blocker / "out")
    with pytest.raises(OSError, match=r"The output folder .*file is a file\."):
        prepare_output(blocker)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="the superuser can write into a read-only folder")
def test_prepare_output_refuses_a_read_only_folder(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(OSError, match="Cannot write into the output folder .*Permission"):
            prepare_output(tmp_path)
    finally:
        tmp_path.chmod(0o700)


def test_report_files_are_only_those_a_report_writes(tmp_path):
    for name in ("results.csv", "similarity_heatmaps_x.png", "results.csv.bak", "plot.png",
                 "run.json", "summary.txt"):
        (tmp_path / name).write_text("")
    (tmp_path / "tables.md").mkdir()  # a folder is never a report file
    assert [path.name for path in report_files(tmp_path)] == [
        "results.csv", "run.json", "similarity_heatmaps_x.png"]


def test_format_tables_one_table_per_benchmark_and_data_set():
    results = pd.concat([result_rows(benchmarks=("first",), heldout=("examples", "seeds"),
                                     negatives=("layers",)),
                         result_rows(benchmarks=("second",), negatives=("random", "hard"))])
    text = format_tables(results, notes={("second", "second-data"): ["bad: n/a somewhere"],
                                         ("third", "empty"): ["every measure: n/a"]})
    first, second, third = text.split("\n\n")
    assert third == "third / empty: no results\nevery measure: n/a"
    assert first.splitlines()[0] == ("first / first-data (negatives: layers): accuracy, mean ± "
                                     "std over folds and pairs")
    assert first.splitlines()[1].split() == ["examples", "seeds", "mean", "rank"]
    assert second.splitlines()[0].startswith("second / second-data (held out: pairs): ")
    assert second.splitlines()[1].split() == ["random", "hard", "mean", "rank"]
    assert second.splitlines()[-1] == "bad: n/a somewhere"
    table = comparison_table(results[results.benchmark == "first"], by=["heldout"])
    # The title names the data set; the columns do not repeat it.
    assert list(table.columns) == ["first-data / examples", "first-data / seeds", "mean rank"]
    table.columns = ["examples", "seeds", "mean rank"]
    assert first.splitlines()[1:] == [line.rstrip() for line in table.to_string().splitlines()]


def test_report_keeps_two_data_sets_of_a_benchmark_apart(tmp_path):
    first = result_rows(layers=(0, 1))
    # A second data set of the same benchmark, where "bad" is always right.
    second = first.assign(dataset="toy-other", n_hits=10, accuracy=1.0)
    results = pd.concat([first, second])
    tables = write_report(results, tmp_path)
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert summary.columns[:2].tolist() == ["benchmark", "dataset"]
    assert summary.set_index(["dataset", "measure"])["mean"].to_dict() == {
        ("toy-data", "good"): 1.0, ("toy-data", "bad"): 0.5,
        ("toy-other", "good"): 1.0, ("toy-other", "bad"): 1.0}
    assert tables["std"].loc["bad"].tolist()[:2] == ["0.500 ± 0.000", "1.000 ± 0.000"]
    header = (tmp_path / "tables.md").read_text().splitlines()[2]
    assert header == ("| measure | toy / toy-data / pairs / random | "
                      "toy / toy-other / pairs / random | mean rank |")
    assert {path.name for path in tmp_path.glob("accuracy_per_layer_*.png")} == {
        "accuracy_per_layer_toy_toy-data_pairs_random.png",
        "accuracy_per_layer_toy_toy-other_pairs_random.png"}
    first_table, second_table = format_tables(results).split("\n\n")
    assert second_table.splitlines()[0].startswith("toy / toy-other (held out: pairs)")
    assert second_table.splitlines()[3].split() == ["bad", "1.000", "±", "0.000", "1.0"]


@pytest.mark.parametrize("width", [50, 70, 100])
def test_format_tables_fit_the_width(width):
    measures = ("OrthogonalProcrustes", "good", "bad")
    results = result_rows(heldout=("examples", "seeds", "languages"),
                          negatives=("random", "hard"), measures=measures)
    lines = format_tables(results, width=width).splitlines()
    assert max(map(len, lines)) <= width
    # Too wide for one block: the columns are wrapped into blocks, each with every measure.
    n_blocks = sum(line.startswith("measure") for line in lines)
    assert n_blocks > 1
    for measure in measures:
        assert sum(line.startswith(f"{measure} ") for line in lines) == n_blocks
