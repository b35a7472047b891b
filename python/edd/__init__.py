"""EDD's Python client: report metrics, params, artifacts and progress from training code, and read the run's
config as typed dataclasses. Standard library only (Python ≥ 3.9)."""
from ._client import EddWarning, in_run, log_artifact, log_metric, log_metrics, log_param, progress, run, seed_everything
from ._config import ConfigError, DataConfig, EnvironmentConfig, ExperimentConfig, Parameters, RunSettings, config

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataConfig",
    "EddWarning",
    "EnvironmentConfig",
    "ExperimentConfig",
    "Parameters",
    "RunSettings",
    "config",
    "in_run",
    "log_artifact",
    "log_metric",
    "log_metrics",
    "log_param",
    "progress",
    "run",
    "seed_everything",
]
