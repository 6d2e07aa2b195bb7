"""contrasim-bench: options, user errors, output folder, printed tables and written files
(on a tiny preset of fake loaders)."""

import json
import os
import re

import pandas as pd
import pytest

from _fixtures import fake_suite, no_work  # noqa: F401 (fixtures)
from sklearn_contrasim import __version__
from sklearn_contrasim.benchmarks import RESULT_COLUMNS
from sklearn_contrasim.benchmarks._cli import WIDTH, build_parser, main
from sklearn_contrasim.benchmarks._report import format_tables

ALL_STEPS = ["layer_prediction / toy-seeds", "multilingual / toy-languages",
             "multilingual / other-languages", "image_caption / toy-captions"]


def test_quick_run_prints_tables_and_writes_results(fake_suite, tmp_path, capsys):
    output = tmp_path / "out"
    assert main(["--output", str(output), "--measures", "ContraSim", "LinearCKA", "DotProduct",
                 "--quiet", "--n-jobs", "1"]) == 0
    assert [(benchmark, params) for benchmark, params, *_ in fake_suite] == [
        ("layer_prediction", {"size": 1}), ("multilingual", {"size": 2}),
        ("multilingual", {"size": 4}), ("image_caption", {"size": 3})]
    printed = capsys.readouterr().out
    for text in ("ContraSim", "LinearCKA", "DotProduct", "mean rank", "chance",
                 "layer_prediction / toy-seeds (negatives: layers)",
                 "multilingual / toy-languages (held out: languages)",
                 "image_caption / toy-captions (held out: pairs)"):
        assert text in printed
    results = pd.read_csv(output / "results.csv")
    assert list(results.columns) == RESULT_COLUMNS
    assert set(results.benchmark) == {"layer_prediction", "multilingual", "image_caption"}
    assert set(results.measure) == {"ContraSim", "LinearCKA", "DotProduct"}
    assert set(results.dataset) == {"toy-seeds", "toy-languages", "other-languages",
                                    "toy-captions"}
    tables = (output / "tables.md").read_text()
    assert "| ContraSim |" in tables and "95 % confidence interval" in tables
    pngs = sorted(path.name for path in output.glob("*.png"))
    assert "accuracy_by_measure.png" in pngs
    assert "similarity_heatmaps_toy-seeds.png" in pngs
    assert "accuracy_per_layer_layer_prediction_toy-seeds_examples_layers.png" in pngs
    assert all((output / name).read_bytes()[:4] == b"\x89PNG" for name in pngs)
    for name in ("similarities.csv", "summary.csv"):
        assert (output / name).exists()


def test_run_json_records_versions_provenance_and_skips(fake_suite, tmp_path):
    main(["--output", str(tmp_path), "--measures", "LinearCKA", "DotProduct", "NormSimilarity",
          "--quiet", "--n-jobs", "1", "--random-state", "3"])
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["argv"][-2:] == ["--random-state", "3"] and run["preset"] == "quick"
    assert run["seconds"]["total"] >= run["seconds"]["run image_caption toy-captions"] > 0
    assert set(run["versions"]) == {"python", "sklearn_contrasim", "numpy", "scipy",
                                    "scikit-learn", "torch", "skorch", "transformers"}
    assert run["versions"]["sklearn_contrasim"] == __version__
    languages = run["datasets"]["multilingual"]["toy-languages"]
    assert languages["loader_params"] == {"size": 2}
    assert languages["sentences_hash"] == "0123abcd" and languages["from_cache"] is True
    assert not {"representations", "layer_names", "test_fold"} & set(languages)
    skipped = run["skipped"]["image_caption"]["toy-captions"]
    assert set(skipped) == {"DotProduct", "NormSimilarity"}
    assert "same number of features" in skipped["DotProduct"]
    assert "worker stopped" not in json.dumps(run)


def test_benchmark_choice_runs_only_those(fake_suite, tmp_path):
    main(["--output", str(tmp_path), "--benchmarks", "image_caption", "--measures", "LinearCKA",
          "--quiet", "--n-jobs", "2"])
    results = pd.read_csv(tmp_path / "results.csv")
    assert set(results.benchmark) == {"image_caption"}
    assert [call[0] for call in fake_suite] == ["image_caption"]
    assert not (tmp_path / "similarities.csv").exists()
    assert (tmp_path / "accuracy_by_measure.png").exists()


def test_dataset_choice_runs_only_that_data_set(fake_suite, tmp_path):
    main(["--output", str(tmp_path), "--datasets", "other-languages", "--measures", "LinearCKA",
          "--quiet", "--n-jobs", "1"])
    assert [call[:2] for call in fake_suite] == [("multilingual", {"size": 4})]
    results = pd.read_csv(tmp_path / "results.csv")
    assert set(results.dataset) == {"other-languages"}
    assert set(results.benchmark) == {"multilingual"}


def test_representation_choice_replaces_the_presets(fake_suite, tmp_path):
    main(["--output", str(tmp_path), "--benchmarks", "multilingual", "--measures", "LinearCKA",
          "--representations", "relative", "--quiet", "--n-jobs", "1"])
    results = pd.read_csv(tmp_path / "results.csv")
    assert set(results.representation) == {"relative"}
    assert set(results.dataset) == {"toy-languages", "other-languages"}
    assert json.loads((tmp_path / "run.json").read_text())["argv"][-5:-3] == [
        "--representations", "relative"]


def test_loaders_get_n_jobs_and_an_offline_hub_restored_afterwards(fake_suite, tmp_path,
                                                                   monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    main(["--output", str(tmp_path), "--benchmarks", "image_caption", "--measures", "LinearCKA",
          "--quiet", "--n-jobs", "2"])
    assert fake_suite == [("image_caption", {"size": 3}, 2, "1")]
    assert "HF_HUB_OFFLINE" not in os.environ
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # the user's own setting is kept
    main(["--output", str(tmp_path / "again"), "--benchmarks", "image_caption", "--measures",
          "LinearCKA", "--quiet"])
    assert fake_suite[-1][-1] == "0" and os.environ["HF_HUB_OFFLINE"] == "0"


@pytest.mark.parametrize("argv, message", [
    (["--preset", "huge"], r"argument --preset: invalid choice: 'huge'"),
    (["--benchmarks", "speed"], r"argument --benchmarks: invalid choice: 'speed'"),
    (["--datasets", "nope"], r"Unknown data sets \['nope'\]"),
    (["--benchmarks", "image_caption", "--datasets", "toy-seeds"],
     r"Unknown data sets \['toy-seeds'\] .*choose among \['toy-captions'\]"),
    (["--measures", "Cosine"], r"Unknown measures \['Cosine'\]; choose among \['ContraSim'"),
    (["--random-state", "-1"], r"argument --random-state: must be between 0 and 2\*\*32 - 1"),
    (["--random-state", "seven"], r"argument --random-state: must be an integer, got 'seven'"),
    (["--n-jobs", "0"], r"argument --n-jobs: must be a number of processes .* got 0"),
    (["--n-jobs", "-2"], r"argument --n-jobs: must be a number of processes .* got -2"),
    (["--n-jobs", "two"], r"argument --n-jobs: must be an integer, got 'two'"),
    (["--n-jobs", "1.5"], r"argument --n-jobs: must be an integer, got '1.5'"),
    (["--representations", "cosine"], r"argument --representations: invalid choice: 'cosine'"),
    (["--unknown"], r"unrecognized arguments: --unknown"),
])
def test_user_errors_are_one_line_exit_2_before_any_work(fake_suite, no_work, tmp_path, capsys,
                                                         argv, message):
    output = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["--output", str(output), *argv])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("contrasim-bench: error: ")
    assert re.search(message, captured.err)
    assert not output.exists()  # checked before the output folder is made


def test_impossible_output_folder_is_reported_before_any_work(no_work, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for output, message in [(blocker / "out", r"Cannot create the output folder .*a-file/out: "),
                            (blocker, r"The output folder .*a-file is a file\.")]:
        with pytest.raises(SystemExit) as exit_info:
            main(["--output", str(output), "--quiet"])
        assert exit_info.value.code == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and re.search(message, error)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="the superuser can write into a read-only folder")
def test_read_only_output_folder_is_reported_before_any_work(no_work, tmp_path, capsys):
    output = tmp_path / "read-only"
    output.mkdir()
    output.chmod(0o500)
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["--output", str(output), "--quiet"])
    finally:
        output.chmod(0o700)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert re.search(r"Cannot write into the output folder .*read-only: Permission denied", error)


def test_folder_with_results_is_refused_without_overwrite(no_work, tmp_path, capsys):
    (tmp_path / "results.csv").write_text("old results")
    with pytest.raises(SystemExit) as exit_info:
        main(["--output", str(tmp_path), "--quiet"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert re.search(r"already holds the results of a run; pass --overwrite", error)
    assert (tmp_path / "results.csv").read_text() == "old results"


def test_overwrite_replaces_the_old_run_files_only(fake_suite, tmp_path):
    (tmp_path / "results.csv").write_text("old results")
    (tmp_path / "accuracy_per_layer_multilingual_old_languages_hard.png").write_bytes(b"old")
    (tmp_path / "run.json").write_text("{}")
    (tmp_path / "my-notes.txt").write_text("keep me")
    (tmp_path / "plot.png").write_bytes(b"mine")
    main(["--output", str(tmp_path), "--overwrite", "--benchmarks", "image_caption",
          "--measures", "LinearCKA", "--quiet", "--n-jobs", "1"])
    assert set(pd.read_csv(tmp_path / "results.csv").benchmark) == {"image_caption"}
    assert not (tmp_path / "accuracy_per_layer_multilingual_old_languages_hard.png").exists()
    assert json.loads((tmp_path / "run.json").read_text())["preset"] == "quick"
    assert (tmp_path / "my-notes.txt").read_text() == "keep me"
    assert (tmp_path / "plot.png").read_bytes() == b"mine"


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"contrasim-bench {__version__}\n"


def test_terminal_output_fits_and_summarises_warnings(fake_suite, tmp_path, capsys):
    main(["--output", str(tmp_path), "--measures", "LinearCKA", "DotProduct", "NormSimilarity",
          "--n-jobs", "1"])
    out, err = capsys.readouterr()
    lines = re.split(r"[\r\n]", out + err)  # progress bars redraw with carriage returns
    assert [line for line in lines if len(line) > WIDTH and line != str(tmp_path)] == []
    assert "Traceback" not in out + err and "worker stopped" not in out + err
    # The skipped measures: one summary line, no warning per skipped task.
    summaries = [line for line in lines if "n/a (" in line]
    assert summaries == ["DotProduct, NormSimilarity: n/a (compares row k of X with row k of y, "
                         "so both need the same number"]
    assert "skipped" not in out + err
    # Other warnings: once each, with a count, no source line.
    assert "UnreliableScoreWarning" in err and "warnings.warn" not in err
    for step in ALL_STEPS:
        assert f"{step}: done in" in err
        assert out.count(f"{step} (") == 1  # one table per benchmark and data set


def test_quiet_prints_the_tables_only(fake_suite, tmp_path, capsys):
    main(["--output", str(tmp_path), "--measures", "LinearCKA", "DotProduct", "NormSimilarity",
          "--n-jobs", "1", "--quiet"])
    out, err = capsys.readouterr()
    assert err == ""
    summary = ("DotProduct, NormSimilarity: n/a (compares row k of X with row k of y, so both "
               "need the same number\n  of features; got 5 and 6.)")
    results = pd.read_csv(tmp_path / "results.csv", keep_default_na=False)
    tables = format_tables(results, notes={("image_caption", "toy-captions"): [summary]})
    assert out == tables + "\n"
    assert [block.splitlines()[0].split(" (")[0] for block in out.split("\n\n")] == ALL_STEPS


def test_parser_defaults():
    args = build_parser().parse_args([])
    assert (args.preset, args.output, args.n_jobs, args.random_state) == (
        "quick", "contrasim-results", -1, 0)
    assert args.benchmarks == ["layer_prediction", "multilingual", "image_caption"]
    assert not args.overwrite and not args.quiet and args.representations is None


def test_missing_data_package_is_one_line(monkeypatch, tmp_path, capsys):
    from types import MappingProxyType

    from sklearn_contrasim.benchmarks import _suite
    from sklearn_contrasim.datasets import MissingDataSourceError

    def load(**params):
        raise MissingDataSourceError("/usr/share/x is missing: it ships in the Debian package "
                                     "'x';\nrun `apt-get install x`.")

    monkeypatch.setattr(_suite, "BENCHMARKS", MappingProxyType(
        {name: (load, runner) for name, (_, runner) in _suite.BENCHMARKS.items()}))
    with pytest.raises(SystemExit) as exit_info:
        main(["--output", str(tmp_path), "--quiet"])
    assert exit_info.value.code == ("contrasim-bench: /usr/share/x is missing: it ships in the "
                                    "Debian package 'x'; run `apt-get install x`.")


def test_every_measure_skipped_is_said_without_a_traceback(fake_suite, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--output", str(tmp_path), "--benchmarks", "image_caption", "--measures",
              "DotProduct", "--quiet"])
    assert exit_info.value.code == ("contrasim-bench: no results to report: every chosen "
                                    "measure was skipped")
    assert capsys.readouterr().err.startswith(
        "image_caption / toy-captions: no results\nDotProduct: n/a (compares row k of X")


def test_skip_warnings_of_either_runner_format_make_one_summary():
    import warnings

    from sklearn_contrasim.benchmarks._cli import _recorded_warnings, _skip_summary, _sort_warnings

    with _recorded_warnings() as caught:
        for fold in (0, 1):
            warnings.warn(f"image-caption: measure 'DotProduct' (fold={fold}, x='a') skipped: "
                          "DotProduct compares row k of X with row k of y; got 5 and 6.")
        warnings.warn("image-caption: NormSimilarity skipped: NormSimilarity compares row k.")
        warnings.warn("A score from 8 decisions is not a measurement")
        warnings.warn("A score from 8 decisions is not a measurement")
    reasons, others = _sort_warnings(caught)
    assert reasons == {"DotProduct": "DotProduct compares row k of X with row k of y; got 5 and 6.",
                       "NormSimilarity": "NormSimilarity compares row k."}
    assert others == {("UserWarning", "A score from 8 decisions is not a measurement"): 2}
    assert _skip_summary(reasons) == ("DotProduct, NormSimilarity: n/a (compares row k of X with "
                                      "row k of y; got 5 and 6.)")
