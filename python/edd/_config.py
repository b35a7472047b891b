"""The experiment config as typed dataclasses (the `experiment:` mapping of an EDD config file).

Known keys (those of EDD's schema, schemas/experiment.schema.json) become typed fields; keys the schema does not
name are kept in each section's `extra` dict, so nothing in the file is lost and `to_dict()` gives it back.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Mapping, Optional

__all__ = [
    "ConfigError",
    "DataConfig",
    "EnvironmentConfig",
    "ExperimentConfig",
    "Parameters",
    "RunSettings",
    "config",
]


class ConfigError(ValueError):
    """The config file is missing, unreadable, or not an EDD experiment config (the message says which and why)."""


def _take(cls: Any, raw: Mapping[str, Any], where: str) -> Dict[str, Any]:
    """Split `raw` into the dataclass's known fields (type-checked loosely) and the rest (`extra`)."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a mapping, got {type(raw).__name__}")
    known = {f.name for f in fields(cls)} - {"extra"}
    out: Dict[str, Any] = {k: v for k, v in raw.items() if k in known}
    extra = {k: v for k, v in raw.items() if k not in known}
    if "extra" in {f.name for f in fields(cls)}:
        out["extra"] = extra
    return out


def _number(v: Any, where: str, integer: bool = False) -> Any:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (integer and not float(v).is_integer()):
        raise ConfigError(f"{where} must be {'an integer' if integer else 'a number'}, got {v!r}")
    return int(v) if integer else v


def _drop_none(d: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


@dataclass
class Parameters:
    """`experiment.parameters`: the hyperparameters. Anything beyond the schema's keys is in `extra`."""

    model_type: str = ""
    learning_rate: Optional[float] = None
    batch_size: Optional[int] = None
    epochs: Optional[int] = None
    optimizer: Optional[str] = None
    weight_decay: Optional[float] = None
    dropout: Optional[float] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "Parameters":
        v = _take(cls, raw, "experiment.parameters")
        for k in ("learning_rate", "weight_decay", "dropout"):
            v[k] = _number(v.get(k), f"experiment.parameters.{k}")
        for k in ("batch_size", "epochs"):
            v[k] = _number(v.get(k), f"experiment.parameters.{k}", integer=True)
        return cls(**v)

    def get(self, name: str, default: Any = None) -> Any:
        """A hyperparameter by name, whether the schema knows it or it is one of the config's own."""
        if name != "extra" and name in {f.name for f in fields(self)}:
            value = getattr(self, name)
            return default if value is None else value
        return self.extra.get(name, default)

    def to_dict(self) -> Dict[str, Any]:
        d = _drop_none({f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"})
        d.update(self.extra)
        return d


@dataclass
class DataConfig:
    """`experiment.data`."""

    dataset_version: Optional[str] = None
    train_size: Optional[int] = None
    val_size: Optional[int] = None
    test_size: Optional[int] = None
    files: List[str] = field(default_factory=list)
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "DataConfig":
        v = _take(cls, raw, "experiment.data")
        for k in ("train_size", "val_size", "test_size"):
            v[k] = _number(v.get(k), f"experiment.data.{k}", integer=True)
        v["files"] = [str(x) for x in (v.get("files") or [])]
        return cls(**v)

    def to_dict(self) -> Dict[str, Any]:
        d = _drop_none({f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("extra", "files")})
        if self.files:
            d["files"] = list(self.files)
        d.update(self.extra)
        return d


@dataclass
class EnvironmentConfig:
    """`experiment.environment`: the versions the experiment expects."""

    python_version: Optional[str] = None
    pytorch_version: Optional[str] = None
    cuda_version: Optional[str] = None
    node_version: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "EnvironmentConfig":
        v = _take(cls, raw, "experiment.environment")
        for k in ("python_version", "pytorch_version", "cuda_version", "node_version"):
            if v.get(k) is not None:
                v[k] = str(v[k])
        return cls(**v)

    def to_dict(self) -> Dict[str, Any]:
        d = _drop_none({f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"})
        d.update(self.extra)
        return d


@dataclass
class RunSettings:
    """`experiment.run`: how EDD starts the training."""

    command: List[str] = field(default_factory=list)
    cwd: Optional[str] = None
    env: Dict[str, str] = field(default_factory=dict)
    timeout: Optional[float] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "RunSettings":
        v = _take(cls, raw, "experiment.run")
        v["command"] = [str(x) for x in (v.get("command") or [])]
        v["env"] = {str(k): str(x) for k, x in (v.get("env") or {}).items()}
        v["timeout"] = _number(v.get("timeout"), "experiment.run.timeout")
        return cls(**v)

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {"command": list(self.command)}
        if self.cwd is not None:
            d["cwd"] = self.cwd
        if self.env:
            d["env"] = dict(self.env)
        if self.timeout is not None:
            d["timeout"] = self.timeout
        d.update(self.extra)
        return d


@dataclass
class ExperimentConfig:
    """An EDD experiment config: the `experiment:` mapping of the YAML file, typed."""

    id: str = ""
    name: str = ""
    hypothesis: str = ""
    objective: Optional[str] = None
    description: Optional[str] = None
    tags: List[str] = field(default_factory=list)
    random_seed: int = 42
    parameters: Parameters = field(default_factory=Parameters)
    data: Optional[DataConfig] = None
    environment: Optional[EnvironmentConfig] = None
    run: Optional[RunSettings] = None
    results: Dict[str, float] = field(default_factory=dict)
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "ExperimentConfig":
        """From the whole file's mapping (with its `experiment:` key) or from the `experiment` mapping itself."""
        if isinstance(raw, Mapping) and isinstance(raw.get("experiment"), Mapping):
            raw = raw["experiment"]
        v = _take(cls, raw, "experiment")
        for k in ("id", "name", "hypothesis"):
            v[k] = "" if v.get(k) is None else str(v[k])
        seed = v.get("random_seed")
        v["random_seed"] = 42 if seed is None else _number(seed, "experiment.random_seed", integer=True)
        v["tags"] = [str(x) for x in (v.get("tags") or [])]
        v["parameters"] = Parameters.from_dict(v.get("parameters") or {})
        if v.get("data") is not None:
            v["data"] = DataConfig.from_dict(v["data"])
        if v.get("environment") is not None:
            v["environment"] = EnvironmentConfig.from_dict(v["environment"])
        if v.get("run") is not None:
            v["run"] = RunSettings.from_dict(v["run"])
        v["results"] = {str(k): _number(x, f"experiment.results.{k}") for k, x in (v.get("results") or {}).items()}
        return cls(**v)

    @classmethod
    def from_json(cls, path: "os.PathLike[str] | str") -> "ExperimentConfig":
        """From a JSON rendering of the config (what EDD writes for a run: `$EDD_CONFIG_JSON`)."""
        try:
            with open(path, encoding="utf-8") as f:
                return cls.from_dict(json.load(f))
        except OSError as e:
            raise ConfigError(f"{path}: cannot read the config: {e.strerror or e}") from e
        except json.JSONDecodeError as e:
            raise ConfigError(f"{path}:{e.lineno}:{e.colno}: not JSON: {e.msg}") from e

    @classmethod
    def from_yaml(cls, path: "os.PathLike[str] | str") -> "ExperimentConfig":
        """From the YAML config file. Needs PyYAML (the standard library has no YAML reader); inside an EDD run,
        `edd.config()` needs nothing, because EDD hands the run a JSON copy of the config."""
        try:
            import yaml  # type: ignore[import-untyped]
        except ImportError as e:
            raise ConfigError(
                f"{path}: reading YAML needs PyYAML (pip install pyyaml); inside an EDD run use edd.config(), which needs nothing"
            ) from e
        try:
            with open(path, encoding="utf-8") as f:
                raw = yaml.safe_load(f)
        except OSError as e:
            raise ConfigError(f"{path}: cannot read the config: {e.strerror or e}") from e
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML: {e}") from e
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{path}: an EDD config is a mapping with an `experiment:` key")
        return cls.from_dict(raw)

    def to_dict(self) -> Dict[str, Any]:
        """The `experiment` mapping (wrap it as `{"experiment": cfg.to_dict()}` to write a config file)."""
        d: Dict[str, Any] = {"id": self.id, "name": self.name, "hypothesis": self.hypothesis}
        for k in ("objective", "description"):
            if getattr(self, k) is not None:
                d[k] = getattr(self, k)
        if self.tags:
            d["tags"] = list(self.tags)
        d["random_seed"] = self.random_seed
        d["parameters"] = self.parameters.to_dict()
        for k in ("data", "environment", "run"):
            section = getattr(self, k)
            if section is not None:
                d[k] = section.to_dict()
        if self.results:
            d["results"] = dict(self.results)
        d.update(self.extra)
        return d


_cached: Optional[ExperimentConfig] = None


def config() -> ExperimentConfig:
    """The current run's config: `$EDD_CONFIG_JSON` (written by EDD for every run), else `$EDD_CONFIG` read as
    YAML (needs PyYAML). Outside an EDD run, raises ConfigError saying so."""
    global _cached
    if _cached is not None:
        return _cached
    json_path = os.environ.get("EDD_CONFIG_JSON")
    yaml_path = os.environ.get("EDD_CONFIG")
    if json_path:
        _cached = ExperimentConfig.from_json(json_path)
    elif yaml_path:
        _cached = ExperimentConfig.from_yaml(yaml_path)
    else:
        raise ConfigError("not inside an EDD run: neither EDD_CONFIG_JSON nor EDD_CONFIG is set (use ExperimentConfig.from_yaml(path))")
    return _cached
