"""A fake Slack for end-to-end tests: Web API server, Socket Mode server, pytest fixtures.

``FakeSlack`` (server.py) plays Slack's Web API on a loopback port; ``SocketModeServer``
(socket.py) plays the Socket Mode websocket; fixtures.py offers both as pytest fixtures.
"""

from tests.fakeslack.server import APP_TOKEN, BOT_TOKEN, Call, FakeSlack
from tests.fakeslack.socket import SocketModeServer, close_client

__all__ = ["APP_TOKEN", "BOT_TOKEN", "Call", "FakeSlack", "SocketModeServer", "close_client"]
