"""An in-process stand-in for the Flink Stateful Functions 3.3 runtime, for tests and
`client.py --local`.

It plays the runtime's part of StateFun's remote-function request-reply protocol against
the real SDK (apache-flink-statefun), with the routing that module.yaml declares:

- Kafka ingress (io.statefun.kafka.v1/ingress): a record produced to one of its topics
  becomes one message for each of the topic's `targets`, typed `valueType`, addressed to
  the function id given by the record key (UTF-8), as StateFun's routable Kafka ingress
  does. A topic no ingress reads, or a record without a key, is refused.
- Functions (io.statefun.endpoints.v2/http): each message is delivered in a ToFunction
  invocation batch (all queued messages for one address, up to maxNumBatchRequests) with
  the address's persisted state. The first call of a function type carries no state; its
  IncompleteInvocationContext names the missing values, which are registered and the
  batch is sent again (the missing-state handshake). MODIFY / DELETE mutations are applied,
  outgoing messages are queued (FIFO) with the caller set, delayed messages wait until
  they are due (in real time; cancellations by token are honoured).
- Kafka egress (io.statefun.kafka.v1/egress): KafkaProducerRecords sent to a declared
  egress are appended to their topic, readable with `records(topic)` / `take(topic)`.

The function is reached in process through a RequestReplyHandler (`Harness.in_process`)
or over HTTP at the endpoint's URL (`Harness.over_http`, the aiohttp service of
functions/app.py). Every ToFunction and FromFunction is serialised to bytes and parsed
again, as on the wire.

Run as a program, it bridges a Kafka-compatible broker to the functions' HTTP endpoint:
it consumes the ingress topics and produces the egress records (kafka-python), so the
client, the functions service and real topics can be tested without the JVM runtime:

    python3 statefun_harness.py --bootstrap-servers HOST:PORT --endpoint URL [--seconds N]
"""
import argparse
import base64
import collections
import os
import sys
import time
import urllib.request

import yaml
from statefun.kafka_egress_pb2 import KafkaProducerRecord
from statefun.request_reply_pb2 import Address, FromFunction, ToFunction, TypedValue

HERE = os.path.dirname(os.path.abspath(__file__))
KAFKA_RECORD = "type.googleapis.com/io.statefun.sdk.egress.KafkaProducerRecord"
ENDPOINT_KIND = "io.statefun.endpoints.v2/http"
INGRESS_KIND = "io.statefun.kafka.v1/ingress"
EGRESS_KIND = "io.statefun.kafka.v1/egress"
STATE_FORMAT = "sfgen-statefun-harness-state"


class HarnessError(RuntimeError):
    """What the StateFun runtime would refuse or fail on."""


def typename_of(address):
    return f"{address.namespace}/{address.type}"


def parse_typename(typename):
    namespace, sep, name = typename.rpartition("/")
    if not sep or not namespace or not name:
        raise HarnessError(f"{typename!r} is not a typename (namespace/name)")
    return namespace, name


class Module:
    """What the harness needs of a module.yaml (StateFun 3.x format)."""

    def __init__(self, docs):
        self.endpoints = []   # (functions pattern, urlPathTemplate, maxNumBatchRequests)
        self.topics = {}      # ingress topic -> (valueType, [target typenames])
        self.egresses = {}    # egress id -> spec
        for doc in docs:
            if doc is None:
                continue
            kind, spec = doc.get("kind"), doc.get("spec") or {}
            if kind == ENDPOINT_KIND:
                self.endpoints.append((spec["functions"], spec["urlPathTemplate"],
                                       int(spec.get("maxNumBatchRequests", 1000))))
            elif kind == INGRESS_KIND:
                for t in spec["topics"]:
                    if t["topic"] in self.topics:
                        raise HarnessError(f"topic {t['topic']!r} is read by two ingresses")
                    self.topics[t["topic"]] = (t["valueType"], list(t["targets"]))
            elif kind == EGRESS_KIND:
                self.egresses[spec["id"]] = spec
            else:
                raise HarnessError(f"module.yaml: unsupported kind {kind!r}")

    @classmethod
    def load(cls, path=None):
        path = path or os.path.join(HERE, "module.yaml")
        with open(path, encoding="utf-8") as f:
            return cls(list(yaml.safe_load_all(f)))

    def endpoint(self, typename):
        """(url, max batch) of the endpoint serving function type `typename`."""
        namespace, name = parse_typename(typename)
        for pattern, url, batch in self.endpoints:
            if pattern == typename or pattern == f"{namespace}/*":
                return url.replace("{function.name}", name), batch
        raise HarnessError(f"no endpoint in module.yaml serves function type {typename!r}")


class Harness:
    """harness = Harness.in_process(handler); harness.produce(topic, key, value);
    harness.run(); harness.take(reply_topic)."""

    def __init__(self, module, invoke):
        self.module = module
        self.invoke = invoke           # invoke(url, ToFunction bytes) -> FromFunction bytes
        self.specs = {}                # function typename -> {state name: value typename}
        self.state = {}                # (function typename, id) -> {state name: TypedValue}
        self.queue = collections.deque()  # (target Address, argument TypedValue, caller)
        self.topics = collections.defaultdict(list)  # egress topic -> [(key, value bytes)]
        self.delayed = []              # [due (epoch s), seq, target, argument, caller, token]
        self.seq = 0
        self.calls = 0                 # request-reply rounds, handshakes among them
        self.handshakes = 0
        self.messages = 0
        self.largest_batch = 0

    @classmethod
    def in_process(cls, handler, module=None):
        """The functions' RequestReplyHandler, called in this process."""
        return cls(module or Module.load(), lambda url, body: handler.handle_sync(body))

    @classmethod
    def over_http(cls, endpoint=None, module=None, timeout=60):
        """The functions over HTTP: at `endpoint` when given, else at module.yaml's URL."""
        def invoke(url, body):
            req = urllib.request.Request(endpoint or url, data=body, method="POST", headers={
                "Content-Type": "application/octet-stream"})
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.read()
        return cls(module or Module.load(), invoke)

    # -- ingress and egress ---------------------------------------------------------------

    def produce(self, topic, key, value):
        """A record arrives on an ingress topic (key: str or UTF-8 bytes; value: bytes)."""
        if topic not in self.module.topics:
            raise HarnessError(f"no Kafka ingress in module.yaml reads topic {topic!r}")
        if key is None:
            raise HarnessError(f"a record on {topic!r} has no key: StateFun's Kafka ingress "
                               f"takes the function id from the record key")
        if isinstance(key, (bytes, bytearray)):
            key = bytes(key).decode("utf-8")
        value_type, targets = self.module.topics[topic]
        for target in targets:
            namespace, name = parse_typename(target)
            self.queue.append((Address(namespace=namespace, type=name, id=key),
                               TypedValue(typename=value_type, has_value=True,
                                          value=bytes(value)), None))

    def records(self, topic):
        return list(self.topics.get(topic, ()))

    def take(self, topic):
        """The records the egress wrote to `topic` since the last take."""
        return self.topics.pop(topic, [])

    # -- the runtime loop -----------------------------------------------------------------

    def run(self, until=None, timeout=60.0, max_rounds=1_000_000):
        """Delivers queued messages until none is left; delayed messages join the queue
        when they are due. With `until` (a predicate), it also waits for delayed messages
        (in real time) until until() holds, nothing is pending, or `timeout` s passed."""
        rounds = 0
        deadline = time.time() + timeout
        while True:
            now = time.time()
            while self.delayed and self.delayed[0][0] <= now:
                _due, _seq, target, argument, caller, _token = self.delayed.pop(0)
                self.queue.append((target, argument, caller))
            if not self.queue:
                if until is None or until() or not self.delayed or now >= deadline:
                    return
                time.sleep(max(0.0, min(self.delayed[0][0], deadline) - now))
                continue
            rounds += 1
            if rounds > max_rounds:
                raise HarnessError(f"still busy after {max_rounds} invocation rounds")
            target, argument, caller = self.queue.popleft()
            typename = typename_of(target)
            url, max_batch = self.module.endpoint(typename)
            batch = [(argument, caller)]
            if max_batch > 1 and self.queue:  # later messages for the same address join
                rest = collections.deque()
                for item in self.queue:
                    if len(batch) < max_batch and item[0] == target:
                        batch.append(item[1:])
                    else:
                        rest.append(item)
                self.queue = rest
            self._invoke(url, target, batch)

    def _invoke(self, url, target, batch):
        typename = typename_of(target)
        self.largest_batch = max(self.largest_batch, len(batch))
        self.messages += len(batch)
        while True:
            request = ToFunction()
            inv = request.invocation
            inv.target.CopyFrom(target)
            values = self.state.get((typename, target.id), {})
            for name, value_type in self.specs.get(typename, {}).items():
                pv = inv.state.add()
                pv.state_name = name
                if name in values:
                    pv.state_value.CopyFrom(values[name])
                else:
                    pv.state_value.CopyFrom(TypedValue(typename=value_type, has_value=False))
            for argument, caller in batch:
                i = inv.invocations.add()
                if caller is not None:
                    i.caller.CopyFrom(caller)
                i.argument.CopyFrom(argument)
            self.calls += 1
            reply = FromFunction()
            reply.ParseFromString(self.invoke(url, request.SerializeToString()))
            which = reply.WhichOneof("response")
            if which == "incomplete_invocation_context":
                missing = reply.incomplete_invocation_context.missing_values
                if not missing:
                    raise HarnessError(f"{typename} asked for missing state but named none")
                known = self.specs.setdefault(typename, {})
                for spec in missing:
                    if spec.state_name in known:
                        raise HarnessError(f"{typename} asked again for state "
                                           f"{spec.state_name!r} it was sent")
                    known[spec.state_name] = spec.type_typename
                self.handshakes += 1
                continue
            if which != "invocation_result":
                raise HarnessError(f"{typename} answered with neither a result nor a "
                                   f"missing-state context")
            self._apply(target, reply.invocation_result)
            return

    def _apply(self, target, result):
        typename = typename_of(target)
        specs = self.specs.get(typename, {})
        values = self.state.setdefault((typename, target.id), {})
        for m in result.state_mutations:
            if m.state_name not in specs:
                raise HarnessError(f"{typename} changed undeclared state {m.state_name!r}")
            if m.mutation_type == FromFunction.PersistedValueMutation.DELETE:
                values.pop(m.state_name, None)
            else:
                if m.state_value.typename != specs[m.state_name]:
                    raise HarnessError(
                        f"{typename} wrote state {m.state_name!r} as "
                        f"{m.state_value.typename!r}, declared {specs[m.state_name]!r}")
                values[m.state_name] = TypedValue()
                values[m.state_name].CopyFrom(m.state_value)
        if not values:
            del self.state[(typename, target.id)]
        for d in result.delayed_invocations:
            if d.is_cancellation_request:
                self.delayed = [x for x in self.delayed
                                if not (x[5] == d.cancellation_token and x[2] == target)]
                continue
            self.module.endpoint(typename_of(d.target))
            to, argument, caller = Address(), TypedValue(), Address()
            to.CopyFrom(d.target)
            argument.CopyFrom(d.argument)
            caller.CopyFrom(target)
            self.seq += 1
            self.delayed.append([time.time() + d.delay_in_ms / 1000, self.seq, to, argument,
                                 caller, d.cancellation_token])
            self.delayed.sort(key=lambda x: (x[0], x[1]))
        for out in result.outgoing_messages:
            to = Address()
            to.CopyFrom(out.target)
            self.module.endpoint(typename_of(to))  # the runtime needs an endpoint for it
            if not to.id:
                raise HarnessError(f"{typename} sent a message without a target id")
            argument = TypedValue()
            argument.CopyFrom(out.argument)
            caller = Address()
            caller.CopyFrom(target)
            self.queue.append((to, argument, caller))
        for e in result.outgoing_egresses:
            egress = f"{e.egress_namespace}/{e.egress_type}"
            if egress not in self.module.egresses:
                raise HarnessError(f"{typename} sent to egress {egress!r}, which module.yaml "
                                   f"does not declare")
            if e.argument.typename != KAFKA_RECORD:
                raise HarnessError(f"egress {egress!r} got a {e.argument.typename!r}, not a "
                                   f"KafkaProducerRecord")
            record = KafkaProducerRecord()
            record.ParseFromString(e.argument.value)
            if not record.topic:
                raise HarnessError(f"a record for egress {egress!r} has no topic")
            self.topics[record.topic].append((record.key, record.value_bytes))

    # -- persisted state as JSON (client.py --local --state FILE) -----------------------

    def dump_state(self):
        values = []
        for (typename, ident), named in sorted(self.state.items()):
            for name, tv in sorted(named.items()):
                try:
                    text = {"text": tv.value.decode("utf-8")}
                except UnicodeDecodeError:
                    text = {"base64": base64.b64encode(tv.value).decode("ascii")}
                values.append({"function": typename, "id": ident, "state": name,
                               "type": tv.typename, **text})
        delayed = [{"due": due, "function": typename_of(to), "id": to.id,
                    "type": arg.typename, "base64": base64.b64encode(arg.value).decode("ascii"),
                    "caller": [typename_of(caller), caller.id], "token": token}
                   for due, _seq, to, arg, caller, token in self.delayed]
        specs = {typename: dict(sorted(named.items()))
                 for typename, named in sorted(self.specs.items())}
        return {"format": STATE_FORMAT, "version": 1, "specs": specs, "values": values,
                "delayed": delayed}

    def load_state(self, doc):
        if type(doc) is not dict or doc.get("format") != STATE_FORMAT:
            raise ValueError(f"not a {STATE_FORMAT} document")
        self.specs = {typename: dict(named) for typename, named in doc["specs"].items()}
        self.state = {}
        for v in doc["values"]:
            data = v["text"].encode("utf-8") if "text" in v else base64.b64decode(v["base64"])
            self.state.setdefault((v["function"], v["id"]), {})[v["state"]] = TypedValue(
                typename=v["type"], has_value=True, value=data)
        self.delayed = []
        for d in doc.get("delayed", []):
            ns, name = parse_typename(d["function"])
            cns, cname = parse_typename(d["caller"][0])
            self.seq += 1
            self.delayed.append([d["due"], self.seq, Address(namespace=ns, type=name, id=d["id"]),
                                 TypedValue(typename=d["type"], has_value=True,
                                            value=base64.b64decode(d["base64"])),
                                 Address(namespace=cns, type=cname, id=d["caller"][1]),
                                 d["token"]])
        self.delayed.sort(key=lambda x: (x[0], x[1]))


# ---------------------------------------------------------------------------------------
# Kafka bridge: real topics in, real topics out, the functions over HTTP.

def bridge(args):
    from kafka import KafkaConsumer, KafkaProducer

    module = Module.load(args.module)
    harness = Harness.over_http(args.endpoint, module)
    consumer = KafkaConsumer(*sorted(module.topics), bootstrap_servers=args.bootstrap_servers,
                             group_id=args.group, auto_offset_reset="earliest",
                             enable_auto_commit=False)
    producer = KafkaProducer(bootstrap_servers=args.bootstrap_servers)
    print(f"bridging {', '.join(sorted(module.topics))} to {args.endpoint}", flush=True)
    deadline = None if args.seconds is None else time.monotonic() + args.seconds
    while deadline is None or time.monotonic() < deadline:
        polled = consumer.poll(timeout_ms=200)
        for _tp, records in sorted(polled.items(), key=lambda kv: (kv[0].topic, kv[0].partition)):
            for r in records:
                try:
                    harness.produce(r.topic, r.key, r.value or b"")
                except HarnessError as exc:
                    print(f"dropped a record of {r.topic}: {exc}", file=sys.stderr, flush=True)
        harness.run()
        for topic in list(harness.topics):
            for key, value in harness.take(topic):
                producer.send(topic, key=key.encode("utf-8"), value=value)
        producer.flush()
        if polled:
            consumer.commit()
    consumer.close()
    producer.close()
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--bootstrap-servers", required=True, metavar="HOST:PORT")
    parser.add_argument("--endpoint", required=True, metavar="URL",
                        help="the functions' /statefun URL, e.g. http://127.0.0.1:8000/statefun")
    parser.add_argument("--module", default=os.path.join(HERE, "module.yaml"))
    parser.add_argument("--group", default="sfgen-statefun-harness")
    parser.add_argument("--seconds", type=float, default=None,
                        help="stop after this many seconds (default: run until killed)")
    return bridge(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
