"""The networks behind the data sets: packaged pretrained models and seed models trained here."""
