"""Benchmarks of the runtime core and the local runtime (not a test).

    python3 tests/runtime/bench.py [--quick]

(a) requests/s of simple workloads through LocalRuntime (every hop JSON-encoded),
(b) cost of a plain (unsplit) entity call through the runtime vs a direct Python method
    call, also through the dispatch core alone (Operator.process without the wire),
(c) bytes of the events at the suspensions of shop's User.buy_item.
"""
import json
import sys
import time
import timeit

import support
from support import sfgen_runtime as sf


def per_second(fn, n):
    start = time.perf_counter()
    fn(n)
    return n / (time.perf_counter() - start)


def best_time(stmt, number, repeat=5):
    """Seconds per call, best of `repeat` runs (the least disturbed)."""
    return min(timeit.repeat(stmt, number=number, repeat=repeat)) / number


def bench_throughput(n):
    bank = support.fixture("bank")
    rt = support.runtime("bank")
    ibans = [f"NL{i:04d}" for i in range(100)]
    for iban in ibans:
        rt.create("Account", [iban, "owner"])
        rt.call("Account", iban, "deposit", [10**9])

    def deposits(n):
        for i in range(n):
            rt.call("Account", ibans[i % 100], "deposit", [1])

    def transfers(n):
        for i in range(n):
            to = {"$ref": ["Account", ibans[(i + 1) % 100]]}
            rt.call("Account", ibans[i % 100], "transfer", [1, to])

    def creates(n):
        for i in range(n):
            rt.create("Account", [f"X{i}", "o"])

    print("(a) requests/s through LocalRuntime (4 partitions, JSON on every hop)")
    print(f"    deposit  (unsplit, 2 events): {per_second(deposits, n):10,.0f} req/s")
    print(f"    transfer (split, 4 events):   {per_second(transfers, n // 2):10,.0f} req/s")
    print(f"    create   (2 events):          {per_second(creates, n // 2):10,.0f} req/s")
    assert bank  # loaded


def bench_call_cost(n):
    bank = support.fixture("bank")
    rt = support.runtime("bank")
    rt.create("Account", ["NL01", "ann"])
    obj = bank.Account("NL01", "ann")

    direct = best_time(lambda: obj.deposit(1), n * 10)
    through = best_time(lambda: rt.call("Account", "NL01", "deposit", [1]), n)

    # the dispatch core alone: a decoded event in, one JSON-ready event out, no wire
    # (every event a new request: the operator drops ids it has seen)
    op = sf.Operator(bank.ENTITIES, "Account")
    record = {"fields": {"iban": "NL01", "owner": "ann", "balance": 0, "history": []}}
    ingress = sf.Ingress(bank.ENTITIES)
    texts = iter([sf.dumps(ingress.call(f"w{i}", "Account", "NL01", "deposit", [1]))
                  for i in range(n * 5)])
    requests = iter(range(10**9))

    def core():
        r = f"c{next(requests)}"
        ev = {"id": f"{r}.0", "request": r, "kind": "call", "to": ["Account", "NL01"],
              "method": "deposit", "args": [1], "kwargs": {}, "stack": []}
        op.process(ev, record)

    def core_and_wire():
        out = op.process(sf.loads(next(texts)), record)[1][0]
        sf.client_result(sf.loads(sf.dumps(out)))

    core_t = best_time(core, n)
    wire_t = best_time(core_and_wire, n)  # (5 runs of n: the n * 5 texts)
    print("(b) one plain call, Account.deposit(1)")
    print(f"    direct Python method call:            {direct * 1e6:8.3f} us")
    print(f"    dispatch core only (Operator.process): {core_t * 1e6:8.3f} us"
          f"  = {core_t / direct:6.1f} x direct")
    print(f"    core + 2 wire hops (loads/dumps):      {wire_t * 1e6:8.3f} us"
          f"  = {wire_t / direct:6.1f} x direct")
    print(f"    LocalRuntime.call (ingress..egress):   {through * 1e6:8.3f} us"
          f"  = {through / direct:6.1f} x direct")


def bench_event_size():
    events = []
    rt = support.runtime("shop", trace=lambda text, ev: events.append(text))
    rt.create("Item", ["apple", 30])
    rt.call("Item", "apple", "update_stock", [10])
    rt.create("User", ["alice"])
    events.clear()
    rt.call("User", "alice", "buy_item", [3, {"$ref": ["Item", "apple"]}])
    print("(c) events of User.buy_item(3, apple), bytes (UTF-8 JSON)")
    for text in events:
        ev = json.loads(text)
        what = ev["kind"] + (" " + ev["method"] if ev["kind"] == "call" else "")
        note = "  <- suspension" if ev["stack"] and ev["kind"] == "call" else ""
        print(f"    {len(text.encode()):5d}  {what:<20} to {ev['to']}{note}")
    suspension = next(t for t in events if json.loads(t)["stack"])
    print(f"    at the first suspension: {suspension}")


def main(argv):
    n = 2000 if "--quick" in argv else 20000
    bench_throughput(n)
    bench_call_cost(n)
    bench_event_size()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
