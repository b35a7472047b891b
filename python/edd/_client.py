"""Writing the EDD metrics protocol to `$EDD_METRICS_FILE`.

Each record is one JSON object on its own line, appended and flushed at once, so EDD shows it live and a killed
process loses nothing it already logged. Writes are serialised by a lock (threads) and use O_APPEND, so lines from
worker processes that inherited the file do not interleave. Nothing here raises into the training loop: a bad value
or a failed write becomes one warning, and the call returns.
"""
from __future__ import annotations

import json
import math
import os
import random
import sys
import threading
import traceback
import warnings
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Mapping, Optional

__all__ = [
    "EddWarning",
    "in_run",
    "log_artifact",
    "log_metric",
    "log_metrics",
    "log_param",
    "progress",
    "run",
    "seed_everything",
]


class EddWarning(UserWarning):
    """Something EDD could not record (the training goes on)."""


_lock = threading.Lock()
_warned: set = set()


def _warn_once(key: str, message: str) -> None:
    with _lock:
        if key in _warned:
            return
        _warned.add(key)
    warnings.warn(message, EddWarning, stacklevel=3)


def in_run() -> bool:
    """True inside a run started by EDD (`$EDD_METRICS_FILE` is set)."""
    return bool(os.environ.get("EDD_METRICS_FILE"))


def _write(record: Dict[str, Any]) -> None:
    path = os.environ.get("EDD_METRICS_FILE")
    if not path:
        _warn_once("no-run", "edd: not inside an EDD run (EDD_METRICS_FILE is not set): nothing is recorded")
        return
    try:
        line = json.dumps(record, allow_nan=False, ensure_ascii=False, separators=(",", ":")) + "\n"
    except (TypeError, ValueError) as e:
        _warn_once(f"encode:{sorted(record)}", f"edd: cannot record {record!r}: {e}")
        return
    data = line.encode("utf-8")
    try:
        with _lock:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                # One write() per record: with O_APPEND it lands whole at the end of the file.
                view = memoryview(data)
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
            finally:
                os.close(fd)
    except OSError as e:
        _warn_once(f"write:{path}", f"edd: cannot write to {path}: {e.strerror or e} (the training goes on)")


def _finite(name: str, value: Any) -> Optional[float]:
    if isinstance(value, bool):
        value = float(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        _warn_once(f"type:{name}", f"edd: metric {name!r} must be a number, got {type(value).__name__}: not recorded")
        return None
    if not math.isfinite(number):
        _warn_once(f"finite:{name}", f"edd: metric {name!r} is {number} (EDD records finite values only): not recorded")
        return None
    return number


def _step(step: Optional[int]) -> Optional[int]:
    if step is None:
        return None
    try:
        s = int(step)
    except (TypeError, ValueError):
        _warn_once("step", f"edd: step must be a non-negative integer, got {step!r}: recorded without a step")
        return None
    if s < 0 or s != step:
        _warn_once("step", f"edd: step must be a non-negative integer, got {step!r}: recorded without a step")
        return None
    return s


def log_metric(name: str, value: float, step: Optional[int] = None) -> None:
    """Record one value of a metric (at `step` when given; EDD orders unnumbered values as they come)."""
    number = _finite(str(name), value)
    if number is None:
        return
    record: Dict[str, Any] = {"metric": str(name), "value": number}
    s = _step(step)
    if s is not None:
        record["step"] = s
    _write(record)


def log_metrics(metrics: Mapping[str, float], step: Optional[int] = None) -> None:
    """Record several metrics at the same step."""
    for name, value in metrics.items():
        log_metric(name, value, step)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return _jsonable(item())
        except Exception:  # noqa: BLE001 - never raise into training
            pass
    return str(value)


def log_param(name: str, value: Any) -> None:
    """Record a parameter (any JSON value; other objects are recorded as their str())."""
    _write({"param": str(name), "value": _jsonable(value)})


def log_artifact(path: "os.PathLike[str] | str", kind: Optional[str] = None) -> None:
    """Record a file the run produced (`kind="model"` for an ONNX model). EDD hashes it at the end of the run; it
    must be inside the workspace."""
    record: Dict[str, Any] = {"artifact": os.path.abspath(os.fspath(path))}
    if kind is not None:
        record["kind"] = str(kind)
    _write(record)


def progress(fraction: float, message: Optional[str] = None) -> None:
    """Report how far the run is, from 0 to 1 (values outside are clamped)."""
    try:
        value = min(1.0, max(0.0, float(fraction)))
    except (TypeError, ValueError):
        _warn_once("progress", f"edd: progress must be a number between 0 and 1, got {fraction!r}")
        return
    if not math.isfinite(value):
        return
    record: Dict[str, Any] = {"progress": value}
    if message is not None:
        record["message"] = str(message)
    _write(record)


def seed_everything(seed: Optional[int] = None) -> int:
    """Seed `random`, and `numpy` and `torch` when they are installed, with `seed` (default: the run's
    `experiment.random_seed`, else 42). Returns the seed. String hashing is seeded only at interpreter start: when
    `PYTHONHASHSEED` differs, a warning says to set it in the config's `run.env`."""
    if seed is None:
        seed = 42
        if in_run() or os.environ.get("EDD_CONFIG_JSON") or os.environ.get("EDD_CONFIG"):
            try:
                from ._config import config

                seed = config().random_seed
            except Exception as e:  # noqa: BLE001 - never raise into training
                _warn_once("seed-config", f"edd: cannot read the run's random_seed ({e}); using 42")
    seed = int(seed)
    random.seed(seed)
    numpy = sys.modules.get("numpy")
    if numpy is None:
        try:
            import numpy  # type: ignore[no-redef]
        except ImportError:
            numpy = None
    if numpy is not None:
        numpy.random.seed(seed % (2**32))
    try:
        import torch  # type: ignore[import-not-found]
    except ImportError:
        torch = None
    if torch is not None:
        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
    if os.environ.get("PYTHONHASHSEED") != str(seed):
        _warn_once(
            "hashseed",
            f"edd: PYTHONHASHSEED is {os.environ.get('PYTHONHASHSEED', 'not set')}: set it to {seed} in the config's run.env "
            "(str hashing is seeded when Python starts, not by seed_everything)",
        )
    if in_run():
        log_param("seed", seed)
    return seed


@contextmanager
def run() -> Iterator[None]:
    """Wrap the training: an exception is recorded (a `failure` param with its type and message, and the full
    traceback as an artifact of kind `traceback` in `$EDD_ARTIFACT_DIR`), then re-raised so the run ends failed."""
    try:
        yield
    except BaseException as e:
        if not isinstance(e, (KeyboardInterrupt, SystemExit)) or (isinstance(e, SystemExit) and e.code not in (0, None)):
            _record_failure(e)
        raise


def _record_failure(e: BaseException) -> None:
    text = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    log_param("failure", {"type": type(e).__name__, "message": str(e)[:2000]})
    folder = os.environ.get("EDD_ARTIFACT_DIR")
    if not folder or not in_run():
        return
    try:
        os.makedirs(folder, exist_ok=True)
        target = os.path.join(folder, "traceback.txt")
        with open(target, "w", encoding="utf-8") as f:
            f.write(text)
        log_artifact(target, kind="traceback")
    except OSError as err:
        _warn_once("traceback", f"edd: cannot write the traceback to {folder}: {err.strerror or err}")
