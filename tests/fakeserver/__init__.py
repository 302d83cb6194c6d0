"""A loopback HTTP server speaking the OpenAI and Anthropic wire formats, with scripted faults.

Used by the backend contract tests (in a thread, via ``tests/conftest.py``) and by the gateway
benchmark (as a separate process: ``python -m tests.fakeserver --port 0 --latency 0.1``).
"""

from tests.fakeserver.script import Fault, Reply, Script, echo_responder
from tests.fakeserver.server import FakeServer, RecordedRequest, ServerThread

__all__ = ["FakeServer", "Fault", "RecordedRequest", "Reply", "Script", "ServerThread", "echo_responder"]
