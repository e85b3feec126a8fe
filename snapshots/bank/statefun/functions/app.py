"""Remote functions of an app compiled by sfgen for Flink Stateful Functions 3.3.

One StateFun function type per entity class (topology.FUNCTIONS), one function instance
per entity: its id is the entity's key text (sfgen_runtime.key_text, e.g.
'["User","alice"]'). Each instance keeps its whole operator record (the entity's fields
and the runtime's bookkeeping) as JSON in one ValueSpec, `record`.

Every message is one sfgen event, JSON text of type topology.EVENT_TYPE. A function runs
it through the runtime core (sfgen_runtime.Operator) and sends each resulting event with
context.send to the function of the entity it is for, or, when it is the final reply to a
client, to the Kafka egress (topology.EGRESS), keyed by the request id, on
topology.REPLY_TOPIC. Nothing here uses pickle.

Isolation: while a request is suspended at an entity, other requests' events wait in the
entity's record. A function sees only its own record, so a deadlock between requests
(each waiting at an entity the other holds) is broken by a bounded wait: while events
wait, the function sends itself a delayed tick (topology.TICK_TYPE, due in
$SFGEN_WAIT_TIMEOUT seconds, default 10; pending in ValueSpec `tick`), and on the tick
the runtime core fails the events that waited longer than that for an older request.

    python3 app.py [--host 0.0.0.0] [--port 8000]    # serves POST /statefun (aiohttp)
"""
import argparse
import json
import os
import time
from datetime import timedelta

from statefun import (
    RequestReplyHandler,
    StatefulFunctions,
    ValueSpec,
    kafka_egress_message,
    message_builder,
    simple_type,
)

import entities
import sfgen_runtime as _sf
import topology


def _json_bytes(doc):
    """UTF-8 JSON text of a JSON-ready document (an event or a record)."""
    return _sf.dumps(doc).encode("utf-8")


# An sfgen event (see sfgen_runtime): written from its JSON-ready form, read back checked.
EVENT = simple_type(topology.EVENT_TYPE, serialize_fn=_json_bytes, deserialize_fn=_sf.loads)
# A key's operator record (sfgen_runtime.encode_record), read back with refs and tuples.
RECORD = simple_type(topology.RECORD_TYPE, serialize_fn=_json_bytes,
                     deserialize_fn=_sf.decode)

# A reminder to itself: check the events waiting in the record (bounded wait).
TICK = simple_type(topology.TICK_TYPE, serialize_fn=_json_bytes, deserialize_fn=_sf.decode)
# When the tick is due (seconds since the epoch), while one is pending.
DUE = simple_type(topology.DUE_TYPE, serialize_fn=_json_bytes, deserialize_fn=_sf.decode)

ROUTER = _sf.Router(entities.ENTITIES, 1)
MAX_HOPS = 1000  # bound on error replies made while routing one invocation's events
WAIT_TIMEOUT = float(os.environ.get("SFGEN_WAIT_TIMEOUT", "10"))


def address_id(cls, key):
    """The function id of entity (cls, key): its key text. `key` is a Python value."""
    return _sf.key_text(cls, key)


def _wire_key_id(cls, wire_key):
    """The function id of an entity whose key is still in wire form."""
    return address_id(cls, _sf.decode(json.dumps(wire_key)))


def send_events(context, events):
    """Sends JSON-ready events on: to the function of their entity, or to the egress."""
    pending = list(events)
    hops = 0
    while pending:
        ev = pending.pop(0)
        to = ev.get("to")
        if to is None:  # the final reply of a request: back to the client
            context.send_egress(kafka_egress_message(
                typename=topology.EGRESS, topic=topology.REPLY_TOPIC,
                key=ev.get("request") or _sf.UNKNOWN_REQUEST, value=ev, value_type=EVENT))
            continue
        cls = to[0]
        typename = topology.FUNCTIONS.get(cls)
        if typename is None:  # no such entity class: the sender gets the error
            hops += 1
            if hops > MAX_HOPS:
                raise RuntimeError(f"cannot route event {ev.get('id')!r}")
            checked = _sf.loads(_sf.dumps(ev))
            try:
                ROUTER.route(checked)
                exc = _sf.EntityNotFound(f"{cls}[{to[1]!r}]")
            except (_sf.EntityNotFound, _sf.UnknownClass) as e:
                exc = e
            pending.append(_sf.reject(checked, exc))
            continue
        context.send(message_builder(target_typename=typename,
                                     target_id=_wire_key_id(cls, to[1]),
                                     value=ev, value_type=EVENT))


def make_function(cls):
    """The StateFun function of entity class `cls`."""
    operator = _sf.Operator(entities.ENTITIES, cls, wait_timeout=WAIT_TIMEOUT)

    def entity_function(context, message):
        raw = message.raw_value() or b""
        if message.is_type(TICK):
            tick(context)
            return
        if not message.is_type(EVENT):
            exc = _sf.MalformedEvent(f"a message of type {message.value_typename()!r}, "
                                     f"not {topology.EVENT_TYPE!r}")
            send_events(context, [_sf.malformed_reply(raw, exc)])
            return
        try:
            ev = _sf.loads(raw)
        except _sf.MalformedEvent as exc:
            send_events(context, [_sf.malformed_reply(raw, exc)])
            return
        to = ev["to"]
        if to is None or to[0] != cls or address_id(*to) != context.address.id:
            # not for this entity (e.g. a record keyed wrongly): send it where it belongs
            send_events(context, [_sf.encode(ev, "event")])
            return
        key = to[1]
        stored = context.storage.record
        try:
            record = None if stored is None else _sf.decode_record(stored)
        except _sf.MalformedEvent as exc:
            send_events(context, [_sf.reject(ev, exc)])
            return
        record, out = operator.process(ev, record, now=time.time())
        exc = store(context, key, record)
        if exc is None:
            send_events(context, out)
        else:  # the state cannot be stored: the event fails and the old state stays
            send_events(context, [_sf.reject(_sf.loads(raw), exc)])

    def store(context, key, record):
        """Persists the record; while events wait in it, makes sure a tick is pending.
        -> None, or the NotSerializable error that kept it from being stored."""
        if record is None:
            if context.storage.record is not None:
                del context.storage.record
            return None
        try:
            context.storage.record = _sf.encode_record(cls, key, record)
        except _sf.NotSerializable as exc:
            return exc
        due = context.storage.due
        now = time.time()
        # (a tick long overdue was lost: schedule another)
        if record.get("queue") and (due is None or due < now - WAIT_TIMEOUT - 60):
            delay = WAIT_TIMEOUT * 1.05 + 0.05
            context.storage.due = now + delay
            context.send_after(timedelta(seconds=delay), message_builder(
                target_typename=context.address.typename, target_id=context.address.id,
                value={}, value_type=TICK))
        return None

    def tick(context):
        del context.storage.due
        stored = context.storage.record
        if stored is None:
            return
        try:
            record = _sf.decode_record(stored)
        except _sf.MalformedEvent:
            return
        key = _sf.decode(json.dumps(json.loads(context.address.id)[1]))
        record, out = operator.expire(record, time.time())
        if store(context, key, record) is None:
            send_events(context, out)

    entity_function.__name__ = f"{cls}_function"
    return entity_function


def make_functions():
    functions = StatefulFunctions()
    for cls, typename in topology.FUNCTIONS.items():
        functions.register(typename, make_function(cls),
                           specs=[ValueSpec(name=topology.STATE_NAME, type=RECORD),
                                  ValueSpec(name="due", type=DUE)])
    return functions


FUNCTIONS = make_functions()
HANDLER = RequestReplyHandler(FUNCTIONS)


def make_app(handler=HANDLER):
    """The aiohttp application: POST /statefun runs one request-reply round."""
    from aiohttp import web

    async def statefun(request):
        body = await request.read()
        reply = await handler.handle_async(body)
        return web.Response(body=reply, content_type="application/octet-stream")

    app = web.Application()
    app.add_routes([web.post("/statefun", statefun)])
    return app


def main(argv=None):
    parser = argparse.ArgumentParser(description="Serve the app's StateFun functions.")
    parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    args = parser.parse_args(argv)
    from aiohttp import web

    web.run_app(make_app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
