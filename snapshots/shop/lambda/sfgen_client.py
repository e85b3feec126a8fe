"""What every sfgen client shares (copied by sfgen into each generated project): scenario
steps, the command line of client.py (the subcommands create, call, state and replay and
their arguments) and its output.

A client object passed in has create(cls, args, kwargs), call(cls, key, method, args,
kwargs), state(cls, key), each returning {"ok": VALUE} or {"error": NAME}, and
error_message(): the message of the last request's error.
"""
import json
import sys


def parse_value(text):
    """A JSON value, or the text itself when it is not valid JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def add_commands(parser, parents=()):
    """Adds the subcommands to `parser` (an argparse.ArgumentParser); returns them by name,
    for target-specific options."""
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parents = list(parents)
    commands = {}

    p = commands["create"] = sub.add_parser("create", parents=parents,
                                            help="create an entity: CLASS ARGS...")
    p.add_argument("cls", metavar="CLASS")
    p.add_argument("args", nargs="*", metavar="ARG", type=parse_value)
    p.add_argument("--kwargs", type=json.loads, default={}, metavar="JSON")

    p = commands["call"] = sub.add_parser("call", parents=parents,
                                          help="call a method: CLASS KEY METHOD ARGS...")
    p.add_argument("cls", metavar="CLASS")
    p.add_argument("key", metavar="KEY", type=parse_value)
    p.add_argument("method", metavar="METHOD")
    p.add_argument("args", nargs="*", metavar="ARG", type=parse_value)
    p.add_argument("--kwargs", type=json.loads, default={}, metavar="JSON")

    p = commands["state"] = sub.add_parser("state", parents=parents,
                                           help="print every field of an entity: CLASS KEY")
    p.add_argument("cls", metavar="CLASS")
    p.add_argument("key", metavar="KEY", type=parse_value)

    p = commands["replay"] = sub.add_parser("replay", parents=parents,
                                            help="replay a conformance scenario.json")
    p.add_argument("scenario", metavar="SCENARIO.json")
    return commands


def command_step(args):
    """The scenario step ({"op": ..., ...}) of a parsed create, call or state command."""
    step = {"op": args.command, "class": args.cls}
    if args.command in ("create", "call"):
        step.update(args=args.args, kwargs=args.kwargs)
    if args.command in ("call", "state"):
        step["key"] = args.key
    if args.command == "call":
        step["method"] = args.method
    return step


def run_step(client, step):
    """One scenario step through `client`: its result, or None for a barrier."""
    op = step.get("op")
    if op == "barrier":
        return None  # only orders concurrent replays
    if op == "create":
        return client.create(step["class"], step.get("args", []), step.get("kwargs", {}))
    if op == "call":
        return client.call(step["class"], step["key"], step["method"],
                           step.get("args", []), step.get("kwargs", {}))
    if op == "state":
        return client.state(step["class"], step["key"])
    raise ValueError(f"unknown scenario op {op!r}")


def replay(run, calls):
    """The results of a scenario's calls, each run by `run(step)`, barriers left out."""
    results = []
    for step in calls:
        result = run(step)
        if result is not None:
            results.append(result)
    return results


def read_scenario(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["calls"]


def results_document(results):
    """The results document, formatted exactly as the conformance oracle writes it."""
    lines = [json.dumps(r, sort_keys=True) for r in results]
    return '{"results": [\n' + ",\n".join(lines) + "\n]}\n"


def run_command(client, args, run=None):
    """Runs the parsed command through `client` and prints its output: the results
    document of a replay, or one result (an error's message goes to stderr). `run(step)`
    runs one step (default: run_step). The exit status: 1 when a single command failed."""
    run = run or (lambda step: run_step(client, step))
    if args.command == "replay":
        sys.stdout.write(results_document(replay(run, read_scenario(args.scenario))))
        return 0
    result = run(command_step(args))
    print(json.dumps(result, sort_keys=True))
    if "error" in result:
        print(f"{result['error']}: {client.error_message()}", file=sys.stderr)
        return 1
    return 0
