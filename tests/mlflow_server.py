"""A real ``mlflow server`` (SQLite backend, proxied artifacts) on a free loopback port, for the tracking
tests. Starting one takes 10-50 s on a loaded machine: share it (module scope)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class MlflowServer:
    uri: str
    process: subprocess.Popen
    log: Path

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)


@contextlib.contextmanager
def mlflow_server(folder: Path, timeout: float = 180.0) -> Iterator[MlflowServer]:
    """Start ``mlflow server`` with its database and artifacts under ``folder``; stop it on exit."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / "server.log"
    # The server imports litellm, which otherwise tries (and here fails, slowly) to fetch its price map.
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    command = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
        "--artifacts-destination", str(folder / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=folder)
    server = MlflowServer(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"mlflow server exited {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"{server.uri}/health", timeout=2).read()
                break
            except OSError as exc:
                if time.monotonic() > deadline:
                    tail = log.read_text()[-3000:]
                    raise RuntimeError(f"mlflow server not up after {timeout} s:\n{tail}") from exc
                time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
