"""Command-line client of an app compiled by sfgen for the local target.

    python3 client.py [--state FILE] create CLASS ARGS...
    python3 client.py [--state FILE] call CLASS KEY METHOD ARGS... [--kwargs JSON]
    python3 client.py [--state FILE] state CLASS KEY
    python3 client.py [--state FILE] replay SCENARIO.json
    python3 client.py replay SCENARIO.json --concurrent [--seed N] [--duplicate P] [--crash P]

ARGS and KEY are JSON values (a reference is {"$ref": [CLASS, KEY]}); text that is not
valid JSON is taken as a plain string. create, call and state print {"ok": VALUE} or
{"error": "NAME"} (the error's message goes to stderr) and exit with 0 or 1; replay prints
the results document of the conformance oracle. Without --state, entities live only for
one invocation; with it, all entity state is kept in the JSON file FILE between them.

replay --concurrent is a deterministic simulation of a distributed run: the calls between
two {"op": "barrier"} steps are submitted at once and all their events are delivered in a
random order drawn from --seed; --duplicate P delivers each event twice with probability
P; --crash P restarts the runtime from its persisted state after an event with
probability P. The same seed and options give the same output. --isolation off (or the
environment variable SFGEN_ISOLATION=off) switches per-entity isolation off: a debugging
aid that lets requests interleave at suspended entities.
"""
import argparse
import os
import sys

import entities
import local_runtime
import sfgen_client


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="client.py", description=__doc__.strip().splitlines()[0])
    parser.add_argument("--state", metavar="FILE",
                        help="keep entity state in this JSON file between invocations")
    isolation_help = ("per-entity isolation (default: on, unless SFGEN_ISOLATION=off); off "
                      "is for debugging only")
    parser.add_argument("--isolation", choices=("on", "off"), help=isolation_help)
    common = argparse.ArgumentParser(add_help=False)  # also accepted after the command
    common.add_argument("--isolation", choices=("on", "off"), help=isolation_help,
                        default=argparse.SUPPRESS)
    p = sfgen_client.add_commands(parser, parents=[common])["replay"]
    p.add_argument("--concurrent", action="store_true",
                   help="submit the calls between barriers at once, events in random order")
    p.add_argument("--seed", type=int, default=0, metavar="N",
                   help="seed of the random order (--concurrent; default 0)")
    p.add_argument("--duplicate", type=probability, default=0.0, metavar="P",
                   help="deliver each event a second time with probability P (--concurrent)")
    p.add_argument("--crash", type=probability, default=0.0, metavar="P",
                   help="restart the runtime from its persisted state after an event with "
                        "probability P (--concurrent)")
    p.add_argument("--stats", action="store_true",
                   help="print what the simulation did (events, duplicates, crashes, "
                        "deadlocks) to stderr")
    args = parser.parse_args(argv)
    if args.command == "replay" and not args.concurrent and (
            args.duplicate or args.crash or args.seed):
        parser.error("--seed, --duplicate and --crash need --concurrent")
    return args


def probability(text):
    p = float(text)
    if not 0.0 <= p <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a probability (0..1)")
    return p


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    isolation = None if args.isolation is None else args.isolation == "on"
    rt = local_runtime.LocalRuntime(entities.ENTITIES, isolation=isolation)
    if args.state:
        problem = None
        if os.path.exists(args.state):
            try:
                rt.load(args.state)
            except (OSError, ValueError, TypeError, KeyError) as exc:
                problem = f"cannot read the state file {args.state}: {exc}"
        elif not os.path.isdir(os.path.dirname(os.path.abspath(args.state))):
            problem = f"cannot keep state in {args.state}: its folder does not exist"
        if problem:  # (before anything runs: its state would be lost)
            print(f"client.py: {problem}", file=sys.stderr)
            return 2

    status = 0
    if args.command == "replay" and args.concurrent:
        sim = local_runtime.Simulation(entities.ENTITIES, seed=args.seed,
                                       duplicate=args.duplicate, crash=args.crash,
                                       isolation=isolation)
        if args.state and os.path.exists(args.state):
            sim.rt.load(args.state)
        results = sim.replay(sfgen_client.read_scenario(args.scenario))
        rt = sim.rt
        if args.stats:
            print(" ".join(f"{k}={v}" for k, v in sim.stats.items()), file=sys.stderr)
        if sim.stats["no_reply"]:
            print(f"{sim.stats['no_reply']} requests got no reply", file=sys.stderr)
            status = 1
        sys.stdout.write(sfgen_client.results_document(results))
    else:
        status = sfgen_client.run_command(rt, args, run=rt.step)

    if args.state:
        rt.save(args.state)
    return status


if __name__ == "__main__":
    sys.exit(main())
