"""contrasim-bench: options, printed tables and written files (on small fake data sets)."""

import json

import pandas as pd
import pytest
from _fixtures import fake_bunch

from sklearn_contrasim import datasets
from sklearn_contrasim.benchmarks import PRESETS, RESULT_COLUMNS
from sklearn_contrasim.benchmarks._cli import build_parser, main


@pytest.fixture
def tiny_preset(monkeypatch):
    """A 'quick' preset on fake loaders, so that the CLI runs in seconds."""
    loaded = []

    def loader(bunch):
        def load(*, data_home=None, verbose=True, **params):
            loaded.append(params)
            return bunch
        return load

    monkeypatch.setattr(datasets, "load_layer_prediction",
                        loader(fake_bunch([f"seed{i}" for i in range(4)], 3)), raising=False)
    monkeypatch.setattr(datasets, "load_multilingual",
                        loader(fake_bunch(["en", "de", "fr", "es"], 2)), raising=False)
    monkeypatch.setattr(datasets, "load_image_caption",
                        loader(fake_bunch(["vision", "text"], 2, image_models=["vision"],
                                          text_models=["text"])), raising=False)
    training = {"dim": 4, "hidden_layer_sizes": (8,), "max_epochs": 2, "batch_size": 32,
                "lr": 1e-2}
    monkeypatch.setitem(PRESETS, "quick", {
        "layer_prediction": {"datasets": {"toy-seeds": {"size": 1}}, "learned_params": training,
                             "runner": {"return_similarities": True}},
        "multilingual": {"datasets": {"toy-languages": {"size": 2}}, "learned_params": training,
                         "runner": {"chunk_size": 4, "train_pairs": [("en", "de")]}},
        "image_caption": {"datasets": {"toy-captions": {"size": 3}}, "learned_params": training,
                          "runner": {"chunk_size": 4}},
    })
    return loaded


def test_quick_run_prints_tables_and_writes_results(tiny_preset, tmp_path, capsys):
    output = tmp_path / "out"
    assert main(["--output", str(output), "--measures", "ContraSim", "LinearCKA", "DotProduct",
                 "--quiet", "--n-jobs", "1"]) == 0
    assert tiny_preset == [{"size": 1}, {"size": 2}, {"size": 3}]
    printed = capsys.readouterr().out
    for text in ("ContraSim", "LinearCKA", "DotProduct", "mean rank", "chance",
                 "layer_prediction / seeds / layers", "multilingual / languages / hard",
                 "image_caption / pairs / random"):
        assert text in printed
    results = pd.read_csv(output / "results.csv")
    assert list(results.columns) == RESULT_COLUMNS
    assert set(results.benchmark) == {"layer_prediction", "multilingual", "image_caption"}
    assert set(results.measure) == {"ContraSim", "LinearCKA", "DotProduct"}
    assert set(results.dataset) == {"toy-seeds", "toy-languages", "toy-captions"}
    tables = (output / "tables.md").read_text()
    assert "| ContraSim |" in tables and "95 % confidence interval" in tables
    pngs = sorted(path.name for path in output.glob("*.png"))
    assert "accuracy_by_measure.png" in pngs
    assert "similarity_heatmaps_toy-seeds.png" in pngs
    assert "accuracy_per_layer_layer_prediction_toy-seeds_examples_layers.png" in pngs
    assert all((output / name).read_bytes()[:4] == b"\x89PNG" for name in pngs)
    for name in ("similarities.csv", "summary.csv"):
        assert (output / name).exists()
    run = json.loads((output / "run.json").read_text())
    assert run["preset"] == "quick" and run["seconds"]["total"] > 0


@pytest.mark.parametrize("chosen", ["multilingual", "image_caption"])
def test_benchmark_choice_runs_only_those(tiny_preset, tmp_path, capsys, chosen):
    main(["--output", str(tmp_path), "--benchmarks", chosen, "--measures", "LinearCKA",
          "--quiet", "--n-jobs", "2"])
    results = pd.read_csv(tmp_path / "results.csv")
    assert set(results.benchmark) == {chosen}
    assert not (tmp_path / "similarities.csv").exists()
    assert (tmp_path / "accuracy_by_measure.png").exists()


def test_dataset_choice_runs_only_that_data_set(tiny_preset, tmp_path, monkeypatch):
    second = {"datasets": {**PRESETS["quick"]["multilingual"]["datasets"], "other": {"size": 4}}}
    monkeypatch.setitem(PRESETS["quick"], "multilingual",
                        {**PRESETS["quick"]["multilingual"], **second})
    main(["--output", str(tmp_path), "--datasets", "other", "--measures", "LinearCKA",
          "--quiet", "--n-jobs", "1"])
    assert tiny_preset == [{"size": 4}]  # only that data set is loaded
    results = pd.read_csv(tmp_path / "results.csv")
    assert set(results.dataset) == {"other"} and set(results.benchmark) == {"multilingual"}
    with pytest.raises(ValueError, match=r"Unknown data sets \['toy-seeds'\].*'toy-captions'"):
        main(["--output", str(tmp_path), "--benchmarks", "image_caption", "--datasets",
              "toy-seeds", "--quiet"])


def test_unknown_measure_is_a_clear_error(tiny_preset, tmp_path):
    with pytest.raises(ValueError, match="Unknown measures"):
        main(["--output", str(tmp_path), "--measures", "Cosine", "--quiet"])


def test_parser_defaults_and_choices():
    args = build_parser().parse_args([])
    assert (args.preset, args.output, args.n_jobs) == ("quick", "contrasim-results", -1)
    assert args.benchmarks == ["layer_prediction", "multilingual", "image_caption"]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--preset", "huge"])
