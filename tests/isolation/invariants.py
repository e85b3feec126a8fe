"""The bank invariants under concurrency, over many seeds, in one process.

    python3 invariants.py PROJECT [--seeds N] [--first S] [--verbose]

PROJECT is tests/isolation/bank/app.py compiled for the local target (tests/isolation.rs
generates it). For every seed a small random workload is built (3-4 accounts, then 10-20
transfers, callback transfers, withdrawals, deposits and balance reads submitted at once,
then every account's state) and replayed with the deterministic simulation of the local
runtime (local_runtime.Simulation) in several configurations:

    on         isolation on, events in random order
    on+dup     the same, every event delivered twice with probability 0.2
    on+crash   the same, the runtime restarted from its persisted state after an event
               with probability 0.05
    on+both    duplicates and crashes together
    off        isolation switched off (the debug flag): the races must show

The invariants checked on every run:

- every request gets a reply (no hang), and only the outcomes the app allows: a bool or
  Deadlock for transfers, a balance or InsufficientFunds for withdrawals, ...;
- no balance is negative, in a result or at the end;
- money is conserved: the final total is the initial one plus successful deposits minus
  successful withdrawals;
- every account's final balance is its initial balance plus what the successful
  operations (as their results report them) moved in and out, and its `received` counter
  counts the successful callback transfers into it.

Exit status 0 when every run with isolation on is clean and the runs with isolation off
show violations (the test sees the race); 1 otherwise.
"""
import argparse
import os
import random
import sys
import time

CONFIGS = (  # name, isolation, duplicate, crash
    ("on", True, 0.0, 0.0),
    ("on+dup", True, 0.2, 0.0),
    ("on+crash", True, 0.0, 0.05),
    ("on+both", True, 0.2, 0.05),
    ("off", False, 0.0, 0.0),
)


def workload(seed):
    """(initial balances, scenario calls) of one seed."""
    rng = random.Random(f"bank-workload-{seed}")
    ibans = [f"A{i}" for i in range(rng.choice((3, 4)))]
    initial = {iban: rng.randint(20, 120) for iban in ibans}
    calls = [{"op": "create", "class": "Account", "args": [iban, initial[iban]]}
             for iban in ibans]
    calls.append({"op": "barrier"})
    for _ in range(rng.randint(10, 20)):
        src = rng.choice(ibans)
        dst = rng.choice([i for i in ibans if i != src])
        kind = rng.choices(("transfer", "transfer_checked", "withdraw", "deposit",
                            "get_balance"), weights=(35, 25, 20, 10, 10))[0]
        ref = {"$ref": ["Account", dst]}
        if kind in ("transfer", "transfer_checked"):
            args = [rng.randint(1, 80), ref]
        elif kind == "withdraw":
            args = [rng.randint(1, 60)]
        elif kind == "deposit":
            args = [rng.randint(1, 30)]
        else:
            args = []
        calls.append({"op": "call", "class": "Account", "key": src, "method": kind,
                      "args": args})
    calls.append({"op": "barrier"})
    calls += [{"op": "state", "class": "Account", "key": iban} for iban in ibans]
    return initial, calls


def violations(initial, calls, results):
    """What is wrong with one run's results (an empty list when nothing)."""
    bad = []
    steps = [c for c in calls if c["op"] != "barrier"]
    if len(results) != len(steps):
        return [f"{len(results)} results for {len(steps)} calls"]
    expected = dict(initial)
    received = dict.fromkeys(initial, 0)
    deposits = withdrawals = 0
    final = {}
    for i, (step, result) in enumerate(zip(steps, results)):
        what = f"call {i} {step.get('method', step['op'])}{step.get('args', '')}"
        if result == {"error": "NoReply"}:
            bad.append(f"{what}: no reply (a hang)")
            continue
        op = step["op"]
        if op == "create":
            if "ok" not in result:
                bad.append(f"{what}: {result}")
            continue
        if op == "state":
            if "ok" not in result:
                bad.append(f"{what}: {result}")
                continue
            final[step["key"]] = result["ok"]
            continue
        method, src, args = step["method"], step["key"], step["args"]
        if method in ("transfer", "transfer_checked"):
            if result == {"error": "Deadlock"}:
                continue  # failed at its call, before it wrote anything
            if "ok" not in result or type(result["ok"]) is not bool:
                bad.append(f"{what}: {result}")
                continue
            if result["ok"]:
                dst = args[1]["$ref"][1]
                expected[src] -= args[0]
                expected[dst] += args[0]
                if method == "transfer_checked":
                    received[dst] += 1
        elif method == "withdraw":
            if result == {"error": "InsufficientFunds"}:
                continue
            if "ok" not in result or type(result["ok"]) is not int:
                bad.append(f"{what}: {result}")
                continue
            if result["ok"] < 0:
                bad.append(f"{what}: left a negative balance {result['ok']}")
            expected[src] -= args[0]
            withdrawals += args[0]
        elif method in ("deposit", "get_balance"):
            if "ok" not in result or type(result["ok"]) is not int:
                bad.append(f"{what}: {result}")
                continue
            if result["ok"] < 0:
                bad.append(f"{what}: saw a negative balance {result['ok']}")
            if method == "deposit":
                expected[src] += args[0]
                deposits += args[0]
    if set(final) != set(initial):
        return [*bad, "the final states are missing"]
    total = sum(f["balance"] for f in final.values())
    want = sum(initial.values()) + deposits - withdrawals
    if total != want:
        bad.append(f"money not conserved: total {total}, expected {want}")
    for iban, f in sorted(final.items()):
        if f["balance"] < 0:
            bad.append(f"{iban} ends negative: {f['balance']}")
        if f["balance"] != expected[iban]:
            bad.append(f"{iban} ends with {f['balance']}, the results say {expected[iban]}")
        if f["received"] != received[iban]:
            bad.append(f"{iban} received {f['received']} callback transfers, the results "
                       f"say {received[iban]}")
    return bad


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("project")
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, os.path.abspath(args.project))
    import entities  # (the generated project, found at run time)
    import local_runtime

    started = time.perf_counter()
    summary = {}
    examples = {}
    for name, isolation, duplicate, crash in CONFIGS:
        runs = bad_runs = 0
        stats = {}
        for seed in range(args.first, args.first + args.seeds):
            initial, calls = workload(seed)
            sim = local_runtime.Simulation(entities.ENTITIES, seed=seed, duplicate=duplicate,
                                           crash=crash, isolation=isolation)
            results = sim.replay(calls)
            for k, v in sim.stats.items():
                stats[k] = stats.get(k, 0) + v
            found = violations(initial, calls, results)
            runs += 1
            if found:
                bad_runs += 1
                examples.setdefault(name, (seed, found))
                if args.verbose:
                    print(f"{name} seed {seed}: {'; '.join(found)}")
        summary[name] = (runs, bad_runs, stats)
        detail = " ".join(f"{k}={v}" for k, v in stats.items())
        print(f"{name:9} {runs} seeds, {bad_runs} with violations ({detail})")
    for name, (seed, found) in examples.items():
        print(f"  e.g. {name}, seed {seed}: {'; '.join(found[:3])}")
    print(f"({time.perf_counter() - started:.1f} s)")
    clean = all(bad == 0 for name, (_, bad, _) in summary.items() if name != "off")
    raced = summary["off"][1] > 0
    if not clean:
        print("FAIL: violations with isolation on")
    if not raced:
        print("FAIL: no violation with isolation off: the test does not see the race")
    return 0 if clean and raced else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
