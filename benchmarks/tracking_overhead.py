"""What MLflow tracking costs a short campaign: the simulated search of ``tests.simulated_llm`` against
the loopback fake server, run with tracking off, to a live ``mlflow server`` (SQLite backend) and to a
port where nothing listens, interleaved, each run on a fresh store and response cache.

    PYTHONPATH=. python benchmarks/tracking_overhead.py --repeats 3

Prints, per mode, the wall time of ``optimize`` and its tail: the seconds from the last event of the
search (the held-out test) to ``optimize`` returning, where the tracker waits for its uploads.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from orchestrator import optimize
from orchestrator.store import RunStore
from tests import simulated_llm
from tests.conftest import ServerThread
from tests.fakeserver.server import FakeServer
from tests.mlflow_server import MlflowServer, free_port
from tests.runtime_campaign import write_campaign


def one_run(folder: Path, server: FakeServer, uri: str | None) -> dict[str, float]:
    tracking = {"mlflow_uri": uri} if uri else {}
    campaign = write_campaign(folder, server, tracking=tracking)
    started = time.time()
    result = optimize(campaign)
    ended = time.time()
    assert result.status == "done", result.message
    store = RunStore(result.store)
    last = store.events(result.run_id)
    searched = max(e["ts"] for e in last if e["kind"] == "test")
    store.close()
    return {"wall_s": ended - started, "tail_s": ended - searched}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="tracking-overhead-"))
    mlflow = MlflowServer(root / "mlflow").ready()
    modes = {"off": None, "server": mlflow.uri, "dead server": f"http://127.0.0.1:{free_port()}"}
    rows: dict[str, list[dict[str, float]]] = {mode: [] for mode in modes}
    try:
        with ServerThread(FakeServer()) as server:
            server.script.reset(simulated_llm.respond)
            for repeat in range(args.repeats):
                for mode, uri in modes.items():
                    rows[mode].append(one_run(root / f"{mode.replace(' ', '_')}-{repeat}", server, uri))
                    print(mode, repeat, json.dumps(rows[mode][-1]), flush=True)
    finally:
        mlflow.stop()
    print("| tracking | runs | wall s, median [min, max] | tail s, median [min, max] |")
    print("|---|---|---|---|")
    for mode, runs in rows.items():
        cells = []
        for key in ("wall_s", "tail_s"):
            values = [r[key] for r in runs]
            cells.append(f"{statistics.median(values):.2f} [{min(values):.2f}, {max(values):.2f}]")
        print(f"| {mode} | {len(runs)} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
