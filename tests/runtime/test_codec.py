"""sfgen_runtime: references, markers, the JSON codec, event checking, partitioning."""
import copy
import json
import unittest
import zlib

import support
from support import sfgen_runtime as sf


class RefTest(unittest.TestCase):
    def test_equal_and_hashable_by_class_and_key(self):
        a, b = sf.Ref("Item", "apple"), sf.Ref("Item", "apple")
        self.assertEqual(a, b)
        self.assertEqual(hash(a), hash(b))
        self.assertNotEqual(a, sf.Ref("User", "apple"))
        self.assertNotEqual(a, ("Item", "apple"))
        self.assertEqual(len({a, b, sf.Ref("Item", "pear")}), 2)
        self.assertEqual(repr(a), "Ref('Item', 'apple')")

    def test_attribute_of_untyped_reference_fails_loudly(self):
        ref = sf.Ref("Item", "apple")
        with self.assertRaises(sf.UntypedReference) as cm:
            ref.get_price()
        message = str(cm.exception)
        for part in ("'get_price'", "Item['apple']", "annotate", "x: Item"):
            self.assertIn(part, message)
        with self.assertRaises(sf.UntypedReference) as cm:
            _ = ref.price
        self.assertIn("'price'", str(cm.exception))
        with self.assertRaises(sf.UntypedReference):
            ref.price = 3
        # hasattr() must not swallow it: a typing gap never passes silently
        with self.assertRaises(sf.UntypedReference):
            hasattr(ref, "stock")

    def test_python_protocols_still_work(self):
        ref = sf.Ref("Item", ("a", 1))
        self.assertIs(copy.copy(ref), ref)
        self.assertIs(copy.deepcopy([ref])[0], ref)
        self.assertFalse(hasattr(ref, "__length_hint__"))
        self.assertEqual(ref._sf_cls, "Item")
        self.assertEqual(ref._sf_key, ("a", 1))


class CodecTest(unittest.TestCase):
    def roundtrip(self, value):
        return sf.decode(sf.dumps(sf.encode(value)))

    def test_roundtrip_keeps_python_types(self):
        values = [
            None, True, 0, -5, 2**70, 1.5, "", "ünï", [], {}, (), [1, (2, [3, (4,)])],
            {"a": (1, 2), "b": {"c": [sf.Ref("Item", "apple")]}},
            sf.Ref("K", ("x", 1)),
            {"$ref": ["not", "a ref"]}, {"$tuple": [1]}, {"$dict": []}, {"$ref": 1, "x": 2},
            [{"$dict": {"$ref": [1, 2]}}],
        ]
        for v in values:
            with self.subTest(v=v):
                back = self.roundtrip(v)
                self.assertEqual(back, v)
                self.assertEqual(type(back), type(v))
        self.assertIsInstance(self.roundtrip([(1,)])[0], tuple)

    def test_dicts_with_other_keys_travel_as_pairs(self):
        v = {1: "one", (2, "b"): [3], None: 0, sf.Ref("A", "k"): True, 1.5: 2}
        self.assertEqual(sf.encode({1: "one"}), {"$dict": [[1, "one"]]})
        back = self.roundtrip(v)
        self.assertEqual(back, v)
        self.assertEqual(sf.to_client({1: "one", "s": 2}), {"1": "one", "s": 2})
        self.assertEqual(sf.decode('{"$dict": [[1, 2]]}'), {1: 2})

    def test_wire_form(self):
        self.assertEqual(sf.encode((1, sf.Ref("A", "k"))),
                         {"$tuple": [1, {"$ref": ["A", "k"]}]})
        self.assertEqual(sf.encode({"$ref": 1}), {"$dict": [["$ref", 1]]})

    def test_entity_objects_encode_as_references(self):
        shop = support.fixture("shop")
        item = shop.Item("apple", 3)
        self.assertEqual(sf.encode([item]), [{"$ref": ["Item", "apple"]}])
        self.assertEqual(sf.to_client((item,)), [{"$ref": ["Item", "apple"]}])

    def test_not_json_values_are_rejected_by_name(self):
        cases = [({1, 2}, "set"), (b"x", "bytes"), ({frozenset(): 2}, "a dict with frozenset keys"),
                 ([1, frozenset()], "frozenset"), (object(), "object")]
        for value, what in cases:
            with self.subTest(value=value):
                with self.assertRaises(sf.NotSerializable) as cm:
                    sf.encode(value, "argument 'x' of Account.deposit")
                self.assertIsInstance(cm.exception, TypeError)
                self.assertEqual(str(cm.exception).split(": ", 1)[0],
                                 "argument 'x' of Account.deposit")
                self.assertIn(what, str(cm.exception))
        with self.assertRaises(sf.NotSerializable) as cm:
            sf.encode({1, 2}, "argument 'x' of Account.deposit")
        self.assertEqual(str(cm.exception),
                         "argument 'x' of Account.deposit: set is not JSON-representable")

    def test_client_form(self):
        self.assertEqual(sf.to_client({"t": (1, (2,)), "r": sf.Ref("A", (1, "b"))}),
                         {"t": [1, [2]], "r": {"$ref": ["A", [1, "b"]]}})
        self.assertEqual(sf.from_client([{"$ref": ["A", "k"]}, {"x": {"$ref": ["B", 1]}}]),
                         [sf.Ref("A", "k"), {"x": sf.Ref("B", 1)}])
        self.assertEqual(sf.from_client({"$tuple": [1]}), {"$tuple": [1]})  # plain dict
        with self.assertRaises(ValueError):
            sf.from_client({"$ref": "A"})

    def test_malformed_wire_values(self):
        for text in ('{"$ref": 5}', '{"$ref": [1, 2]}', '{"$ref": ["A", [1]]}',
                     '{"$tuple": 1}', '{"$dict": [[[1], 2]]}', '{"$dict": {"a": 1}}',
                     '{"$alias": 3}', '{"$alias": ["x", 1]}'):
            with self.subTest(text=text), self.assertRaises(ValueError):
                sf.decode(text)


class KeepTest(unittest.TestCase):
    def test_keep_prefers_locals_and_skips_unbound(self):
        v = {"a": 1, "b": 2, "c": 3}
        self.assertEqual(sf.keep(v, {"a": 10, "d": 4}, ("a", "b", "d", "e")),
                         {"a": 10, "b": 2, "d": 4})


class PartitionTest(unittest.TestCase):
    def test_key_text_and_stable_partition(self):
        self.assertEqual(sf.key_text("User", "alice"), '["User","alice"]')
        self.assertEqual(sf.key_text("A", ("x", 1)), '["A",{"$tuple":["x",1]}]')
        self.assertEqual(sf.key_text("A", "é"), '["A","\\u00e9"]')
        for cls, key in (("User", "alice"), ("Item", 7), ("A", ("x", 1))):
            crc = zlib.crc32(sf.key_text(cls, key).encode("ascii"))
            for n in (1, 4, 7):
                self.assertEqual(sf.partition(cls, key, n), crc % n)
        # pinned: other targets (and stored data) depend on these never changing
        self.assertEqual(zlib.crc32(b'["User","alice"]'), 1801388641)
        self.assertEqual(sf.partition("User", "alice", 4), 1)


class EventCheckTest(unittest.TestCase):
    def good(self, **changes):
        ev = {"id": "r1.0", "request": "r1", "kind": "call", "to": ["User", "alice"],
              "method": "deposit", "args": [1], "kwargs": {}, "stack": []}
        ev.update(changes)
        return ev

    def test_good_events_pass_and_get_defaults(self):
        ev = self.good()
        del ev["stack"], ev["kwargs"]
        sf.check_event(ev)
        self.assertEqual((ev["stack"], ev["kwargs"]), ([], {}))
        frame = {"to": ["User", "alice"], "method": "buy_item", "resume": 1, "vars": {}}
        reply = {"id": "r1.3", "request": "r1", "kind": "reply", "ok": 1, "stack": [frame]}
        sf.check_event(reply)
        self.assertEqual(reply["to"], ["User", "alice"])
        self.assertIsNone(frame["into"])

    def test_malformed_events(self):
        frame = {"to": ["User", "alice"], "method": "m", "resume": 0, "into": None, "vars": {}}
        bad = [
            [], "x", self.good(id=1), self.good(request=None), self.good(kind="explode"),
            self.good(to="User"), self.good(to=["User"]), self.good(to=[1, "k"]),
            self.good(to=["User", [1]]), self.good(method=None), self.good(args={}),
            self.good(kwargs=[]), self.good(stack={}), self.good(stack=[1]),
            self.good(stack=[dict(frame, resume=-1)]), self.good(stack=[dict(frame, resume=True)]),
            self.good(stack=[dict(frame, vars=[])]), self.good(stack=[dict(frame, into=3)]),
            self.good(kind="create"), self.good(kind="read"),
            self.good(kind="reply"), self.good(kind="reply", ok=1, error={"type": "X"}),
            self.good(kind="reply", error="X"),
        ]
        for ev in bad:
            with self.subTest(ev=ev), self.assertRaises(sf.MalformedEvent):
                sf.check_event(copy.deepcopy(ev))
        for text in ("", "{", "nan]", b"\xff", json.dumps(self.good(to=["U", {"$ref": 1}]))):
            with self.subTest(text=text), self.assertRaises(sf.MalformedEvent):
                sf.loads(text)

    def test_next_ids_are_deterministic(self):
        self.assertEqual(sf._next_id({"id": "r7.3", "request": "r7"}), "r7.4")
        self.assertEqual(sf._next_id({"id": "odd", "request": "r7"}), "odd.1")


class MethodSpecTest(unittest.TestCase):
    def test_bind_applies_defaults_and_checks_counts(self):
        misc = support.fixture("misc")
        add = sf.MethodSpec()
        add._sf_attach(misc.Counter, "add")
        obj = misc.Counter("c")
        self.assertEqual(add.bind(obj, (5,), {}), {"k": 5, "note": ""})
        self.assertEqual(add.bind(obj, (), {"note": "n"}), {"k": 1, "note": "n"})
        for args, kwargs in (((1, 2, 3), {}), ((), {"zz": 1}), ((1,), {"k": 2})):
            with self.subTest(args=args, kwargs=kwargs), self.assertRaises(TypeError) as cm:
                add.bind(obj, args, kwargs)
            self.assertTrue(str(cm.exception).startswith("Counter.add() "))
        self.assertEqual(add.param_name(1), "note")
        self.assertEqual(add.param_name(5), "#6")

    def test_split_stub_raises(self):
        shop = support.fixture("shop")
        with self.assertRaises(sf.SplitMethodCalled):
            shop.User("u").buy_item(1, sf.Ref("Item", "apple"))


if __name__ == "__main__":
    unittest.main()
