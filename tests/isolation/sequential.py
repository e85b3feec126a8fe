"""Conformance cases under the deterministic simulation: barriers make it sequential.

    python3 sequential.py CHECK_PY [PROJECT CASE_DIR]... [--seeds N]

For every (PROJECT, CASE_DIR) pair (the case compiled for the local target, and the case
folder with scenario.json and expected.json), the scenario is replayed in one process with
a barrier after every call, so each call runs alone, but its events arrive through the
simulated network: for seeds 0..N-1, with duplicates (0.3) and crashes (0.1) and without.
The results must be expected.json's (compared as CHECK_PY compares them).
"""
import argparse
import importlib.util
import json
import os
import sys

CONFIGS = ((0.0, 0.0), (0.3, 0.0), (0.0, 0.1), (0.3, 0.1))  # duplicate, crash


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_case(same, project, case_dir, seeds):
    sys.path.insert(0, project)
    for m in ("entities", "sfgen_runtime", "local_runtime"):
        sys.modules.pop(m, None)
    try:
        import entities  # (the generated project)
        import local_runtime
    finally:
        sys.path.pop(0)
    with open(os.path.join(case_dir, "scenario.json")) as f:
        calls = json.load(f)["calls"]
    with open(os.path.join(case_dir, "expected.json")) as f:
        expected = json.load(f)["results"]
    alone = []
    for step in calls:
        alone += [step, {"op": "barrier"}]
    failures = []
    stats = {}
    for seed in range(seeds):
        for duplicate, crash in CONFIGS:
            # each run is a fresh start of the app, as the oracle's is (a module's state,
            # e.g. a mutable default value, must not carry over from the previous run)
            app = load("entities", os.path.join(project, "entities.py"))
            sim = local_runtime.Simulation(app.ENTITIES, seed=seed, duplicate=duplicate,
                                           crash=crash)
            results = sim.replay(alone)
            for k, v in sim.stats.items():
                stats[k] = stats.get(k, 0) + v
            bad = [i for i, (got, want) in enumerate(zip(results, expected))
                   if not same(got, want)]
            if bad or len(results) != len(expected):
                i = bad[0] if bad else min(len(results), len(expected))
                failures.append(f"seed {seed} duplicate {duplicate} crash {crash}: call {i}: "
                                f"got {results[i] if i < len(results) else '<missing>'}, "
                                f"expected {expected[i] if i < len(expected) else '<none>'}")
    return failures, stats


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("check_py")
    parser.add_argument("pairs", nargs="+")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args(argv)
    if len(args.pairs) % 2:
        parser.error("give PROJECT CASE_DIR pairs")
    same = load("sfgen_check", args.check_py).same
    failed = 0
    for project, case_dir in zip(args.pairs[::2], args.pairs[1::2]):
        failures, stats = check_case(same, os.path.abspath(project), case_dir, args.seeds)
        name = os.path.basename(os.path.normpath(case_dir))
        detail = " ".join(f"{k}={v}" for k, v in stats.items())
        print(f"{name}: {len(CONFIGS) * args.seeds} runs, {len(failures)} failed ({detail})")
        for f in failures[:3]:
            print(f"  {f}")
        failed += bool(failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
