"""The cost of per-entity isolation on the hotel mix (not a test).

    python3 tests/runtime/bench_hotel.py [--quick] [--requests N] [--batch B]
                                         [--searches S] [--hotels H] [--project DIR]

Compiles examples/hotel with sfgen for the local target (or uses --project DIR), creates
H hotels, 20 users and S Search entities (the hotels added to each), then runs the mix of
the DeathStar hotel benchmark: 60 % Search.nearby, 39 % Search.recommend, 0.5 %
User.login, 0.5 % User.reserve, on the S searches and random hotels and users (seeded).
Requests are submitted B at a time (all B in flight together) and run to quiescence in the
local runtime's FIFO order, with isolation on and off in the same process (alternating,
best of several runs), and it prints:

- requests/s of the local runtime (CPU cost: the bookkeeping, queueing and releasing that
  isolation adds; every hop JSON-encoded as always), and their ratio;
- a model of a distributed engine: in each round every entity processes at most one event
  (entities work in parallel, an entity serially; one hop per round): the rounds the
  workload takes, and the ratio. With one Search entity every nearby / recommend request
  holds it for all its hops (no read-only bypass, see docs/runtime.md), so this shows the
  latency cost of serialising them; --searches spreads the load.
"""
import argparse
import collections
import gc
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MIX = (("nearby", 600), ("recommend", 390), ("login", 5), ("reserve", 5))  # per 1000


def sfgen_binary():
    for p in (os.environ.get("SFGEN"), os.path.join(REPO, "target", "release", "sfgen"),
              os.path.join(REPO, "target", "debug", "sfgen")):
        if p and os.path.isfile(p):
            return [p]
    return ["cargo", "run", "--quiet", "--manifest-path", os.path.join(REPO, "Cargo.toml"),
            "--"]


def compile_hotel(out):
    cmd = [*sfgen_binary(), os.path.join(REPO, "examples", "hotel", "app.py"), "--out", out,
           "--target", "local", "--force"]
    subprocess.run(cmd, check=True, capture_output=True)


def workload(n, searches, hotels, seed=1):
    rng = random.Random(seed)
    names, weights = zip(*MIX)
    steps = []
    for _ in range(n):
        kind = rng.choices(names, weights)[0]
        lat, lon = rng.uniform(0, 10), rng.uniform(0, 10)
        search = f"s{rng.randrange(searches)}"
        user = f"u{rng.randrange(20)}"
        if kind == "nearby":
            day = rng.randrange(20)
            steps.append(("Search", search, "nearby", [lat, lon, day, day + 2]))
        elif kind == "recommend":
            steps.append(("Search", search, "recommend",
                          [rng.choice(("dis", "rate", "price")), lat, lon]))
        elif kind == "login":
            steps.append(("User", user, "login", ["pw"]))
        else:
            day = rng.randrange(20)
            hotel = {"$ref": ["Hotel", f"h{rng.randrange(hotels)}"]}
            steps.append(("User", user, "reserve", ["pw", hotel, day, day + 1, 1]))
    return [{"op": "call", "class": c, "key": k, "method": m, "args": a}
            for c, k, m, a in steps]


def populate(rt, searches, hotels):
    rng = random.Random(0)
    for s in range(searches):
        rt.create("Search", [f"s{s}"])
    for h in range(hotels):
        rt.create("Hotel", [f"h{h}", f"Hotel {h}", rng.uniform(0, 10), rng.uniform(0, 10),
                            rng.uniform(50, 300), rng.uniform(1, 5), 5])
        for s in range(searches):
            rt.call("Search", f"s{s}", "add_hotel", [{"$ref": ["Hotel", f"h{h}"]}])
    for u in range(20):
        rt.create("User", [f"u{u}", "pw"])


def run_batches(rt, steps, batch):
    """Submit `batch` requests at once, run to quiescence, repeat; -> results."""
    results = []
    for i in range(0, len(steps), batch):
        requests = [rt.start(step) for step in steps[i:i + batch]]
        rt._drain()
        results += [rt.result(r) for r in requests]
    return results


def rounds(local_runtime, entities, steps, batch, searches, hotels, isolation):
    """The distributed-engine model: rounds in which every entity processes at most one
    event (the oldest in flight for it), all entities in parallel."""
    rt = local_runtime.LocalRuntime(entities.ENTITIES, isolation=isolation)
    populate(rt, searches, hotels)
    total = 0
    for i in range(0, len(steps), batch):
        requests = [rt.start(step) for step in steps[i:i + batch]]
        while rt.queue:
            total += 1
            busy = set()
            now = list(rt.queue)
            rt.queue.clear()
            later = collections.deque()
            for text in now:
                ev = json.loads(text)
                to = json.dumps(ev.get("to"))
                if to in busy:
                    later.append(text)
                    continue
                busy.add(to)
                rt.queue.append(text)
                rt.deliver(len(rt.queue) - 1)
            rt.queue.extendleft(reversed(later))
        for r in requests:
            rt.result(r)
    return total


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--requests", type=int)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--searches", type=int, default=1)
    parser.add_argument("--hotels", type=int, default=10)
    parser.add_argument("--repeat", type=int)
    parser.add_argument("--project", metavar="DIR")
    args = parser.parse_args(argv)
    n = args.requests or (300 if args.quick else 3000)
    repeat = args.repeat or (2 if args.quick else 5)

    tmp = None
    project = args.project
    if project is None:
        tmp = tempfile.mkdtemp(prefix="sfgen-bench-hotel-")
        project = os.path.join(tmp, "hotel")
        compile_hotel(project)
    sys.path.insert(0, os.path.abspath(project))
    try:
        import entities  # (the generated project)
        import local_runtime

        steps = workload(n, args.searches, args.hotels)
        best = {}
        errors = {}
        modes = (("on", True), ("off", False))
        for i in range(repeat):
            for mode, isolation in modes if i % 2 == 0 else modes[::-1]:
                rt = local_runtime.LocalRuntime(entities.ENTITIES, isolation=isolation)
                populate(rt, args.searches, args.hotels)
                gc.collect()
                events = rt.events
                start = time.process_time()
                results = run_batches(rt, steps, args.batch)
                rate = n / (time.process_time() - start)
                best[mode] = max(best.get(mode, 0.0), rate)
                errors[mode] = sum("error" in r for r in results)
                best[mode + " events"] = rt.events - events
        print(f"hotel mix: {n} requests, {args.batch} in flight at a time, "
              f"{args.searches} Search, {args.hotels} hotels (best of {repeat}, CPU time)")
        for mode in ("on", "off"):
            print(f"  isolation {mode:3}: {best[mode]:8.0f} requests/s  "
                  f"({best[mode + ' events'] / n:.1f} events/request, "
                  f"{errors[mode]} errors)")
        print(f"  ratio on/off: {best['on'] / best['off']:.3f} "
              f"(isolation costs {100 * (1 - best['on'] / best['off']):.1f} % of throughput)")
        r_on = rounds(local_runtime, entities, steps, args.batch, args.searches, args.hotels,
                      True)
        r_off = rounds(local_runtime, entities, steps, args.batch, args.searches, args.hotels,
                       False)
        print(f"  distributed model (rounds, one event per entity per round): on {r_on}, "
              f"off {r_off}, throughput ratio on/off {r_off / r_on:.3f}")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
