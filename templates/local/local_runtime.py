"""In-process runtime of the sfgen `local` target (for tests and debugging).

The dataflow of every target, in one process:

    client -> ingress router -> keyed operators (one per entity class, N partitions each)
                                   ^                 |
                                   +--- calls, replies (the loop back)
                                                     v
                                               egress router -> client

Events wait in one FIFO queue. Every hop is encoded to JSON text and decoded again, as on
a real wire, so the local target rejects what a distributed one would and event sizes can
be measured. Entity state stays in memory as live Python objects (per partition: key ->
record); dump_state / load_state (and save / load for a file) move it to and from JSON.
"""
import collections
import json
import os
import tempfile

import sfgen_runtime as _sf

STATE_FORMAT = "sfgen-local-state"


class LocalRuntime:
    """rt = LocalRuntime(entities.ENTITIES); rt.call("User", "alice", "deposit", [5])."""

    def __init__(self, entities, partitions=4, trace=None):
        self.entities = entities
        self.partitions = partitions
        self.trace = trace  # trace(text, event) is called for every event put on the wire
        self.ingress = _sf.Ingress(entities)
        self.router = _sf.Router(entities, partitions)
        self.operators = {name: _sf.Operator(entities, name) for name in entities}
        # one state store per operator partition: key -> record (see sfgen_runtime.Operator)
        self.stores = {(name, p): {} for name in entities for p in range(partitions)}
        self.queue = collections.deque()  # wire texts waiting to be delivered, FIFO
        self.replies = {}                 # request id -> final reply event (egress)
        self.next_request = 1
        self.last_reply = None            # the last request's reply event (error messages)
        self.events = 0                   # events sent, and their total / largest size
        self.bytes = 0
        self.max_bytes = 0

    # -- client API: each returns {"ok": value} or {"error": "Name"} -------------------

    def create(self, cls, args=(), kwargs=None):
        return self._request(self.ingress.create, cls, args, kwargs)

    def call(self, cls, key, method, args=(), kwargs=None):
        return self._request(self.ingress.call, cls, key, method, args, kwargs)

    def state(self, cls, key):
        return self._request(self.ingress.state, cls, key)

    def step(self, step):
        """One scenario step ({"op": "create" | "call" | "state", ...}); None for barrier."""
        op = step.get("op")
        if op == "barrier":
            return None  # only orders concurrent replays
        if op == "create":
            return self.create(step["class"], step.get("args", []), step.get("kwargs", {}))
        if op == "call":
            return self.call(step["class"], step["key"], step["method"],
                             step.get("args", []), step.get("kwargs", {}))
        if op == "state":
            return self.state(step["class"], step["key"])
        raise ValueError(f"unknown scenario op {op!r}")

    def replay(self, calls):
        """The results of a scenario's calls, barriers left out."""
        results = []
        for step in calls:
            result = self.step(step)
            if result is not None:
                results.append(result)
        return results

    def submit(self, text):
        """Put raw event text on the wire (as if read from a topic) and run to quiescence;
        the client result for its request (UNKNOWN_REQUEST for malformed text without
        one)."""
        request = _sf.request_of(text)
        self._put(text, None)
        self._drain()
        reply = self.replies.pop(request, None)
        if reply is None:
            return None
        self.last_reply = reply
        return _sf.client_result(reply)

    def error_message(self):
        """The message of the last request's error, or None."""
        if self.last_reply is None or "error" not in self.last_reply:
            return None
        return self.last_reply["error"].get("message", "")

    # -- the dataflow -------------------------------------------------------------------

    def _request(self, make, *args):
        request = f"r{self.next_request}"
        self.next_request += 1
        self._send(make(request, *args))
        self._drain()
        reply = self.replies.pop(request, None)
        if reply is None:  # cannot happen: every event causes exactly one next event
            raise RuntimeError(f"request {request} got no reply")
        self.last_reply = reply
        return _sf.client_result(reply)

    def _send(self, ev):
        self._put(_sf.dumps(ev), ev)

    def _put(self, text, ev):
        size = len(text.encode("utf-8")) if isinstance(text, str) else len(text)
        self.events += 1
        self.bytes += size
        self.max_bytes = max(self.max_bytes, size)
        if self.trace is not None:
            self.trace(text, ev)
        self.queue.append(text)

    def _drain(self):
        queue = self.queue
        while queue:
            self._deliver(queue.popleft())

    def _deliver(self, text):
        try:
            ev = _sf.loads(text)
        except _sf.MalformedEvent as exc:
            self._send(_sf.malformed_reply(text, exc))
            return
        try:
            dest = self.router.route(ev)
        except (_sf.EntityNotFound, _sf.UnknownClass) as exc:
            self._send(_sf.reject(ev, exc))
            return
        if dest is None:  # egress: the answer to a client
            self.replies[ev["request"]] = ev
            return
        store = self.stores[dest]
        key = ev["to"][1]
        record, out = self.operators[dest[0]].process(ev, store.get(key))
        if record is None:
            store.pop(key, None)
        else:
            store[key] = record
        for e in out:
            self._send(e)

    # -- state as JSON ------------------------------------------------------------------

    def dump_state(self):
        """All entity state as a JSON-ready document (NotSerializable names a field that
        cannot be stored)."""
        entities = []
        for (cls, _p), store in sorted(self.stores.items()):
            for key, record in store.items():
                entities.append([cls, _sf.encode(key, f"key of {cls}"),
                                 _sf.encode_record(cls, key, record)])
        entities.sort(key=lambda e: json.dumps(e[:2]))
        return {"format": STATE_FORMAT, "version": 1, "next_request": self.next_request,
                "entities": entities}

    def load_state(self, doc):
        """Replace all entity state by a document of dump_state, decoded with
        sfgen_runtime.decode (refs and tuples as values)."""
        if type(doc) is not dict or doc.get("format") != STATE_FORMAT:
            raise ValueError(f"not a {STATE_FORMAT} document")
        for store in self.stores.values():
            store.clear()
        for cls, key, record in doc["entities"]:
            if cls not in self.entities:
                raise ValueError(f"the state holds an entity of unknown class {cls!r}")
            self.stores[(cls, _sf.partition(cls, key, self.partitions))][key] = \
                _sf.decode_record(record)
        self.next_request = max(self.next_request, int(doc.get("next_request", 1)))

    def save(self, path):
        """Write all state to the JSON file `path` atomically."""
        text = json.dumps(self.dump_state(), ensure_ascii=False, sort_keys=True, indent=1)
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".sfgen-state-", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text + "\n")
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise

    def load(self, path):
        with open(path, encoding="utf-8") as f:
            self.load_state(_sf.decode(f.read()))
