"""In-process runtime of the sfgen `local` target (for tests and debugging).

The dataflow of every target, in one process:

    client -> ingress router -> keyed operators (one per entity class, N partitions each)
                                   ^                 |
                                   +--- calls, replies (the loop back)
                                                     v
                                               egress router -> client

Events in flight wait in one FIFO queue. Every hop is encoded to JSON text and decoded
again, as on a real wire, so the local target rejects what a distributed one would and
event sizes can be measured. Entity state stays in memory as live Python objects (per
partition: key -> record, with the isolation bookkeeping of sfgen_runtime.Operator);
dump_state / load_state (and save / load for a file) move it to and from JSON. This
runtime sees every record, so it detects every deadlock (sfgen_runtime.find_deadlocks).

Simulation runs the same runtime as a distributed engine would behave: requests in flight
together, events in a random (seeded) order, duplicated, with crashes and restarts.
"""
import collections
import json
import os
import random
import tempfile

import sfgen_client
import sfgen_runtime as _sf

STATE_FORMAT = "sfgen-local-state"


class LocalRuntime:
    """rt = LocalRuntime(entities.ENTITIES); rt.call("User", "alice", "deposit", [5]).

    isolation: None reads the environment (SFGEN_ISOLATION=off), False switches per-entity
    isolation off (a debugging aid: requests then interleave freely at suspended
    entities; see sfgen_runtime.Operator)."""

    def __init__(self, entities, partitions=4, trace=None, isolation=None):
        self.entities = entities
        self.partitions = partitions
        self.trace = trace  # trace(text, event) is called for every event put on the wire
        self.isolation = _sf.isolation_default() if isolation is None else bool(isolation)
        self.ingress = _sf.Ingress(entities)
        self.router = _sf.Router(entities, partitions)
        self.operators = {name: _sf.Operator(entities, name, isolation=self.isolation)
                          for name in entities}
        # one state store per operator partition: key -> record (see sfgen_runtime.Operator)
        self.stores = {(name, p): {} for name in entities for p in range(partitions)}
        self.queue = collections.deque()  # wire texts in flight (FIFO unless simulated)
        self.replies = {}                 # request id -> final reply event (egress)
        self.next_request = 1
        self.last_reply = None            # the last request's reply event (error messages)
        self.events = 0                   # events sent, and their total / largest size
        self.bytes = 0
        self.max_bytes = 0
        self.deadlocks = 0                # requests failed with Deadlock
        self.waiting = {}                 # (dest, key) of records with waiting events
        self.waits_at = {}                # request -> (dest, key) where its event waits
        self.touched = None               # dict: records changed (set by a Simulation)
        self.duplicate = None             # duplicate(): put this event twice? (Simulation)

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
        request = self.start(step)
        self._drain()
        return self.result(request)

    def replay(self, calls):
        """The results of a scenario's calls, barriers left out."""
        return sfgen_client.replay(self.step, calls)

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

    # -- step by step: requests in flight together ---------------------------------------

    def start(self, step):
        """Send the first event of a scenario step (create / call / state) without running
        anything; -> its request id. Run events with deliver(); result(request) answers."""
        op = step.get("op")
        if op == "create":
            return self._start(self.ingress.create, step["class"], step.get("args", []),
                               step.get("kwargs", {}))
        if op == "call":
            return self._start(self.ingress.call, step["class"], step["key"],
                               step["method"], step.get("args", []), step.get("kwargs", {}))
        if op == "state":
            return self._start(self.ingress.state, step["class"], step["key"])
        raise ValueError(f"unknown scenario op {op!r}")

    def deliver(self, index=0):
        """Deliver the event in flight at position `index` (0: the oldest)."""
        queue = self.queue
        if index == 0:
            text = queue.popleft()
        else:
            text = queue[index]
            del queue[index]
        self._deliver(text)

    def result(self, request):
        """The client result of a request that has been answered."""
        reply = self.replies.pop(request, None)
        if reply is None:
            raise RuntimeError(f"request {request} got no reply")
        self.last_reply = reply
        return _sf.client_result(reply)

    # -- the dataflow -------------------------------------------------------------------

    def _start(self, make, *args):
        request = f"r{self.next_request}"
        self.next_request += 1
        self._send(make(request, *args))
        return request

    def _request(self, make, *args):
        request = self._start(make, *args)
        self._drain()
        return self.result(request)  # (every event causes one next event: it has one)

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
        if self.duplicate is not None and self.duplicate():
            self.queue.append(text)  # the network delivers this one twice

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
        if dest is None:  # egress: the answer to a client (the first one, if duplicated)
            self.replies.setdefault(ev["request"], ev)
            return
        store = self.stores[dest]
        key = ev["to"][1]
        record, out = self.operators[dest[0]].process(ev, store.get(key))
        self._keep(dest, key, record)
        waits = self.waits_at
        for e in out:
            if waits:
                waits.pop(e["request"], None)  # (its request runs: it no longer waits)
            self._send(e)
        if record is not None and "queue" in record:
            queue = record["queue"]
            if queue[-1] is ev:  # it waits here
                waits[ev["request"]] = (dest, key)
            # A new cycle of waits goes through the holder of this record: look for one
            # only when the holder waits somewhere itself.
            held = record.get("held")
            if held is not None and held["request"] in waits:
                self._break_deadlocks()

    def _keep(self, dest, key, record):
        store = self.stores[dest]
        if record is None:
            store.pop(key, None)
        else:
            store[key] = record
        where = (dest, key)
        if record is not None and "queue" in record:
            if where not in self.waiting:
                self.waiting[where] = True
                for q in record["queue"]:  # (a record loaded with waiting events)
                    self.waits_at.setdefault(q["request"], where)
        else:
            self.waiting.pop(where, None)
        if self.touched is not None:
            self.touched[where] = True

    def _break_deadlocks(self):
        """The wait-for graph over every record with waiting events (this runtime sees them
        all): on a cycle, the youngest request on it fails with Deadlock where it waits."""
        views = [(w, self.stores[w[0]][w[1]]) for w in self.waiting]
        for victim, (dest, key), message in _sf.find_deadlocks(views):
            record, out = self.operators[dest[0]].fail_waiting(
                self.stores[dest][key], victim, message)
            self.deadlocks += 1
            self._keep(dest, key, record)
            self.waits_at.pop(victim, None)
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
        doc = {"format": STATE_FORMAT, "version": 1, "next_request": self.next_request,
               "entities": entities}
        if self.queue:  # events in flight (wire texts), when not run to quiescence
            doc["in_flight"] = list(self.queue)
        return doc

    def load_state(self, doc):
        """Replace all entity state by a document of dump_state, decoded with
        sfgen_runtime.decode (refs and tuples as values)."""
        if type(doc) is not dict or doc.get("format") != STATE_FORMAT:
            raise ValueError(f"not a {STATE_FORMAT} document")
        for store in self.stores.values():
            store.clear()
        self.waiting.clear()
        self.waits_at.clear()
        for cls, key, record in doc["entities"]:
            if cls not in self.entities:
                raise ValueError(f"the state holds an entity of unknown class {cls!r}")
            self._keep((cls, _sf.partition(cls, key, self.partitions)), key,
                       _sf.decode_record(record))
        self.queue = collections.deque(doc.get("in_flight", ()))
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


class Simulation:
    """A deterministic simulation of a distributed run (`client.py replay --concurrent`).

    sim = Simulation(entities.ENTITIES, seed=7, duplicate=0.1, crash=0.05)
    results = sim.replay(scenario["calls"])

    The steps between two barriers are submitted at once, and the events of all of them
    (requests, calls, replies, continuations) are delivered one at a time in a random order
    drawn from `seed`; results come back in step order. `duplicate` is the probability
    that the network delivers an event a second time (operators drop ids they have seen).
    `crash` is the probability that the runtime crashes after an event and restarts from
    its persisted state: after every event, each changed record (fields, isolation
    bookkeeping, waiting events with their frames) is persisted as JSON text, and so are
    the events in flight, so a restart loses nothing. The same seed and options give the
    same run, byte for byte. A request that gets no reply (a hang) gets
    {"error": "NoReply"}.
    """

    def __init__(self, entities, seed=0, duplicate=0.0, crash=0.0, partitions=4,
                 isolation=None, trace=None):
        self.entities = entities
        self.partitions = partitions
        self.isolation = isolation
        self.trace = trace
        self.rng = random.Random(seed)
        self.duplicate = duplicate
        self.crash = crash
        self.stats = {"events": 0, "duplicates": 0, "crashes": 0, "deadlocks": 0,
                      "no_reply": 0}
        self.answers = {}      # request -> its first reply (the client's, survives crashes)
        self.disk = {}         # persisted records: (dest, key) -> JSON text
        self.disk_in_flight = []
        self.disk_next = 1
        self.rt = self._runtime()

    def _runtime(self):
        rt = LocalRuntime(self.entities, self.partitions, self.trace, self.isolation)
        rt.touched = {}
        if self.duplicate > 0:
            rt.duplicate = self._duplicate
        return rt

    def _duplicate(self):
        if self.rng.random() < self.duplicate:
            self.stats["duplicates"] += 1
            return True
        return False

    def replay(self, calls):
        """The results of a scenario's calls (barriers left out), in call order."""
        results = []
        group = []
        for step in [*calls, {"op": "barrier"}]:
            if step.get("op") == "barrier":
                results += self.run(group)
                group = []
            else:
                group.append(step)
        return results

    def run(self, steps):
        """Submit `steps` at once and deliver events in random order until none is in
        flight; -> their results in order."""
        requests = [self.rt.start(step) for step in steps]
        self._persist()
        rng = self.rng
        while self.rt.queue:
            rt = self.rt
            rt.deliver(rng.randrange(len(rt.queue)))
            self.stats["events"] += 1
            self.stats["deadlocks"] += rt.deadlocks
            rt.deadlocks = 0
            self._persist()
            if self.crash > 0 and rng.random() < self.crash:
                self._restart()
        results = []
        for request in requests:
            reply = self.answers.pop(request, None)
            if reply is None:
                self.stats["no_reply"] += 1
                results.append({"error": "NoReply"})
            else:
                self.rt.last_reply = reply
                results.append(_sf.client_result(reply))
        return results

    def _persist(self):
        """What a real engine keeps after every event: the replies (delivered to the
        client), and, when crashes are simulated, changed records and events in flight."""
        rt = self.rt
        for request, reply in rt.replies.items():
            self.answers.setdefault(request, reply)
        rt.replies.clear()
        if self.crash <= 0:
            rt.touched.clear()
            return
        for where in rt.touched:
            dest, key = where
            record = rt.stores[dest].get(key)
            if record is None:
                self.disk.pop(where, None)
            else:
                self.disk[where] = _sf.dumps(_sf.encode_record(dest[0], key, record))
        rt.touched.clear()
        self.disk_in_flight = list(rt.queue)
        self.disk_next = rt.next_request

    def _restart(self):
        """A crash: everything in memory is lost; a new runtime starts from the disk."""
        self.stats["crashes"] += 1
        rt = self._runtime()
        for (dest, key), text in self.disk.items():
            rt._keep(dest, key, _sf.decode_record(_sf.decode(text)))
        rt.touched.clear()
        rt.queue.extend(self.disk_in_flight)
        rt.next_request = self.disk_next
        self.rt = rt
