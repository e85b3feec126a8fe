"""The statefun target on the bank example, through the real StateFun SDK: the harness's
protocol (handshake, batches, state, delayed ticks), HTTP, concurrency and bad input.

    SFGEN_STATEFUN_PROJECT=DIR python -m unittest discover -s tests/statefun -p test_bank.py
"""
import json
import os
import subprocess
import sys
import time
import unittest

from support import PROJECT, Requests, Server, app, client, harness, scenario, sf, \
    statefun_harness, topology


class Protocol(unittest.TestCase):
    def test_missing_state_handshake_once_per_function_type(self):
        h = harness()
        r = Requests(h)
        self.assertEqual(r.do("create", "Account", "a", "ann"), {"ok": {"$ref": ["Account", "a"]}})
        self.assertEqual(h.handshakes, 1)
        self.assertEqual(h.calls, 2)  # the first call, then again with the state declared
        self.assertEqual(h.specs[topology.FUNCTIONS["Account"]],
                         {"record": topology.RECORD_TYPE, "due": "sfgen.types/due"})
        r.do("create", "Account", "b", "bob")
        r.do("call", "Account", "a", "deposit", 50)
        self.assertEqual(r.do("call", "Account", "a", "transfer", 20, {"$ref": ["Account", "b"]}),
                         {"ok": True})
        self.assertEqual(h.handshakes, 1)
        # the whole record, fields and bookkeeping, is one JSON value of type RECORD_TYPE
        values = h.state[(topology.FUNCTIONS["Account"], '["Account","b"]')]
        self.assertEqual(set(values), {"record"})
        self.assertEqual(values["record"].typename, topology.RECORD_TYPE)
        doc = json.loads(values["record"].value)
        self.assertEqual(doc["fields"]["balance"], 20)
        self.assertNotIn("queue", doc)

    def test_messages_between_functions_carry_the_caller(self):
        h = harness()
        r = Requests(h)
        for k in ("a", "b"):
            r.do("create", "Account", k, k)
        r.do("call", "Account", "a", "deposit", 5)
        seen = []
        invoke = h.invoke

        def spy(url, body):
            req = statefun_harness.ToFunction()
            req.ParseFromString(body)
            for i in req.invocation.invocations:
                seen.append((req.invocation.target.id, i.caller.id))
            return invoke(url, body)

        h.invoke = spy
        r.do("call", "Account", "a", "transfer", 5, {"$ref": ["Account", "b"]})
        self.assertIn(('["Account","b"]', '["Account","a"]'), seen)  # b.deposit from a
        self.assertIn(('["Account","a"]', '["Account","b"]'), seen)  # the reply back to a
        self.assertIn(('["Account","a"]', ""), seen)                 # the ingress: no caller

    def test_queued_messages_for_one_address_are_one_batch(self):
        h = harness()
        r = Requests(h)
        r.do("create", "Account", "a", "ann")
        requests = [r.call("Account", "a", "deposit", n) for n in (1, 2, 3)]
        self.assertEqual([sf.client_result(x) for x in r.run(*requests)],
                         [{"ok": 1}, {"ok": 3}, {"ok": 6}])
        self.assertEqual(h.largest_batch, 3)

    def test_replies_leave_through_the_kafka_egress(self):
        h = harness()
        r = Requests(h)
        request = r.create("Account", "a", "ann")
        h.run()
        [(key, value)] = h.take(topology.REPLY_TOPIC)
        self.assertEqual(key, request)
        ev = json.loads(value)
        self.assertEqual((ev["kind"], ev["request"], ev["stack"]), ("reply", request, []))
        self.assertEqual(ev["ok"], {"$ref": ["Account", "a"]})


class OverHttp(unittest.TestCase):
    def test_bank_scenario_through_the_aiohttp_service(self):
        calls, expected = scenario("bank")
        with Server() as server:
            h = statefun_harness.Harness.over_http(server.url)
            c = client.Client(client.LocalTransport(harness=h))
            self.assertEqual(c.replay(calls), expected)
            self.assertGreater(h.calls, len(calls))


class Concurrency(unittest.TestCase):
    def test_requests_queue_at_a_suspended_entity(self):
        h = harness()
        r = Requests(h)
        for k in ("a", "b"):
            r.do("create", "Account", k, k)
        r.do("call", "Account", "a", "deposit", 100)
        # the transfer suspends at a while b.deposit runs; the deposits wait, then run
        t = r.call("Account", "a", "transfer", 30, {"$ref": ["Account", "b"]})
        d = [r.call("Account", "a", "deposit", 1), r.call("Account", "a", "deposit", 2)]
        out = [sf.client_result(x) for x in r.run(t, *d)]
        self.assertEqual(out, [{"ok": True}, {"ok": 71}, {"ok": 73}])

    def test_a_deadlock_is_broken_by_the_bounded_wait(self):
        h = harness()
        r = Requests(h)
        for k in ("a", "b"):
            r.do("create", "Account", k, k)
            r.do("call", "Account", k, "deposit", 100)
        start = time.monotonic()
        r1 = r.call("Account", "a", "transfer", 10, {"$ref": ["Account", "b"]})
        r2 = r.call("Account", "b", "transfer", 20, {"$ref": ["Account", "a"]})
        r.run(r1, r2)
        self.assertEqual(r.result(r1), {"ok": True})
        self.assertEqual(r.result(r2), {"error": "Deadlock"})  # the younger request
        self.assertIn("deadlock", r.replies[r2]["error"]["message"])
        self.assertGreaterEqual(time.monotonic() - start, app.WAIT_TIMEOUT)
        self.assertEqual(r.do("state", "Account", "a")["ok"]["balance"], 90)
        self.assertEqual(r.do("state", "Account", "b")["ok"]["balance"], 90)
        h.run()
        for values in h.state.values():
            self.assertNotIn("queue", json.loads(values["record"].value))


class BadInput(unittest.TestCase):
    def setUp(self):
        self.h = harness()
        self.r = Requests(self.h)
        self.r.do("create", "Account", "a", "ann")
        self.before = self.fields()

    def fields(self):
        """Each entity's fields (the bookkeeping of duplicates may change)."""
        return {k: json.loads(v["record"].value)["fields"] for k, v in self.h.state.items()}

    def assertStateUnchanged(self):
        self.assertEqual(self.fields(), self.before)

    def test_text_that_is_not_an_event(self):
        self.r.produce("Account", '["Account","a"]', b"\xff not json")
        self.h.run()
        [(key, value)] = self.h.take(topology.REPLY_TOPIC)
        self.assertEqual(key, sf.UNKNOWN_REQUEST)
        self.assertEqual(json.loads(value)["error"]["type"], "MalformedEvent")
        self.assertStateUnchanged()

    def test_an_event_of_unknown_kind_is_answered_under_its_request(self):
        self.r.produce("Account", '["Account","a"]', json.dumps(
            {"id": "x1.0", "request": "x1", "kind": "explode", "to": ["Account", "a"]}))
        self.h.run()
        [(key, value)] = self.h.take(topology.REPLY_TOPIC)
        self.assertEqual(key, "x1")
        self.assertEqual(json.loads(value)["error"]["type"], "MalformedEvent")
        self.assertStateUnchanged()

    def test_a_record_keyed_for_another_entity_is_forwarded(self):
        ev = sf.Ingress(app.entities.ENTITIES).call("x2", "Account", "a", "deposit", [7])
        self.r.produce("Account", '["Account","zz"]', sf.dumps(ev))
        self.r.run("x2")
        self.assertEqual(self.r.result("x2"), {"ok": 7})
        self.assertNotIn((topology.FUNCTIONS["Account"], '["Account","zz"]'), self.h.state)

    def test_a_value_of_another_type(self):
        topic = topology.REQUEST_TOPICS["Account"]
        _, targets = self.h.module.topics[topic]
        self.h.module.topics[topic] = ("other.types/thing", targets)
        ev = sf.Ingress(app.entities.ENTITIES).call("x3", "Account", "a", "deposit", [7])
        self.r.produce("Account", '["Account","a"]', sf.dumps(ev))
        self.r.run("x3")
        self.assertEqual(self.r.result("x3"), {"error": "MalformedEvent"})
        self.assertStateUnchanged()

    def test_unknown_method_and_missing_entity(self):
        self.assertEqual(self.r.do("call", "Account", "a", "nope"), {"error": "AttributeError"})
        self.assertEqual(self.r.do("call", "Account", "zz", "deposit", 1),
                         {"error": "EntityNotFound"})
        self.assertEqual(self.r.do("call", "Account", "a", "deposit"), {"error": "TypeError"})
        self.assertStateUnchanged()

    def test_what_the_runtime_refuses(self):
        with self.assertRaisesRegex(statefun_harness.HarnessError, "no Kafka ingress"):
            self.h.produce("not-a-topic", "k", b"{}")
        with self.assertRaisesRegex(statefun_harness.HarnessError, "no key"):
            self.h.produce(topology.REQUEST_TOPICS["Account"], None, b"{}")


class Client(unittest.TestCase):
    def run_client(self, *args, ok=True):
        proc = subprocess.run([sys.executable, os.path.join(PROJECT, "client.py"), *args],
                              capture_output=True, text=True, timeout=120)
        if ok:
            self.assertEqual(proc.returncode in (0, 1), True, proc.stderr)
        return proc

    def test_state_file_keeps_state_and_request_numbers(self):
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"sfgen-sf-{os.getpid()}.json")
        try:
            p = self.run_client("--local", "--state", path, "create", "Account", "a", "ann")
            self.assertEqual(p.stdout, '{"ok": {"$ref": ["Account", "a"]}}\n')
            p = self.run_client("--local", "--state", path, "call", "Account", "a", "deposit", "5")
            self.assertEqual(p.stdout, '{"ok": 5}\n')
            p = self.run_client("--local", "--state", path, "call", "Account", "a", "withdraw",
                                "50")
            self.assertEqual((p.returncode, p.stdout), (1, '{"error": "InsufficientFunds"}\n'))
            self.assertIn("InsufficientFunds: not enough money", p.stderr)
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
            self.assertEqual(doc["next_request"], 4)
            p = self.run_client("--local", "--state", path, "state", "Account", "a")
            self.assertEqual(json.loads(p.stdout)["ok"]["history"], [5])
        finally:
            if os.path.exists(path):
                os.unlink(path)

    def test_state_needs_local(self):
        p = self.run_client("--state", "x.json", "state", "Account", "a", ok=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--state works with --local only", p.stderr)

    def test_no_broker_is_a_clear_error(self):
        p = self.run_client("--bootstrap-servers", "127.0.0.1:1", "--timeout", "2", "state",
                            "Account", "a", ok=False)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("cannot use Kafka at 127.0.0.1:1", p.stderr)


if __name__ == "__main__":
    unittest.main()
