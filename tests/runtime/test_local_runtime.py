"""The dispatch core through the in-process runtime: semantics, bad input, JSON values."""
import json
import os
import shutil
import tempfile
import unittest

import support
from support import sfgen_runtime as sf

REF = {"$ref": ["Item", "apple"]}


def shop_runtime(**options):
    rt = support.runtime("shop", **options)
    for name, price, stock in (("apple", 30, 10), ("pear", 700, 2), ("plum", 5, 0)):
        rt.create("Item", [name, price])
        rt.call("Item", name, "update_stock", [stock])
    rt.create("User", ["alice"])
    return rt


def snapshot(rt):
    """All entity state as text (what must not change): fields and the isolation
    bookkeeping, without the ids seen (which grow with every request)."""
    doc = rt.dump_state()
    del doc["next_request"]
    for _cls, _key, record in doc["entities"]:
        record.pop("seen", None)
    return json.dumps(doc, sort_keys=True)


@unittest.skipUnless(support.have_shared(), "shared/conformance not found beside the repo")
class ConformanceInProcessTest(unittest.TestCase):
    """The shared cases, and the misc fixture against the oracle, for several partitionings."""

    def check(self, name, case_dir, expected):
        for partitions in (1, 3, 8):
            rt = support.runtime(name, partitions=partitions)
            results = rt.replay(support.case_calls(case_dir))
            self.assertEqual(len(results), len(expected))
            for i, (got, want) in enumerate(zip(results, expected)):
                self.assertTrue(support.same(got, want),
                                f"{name} call {i} ({partitions} partitions): {got} != {want}")

    def test_shop(self):
        case = os.path.join(support.CASES, "shop")
        self.check("shop", case, support.expected_results(case))

    def test_bank(self):
        case = os.path.join(support.CASES, "bank")
        self.check("bank", case, support.expected_results(case))

    def test_hotel(self):
        case = os.path.join(support.CASES, "hotel")
        self.check("hotel", case, support.expected_results(case))

    def test_misc_matches_plain_python(self):
        with tempfile.TemporaryDirectory() as tmp:
            for f in ("app.py", "scenario.json"):
                shutil.copy(os.path.join(support.FIXTURES, "misc", f), tmp)
            expected = support.oracle_results(tmp)
            self.check("misc", tmp, expected)


class BadInputTest(unittest.TestCase):
    """Bad input gets an error reply; nothing changes; the next call still works."""

    def setUp(self):
        self.rt = shop_runtime()
        self.before = snapshot(self.rt)

    def assert_rejected(self, result, error):
        self.message = self.rt.error_message()
        self.assertEqual(result, {"error": error})
        self.assertEqual(snapshot(self.rt), self.before, "state changed")
        self.assertEqual(self.rt.call("User", "alice", "deposit", [1]), {"ok": 1001})
        self.rt.call("User", "alice", "deposit", [-1])
        self.assertEqual(snapshot(self.rt), self.before)
        self.assertFalse(self.rt.queue)

    def test_malformed_events(self):
        frame = {"to": ["User", "alice"], "method": "buy_item", "resume": 1, "into": "_sf_r_0",
                 "vars": {"amount": 1, "item": REF}}
        texts = [
            "", "not json", "[1, 2]", '"call"', "{}", '{"kind": "call"}',
            '{"id": "t1", "request": "t1", "kind": "call", "to": ["User", "alice"]}',
            '{"id": "t1", "request": "t1", "kind": "explode", "to": ["User", "alice"]}',
            ('{"id": "t1", "request": "t1", "kind": "call", "to": ["User", "alice"], '
             '"method": "deposit", "args": [{"$ref": 5}]}'),
            '{"id": "t1", "request": "t1", "kind": "call", "to": "User", "method": "deposit"}',
            '{"id": "t1", "request": "t1", "kind": "reply", "stack": []}',
            # a call with a broken body but a readable stack: its caller's frame fails
            json.dumps({"id": "t1", "request": "t1", "kind": "call", "to": ["Item", "apple"],
                        "method": 5, "stack": [frame]}),
            # replies to frames that cannot be resumed
            json.dumps({"id": "t1", "request": "t1", "kind": "reply", "ok": 30,
                        "stack": [dict(frame, resume=9)]}),
            json.dumps({"id": "t1", "request": "t1", "kind": "reply", "ok": 30,
                        "stack": [dict(frame, method="deposit")]}),
            json.dumps({"id": "t1", "request": "t1", "kind": "reply", "ok": 30,
                        "stack": [dict(frame, method="nope")]}),
        ]
        for text in texts:
            with self.subTest(text=text):
                self.assert_rejected(self.rt.submit(text), "MalformedEvent")
                self.assertEqual(self.rt.last_reply["stack"], [])

    def test_forged_events_for_missing_things(self):
        frame = {"to": ["User", "bob"], "method": "buy_item", "resume": 1, "into": None,
                 "vars": {}}
        ev = {"id": "t1", "request": "t1", "kind": "reply", "ok": 1, "stack": [frame]}
        self.assert_rejected(self.rt.submit(json.dumps(ev)), "EntityNotFound")
        frame["to"] = ["Ghost", "x"]
        self.assert_rejected(self.rt.submit(json.dumps(ev)), "EntityNotFound")
        create = {"id": "t2", "request": "t2", "kind": "create", "to": ["Ghost", "x"],
                  "init": {}}
        self.assert_rejected(self.rt.submit(json.dumps(create)), "UnknownClass")
        read = {"id": "t3", "request": "t3", "kind": "read", "to": ["Item", "apple"],
                "attr": "colour"}
        self.assert_rejected(self.rt.submit(json.dumps(read)), "AttributeError")

    def test_missing_entity(self):
        self.assert_rejected(self.rt.call("User", "bob", "deposit", [1]), "EntityNotFound")
        self.assert_rejected(self.rt.state("User", "bob"), "EntityNotFound")
        self.assert_rejected(self.rt.call("Ghost", "bob", "deposit", [1]), "EntityNotFound")
        self.assert_rejected(self.rt.state("Ghost", "bob"), "EntityNotFound")
        # a remote call on a reference to a missing entity fails at the call site
        self.assert_rejected(
            self.rt.call("User", "alice", "buy_item", [1, {"$ref": ["Item", "kiwi"]}]),
            "EntityNotFound")

    def test_unknown_method(self):
        self.assert_rejected(self.rt.call("User", "alice", "fly", []), "AttributeError")
        self.assertIn("'User' object has no attribute 'fly'", self.message)
        # methods that are not listed in ENTITIES cannot be called, even if they exist
        self.assert_rejected(self.rt.call("User", "alice", "__key__", []), "AttributeError")
        self.assert_rejected(self.rt.call("User", "alice", "_sf_buy_item_2", [{}]),
                             "AttributeError")

    def test_wrong_argument_count(self):
        calls = [
            ("deposit", [], {}), ("deposit", [1, 2], {}), ("deposit", [], {"amunt": 1}),
            ("buy_item", [1], {}), ("buy_item", [1, REF, 3], {}),
            ("buy_item", [1, REF], {"amount": 2}), ("add_to_basket", [], {}),
        ]
        for method, args, kwargs in calls:
            with self.subTest(method=method, args=args, kwargs=kwargs):
                self.assert_rejected(self.rt.call("User", "alice", method, args, kwargs),
                                     "TypeError")
        self.assert_rejected(self.rt.create("Item", ["kiwi"]), "TypeError")
        self.assert_rejected(self.rt.create("Ghost", ["kiwi"]), "UnknownClass")

    def test_not_json_argument(self):
        self.assert_rejected(self.rt.call("User", "alice", "deposit", [{1, 2}]),
                             "NotSerializable")
        self.assertEqual(self.message,
                         "argument 'amount' of User.deposit: set is not JSON-representable")
        self.assert_rejected(self.rt.call("User", "alice", "deposit", [], {"amount": b"1"}),
                             "NotSerializable")
        self.assertEqual(self.message,
                         "argument 'amount' of User.deposit: bytes is not JSON-representable")


class ValuesTest(unittest.TestCase):
    """Values that are not JSON are rejected where they would cross or be stored."""

    def setUp(self):
        self.rt = support.runtime("misc")
        self.rt.create("Counter", ["c1"])
        self.rt.create("Proxy", ["A"])
        self.rt.create("Item", ["apple", 30])
        self.c1 = {"$ref": ["Counter", "c1"]}

    def assert_error(self, result, error, message):
        self.assertEqual(result, {"error": error})
        self.assertEqual(self.rt.error_message(), message)

    def test_return_value(self):
        self.assert_error(self.rt.call("Counter", "c1", "as_set"), "NotSerializable",
                          "return value of Counter.as_set: set is not JSON-representable")

    def test_argument_between_entities(self):
        self.assert_error(self.rt.call("Proxy", "A", "send_set", [self.c1]), "NotSerializable",
                          "argument 'x' of Counter.echo: set is not JSON-representable")

    def test_live_variable(self):
        self.assert_error(self.rt.call("Proxy", "A", "keep_set", [self.c1]), "NotSerializable",
                          "variable 's' of Proxy.keep_set: set is not JSON-representable")
        # the call was never sent
        self.assertEqual(self.rt.state("Counter", "c1")["ok"]["n"], 0)

    def test_field(self):
        self.assert_error(self.rt.create("Counter", ["c2", {1}]), "NotSerializable",
                          "field 'n' of Counter['c2']: set is not JSON-representable")
        self.assertEqual(self.rt.state("Counter", "c2"), {"error": "EntityNotFound"})
        self.assertEqual(self.rt.call("Counter", "c1", "break_state"), {"ok": None})
        self.assert_error(self.rt.state("Counter", "c1"), "NotSerializable",
                          "field 'log' of Counter['c1']: set is not JSON-representable")
        with self.assertRaises(sf.NotSerializable) as cm:
            self.rt.dump_state()
        self.assertIn("field 'log' of Counter['c1']", str(cm.exception))

    def test_tuples_and_refs(self):
        self.assertEqual(self.rt.call("Counter", "c1", "pair"), {"ok": ["c1", 0]})
        self.assertEqual(self.rt.call("Proxy", "A", "tuple_kind", [self.c1]),
                         {"ok": "tuple:tuple"})
        self.assertEqual(self.rt.call("Counter", "c1", "echo", [(1, sf.Ref("A", "b"))]),
                         {"ok": [1, {"$ref": ["A", "b"]}]})
        self.assertEqual(self.rt.call("Counter", "c1", "echo", [{"$ref": ["A", "b"]}]),
                         {"ok": {"$ref": ["A", "b"]}})
        self.assertEqual(self.rt.call("Counter", "c1", "echo", [{"$tuple": [1]}]),
                         {"ok": {"$tuple": [1]}})

    def test_keyword_arguments_named_like_wire_markers(self):
        self.assert_error(self.rt.call("Counter", "c1", "add", [], {"$ref": ["A", "b"]}),
                          "TypeError", "Counter.add() got an unexpected keyword argument '$ref'")
        self.assertEqual(self.rt.call("Counter", "c1", "echo", [], {"x": {"$dict": 1}}),
                         {"ok": {"$dict": 1}})

    def test_untyped_reference(self):
        result = self.rt.call("Counter", "c1", "untyped_price", [{"$ref": ["Item", "apple"]}])
        self.assertEqual(result, {"error": "UntypedReference"})
        message = self.rt.error_message()
        for part in ("'get_price'", "Item['apple']", "annotate", "`x: Item`"):
            self.assertIn(part, message)


class DispatchTest(unittest.TestCase):
    def test_events_of_a_split_method(self):
        events = []
        rt = shop_runtime(trace=lambda text, ev: events.append(json.loads(text)))
        events.clear()
        self.assertEqual(rt.call("User", "alice", "buy_item", [3, REF]), {"ok": True})
        kinds = [(e["kind"], e["to"] and e["to"][0]) for e in events]
        self.assertEqual(kinds, [("call", "User"), ("call", "Item"), ("reply", "User"),
                                 ("call", "Item"), ("reply", "User"), ("reply", None)])
        request = events[0]["request"]
        self.assertEqual([e["id"] for e in events], [f"{request}.{i}" for i in range(6)])
        self.assertEqual({e["request"] for e in events}, {request})
        # the suspension carries the caller's frame with only its live variables
        suspended = events[1]
        self.assertEqual(suspended["method"], "get_price")
        self.assertEqual(suspended["stack"], [{
            "to": ["User", "alice"], "method": "buy_item", "resume": 1, "into": "_sf_r_0",
            "vars": {"amount": 3, "item": REF}}])
        self.assertEqual(events[3]["stack"][0]["vars"], {"total_price": 90})
        self.assertEqual(events[3]["args"], [-3])

    def test_jumps_and_calls_to_self_stay_in_the_operator(self):
        rt = shop_runtime()
        n = rt.events
        items = [REF, {"$ref": ["Item", "pear"]}, {"$ref": ["Item", "plum"]}]
        self.assertEqual(rt.call("User", "alice", "add_to_basket", [items]), {"ok": True})
        # ingress + (call, reply) per item + (read, reply) per item in stock + egress reply
        self.assertEqual(rt.events - n, 1 + 3 * 2 + 2 * 2 + 1)
        misc = support.runtime("misc")
        misc.create("Counter", ["c"])
        misc.create("Proxy", ["A"])
        n = misc.events
        self.assertEqual(misc.call("Proxy", "A", "twice", [{"$ref": ["Counter", "c"]}]),
                         {"ok": 3})
        self.assertEqual(misc.events - n, 1 + 2 * 2 + 1)  # self.bump() twice: no events

    def test_callee_exception_propagates_to_the_caller(self):
        rt = support.runtime("misc")
        rt.create("Counter", ["c"])
        rt.create("Proxy", ["A"])
        self.assertEqual(rt.call("Proxy", "A", "fail_remote", [{"$ref": ["Counter", "c"]}]),
                         {"error": "Boom"})
        self.assertEqual(rt.error_message(), "counter c failed")
        # as in Python: what ran before the exception stays done, what follows never runs
        self.assertEqual(rt.state("Proxy", "A"), {"ok": {"name": "A", "hits": 1}})
        self.assertEqual(rt.state("Counter", "c")["ok"]["n"], 100)
        self.assertEqual(rt.call("Proxy", "A", "call_none"), {"error": "AttributeError"})
        self.assertIn("'NoneType' object has no attribute 'add'", rt.error_message())

    def test_operator_is_a_function_of_record_and_event(self):
        shop = support.fixture("shop")
        op = sf.Operator(shop.ENTITIES, "User")
        record = {"fields": {"username": "alice", "balance": 1000, "basket": []}}
        ev = sf.loads(sf.dumps(sf.Ingress(shop.ENTITIES).call("q1", "User", "alice",
                                                              "deposit", [5])))
        new, out = op.process(ev, record)
        self.assertEqual(new["fields"]["balance"], 1005)
        self.assertEqual(len(out), 1)
        self.assertEqual(sf.client_result(sf.loads(sf.dumps(out[0]))), {"ok": 1005})
        bad = sf.loads(sf.dumps(sf.Ingress(shop.ENTITIES).call("q2", "User", "alice",
                                                               "deposit", [])))
        same, out = op.process(bad, new)
        self.assertEqual(same, new)
        self.assertEqual(out[0]["error"]["type"], "TypeError")
        missing, out = op.process(bad, None)
        self.assertIsNone(missing)
        self.assertEqual(out[0]["error"]["type"], "EntityNotFound")

    def test_state_round_trips_through_json(self):
        rt = support.runtime("bank", partitions=3)
        rt.create("Bank", ["tulip"])
        rt.call("Bank", "tulip", "open_account", ["NL01", "ann", 100])
        rt.call("Bank", "tulip", "open_account", ["NL02", "bas", 50])
        doc = json.loads(json.dumps(rt.dump_state()))
        other = support.runtime("bank", partitions=5)
        other.load_state(sf.decode(json.dumps(doc)))
        self.assertEqual(other.call("Bank", "tulip", "total_deposits"), {"ok": 150})
        self.assertEqual(other.call("Bank", "tulip", "richest"), {"ok": "NL01"})
        self.assertEqual(other.state("Bank", "tulip"), rt.state("Bank", "tulip"))
        self.assertGreater(int(other.last_reply["request"][1:]), int(doc["next_request"]) - 1)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "state.json")
            other.save(path)
            third = support.runtime("bank")
            third.load(path)
            self.assertEqual(third.call("Account", "NL02", "get_balance"), {"ok": 50})


if __name__ == "__main__":
    unittest.main()
