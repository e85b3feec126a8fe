"""The generated handler's HTTP API, request ids and leases, in process against moto."""
import base64
import glob
import json
import os
import time
import unittest

import support
from support import invoke, step


class HttpApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = support.Project("misc")

    def setUp(self):
        self.moto = support.Moto(self.p)
        self.addCleanup(self.moto.close)

    def tearDown(self):
        self.assertEqual(self.moto.leases(), [], "a lease was left behind")

    def test_int_and_str_keys_stay_apart(self):
        self.assertEqual(step(self.p, "create", "Box", args=[12, "twelve"])[:2],
                         (200, {"ok": {"$ref": ["Box", 12]}}))
        self.assertEqual(step(self.p, "create", "Tag", args=["12"])[:2],
                         (200, {"ok": {"$ref": ["Tag", "12"]}}))
        self.assertEqual(invoke(self.p, "GET", "/Box/12")[:2], (200, {"ok": {
            "number": 12, "label": "twelve", "items": [], "extra": None}}))
        self.assertEqual(invoke(self.p, "GET", "/Tag/%2212%22")[:2],
                         (200, {"ok": {"name": "12", "count": 0}}))
        status, body, _ = invoke(self.p, "GET", "/Tag/12")
        self.assertEqual((status, body["error"]), (404, "EntityNotFound"))
        status, body, _ = invoke(self.p, "GET", "/Box/%2212%22")
        self.assertEqual((status, body["error"]), (404, "EntityNotFound"))
        # a str key that is not JSON goes as it is; the client quotes only when needed
        step(self.p, "create", "Tag", args=["a b/c"])
        self.assertEqual(self.p.client.key_segment("a b/c"), "a%20b%2Fc")
        self.assertEqual(invoke(self.p, "GET", "/Tag/a%20b%2Fc")[:2],
                         (200, {"ok": {"name": "a b/c", "count": 0}}))
        names = sorted(i["pk"]["S"] for i in self.moto.items())
        self.assertEqual(names, ['Box#12', 'Tag#"12"', 'Tag#"a b/c"'])

    def test_calls_errors_and_status_codes(self):
        step(self.p, "create", "Box", args=[1, "one"])
        step(self.p, "create", "Tag", args=["t"])
        self.assertEqual(step(self.p, "call", "Box", 1, "add", ["a"])[:2], (200, {"ok": 1}))
        self.assertEqual(step(self.p, "call", "Tag", "t", "fill",
                              [{"$ref": ["Box", 1]}, "b"])[:2], (200, {"ok": 2}))
        status, body, _ = step(self.p, "call", "Box", 1, "refuse", ["c"])
        self.assertEqual((status, body), (422, {"error": "Refused",
                                                "message": "refused after adding c"}))
        # as in Python, what the method changed before it raised stays changed
        self.assertEqual(invoke(self.p, "GET", "/Box/1")[1]["ok"]["items"], ["a", "b", "c"])
        for args, error, code in ((["x", "y"], "TypeError", 422),):
            status, body, _ = step(self.p, "call", "Box", 1, "add", args)
            self.assertEqual((status, body["error"]), (code, error))
        status, body, _ = step(self.p, "call", "Box", 1, "nope")
        self.assertEqual((status, body["error"]), (422, "AttributeError"))
        status, body, _ = step(self.p, "call", "Box", 2, "add", ["a"])
        self.assertEqual((status, body["error"]), (404, "EntityNotFound"))
        status, body, _ = step(self.p, "create", "Nope", args=[])
        self.assertEqual((status, body["error"]), (404, "UnknownClass"))
        status, body, _ = step(self.p, "call", "Nope", 1, "add")
        self.assertEqual((status, body["error"]), (404, "EntityNotFound"))
        status, body, _ = step(self.p, "call", "Tag", "t", "fill", [{"$ref": ["Box", 9]}, "b"])
        self.assertEqual((status, body["error"]), (404, "EntityNotFound"))

    def test_state_that_is_not_json_is_refused_and_nothing_changes(self):
        step(self.p, "create", "Box", args=[3, "three"])
        status, body, _ = step(self.p, "call", "Box", 3, "hide_a_set")
        self.assertEqual((status, body["error"]), (422, "NotSerializable"))
        self.assertIn("field 'extra' of Box[3]", body["message"])
        self.assertIsNone(invoke(self.p, "GET", "/Box/3")[1]["ok"]["extra"])

    def test_malformed_requests_get_4xx(self):
        step(self.p, "create", "Box", args=[1, "one"])
        deep = '{"args": [' + "[" * 5000 + "]" * 5000 + "]}"
        for body in ("not json", "[1]", '{"args": 1}', '{"kwargs": []}', '{"x": 1}',
                     '{"args": [NaN]}', '{"args": [Infinity]}', deep):
            event = self.p.client.api_event("POST", "/Box/1/add")
            event["body"] = body
            status, doc, _ = invoke(self.p, None, None, event=event)
            self.assertEqual((status, doc["error"]), (400, "BadRequest"), body)
        for path, method, code, name in (("/Box", "GET", 405, "MethodNotAllowed"),
                                         ("/Box/1", "POST", 405, "MethodNotAllowed"),
                                         ("/Box/1/add/x", "POST", 404, "NotFound"),
                                         ("/", "GET", 404, "NotFound")):
            status, doc, _ = invoke(self.p, method, path)
            self.assertEqual((status, doc["error"]), (code, name), path)
        status, doc, _ = invoke(self.p, "POST", "/Box/1/add", {"args": ["a"]},
                                request_id="bad id with spaces")
        self.assertEqual((status, doc["error"]), (400, "BadRequest"))
        event = self.p.client.api_event("POST", "/Box/1/add")
        event["version"] = "1.0"
        self.assertEqual(invoke(self.p, None, None, event=event)[0], 400)
        self.assertEqual(self.p.handler.lambda_handler("nonsense", None)["statusCode"], 400)
        # a key that cannot be a DynamoDB partition key (2048 bytes at most)
        status, doc, _ = invoke(self.p, "POST", "/Tag", {"args": ["x" * 3000]})
        self.assertEqual((status, doc["error"]), (400, "KeyTooLong"), doc)
        self.assertIn("at most 2048 fit", doc["message"])
        # nothing ran
        self.assertEqual(invoke(self.p, "GET", "/Box/1")[1]["ok"]["items"], [])

    def test_keys_come_from_the_route_parameters(self):
        # API Gateway decodes the path parameters once; rawPath may arrive decoded too, so
        # the handler must not split or decode it again
        step(self.p, "create", "Tag", args=["a/b%41"])
        event = self.p.client.api_event("GET", "/Tag/" + self.p.client.key_segment("a/b%41"))
        self.assertEqual(event["pathParameters"], {"entity": "Tag", "key": "a/b%41"})
        event["rawPath"] = event["requestContext"]["http"]["path"] = "/Tag/a/b%41"
        self.assertEqual(invoke(self.p, None, None, event=event)[:2],
                         (200, {"ok": {"name": "a/b%41", "count": 0}}))
        self.assertEqual(invoke(self.p, "GET", "/Tag/NaN")[1]["error"], "EntityNotFound")

    def test_event_variants(self):
        step(self.p, "create", "Box", args=[1, "one"])
        event = self.p.client.api_event("POST", "/Box/1/add")
        event["body"] = base64.b64encode(b'{"args": ["z"]}').decode()
        event["isBase64Encoded"] = True
        self.assertEqual(invoke(self.p, None, None, event=event)[:2], (200, {"ok": 1}))
        event = self.p.client.api_event("POST", "/prod/Box/1/add", {"args": ["y"]})
        event["requestContext"]["stage"] = "prod"
        self.assertEqual(invoke(self.p, None, None, event=event)[:2], (200, {"ok": 2}))
        event = self.p.client.api_event("POST", "/Box/1/add")  # no body: no arguments
        status, doc, _ = invoke(self.p, None, None, event=event)
        self.assertEqual((status, doc["error"]), (422, "TypeError"))
        self.assertIn("missing 1 required positional argument", doc["message"])
        status, doc, _ = invoke(self.p, "POST", "/Box", {"kwargs": {"number": 5, "label": "k"}})
        self.assertEqual((status, doc), (200, {"ok": {"$ref": ["Box", 5]}}))

    def test_a_retried_request_id_runs_once(self):
        step(self.p, "create", "Box", args=[1, "one"])
        first = step(self.p, "call", "Box", 1, "add", ["a"], request_id="req-1")
        again = step(self.p, "call", "Box", 1, "add", ["a"], request_id="req-1")
        self.assertEqual(first[:2], (200, {"ok": 1}))
        self.assertEqual(again[:2], first[:2])
        self.assertEqual(again[2].get("x-sfgen-replayed"), "true")
        self.assertNotIn("x-sfgen-replayed", first[2])
        # errors are results too: stored and replayed
        e1 = step(self.p, "call", "Box", 1, "refuse", ["b"], request_id="req-2")
        e2 = step(self.p, "call", "Box", 1, "refuse", ["b"], request_id="req-2")
        self.assertEqual(e1[:2], e2[:2])
        self.assertEqual(e1[0], 422)
        self.assertEqual(invoke(self.p, "GET", "/Box/1")[1]["ok"]["items"], ["a", "b"])
        # the same id on another request is refused, not answered with the old result
        for other in (("call", "Box", 1, "add", ["z"]), ("call", "Box", 1, "refuse", ["a"])):
            status, doc, _ = step(self.p, *other, request_id="req-1")
            self.assertEqual((status, doc["error"]), (422, "RequestIdReused"), other)
        self.assertEqual(invoke(self.p, "GET", "/Box/1")[1]["ok"]["items"], ["a", "b"])
        item = self.moto.db.get("$request#req-1")
        self.assertEqual(item["status"]["S"], "done")
        self.assertGreater(int(item["expires_at"]["N"]), time.time() + 3600)

    def test_busy_entity_fails_clearly_and_stores_nothing(self):
        self.moto.db.wait_seconds = 0.3
        step(self.p, "create", "Box", args=[1, "one"])
        other = self.moto.db.session("someone-else", "someone-else@x")
        other.load("Box", 1)  # another request holds Box 1
        t0 = time.monotonic()
        status, doc, headers = step(self.p, "call", "Box", 1, "add", ["a"], request_id="req-b")
        self.assertLess(time.monotonic() - t0, 2.0)
        self.assertEqual((status, doc["error"]), (503, "EntityBusy"))
        self.assertIn("'someone-else'", doc["message"])
        self.assertIn('Box#1', doc["message"])
        self.assertEqual(headers.get("retry-after"), "1")
        self.assertIsNone(self.moto.db.get("$request#req-b"), "a failed request keeps no claim")
        other.release()
        self.assertEqual(step(self.p, "call", "Box", 1, "add", ["a"],
                              request_id="req-b")[:2], (200, {"ok": 1}))

    def test_expired_leases_and_claims_are_taken_over(self):
        step(self.p, "create", "Box", args=[1, "one"])
        db = self.moto.db
        # (long enough that the two calls below run before it expires, on a loaded machine)
        lease = 3.0
        crashed = self.p.state.Database(db.client, db.table, lease_seconds=lease)
        crashed.claim("req-c", "dead@1")          # a crashed invocation's claim ...
        crashed.session("req-c", "dead@1").load("Box", 1)  # ... and lease, never released
        expiry = time.time() + lease  # (both expire before this)
        db.wait_seconds = 0.05
        status, doc, _ = step(self.p, "call", "Box", 1, "add", ["a"])
        self.assertEqual((status, doc["error"]), (503, "EntityBusy"))
        status, doc, _ = step(self.p, "call", "Box", 1, "add", ["a"], request_id="req-c")
        self.assertEqual((status, doc["error"]), (409, "RequestInProgress"))
        time.sleep(max(0.0, expiry - time.time()) + 0.2)
        self.assertEqual(step(self.p, "call", "Box", 1, "add", ["a"],
                              request_id="req-c")[:2], (200, {"ok": 1}))

    def test_request_in_progress(self):
        self.moto.db.wait_seconds = 0.2
        step(self.p, "create", "Box", args=[1, "one"])
        self.moto.db.claim("req-d", "live@1")
        status, doc, _ = step(self.p, "call", "Box", 1, "add", ["a"], request_id="req-d")
        self.assertEqual((status, doc["error"]), (409, "RequestInProgress"))
        self.moto.db.unclaim("req-d", "live@1")
        self.assertEqual(invoke(self.p, "GET", "/Box/1")[1]["ok"]["items"], [])

    def test_lease_lost_writes_nothing(self):
        step(self.p, "create", "Box", args=[1, "one"])
        db = self.moto.db
        s = db.session("slow", "slow@1")
        record = s.load("Box", 1)
        record["fields"]["label"] = "changed"
        s.store("Box", 1, record)
        # the lease is taken over (as after its expiry) by another request that finishes
        db.client.update_item(TableName=db.table, Key={"pk": {"S": "Box#1"}},
                              UpdateExpression="SET lease_owner = :o",
                              ExpressionAttributeValues={":o": {"S": "other@2"}})
        with self.assertRaises(self.p.state.LeaseLost):
            s.commit()
        db.client.update_item(TableName=db.table, Key={"pk": {"S": "Box#1"}},
                              UpdateExpression="REMOVE lease_owner, lease_request, "
                                               "lease_expires")
        self.assertEqual(invoke(self.p, "GET", "/Box/1")[1]["ok"]["label"], "one")

    def test_versions_count_writes(self):
        step(self.p, "create", "Box", args=[1, "one"])
        self.assertEqual(self.moto.db.get("Box#1")["version"]["N"], "1")
        step(self.p, "call", "Box", 1, "add", ["a"])
        invoke(self.p, "GET", "/Box/1")  # a read writes nothing
        self.assertEqual(self.moto.db.get("Box#1")["version"]["N"], "2")
        # a missing entity leaves no item behind
        invoke(self.p, "GET", "/Box/99")
        self.assertIsNone(self.moto.db.get("Box#99"))


class SampleEventsTest(unittest.TestCase):
    """events/*.json run through the handler (bank: Account is the first entity)."""

    def test_sample_events(self):
        p = support.Project("bank")
        moto = support.Moto(p)
        self.addCleanup(moto.close)
        results = {}
        for path in sorted(glob.glob(os.path.join(p.dir, "events", "*.json"))):
            with open(path) as f:
                results[os.path.basename(path)] = json.load(f)
        self.assertEqual(sorted(results), ["call.json", "create.json", "state.json"])
        for name in ("create.json", "call.json", "state.json"):
            status, body, _ = invoke(p, None, None, event=results[name])
            self.assertEqual(status, 200, (name, body))
        self.assertEqual(body["ok"]["balance"], 1)


if __name__ == "__main__":
    unittest.main()
