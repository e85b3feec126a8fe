"""Command-line client of an app compiled by sfgen for the local target.

    python3 client.py [--state FILE] create CLASS ARGS...
    python3 client.py [--state FILE] call CLASS KEY METHOD ARGS... [--kwargs JSON]
    python3 client.py [--state FILE] state CLASS KEY
    python3 client.py [--state FILE] replay SCENARIO.json

ARGS and KEY are JSON values (a reference is {"$ref": [CLASS, KEY]}); text that is not
valid JSON is taken as a plain string. create, call and state print {"ok": VALUE} or
{"error": "NAME"} (the error's message goes to stderr) and exit with 0 or 1; replay prints
the results document of the conformance oracle. Without --state, entities live only for
one invocation; with it, all entity state is kept in the JSON file FILE between them.
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
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("create", help="create an entity: CLASS ARGS...")
    p.add_argument("cls", metavar="CLASS")
    p.add_argument("args", nargs="*", metavar="ARG", type=parse_value)
    p.add_argument("--kwargs", type=json.loads, default={}, metavar="JSON")

    p = sub.add_parser("call", help="call a method: CLASS KEY METHOD ARGS...")
    p.add_argument("cls", metavar="CLASS")
    p.add_argument("key", metavar="KEY", type=parse_value)
    p.add_argument("method", metavar="METHOD")
    p.add_argument("args", nargs="*", metavar="ARG", type=parse_value)
    p.add_argument("--kwargs", type=json.loads, default={}, metavar="JSON")

    p = sub.add_parser("state", help="print every field of an entity: CLASS KEY")
    p.add_argument("cls", metavar="CLASS")
    p.add_argument("key", metavar="KEY", type=parse_value)

    p = sub.add_parser("replay", help="replay a conformance scenario.json")
    p.add_argument("scenario", metavar="SCENARIO.json")
    return parser.parse_args(argv)


def results_document(results):
    """The results document, formatted exactly as the conformance oracle writes it."""
    lines = [json.dumps(r, sort_keys=True) for r in results]
    return '{"results": [\n' + ",\n".join(lines) + "\n]}\n"


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    rt = local_runtime.LocalRuntime(entities.ENTITIES)
    if args.state and os.path.exists(args.state):
        rt.load(args.state)

    status = 0
    if args.command == "replay":
        with open(args.scenario, encoding="utf-8") as f:
            scenario = json.load(f)
        sys.stdout.write(results_document(rt.replay(scenario["calls"])))
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
