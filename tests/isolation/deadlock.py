"""The deadlock policy on a two-entity call cycle (tests/isolation/cycle/app.py).

    python3 deadlock.py PROJECT [--seeds N]

PROJECT is the cycle app compiled for the local target (tests/isolation.rs generates it).

1. Forced: Left.ping(r) (request r3) and Right.ping(l) (request r4) each start and hold
   their entity before either call arrives; both calls then wait, which closes a cycle in
   the wait-for graph. The younger request, r4, fails with Deadlock at its call site; its
   partial write (Right.pings += 1) stays; r3 completes; nothing stays held or queued.
2. Random: scenario.json replayed with the deterministic simulation for N seeds, with
   duplicates and crashes: every run ends (no hang), never both pings fail, a failed ping
   is always the younger request, and the counters agree with the results.
"""
import argparse
import json
import os
import sys


def forced(entities, local_runtime):
    rt = local_runtime.LocalRuntime(entities.ENTITIES)
    assert rt.create("Left", ["l"]) == {"ok": {"$ref": ["Left", "l"]}}
    assert rt.create("Right", ["r"]) == {"ok": {"$ref": ["Right", "r"]}}
    older = rt.start({"op": "call", "class": "Left", "key": "l", "method": "ping",
                      "args": [{"$ref": ["Right", "r"]}]})
    younger = rt.start({"op": "call", "class": "Right", "key": "r", "method": "ping",
                        "args": [{"$ref": ["Left", "l"]}]})
    rt.deliver(0)  # Left.ping runs, holds l, sends Right.touch
    rt.deliver(0)  # Right.ping runs, holds r, sends Left.touch
    kinds = [json.loads(t)["method"] for t in rt.queue]
    assert kinds == ["touch", "touch"], kinds
    rt.deliver(0)  # Right.touch of the older waits at r (held by the younger)
    assert rt.deadlocks == 0
    rt.deliver(0)  # Left.touch of the younger waits at l: a cycle; the younger fails
    assert rt.deadlocks == 1, rt.deadlocks
    rt._drain()
    assert rt.result(younger) == {"error": "Deadlock"}
    message = rt.error_message()
    assert rt.result(older) == {"ok": 1}, "the older request completes"
    for part in (f"{older} waits for Right['r'] held by {younger}",
                 f"{younger} waits for Left['l'] held by {older}",
                 f"{younger} is the younger request and fails"):
        assert part in message, message
    left = rt.state("Left", "l")["ok"]
    right = rt.state("Right", "r")["ok"]
    # the younger's partial write stays (as after any exception); its call never ran
    assert left == {"name": "l", "pings": 1, "touches": 0}, left
    assert right == {"name": "r", "pings": 1, "touches": 1}, right
    for store in rt.stores.values():
        for record in store.values():
            assert "held" not in record and "queue" not in record, record
    assert not rt.waiting
    print(f"forced: {younger} failed with Deadlock ({message}); {older} returned 1")


def random_runs(entities, local_runtime, seeds):
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "cycle", "scenario.json")) as f:
        calls = json.load(f)["calls"]
    deadlocks = 0
    first = None
    for seed in range(seeds):
        for duplicate, crash in ((0.0, 0.0), (0.2, 0.05)):
            sim = local_runtime.Simulation(entities.ENTITIES, seed=seed, duplicate=duplicate,
                                           crash=crash)
            results = sim.replay(calls)
            where = f"seed {seed} (duplicate {duplicate}, crash {crash}): {results}"
            assert {"error": "NoReply"} not in results, where
            left_ping, right_ping = results[2], results[3]
            left, right = results[4]["ok"], results[5]["ok"]
            assert left["pings"] == 1 and right["pings"] == 1, where
            assert left_ping != {"error": "Deadlock"}, "the older request never fails: " + where
            if right_ping == {"error": "Deadlock"}:
                deadlocks += 1
                assert sim.stats["deadlocks"] == 1, where
                assert left_ping == {"ok": 1} and left["touches"] == 0, where
                assert right["touches"] == 1, where
                if first is None:
                    first = seed
            else:
                assert sim.stats["deadlocks"] == 0, where
                assert "ok" in right_ping and "ok" in left_ping, where
                assert left["touches"] == 1 and right["touches"] == 1, where
    assert deadlocks > 0, "no seed deadlocked: the test does not exercise the policy"
    print(f"random: {2 * seeds} runs, {deadlocks} deadlocked (the first at seed {first}); "
          f"no hang, the younger request failed every time")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("project")
    parser.add_argument("--seeds", type=int, default=200)
    args = parser.parse_args(argv)
    sys.path.insert(0, os.path.abspath(args.project))
    import entities  # (the generated project, found at run time)
    import local_runtime

    forced(entities, local_runtime)
    random_runs(entities, local_runtime, args.seeds)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
