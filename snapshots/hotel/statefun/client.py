"""Command-line client of an app compiled by sfgen for Flink Stateful Functions.

    python3 client.py [OPTIONS] create CLASS ARGS...
    python3 client.py [OPTIONS] call CLASS KEY METHOD ARGS... [--kwargs JSON]
    python3 client.py [OPTIONS] state CLASS KEY
    python3 client.py [OPTIONS] replay SCENARIO.json

ARGS and KEY are JSON values (a reference is {"$ref": [CLASS, KEY]}); text that is not
valid JSON is taken as a plain string. create, call and state print {"ok": VALUE} or
{"error": "NAME"} (the error's message goes to stderr) and exit with 0 or 1; replay prints
the results document of the conformance oracle. A request that cannot be sent or gets no
reply in time exits with 2 and says why.

By default the client talks to the deployed system over Kafka: it is the ingress router
(it runs constructors, as every sfgen target does), produces each request to the request
topic of its entity class keyed by the entity's function id, and waits for the reply with
its request id on the reply topic. OPTIONS:

    --bootstrap-servers HOST:PORT   Kafka (default: $SFGEN_KAFKA, else localhost:29092)
    --timeout SECONDS               how long to wait for each reply (default 30)
    --local                         run the calls in this process instead: the functions
                                    are called through the real StateFun SDK by
                                    statefun_harness.py, which plays the StateFun runtime
    --state FILE                    with --local: keep all function state in FILE
"""
import argparse
import json
import os
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "functions"))

import entities  # noqa: E402
import sfgen_client  # noqa: E402
import sfgen_runtime as _sf  # noqa: E402
import topology  # noqa: E402

STATE_FORMAT = "sfgen-statefun-local-state"


class ClientError(Exception):
    """A request could not be sent, or its reply did not come."""


class KafkaTransport:
    """Requests to the request topics, replies from the reply topic (kafka-python)."""

    def __init__(self, bootstrap_servers, timeout):
        try:
            from kafka import KafkaConsumer, KafkaProducer, TopicPartition
            from kafka.errors import KafkaError
        except ImportError:
            raise ClientError("kafka-python is not installed: "
                              "pip install -r requirements.txt") from None
        self.KafkaError = KafkaError
        self.bootstrap_servers = bootstrap_servers
        self.timeout = timeout
        self.producer = self.consumer = None
        try:
            ms = int(timeout * 1000)
            self.producer = KafkaProducer(bootstrap_servers=bootstrap_servers,
                                          bootstrap_timeout_ms=ms, max_block_ms=ms)
            # exactly-once egress: replies become visible when their transaction commits
            self.consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None,
                                          bootstrap_timeout_ms=ms, enable_auto_commit=False,
                                          isolation_level="read_committed")
            partitions = self.consumer.partitions_for_topic(topology.REPLY_TOPIC)
            if not partitions:
                raise ClientError(f"the reply topic {topology.REPLY_TOPIC!r} does not exist "
                                  f"at {bootstrap_servers}: create the topics with "
                                  f"kafka/create-topics.sh")
            tps = [TopicPartition(topology.REPLY_TOPIC, p) for p in sorted(partitions)]
            self.consumer.assign(tps)
            self.consumer.seek_to_end(*tps)
            for tp in tps:  # fix the positions now: replies come only after our requests
                self.consumer.position(tp)
        except KafkaError as exc:
            self.close()
            raise ClientError(f"cannot use Kafka at {bootstrap_servers} ({exc!r}): is it "
                              f"running (docker compose up -d)? Set --bootstrap-servers "
                              f"or SFGEN_KAFKA") from None
        except ClientError:
            self.close()
            raise

    def new_request(self):
        """A unique request id, and its age (for choosing a deadlock's victim)."""
        return "c" + uuid.uuid4().hex, time.time()

    def exchange(self, topic, key, value, request):
        try:
            self.producer.send(topic, key=key.encode("utf-8"),
                               value=value.encode("utf-8")).get(timeout=self.timeout)
        except self.KafkaError as exc:
            raise ClientError(f"cannot send request {request} to topic {topic!r} at "
                              f"{self.bootstrap_servers} ({exc!r}): does the topic exist "
                              f"(kafka/create-topics.sh)?") from None
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ClientError(
                    f"no reply to request {request} on topic {topology.REPLY_TOPIC!r} "
                    f"within {self.timeout:g} s: is the StateFun cluster running with "
                    f"module.yaml, and the functions service up? (docker compose ps; "
                    f"docker compose logs statefun-worker functions)")
            polled = self.consumer.poll(timeout_ms=int(min(left, 0.5) * 1000) + 1)
            for records in polled.values():
                for r in records:
                    if r.key is not None and r.key.decode("utf-8", "replace") == request:
                        return r.value

    def save(self, path):
        pass

    def close(self):
        for c in (self.producer, self.consumer):
            if c is not None:
                c.close()


class LocalTransport:
    """The in-process harness: the real StateFun SDK, module.yaml's routing, no JVM.
    (`harness`: another statefun_harness.Harness, e.g. one calling the functions over
    HTTP.)"""

    def __init__(self, state_file=None, timeout=30.0, harness=None):
        self.timeout = timeout
        if harness is None:
            try:
                import app as functions_app
                import statefun_harness
            except ImportError as exc:
                raise ClientError(f"--local needs the StateFun SDK and PyYAML ({exc}): "
                                  f"pip install -r requirements.txt") from None
            harness = statefun_harness.Harness.in_process(functions_app.HANDLER)
        self.harness = harness
        self.next_request = 1
        if state_file and os.path.exists(state_file):
            try:
                with open(state_file, encoding="utf-8") as f:
                    doc = json.load(f)
            except (OSError, ValueError) as exc:
                raise ClientError(f"cannot read the state file {state_file}: {exc}") from None
            if type(doc) is not dict or doc.get("format") != STATE_FORMAT:
                raise ClientError(f"{state_file} is not a {STATE_FORMAT} file")
            self.harness.load_state(doc["harness"])
            self.next_request = int(doc.get("next_request", 1))
        elif state_file:
            folder = os.path.dirname(os.path.abspath(state_file))
            if not os.path.isdir(folder):  # (before anything runs: its state would be lost)
                raise ClientError(f"cannot keep state in {state_file}: no folder {folder}")

    def new_request(self):
        """r1, r2, ...: the number is the request's age."""
        request = f"r{self.next_request}"
        self.next_request += 1
        return request, None

    def exchange(self, topic, key, value, request):
        self.harness.produce(topic, key, value.encode("utf-8"))

        def answered():
            return any(k == request for k, _v in self.harness.records(topology.REPLY_TOPIC))

        self.harness.run(until=answered, timeout=self.timeout)
        reply = None
        for k, v in self.harness.take(topology.REPLY_TOPIC):
            if k == request:
                reply = v
        if reply is None:
            raise ClientError(f"request {request} got no reply")
        return reply

    def save(self, path):
        doc = {"format": STATE_FORMAT, "version": 1, "next_request": self.next_request,
               "harness": self.harness.dump_state()}
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=1) + "\n")
        os.replace(tmp, path)

    def close(self):
        pass


class Client:
    """The ingress router on the client's side: request -> first event -> its topic."""

    def __init__(self, transport):
        self.transport = transport
        self.ingress = _sf.Ingress(entities.ENTITIES)
        self.router = _sf.Router(entities.ENTITIES, 1)
        self.last_reply = None

    def create(self, cls, args=(), kwargs=None):
        return self._request(self.ingress.create, cls, args, kwargs)

    def call(self, cls, key, method, args=(), kwargs=None):
        return self._request(self.ingress.call, cls, key, method, args, kwargs)

    def state(self, cls, key):
        return self._request(self.ingress.state, cls, key)

    def replay(self, calls):
        """The results of a scenario's calls, barriers left out."""
        return sfgen_client.replay(lambda step: sfgen_client.run_step(self, step), calls)

    def error_message(self):
        """The message of the last request's error, or None."""
        if self.last_reply is None or "error" not in self.last_reply:
            return None
        return self.last_reply["error"].get("message", "")

    def _request(self, make, *args):
        request, born = self.transport.new_request()
        text = _sf.dumps(make(request, *args, born=born))
        ev = _sf.loads(text)
        try:
            dest = self.router.route(ev)
        except (_sf.EntityNotFound, _sf.UnknownClass) as exc:
            reply = _sf.loads(_sf.dumps(_sf.reject(ev, exc)))
        else:
            if dest is None:  # refused by the ingress (constructor raised, bad argument)
                reply = ev
            else:
                raw = self.transport.exchange(topology.REQUEST_TOPICS[dest[0]],
                                              _sf.key_text(*ev["to"]), text, request)
                try:
                    reply = _sf.loads(raw)
                except _sf.MalformedEvent as exc:
                    raise ClientError(f"the reply to {request} cannot be read: {exc}") from None
        self.last_reply = reply
        return _sf.client_result(reply)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="client.py", description=__doc__.strip().splitlines()[0])
    parser.add_argument("--bootstrap-servers", metavar="HOST:PORT",
                        default=os.environ.get("SFGEN_KAFKA", "localhost:29092"),
                        help="Kafka bootstrap servers (default: $SFGEN_KAFKA or "
                             "localhost:29092)")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                        help="how long to wait for each reply (default 30)")
    parser.add_argument("--local", action="store_true",
                        help="run in process through the StateFun SDK (statefun_harness.py)")
    parser.add_argument("--state", metavar="FILE",
                        help="with --local: keep all function state in this JSON file")
    sfgen_client.add_commands(parser)
    args = parser.parse_args(argv)
    if args.state and not args.local:
        parser.error("--state works with --local only: the deployed system keeps its own "
                     "state in StateFun")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    transport = None
    try:
        if args.local:
            transport = LocalTransport(args.state, args.timeout)
        else:
            transport = KafkaTransport(args.bootstrap_servers, args.timeout)
        client = Client(transport)
        status = sfgen_client.run_command(client, args)
        if args.state:
            transport.save(args.state)
        return status
    except ClientError as exc:
        print(f"client.py: {exc}", file=sys.stderr)
        return 2
    finally:
        if transport is not None:
            transport.close()


if __name__ == "__main__":
    sys.exit(main())
