"""A real ``mlflow server`` (SQLite backend, proxied artifacts) on a free loopback port, for the tracking
tests. Starting one takes 15-50 s on a loaded 2-core machine: start them early, share them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MlflowServer:
    """``mlflow server`` with its database and artifacts under ``folder``, started at once (``ready``
    waits for it to answer ``/health``)."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.log = folder / "server.log"
        # The server imports litellm, which otherwise tries (and here fails, slowly) to fetch prices.
        env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
        command = [
            sys.executable, "-m", "mlflow", "server",
            "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
            "--artifacts-destination", str(folder / "artifacts"),
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
        ]  # fmt: skip
        with self.log.open("w") as out:
            # Its own session, so that killing it takes its uvicorn worker along.
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=folder, start_new_session=True
            )

    def ready(self, timeout: float = 240.0) -> MlflowServer:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"mlflow server exited {self.process.returncode}:\n{self._tail()}")
            try:
                urllib.request.urlopen(f"{self.uri}/health", timeout=2).read()
                return self
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"mlflow server not up after {timeout} s:\n{self._tail()}") from exc
                time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL the server and its workers: connections are refused from now on."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, 9)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()

    def _tail(self) -> str:
        return self.log.read_text()[-3000:]
