"""Rasa 3.6 beside our server: its NLU model served by `rasa run --enable-api`, on loopback.

Only when `.venv-rasa` exists (scripts/rasa_compare.sh builds it). The model is the newest
`*.tar.gz` in the models directory (default var/rasa-models, not in git), or one trained
here the way scripts/rasa_compare.sh trains it: `rasa train nlu` on nlu/data with
scripts/rasa/config.yml and the embedded classifier's fallback thresholds. Training with the
full 100 DIET epochs takes about 20 minutes on two cores, so `--rasa-epochs N` trains a
separate bench config instead; the cost of one parse does not depend on the epoch count (the
same network runs once per message). A JSON file beside each model says how it was made.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.load.server import free_port, wait_until_ready
from nlu.config import DEFAULT_AMBIGUITY_THRESHOLD, DEFAULT_THRESHOLD

__all__ = ["RasaServer", "describe_model", "find_model", "rasa_executable", "train_model"]

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "scripts" / "rasa" / "config.yml"
DATA_DIR = ROOT / "nlu" / "data"
START_TIMEOUT_S = 300.0
TRAIN_TIMEOUT_S = 3600.0


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2",
               SQLALCHEMY_SILENCE_UBER_WARNING="1")
    return env


def rasa_executable(venv: Path) -> Path | None:
    candidate = venv / "bin" / "rasa"
    return candidate if candidate.exists() else None


def find_model(models_dir: Path) -> Path | None:
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def describe_model(model: Path) -> str:
    meta = model.with_suffix("").with_suffix(".json")
    if not meta.exists():
        return f"{model.name} (how it was trained is not recorded)"
    info = json.loads(meta.read_text())
    epochs = info.get("epochs")
    config = "scripts/rasa/config.yml" + (
        f" with DIETClassifier epochs {epochs} (bench config)" if epochs else " (100 epochs)")
    return f"{model.name}: {config}, trained in {info.get('train_seconds', '?')} s"


def bench_config(epochs: int | None) -> str:
    """scripts/rasa/config.yml with our fallback thresholds and, optionally, fewer epochs."""
    text = CONFIG.read_text("utf-8")
    text = re.sub(r"(?m)^(\s*)threshold: .*$", rf"\g<1>threshold: {DEFAULT_THRESHOLD}", text)
    text = re.sub(r"(?m)^(\s*)ambiguity_threshold: .*$",
                  rf"\g<1>ambiguity_threshold: {DEFAULT_AMBIGUITY_THRESHOLD}", text)
    if epochs is not None:
        text, changed = re.subn(r"(?m)^(\s*)epochs: \d+", rf"\g<1>epochs: {epochs}", text)
        if changed != 1:
            raise ValueError("scripts/rasa/config.yml has no single `epochs:` line to change")
    return text


def train_model(rasa: Path, models_dir: Path, epochs: int | None) -> Path:
    """Trains one NLU model into ``models_dir``; returns its path."""
    models_dir.mkdir(parents=True, exist_ok=True)
    name = f"frikort-nlu-e{epochs}" if epochs is not None else "frikort-nlu"
    with tempfile.TemporaryDirectory(prefix="rasa-train-") as work:
        config = Path(work) / "config.yml"
        config.write_text(bench_config(epochs), "utf-8")
        started = time.perf_counter()
        result = subprocess.run(
            [str(rasa), "train", "nlu", "--nlu", str(DATA_DIR), "--config", str(config),
             "--out", str(models_dir), "--fixed-model-name", name],
            cwd=work, env=_env(), capture_output=True, text=True, timeout=TRAIN_TIMEOUT_S)
        seconds = round(time.perf_counter() - started, 1)
        if result.returncode != 0:
            raise RuntimeError("rasa train nlu failed:\n" + result.stdout[-3000:]
                               + result.stderr[-3000:])
        shutil.copy(config, models_dir / f"{name}.config.yml")
    model = models_dir / f"{name}.tar.gz"
    model.with_suffix("").with_suffix(".json").write_text(json.dumps(
        {"epochs": epochs, "train_seconds": seconds, "config": f"{name}.config.yml"}))
    return model


@dataclass
class RasaServer:
    """`rasa run --enable-api` with one model, on 127.0.0.1:<free port>, until `stop`."""

    rasa: Path
    model: Path
    log_path: Path
    port: int = 0
    _process: subprocess.Popen[bytes] | None = None
    _work: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        self.port = free_port()
        self._work = tempfile.TemporaryDirectory(prefix="rasa-run-")
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [str(self.rasa), "run", "--enable-api", "-m", str(self.model), "-p", str(self.port),
             "-i", "127.0.0.1"], cwd=self._work.name, env=_env(), stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        wait_until_ready(self._process, "rasa", self.log_path, START_TIMEOUT_S,
                         lambda client: "model_file" in client.get(f"{self.url}/status").text,
                         poll_s=1.0)
        with httpx.Client(timeout=5.0) as client:
            for text in ("hej", "saldo", "hvor meget må jeg tjene", "indberet 4 timer 600 kr"):
                client.post(f"{self.url}/model/parse", json={"text": text}, timeout=60.0)

    def stop(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait(timeout=10)
        if self._work is not None:
            self._work.cleanup()
