"""Shared helpers of the statefun target's Python tests (not a test module).

The project under test is a generated statefun project: $SFGEN_STATEFUN_PROJECT. Its
functions, client and harness are imported from there, so the tests run what users run.
Run with the statefun venv's python (scripts/setup-venvs.sh statefun).
"""
import asyncio
import json
import os
import sys
import threading

PROJECT = os.environ["SFGEN_STATEFUN_PROJECT"]
sys.path[:0] = [os.path.join(PROJECT, "functions"), PROJECT]
# the bounded wait that breaks deadlocks: short, so the tests need not wait long
os.environ.setdefault("SFGEN_WAIT_TIMEOUT", "0.5")

import app  # noqa: E402
import client  # noqa: E402
import sfgen_runtime as sf  # noqa: E402
import statefun_harness  # noqa: E402
import topology  # noqa: E402

__all__ = ["Requests", "Server", "app", "client", "harness", "scenario", "sf",
           "statefun_harness", "topology"]

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CASES = os.environ.get("SFGEN_CASES") or os.path.join(REPO, "tests", "shared", "cases")


def harness():
    return statefun_harness.Harness.in_process(app.HANDLER)


class Requests:
    """Requests put on the harness's ingress topics by hand (several at once, raw text),
    and their replies read from the egress topic."""

    def __init__(self, h):
        self.h = h
        self.ingress = sf.Ingress(app.entities.ENTITIES)
        self.n = 0
        self.replies = {}

    def send(self, make, *args):
        self.n += 1
        request = f"r{self.n}"
        ev = make(request, *args)
        self.produce(ev["to"][0], sf.key_text(*sf.loads(sf.dumps(ev))["to"]), sf.dumps(ev))
        return request

    def create(self, cls, *args):
        return self.send(self.ingress.create, cls, list(args))

    def call(self, cls, key, method, *args):
        return self.send(self.ingress.call, cls, key, method, list(args))

    def state(self, cls, key):
        return self.send(self.ingress.state, cls, key)

    def produce(self, cls, key, text):
        self.h.produce(topology.REQUEST_TOPICS[cls], key,
                       text.encode("utf-8") if isinstance(text, str) else text)

    def run(self, *requests, timeout=20):
        def done():
            self.collect()
            return all(r in self.replies for r in requests)
        self.h.run(until=done, timeout=timeout)
        self.collect()
        return [self.replies[r] for r in requests]

    def collect(self):
        for key, value in self.h.take(topology.REPLY_TOPIC):
            self.replies[key] = sf.loads(value)

    def result(self, request):
        return sf.client_result(self.replies[request])

    def do(self, make_name, *args):
        """One request, run to its reply: its client result."""
        request = getattr(self, make_name)(*args)
        self.run(request)
        return self.result(request)


def scenario(case):
    with open(os.path.join(CASES, case, "scenario.json"), encoding="utf-8") as f:
        calls = json.load(f)["calls"]
    with open(os.path.join(CASES, case, "expected.json"), encoding="utf-8") as f:
        expected = json.load(f)["results"]
    return calls, expected


class Server:
    """functions/app.py's aiohttp application on a free port of 127.0.0.1, in a thread."""

    def __enter__(self):
        from aiohttp import web

        self.loop = asyncio.new_event_loop()
        self.runner = web.AppRunner(app.make_app())
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/statefun"
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
