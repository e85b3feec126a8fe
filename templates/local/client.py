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
import json
import os
import sys

import entities
import local_runtime


def parse_value(text):
    """A JSON value, or the text itself when it is not valid JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return text


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
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("create", parents=[common],
                       help="create an entity: CLASS ARGS...")
    p.add_argument("cls", metavar="CLASS")
    p.add_argument("args", nargs="*", metavar="ARG", type=parse_value)
    p.add_argument("--kwargs", type=json.loads, default={}, metavar="JSON")

    p = sub.add_parser("call", parents=[common],
                       help="call a method: CLASS KEY METHOD ARGS...")
    p.add_argument("cls", metavar="CLASS")
    p.add_argument("key", metavar="KEY", type=parse_value)
    p.add_argument("method", metavar="METHOD")
    p.add_argument("args", nargs="*", metavar="ARG", type=parse_value)
    p.add_argument("--kwargs", type=json.loads, default={}, metavar="JSON")

    p = sub.add_parser("state", parents=[common],
                       help="print every field of an entity: CLASS KEY")
    p.add_argument("cls", metavar="CLASS")
    p.add_argument("key", metavar="KEY", type=parse_value)

    p = sub.add_parser("replay", parents=[common],
                       help="replay a conformance scenario.json")
    p.add_argument("scenario", metavar="SCENARIO.json")
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


def results_document(results):
    """The results document, formatted exactly as the conformance oracle writes it."""
    lines = [json.dumps(r, sort_keys=True) for r in results]
    return '{"results": [\n' + ",\n".join(lines) + "\n]}\n"


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    isolation = None if args.isolation is None else args.isolation == "on"
    rt = local_runtime.LocalRuntime(entities.ENTITIES, isolation=isolation)
    if args.state and os.path.exists(args.state):
        rt.load(args.state)

    status = 0
    if args.command == "replay":
        with open(args.scenario, encoding="utf-8") as f:
            scenario = json.load(f)
        if args.concurrent:
            sim = local_runtime.Simulation(entities.ENTITIES, seed=args.seed,
                                           duplicate=args.duplicate, crash=args.crash,
                                           isolation=isolation)
            if args.state and os.path.exists(args.state):
                sim.rt.load(args.state)
            results = sim.replay(scenario["calls"])
            rt = sim.rt
            if args.stats:
                print(" ".join(f"{k}={v}" for k, v in sim.stats.items()), file=sys.stderr)
            if sim.stats["no_reply"]:
                print(f"{sim.stats['no_reply']} requests got no reply", file=sys.stderr)
                status = 1
        else:
            results = rt.replay(scenario["calls"])
        sys.stdout.write(results_document(results))
    else:
        if args.command == "create":
            result = rt.create(args.cls, args.args, args.kwargs)
        elif args.command == "call":
            result = rt.call(args.cls, args.key, args.method, args.args, args.kwargs)
        else:
            result = rt.state(args.cls, args.key)
        print(json.dumps(result, sort_keys=True))
        if "error" in result:
            print(f"{result['error']}: {rt.error_message()}", file=sys.stderr)
            status = 1

    if args.state:
        rt.save(args.state)
    return status


if __name__ == "__main__":
    sys.exit(main())
