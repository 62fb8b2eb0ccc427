"""The Python client's tests run against a live portal (pytest-django's live_server). The client is imported
from clients/python/src, as ``pip install clients/python`` would install it."""

import sys
from pathlib import Path

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "python"
for folder in (CLIENT / "src", CLIENT / "example"):  # the library, and the example app that uses it
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
