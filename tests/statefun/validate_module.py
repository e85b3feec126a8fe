"""Validates StateFun module.yaml files: each YAML document against module.schema.json
(beside this file), then across documents (every ingress target is served by an endpoint,
topics and ids are unique).

    python3 validate_module.py MODULE.yaml...          exit 0 when every file is valid
    python3 validate_module.py --self-test MODULE.yaml the file is valid, and each of a set
                                                       of planted mistakes in it is caught

Needs PyYAML and jsonschema (the tools venv: scripts/setup-venvs.sh tools).
"""
import copy
import json
import os
import sys

import jsonschema
import yaml

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "module.schema.json")
ENDPOINT_KINDS = ("io.statefun.endpoints.v1/http", "io.statefun.endpoints.v2/http")
INGRESS = "io.statefun.kafka.v1/ingress"
EGRESS = "io.statefun.kafka.v1/egress"


class Loader(yaml.SafeLoader):
    """Safe YAML without implicit timestamps: StateFun reads `date: 2020-02-01 ...` as
    text."""


Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.load_all(f, Loader=Loader) if d is not None]


def problems(docs):
    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    validator = jsonschema.Draft202012Validator(schema)
    out = []
    for i, doc in enumerate(docs):
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in e.absolute_path) or "(document)"
            out.append(f"document {i + 1}: {where}: {e.message}")
    if out:
        return out
    patterns = [d["spec"]["functions"] for d in docs if d["kind"] in ENDPOINT_KINDS]
    seen_topics = set()
    seen_ids = set()
    for i, doc in enumerate(docs):
        spec = doc["spec"]
        if "id" in spec:
            if (doc["kind"], spec["id"]) in seen_ids:
                out.append(f"document {i + 1}: the id {spec['id']} is used twice")
            seen_ids.add((doc["kind"], spec["id"]))
        if doc["kind"] != INGRESS:
            continue
        for t in spec["topics"]:
            if t["topic"] in seen_topics:
                out.append(f"document {i + 1}: topic {t['topic']} is read twice")
            seen_topics.add(t["topic"])
            for target in t["targets"]:
                namespace = target.rpartition("/")[0]
                if target not in patterns and f"{namespace}/*" not in patterns:
                    out.append(f"document {i + 1}: no endpoint serves the target {target} "
                               f"of topic {t['topic']}")
    return out


def _first(docs, kind):
    return next(d for d in docs if d["kind"] == kind)["spec"]


def mistakes(docs):
    """(name, mutate(docs)) pairs: each mutation plants one mistake."""
    def endpoint(d):
        return next(x for x in d if x["kind"] in ENDPOINT_KINDS)["spec"]

    return [
        ("endpoint without urlPathTemplate", lambda d: endpoint(d).pop("urlPathTemplate")),
        ("unknown kind", lambda d: d[0].update(kind="io.statefun.endpoints.v3/http")),
        ("url scheme", lambda d: endpoint(d).update(urlPathTemplate="ftp://functions/x")),
        ("functions not a typename", lambda d: endpoint(d).update(functions="sfgen")),
        ("transport duration", lambda d: endpoint(d).update(
            transport={"type": "io.statefun.transports.v1/async", "call": "two minutes"})),
        ("okhttp field in async transport", lambda d: endpoint(d).update(
            transport={"type": "io.statefun.transports.v1/async", "timeouts": {}})),
        ("ingress address typo", lambda d: _first(d, INGRESS).update(
            adress=_first(d, INGRESS).pop("address"))),
        ("ingress id without namespace", lambda d: _first(d, INGRESS).update(id="requests")),
        ("topic without targets", lambda d: _first(d, INGRESS)["topics"][0].update(
            targets=[])),
        ("topic without valueType", lambda d: _first(d, INGRESS)["topics"][0].pop(
            "valueType")),
        ("bad topic name", lambda d: _first(d, INGRESS)["topics"][0].update(
            topic="no spaces allowed")),
        ("startup position", lambda d: _first(d, INGRESS).update(
            startupPosition={"type": "beginning"})),
        ("specific offsets missing", lambda d: _first(d, INGRESS).update(
            startupPosition={"type": "specific-offsets"})),
        ("target served by no endpoint", lambda d: _first(d, INGRESS)["topics"][0].update(
            targets=["elsewhere/Fn"])),
        ("topic read twice", lambda d: _first(d, INGRESS)["topics"].append(
            copy.deepcopy(_first(d, INGRESS)["topics"][0]))),
        ("delivery semantic", lambda d: _first(d, EGRESS).update(
            deliverySemantic={"type": "exactly_once", "transactionTimeout": "15min"})),
        ("exactly once without timeout", lambda d: _first(d, EGRESS).update(
            deliverySemantic={"type": "exactly-once"})),
        ("egress without address", lambda d: _first(d, EGRESS).pop("address")),
        ("kafka address", lambda d: _first(d, EGRESS).update(address="kafka")),
    ]


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 2
    if argv[0] == "--self-test":
        docs = load(argv[1])
        bad = problems(docs)
        if bad:
            print("\n".join([f"{argv[1]} is not valid:"] + bad))
            return 1
        missed = []
        for name, mutate in mistakes(docs):
            d = copy.deepcopy(docs)
            mutate(d)
            found = problems(d)
            if not found:
                missed.append(name)
            else:
                print(f"caught {name}: {found[0]}")
        if missed:
            print(f"the schema misses: {', '.join(missed)}")
            return 1
        print(f"self-test: {len(mistakes(docs))} planted mistakes caught")
        return 0
    status = 0
    for path in argv:
        bad = problems(load(path))
        if bad:
            status = 1
            print("\n".join([f"{path}:"] + bad))
        else:
            print(f"{path}: valid")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
