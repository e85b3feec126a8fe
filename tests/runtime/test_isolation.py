"""Per-entity isolation, re-entrancy, deadlocks, duplicates and the simulation, driven
event by event through the local runtime (LocalRuntime.start / deliver / result)."""
import json
import os
import unittest
from unittest import mock

import support
from support import local_runtime
from support import sfgen_runtime as sf

NL02 = {"$ref": ["Account", "NL02"]}


def call(cls, key, method, *args):
    return {"op": "call", "class": cls, "key": key, "method": method, "args": list(args)}


def bank(**options):
    rt = support.runtime("bank", **options)
    for iban, owner, money in (("NL01", "ann", 100), ("NL02", "bas", 50)):
        rt.create("Account", [iban, owner])
        rt.call("Account", iban, "deposit", [money])
    return rt


def proxies(*names, **options):
    rt = support.runtime("misc", **options)
    for name in names:
        rt.create("Proxy", [name])
    rt.create("Counter", ["c"])
    return rt


def record(rt, cls, key):
    return rt.stores[(cls, sf.partition(cls, key, rt.partitions))].get(key)


def deliver_first(rt, request):
    """Deliver the oldest event in flight of `request`."""
    for i, text in enumerate(rt.queue):
        if json.loads(text)["request"] == request:
            rt.deliver(i)
            return
    raise AssertionError(f"no event of {request} in flight")


def clean(rt):
    """Nothing held, nothing waiting, nothing in flight."""
    for store in rt.stores.values():
        for rec in store.values():
            if "held" in rec or "queue" in rec:
                return False
    return not rt.queue and not rt.waiting and not rt.waits_at


class HoldAndQueueTest(unittest.TestCase):
    def test_other_requests_wait_while_an_entity_is_suspended(self):
        rt = bank()
        r1 = rt.start(call("Account", "NL01", "transfer", 30, NL02))
        rt.deliver()  # transfer runs its first block at NL01 and suspends: NL01 is held
        self.assertEqual(record(rt, "Account", "NL01")["held"],
                         {"request": r1, "frames": 1})
        # a read-only method, a state request and a write all wait (no read-only bypass)
        r2 = rt.start(call("Account", "NL01", "get_balance"))
        r3 = rt.start({"op": "state", "class": "Account", "key": "NL01"})
        r4 = rt.start(call("Account", "NL01", "deposit", 5))
        for r in (r2, r3, r4):
            deliver_first(rt, r)
        waiting = record(rt, "Account", "NL01")["queue"]
        self.assertEqual([e["request"] for e in waiting], [r2, r3, r4])
        self.assertEqual(rt.replies, {})
        rt._drain()
        self.assertEqual(rt.result(r1), {"ok": True})
        # they ran after the transfer, in arrival order
        self.assertEqual(rt.result(r2), {"ok": 70})
        self.assertEqual(rt.result(r3)["ok"]["balance"], 70)
        self.assertEqual(rt.result(r4), {"ok": 75})
        self.assertTrue(clean(rt))

    def test_without_isolation_they_interleave(self):
        rt = bank(isolation=False)
        r1 = rt.start(call("Account", "NL01", "transfer", 30, NL02))
        rt.deliver()
        self.assertNotIn("held", record(rt, "Account", "NL01"))
        r2 = rt.start(call("Account", "NL01", "get_balance"))
        deliver_first(rt, r2)
        deliver_first(rt, r2)  # its reply reaches the egress while the transfer waits
        self.assertEqual(rt.result(r2), {"ok": 70})
        rt._drain()
        self.assertEqual(rt.result(r1), {"ok": True})

    def test_isolation_flag_from_the_environment(self):
        with mock.patch.dict(os.environ, {"SFGEN_ISOLATION": "off"}):
            self.assertFalse(support.runtime("bank").isolation)
            self.assertFalse(sf.Operator(support.fixture("bank").ENTITIES, "Account")
                             .isolation)
            self.assertTrue(support.runtime("bank", isolation=True).isolation)
        with mock.patch.dict(os.environ, {"SFGEN_ISOLATION": "on"}):
            self.assertTrue(support.runtime("bank").isolation)
        self.assertTrue(support.runtime("bank").isolation)

    def test_a_create_of_a_held_key_waits_and_keeps_the_bookkeeping(self):
        rt = bank()
        r1 = rt.start(call("Account", "NL01", "transfer", 30, NL02))
        rt.deliver()
        r2 = rt.start({"op": "create", "class": "Account", "args": ["NL01", "new"]})
        deliver_first(rt, r2)
        self.assertEqual(len(record(rt, "Account", "NL01")["queue"]), 1)
        rt._drain()
        self.assertEqual(rt.result(r1), {"ok": True})
        self.assertEqual(rt.result(r2), {"ok": {"$ref": ["Account", "NL01"]}})
        rec = record(rt, "Account", "NL01")
        self.assertEqual(rec["fields"]["owner"], "new")
        self.assertIn(r1, rec["seen"])
        self.assertIn(r2, rec["seen"])
        self.assertTrue(clean(rt))

    def test_an_error_releases_the_entity(self):
        rt = proxies("A")
        r1 = rt.start(call("Proxy", "A", "fail_remote", {"$ref": ["Counter", "c"]}))
        rt.deliver()
        self.assertEqual(record(rt, "Proxy", "A")["held"]["request"], r1)
        r2 = rt.start(call("Proxy", "A", "bump", {"$ref": ["Counter", "c"]}))
        deliver_first(rt, r2)
        rt._drain()
        self.assertEqual(rt.result(r1), {"error": "Boom"})
        self.assertEqual(rt.result(r2), {"ok": 101})
        self.assertEqual(rt.state("Proxy", "A")["ok"]["hits"], 2)
        self.assertTrue(clean(rt))


class ReentrancyTest(unittest.TestCase):
    def test_a_call_chain_re_enters_its_own_entities(self):
        rt = proxies("A", "B")
        depth = {"A": 0, "B": 0}
        r1 = rt.start(call("Proxy", "A", "ping", {"$ref": ["Proxy", "B"]}, 4))
        outsider = None
        answered = []
        while rt.queue:
            rt.deliver()
            for name in depth:
                held = record(rt, "Proxy", name).get("held")
                if held is not None and held["request"] == r1:
                    depth[name] = max(depth[name], held["frames"])
            for r in rt.replies:
                if r not in answered:
                    answered.append(r)
            if outsider is None and depth["A"] == 2:
                # another request arrives at A while the chain holds it twice
                outsider = rt.start(call("Proxy", "A", "bump", {"$ref": ["Counter", "c"]}))
                deliver_first(rt, outsider)
                self.assertEqual([e["request"] for e in record(rt, "Proxy", "A")["queue"]],
                                 [outsider])
        self.assertEqual(rt.result(r1), {"ok": "A<B<A<B<A"})  # as plain Python
        self.assertEqual(depth, {"A": 2, "B": 2})
        self.assertEqual(rt.result(outsider), {"ok": 1})
        self.assertEqual(answered, [r1, outsider])  # the outsider waited for the chain
        self.assertEqual(rt.state("Proxy", "A")["ok"]["hits"], 4)
        self.assertTrue(clean(rt))


class DeadlockTest(unittest.TestCase):
    def cycle(self, names):
        """Each proxy pings the next (in a ring) at once: a cycle of waits."""
        rt = proxies(*names)
        requests = [rt.start(call("Proxy", a, "ping", {"$ref": ["Proxy", b]}, 1))
                    for a, b in zip(names, names[1:] + names[:1])]
        for _ in requests:
            rt.deliver()  # every ping starts and holds its proxy
        rt._drain()
        return rt, requests

    def test_two_requests_the_younger_fails(self):
        rt, (old, young) = self.cycle(["A", "B"])
        self.assertEqual(rt.deadlocks, 1)
        self.assertEqual(rt.result(young), {"error": "Deadlock"})
        self.assertEqual(rt.error_message(),
                         f"deadlock: {old} waits for Proxy['B'] held by {young}; {young} "
                         f"waits for Proxy['A'] held by {old}; {young} is the younger "
                         f"request and fails (retry it)")
        self.assertEqual(rt.result(old), {"ok": "B<A"})
        # the younger's partial write stays (Proxy B counted its own ping); its call to A
        # never ran
        self.assertEqual(rt.state("Proxy", "A")["ok"]["hits"], 1)
        self.assertEqual(rt.state("Proxy", "B")["ok"]["hits"], 2)
        self.assertTrue(clean(rt))

    def test_three_requests(self):
        rt, (a, b, c) = self.cycle(["A", "B", "C"])
        self.assertEqual(rt.deadlocks, 1)
        self.assertEqual(rt.result(c), {"error": "Deadlock"})
        for part in (f"{a} waits for Proxy['B'] held by {b}",
                     f"{b} waits for Proxy['C'] held by {c}",
                     f"{c} waits for Proxy['A'] held by {a}"):
            self.assertIn(part, rt.error_message())
        self.assertEqual(rt.result(b), {"ok": "C<B"})
        self.assertEqual(rt.result(a), {"ok": "B<A"})
        self.assertTrue(clean(rt))

    def test_find_deadlocks(self):
        def rec(holder, *waiters, born=None):
            return {"fields": {}, "held": {"request": holder, "frames": 1},
                    "queue": [{"request": w, "to": ["E", holder], **(
                        {"born": born[w]} if born and w in born else {})}
                        for w in waiters]}
        # a chain (r1 waits for r2 waits for r3, which runs) is no deadlock
        self.assertEqual(sf.find_deadlocks([("x", rec("r2", "r1")), ("y", rec("r3", "r2"))]),
                         [])
        found = sf.find_deadlocks([("x", rec("r2", "r1", "r9")), ("y", rec("r1", "r2"))])
        self.assertEqual([(v, a) for v, a, _ in found], [("r2", "y")])
        # the age is "born" when the events carry it, else the number in the id
        born = {"r1": 50, "r2": 7}
        found = sf.find_deadlocks([("x", rec("r2", "r1", born=born)),
                                   ("y", rec("r1", "r2", born=born))])
        self.assertEqual([(v, a) for v, a, _ in found], [("r1", "x")])
        self.assertLess(sf.request_age("r9"), sf.request_age("r10"))
        self.assertEqual(sf.request_age("q"), (-1, "q"))

    def test_bounded_wait(self):
        ents = support.fixture("bank").ENTITIES
        op = sf.Operator(ents, "Account", isolation=True, wait_timeout=5)
        rt = bank()
        rt.start(call("Account", "NL01", "transfer", 30, NL02))
        rt.deliver()
        rec = record(rt, "Account", "NL01")  # held by r5
        ingress = sf.Ingress(ents)
        older = sf.loads(sf.dumps(ingress.call("q1", "Account", "NL01", "get_balance")))
        younger = sf.loads(sf.dumps(ingress.call("q9", "Account", "NL01", "get_balance")))
        self.assertEqual(op.process(older, rec, now=100.0), (rec, []))
        self.assertEqual(op.process(younger, rec, now=101.0), (rec, []))
        self.assertEqual([e["since"] for e in rec["queue"]], [100.0, 101.0])
        self.assertEqual(op.expire(rec, 105.0), (rec, []))
        rec, out = op.expire(rec, 106.5)
        # only the younger fails: the older may wait for a younger holder forever
        self.assertEqual([e["request"] for e in rec["queue"]], ["q1"])
        self.assertEqual(len(out), 1)
        self.assertEqual(out[0]["error"]["type"], "Deadlock")
        self.assertIn("waited 5.5 s for Account['NL01'] held by request r5",
                      out[0]["error"]["message"])
        self.assertEqual(out[0]["id"], "q9.1")


class DuplicateTest(unittest.TestCase):
    def test_every_event_twice_changes_nothing(self):
        case = os.path.join(support.CASES, "bank")
        if not support.have_shared():
            self.skipTest("shared/conformance not found")
        rt = support.runtime("bank")
        rt.duplicate = lambda: True
        n = rt.events
        results = rt.replay(support.case_calls(case))
        self.assertEqual(results, support.expected_results(case))
        self.assertGreater(len(rt.queue) + rt.events - n, 0)

    def test_a_late_duplicate_of_a_create_is_dropped(self):
        rt = support.runtime("bank")
        text = sf.dumps(sf.Ingress(rt.entities).create("q1", "Account", ["NL09", "x"]))
        self.assertEqual(rt.submit(text), {"ok": {"$ref": ["Account", "NL09"]}})
        rt.call("Account", "NL09", "deposit", [10])
        self.assertIsNone(rt.submit(text))  # no reply: the create was seen
        self.assertEqual(rt.call("Account", "NL09", "get_balance"), {"ok": 10})

    def test_ids_are_remembered_per_key_within_a_window(self):
        ents = support.fixture("bank").ENTITIES
        op = sf.Operator(ents, "Account", seen_limit=4)
        rec = {"fields": {"iban": "X", "owner": "o", "balance": 0, "history": []}}
        ingress = sf.Ingress(ents)
        first = sf.loads(sf.dumps(ingress.call("a", "Account", "X", "deposit", [1])))
        self.assertEqual(len(op.process(dict(first, stack=[]), rec)[1]), 1)
        self.assertEqual(op.process(dict(first, stack=[]), rec)[1], [])
        for i in range(5):
            op.process(sf.loads(sf.dumps(ingress.call(f"b{i}", "Account", "X", "deposit",
                                                      [1]))), rec)
            self.assertLessEqual(len(rec["seen"]), 4)
        self.assertNotIn("a", rec["seen"])  # forgotten: a very late duplicate would run
        self.assertEqual(rec["fields"]["balance"], 6)


class PersistenceTest(unittest.TestCase):
    def test_a_record_with_waiting_events_round_trips_through_json(self):
        rt = proxies("A")
        r1 = rt.start(call("Proxy", "A", "tuple_kind", {"$ref": ["Counter", "c"]}))
        rt.deliver()
        r2 = rt.start(call("Proxy", "A", "bump", {"$ref": ["Counter", "c"]}))
        deliver_first(rt, r2)
        doc = json.loads(json.dumps(rt.dump_state()))
        self.assertEqual(len(doc["in_flight"]), 1)
        a = next(r for cls, key, r in doc["entities"] if cls == "Proxy")
        self.assertEqual(a["held"], {"request": r1, "frames": 1})
        self.assertEqual(a["queue"][0]["args"], [{"$ref": ["Counter", "c"]}])
        self.assertIn(r2, a["seen"])
        # a fresh runtime (a restart) continues where the first stopped
        other = support.runtime("misc")
        other.load_state(sf.decode(json.dumps(doc)))
        self.assertEqual(list(other.waits_at), [r2])
        other._drain()
        self.assertEqual(other.result(r1), {"ok": "tuple:tuple"})
        self.assertEqual(other.result(r2), {"ok": 1})
        self.assertTrue(clean(other))
        # with isolation switched off meanwhile, the waiting events still run
        off = support.runtime("misc", isolation=False)
        off.load_state(sf.decode(json.dumps(doc)))
        off._drain()
        self.assertEqual(off.result(r1), {"ok": "tuple:tuple"})
        self.assertEqual(off.result(r2), {"ok": 1})
        self.assertTrue(clean(off))

    def test_decode_record_checks_the_bookkeeping(self):
        good = {"fields": {}, "held": {"request": "r1", "frames": 1}, "seen": {"r1": 2}}
        self.assertEqual(sf.decode_record(good), good)
        for bad in ({"fields": {}, "held": {"request": 1, "frames": 1}},
                    {"fields": {}, "queue": {}}, {"fields": {}, "queue": [{"id": 1}]},
                    {"fields": {}, "seen": {"r1": "x"}}, {"held": {}}):
            with self.subTest(record=bad), self.assertRaises(sf.MalformedEvent):
                sf.decode_record(bad)

    def test_born_travels_with_every_event_of_a_request(self):
        rt = bank()
        events = []
        rt.trace = lambda text, ev: events.append(json.loads(text))
        rt._send(rt.ingress.call("q7", "Account", "NL01", "transfer", [1, NL02], born=3.5))
        rt._drain()
        self.assertEqual({e.get("born") for e in events}, {3.5})
        self.assertEqual(rt.result("q7"), {"ok": True})
        with self.assertRaises(sf.MalformedEvent):
            sf.loads('{"id": "a.0", "request": "a", "born": "x", "kind": "state", '
                     '"to": ["Account", "NL01"]}')


class SimulationTest(unittest.TestCase):
    CALLS = [
        {"op": "create", "class": "Proxy", "args": ["A"]},
        {"op": "create", "class": "Proxy", "args": ["B"]},
        {"op": "create", "class": "Counter", "args": ["c"]},
        {"op": "barrier"},
        call("Proxy", "A", "ping", {"$ref": ["Proxy", "B"]}, 3),
        call("Proxy", "B", "ping", {"$ref": ["Proxy", "A"]}, 2),
        call("Proxy", "A", "twice", {"$ref": ["Counter", "c"]}),
        call("Counter", "c", "add", 5),
        {"op": "barrier"},
        {"op": "state", "class": "Proxy", "key": "A"},
        {"op": "state", "class": "Counter", "key": "c"},
    ]

    def run_sim(self, seed, **options):
        events = []
        sim = local_runtime.Simulation(support.fixture("misc").ENTITIES, seed=seed,
                                       trace=lambda text, ev: events.append(text), **options)
        results = sim.replay(self.CALLS)
        return results, sim.stats, events, sim.rt.dump_state()

    def test_the_same_seed_gives_the_same_run(self):
        for options in ({}, {"duplicate": 0.3, "crash": 0.2}):
            a = self.run_sim(11, **options)
            self.assertEqual(a, self.run_sim(11, **options))
            self.assertNotEqual(a[2], self.run_sim(12, **options)[2])
            self.assertEqual(a[1]["no_reply"], 0)

    def test_duplicates_and_crashes_happen_and_change_no_result(self):
        base = self.run_sim(5)
        noisy = self.run_sim(5, duplicate=0.5, crash=0.3)
        self.assertGreater(noisy[1]["duplicates"], 0)
        self.assertGreater(noisy[1]["crashes"], 0)
        for results, stats, _, _ in (base, noisy):
            self.assertEqual(results[:3], [{"ok": {"$ref": [c, k]}} for c, k in (
                ("Proxy", "A"), ("Proxy", "B"), ("Counter", "c"))])
            for r in results[3:5]:  # the pings: a result, or Deadlock for the younger
                self.assertTrue("ok" in r or r == {"error": "Deadlock"}, r)
            self.assertNotEqual(results[3], {"error": "Deadlock"})
            self.assertEqual(results[-1]["ok"]["n"], 2 + 5)  # twice: 2 adds, and add(5)
            self.assertEqual(stats["no_reply"], 0)

    def test_some_seed_deadlocks_and_nothing_hangs(self):
        outcomes = set()
        for seed in range(30):
            results, stats, _, _ = self.run_sim(seed, duplicate=0.2, crash=0.1)
            self.assertEqual(stats["no_reply"], 0)
            outcomes.add(json.dumps(results[4]))
            self.assertEqual(stats["deadlocks"], results[4] == {"error": "Deadlock"})
        self.assertIn('{"error": "Deadlock"}', outcomes)
        self.assertGreater(len(outcomes), 1)


if __name__ == "__main__":
    unittest.main()
