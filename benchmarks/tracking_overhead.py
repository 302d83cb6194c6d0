"""What MLflow tracking costs a short campaign: the simulated search of ``tests.simulated_llm`` against
the loopback fake server, run with tracking off, to a live ``mlflow server`` (SQLite backend), to a
port where nothing listens (connection refused) and to a port that accepts connections and never
answers (a hung server), interleaved, each run on a fresh store and response cache.

    PYTHONPATH=. python benchmarks/tracking_overhead.py --repeats 3

Prints, per mode, the wall time of ``optimize``, split at the last event of the search (the held-out
test): the search (slowed only if the tracker's thread took CPU from it) and the tail, from that
event to ``optimize`` returning, where the tracker waits for its last uploads.
"""

from __future__ import annotations

import argparse
import json
import socket
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
    return {"wall_s": ended - started, "search_s": searched - started, "tail_s": ended - searched}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="tracking-overhead-"))
    mlflow = MlflowServer(root / "mlflow").ready()
    hung = socket.socket()  # listens, never accepts: connections open, requests get no answer
    hung.bind(("127.0.0.1", 0))
    hung.listen(1000)
    modes = {
        "off": None,
        "server": mlflow.uri,
        "dead server": f"http://127.0.0.1:{free_port()}",
        "hung server": f"http://127.0.0.1:{hung.getsockname()[1]}",
    }
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
        hung.close()
    print("| tracking | runs | wall s, median [min, max] | search s | tail s |")
    print("|---|---|---|---|---|")
    for mode, runs in rows.items():
        cells = []
        for key in ("wall_s", "search_s", "tail_s"):
            values = [r[key] for r in runs]
            cells.append(f"{statistics.median(values):.2f} [{min(values):.2f}, {max(values):.2f}]")
        print(f"| {mode} | {len(runs)} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
