"""The statefun target on tests/statefun/fixtures/edge/app.py: state that cannot be
stored, and calls to a class that does not exist.

    SFGEN_STATEFUN_PROJECT=DIR python -m unittest discover -s tests/statefun -p test_edge.py
"""
import json
import unittest

from support import Requests, client, harness, topology


class Edge(unittest.TestCase):
    def setUp(self):
        self.h = harness()
        self.r = Requests(self.h)
        self.assertEqual(self.r.do("create", "Box", "a"), {"ok": {"$ref": ["Box", "a"]}})
        self.assertEqual(self.r.do("call", "Box", "a", "put", 5), {"ok": 1})

    def record(self, key):
        values = self.h.state[(topology.FUNCTIONS["Box"], json.dumps(["Box", key],
                                                                     separators=(",", ":")))]
        return json.loads(values["record"].value)

    def test_state_that_is_not_json_fails_the_call_and_keeps_the_old_state(self):
        request = self.r.call("Box", "a", "keep_set")
        self.r.run(request)
        self.assertEqual(self.r.result(request), {"error": "NotSerializable"})
        self.assertIn("field 'items' of Box['a']: set", self.r.replies[request]["error"]["message"])
        self.assertEqual(self.record("a")["fields"]["items"], [5])
        self.assertEqual(self.r.do("call", "Box", "a", "size"), {"ok": 1})

    def test_a_call_to_an_unknown_class_fails_at_the_call_site(self):
        self.assertEqual(self.r.do("call", "Box", "a", "ask", {"$ref": ["Nope", "x"]}),
                         {"error": "EntityNotFound"})
        self.assertEqual(self.r.do("call", "Box", "a", "ask", {"$ref": ["Box", "zz"]}),
                         {"error": "EntityNotFound"})
        self.assertNotIn("held", self.record("a"))
        self.assertEqual(self.r.do("call", "Box", "a", "put", 6), {"ok": 2})

    def test_requests_for_unknown_classes_never_reach_kafka(self):
        self.assertEqual(self.r.do("state", "Box", "zz"), {"error": "EntityNotFound"})
        before = self.h.messages
        # the client answers these itself, as the local target's router does
        c = client.Client(client.LocalTransport(harness=self.h))
        self.assertEqual(c.call("Nope", "x", "m"), {"error": "EntityNotFound"})
        self.assertEqual(c.create("Nope"), {"error": "UnknownClass"})
        self.assertEqual(c.create("Box"), {"error": "TypeError"})
        self.assertEqual(self.h.messages, before)


if __name__ == "__main__":
    unittest.main()
