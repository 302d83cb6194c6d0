"""Run the fake server standalone: ``python -m tests.fakeserver --port 0 --latency 0.1``.

Prints ``listening on http://127.0.0.1:PORT`` (one line, flushed) once bound, then serves until
interrupted. ``POST /_control/config {"latency": s}`` changes the latency, ``GET /_control/stats``
returns the request count and start times, ``POST /_control/reset`` forgets them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from tests.fakeserver.server import FakeServer


async def _serve(server: FakeServer) -> None:
    await server.start()
    print(f"listening on {server.url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakeserver", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on start)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(FakeServer(latency=args.latency, host=args.host, port=args.port)))


if __name__ == "__main__":
    main()
