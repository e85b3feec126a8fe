"""AWS Lambda handler of an app compiled by sfgen: an API Gateway HTTP API (payload 2.0).

    POST /{entity}                  create an entity      body {"args": [...], "kwargs": {...}}
    POST /{entity}/{key}/{method}   call a method         body {"args": [...], "kwargs": {...}}
    GET  /{entity}/{key}            every field of the entity

`key` is a path segment: its JSON value when it parses as JSON (`12`, `"12"`, `true`), else
the text itself (`NL01`). Arguments are JSON; a reference to an entity is
{"$ref": [CLASS, KEY]}. The response is {"ok": VALUE}, or {"error": NAME, "message": TEXT}
naming the exception class. A request with an `x-request-id` header runs at most once: a
retry with the same id gets the stored response (with `x-sfgen-replayed: true`).

One invocation runs every hop of a request in process: the runtime core's operators, one
event after the other, each entity's record loaded from DynamoDB (taking its lease) the
first time the request touches it and written back, with every lease released, when the
request ends (see state.py).
"""
import base64
import hashlib
import json
import logging
import re
import time
import urllib.parse
import uuid

import entities
import sfgen_runtime as _sf
import state

ENTITIES = entities.ENTITIES
INGRESS = _sf.Ingress(ENTITIES)
ROUTER = _sf.Router(ENTITIES, 1)  # every partition is in this process
OPERATORS = {name: _sf.Operator(ENTITIES, name) for name in ENTITIES}
REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+=~/-]{0,127}")

log = logging.getLogger("sfgen")

_database = None


def database():
    """The state table (from the environment, see state.Database.from_env), made once per
    container."""
    global _database
    if _database is None:
        _database = state.Database.from_env()
    return _database


def configure(db):
    """Use `db` (a state.Database) from now on: for tests and the local client."""
    global _database
    _database = db


class HttpError(Exception):
    """A request that is answered without running: status, error name, message."""

    def __init__(self, status, name, message):
        super().__init__(message)
        self.status = status
        self.name = name


def response(status, body, headers=None):
    out = {"statusCode": status,
           "headers": {"content-type": "application/json", **(headers or {})},
           "body": json.dumps(body, ensure_ascii=False, sort_keys=True)}
    return out


def lambda_handler(event, context):
    try:
        request = parse(event)
    except HttpError as exc:
        return response(exc.status, {"error": exc.name, "message": str(exc)})
    return handle(database(), request)


# -- the HTTP request ------------------------------------------------------------------

def _segments(event):
    # API Gateway has matched the route and decoded its parameters once: use them (a key
    # may hold "/" or "%"); without them (another invoker), the raw path, decoded here.
    params = event.get("pathParameters")
    if type(params) is dict and type(params.get("entity")) is str:
        return [params[n] for n in ("entity", "key", "method")
                if type(params.get(n)) is str]
    ctx = event.get("requestContext") or {}
    path = event.get("rawPath") or (ctx.get("http") or {}).get("path") or "/"
    parts = path.split("/")[1:] if path.startswith("/") else path.split("/")
    stage = ctx.get("stage")
    if stage and stage != "$default" and parts and parts[0] == stage:
        parts = parts[1:]  # a named stage's prefix
    return [urllib.parse.unquote(p) for p in parts]


def key_of(segment):
    """An entity key from a path segment: its JSON value when it is JSON, else the text."""
    try:
        return json.loads(segment, parse_constant=_not_json)
    except (ValueError, RecursionError):
        return segment


def _not_json(name):
    raise ValueError(f"{name} is not a JSON number")


def _body(event):
    raw = event.get("body")
    if raw is None or raw == "":
        return [], {}
    try:
        if event.get("isBase64Encoded"):
            raw = base64.b64decode(raw).decode("utf-8")
        body = json.loads(raw, parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HttpError(400, "BadRequest", f"the body is not JSON: {exc}") from None
    except RecursionError:
        raise HttpError(400, "BadRequest", "the body nests too deeply") from None
    if type(body) is not dict:
        raise HttpError(400, "BadRequest",
                        'the body must be a JSON object {"args": [...], "kwargs": {...}}')
    extra = sorted(set(body) - {"args", "kwargs"})
    if extra:
        raise HttpError(400, "BadRequest", f"unknown body fields {extra}: "
                        'the body is {"args": [...], "kwargs": {...}}')
    args = body.get("args", [])
    kwargs = body.get("kwargs", {})
    if type(args) is not list:
        raise HttpError(400, "BadRequest", "'args' must be a JSON array")
    if type(kwargs) is not dict:
        raise HttpError(400, "BadRequest", "'kwargs' must be a JSON object")
    return args, kwargs


def parse(event):
    """(request id or None, operation, arguments of the Ingress method) of an API Gateway
    HTTP API event; raises HttpError for a malformed request."""
    if type(event) is not dict:
        raise HttpError(400, "BadRequest", "the event is not an API Gateway HTTP API event")
    if event.get("version", "2.0") != "2.0":
        raise HttpError(400, "BadRequest", "expected an HTTP API event of payload format 2.0")
    method = ((event.get("requestContext") or {}).get("http") or {}).get("method", "")
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    rid = headers.get("x-request-id")
    if rid is not None and (type(rid) is not str or not REQUEST_ID.fullmatch(rid)):
        raise HttpError(400, "BadRequest", "x-request-id must be 1 to 128 characters of "
                        "letters, digits and ._:@+=~/- starting with a letter or digit")
    parts = _segments(event)
    n = len(parts)
    if not all(parts):
        raise HttpError(404, "NotFound", "no such route: POST /{entity}, "
                        "POST /{entity}/{key}/{method} or GET /{entity}/{key}")
    if n == 1 and method == "POST":
        args, kwargs = _body(event)
        return rid, "create", (parts[0], args, kwargs)
    if n == 3 and method == "POST":
        args, kwargs = _body(event)
        return rid, "call", (parts[0], key_of(parts[1]), parts[2], args, kwargs)
    if n == 2 and method == "GET":
        return rid, "state", (parts[0], key_of(parts[1]))
    if (n in (1, 3) and method != "POST") or (n == 2 and method != "GET"):
        raise HttpError(405, "MethodNotAllowed", f"{method} is not allowed on this path")
    raise HttpError(404, "NotFound", "no such route: POST /{entity}, "
                    "POST /{entity}/{key}/{method} or GET /{entity}/{key}")


# -- running a request -----------------------------------------------------------------

def status_of(body):
    """The HTTP status of a finished request's body."""
    if "ok" in body:
        return 200
    name = body["error"]
    if name in ("EntityNotFound", "UnknownClass"):
        return 404  # (also when a method called an entity that does not exist)
    if name == "MalformedEvent":
        return 400
    return 422  # the method raised: the body names the exception


def run(session, text):
    """Runs the request whose first event is `text` to its end, every hop in this process;
    the final reply event."""
    request = session.request
    while True:
        try:
            ev = _sf.loads(text)
        except _sf.MalformedEvent as exc:
            text = _sf.dumps(_sf.malformed_reply(text, exc))
            continue
        try:
            dest = ROUTER.route(ev)
        except (_sf.EntityNotFound, _sf.UnknownClass) as exc:
            text = _sf.dumps(_sf.reject(ev, exc))
            continue
        if ev["request"] != request:
            raise RuntimeError(f"an event of request {ev['request']!r} appeared while "
                               f"running request {request!r}")
        if dest is None:  # the egress: the request's answer
            return ev
        cls = dest[0]
        key = ev["to"][1]
        record, out = OPERATORS[cls].process(ev, session.load(cls, key))
        session.store(cls, key, record)
        if len(out) != 1:  # (the lease keeps other requests out: nothing can queue)
            raise RuntimeError(f"the operator of {cls} answered an event of request "
                               f"{request!r} with {len(out)} events instead of one")
        text = _sf.dumps(out[0])


def _first_event(request, op, args):
    make = {"create": INGRESS.create, "call": INGRESS.call, "state": INGRESS.state}[op]
    return _sf.dumps(make(request, *args))


def _reply_body(reply):
    if "error" in reply:
        err = reply["error"]
        return {"error": err["type"], "message": err.get("message", "")}
    return _sf.client_result(reply)


def handle(db, parsed):
    """Runs one parsed request against the state table `db`: the HTTP response."""
    rid, op, args = parsed
    request = rid or uuid.uuid4().hex
    owner = f"{request}@{uuid.uuid4().hex}"  # this invocation: unique even for a retry
    headers = {"x-request-id": request}
    # what the stored answer of a request id is the answer to
    fingerprint = hashlib.sha256(json.dumps([op, args], sort_keys=True, default=repr)
                                 .encode("utf-8")).hexdigest()[:32]
    deadline = time.monotonic() + db.wait_seconds
    attempt = 0
    if rid is not None:  # at most once per request id
        while True:
            try:
                stored = db.claim(rid, owner)
                break
            except state.RequestInProgress as exc:
                if time.monotonic() >= deadline:
                    return response(409, {"error": "RequestInProgress", "message": str(exc)},
                                    {**headers, "retry-after": "1"})
            time.sleep(db.backoff(attempt))
            attempt += 1
        if stored is not None:
            if stored.get("request", fingerprint) != fingerprint:
                return response(422, {"error": "RequestIdReused", "message": (
                    f"x-request-id {rid!r} was used for another request: a retry must repeat "
                    f"the request exactly; use a new id for a new request")}, headers)
            return response(stored["status"], stored["body"],
                            {**headers, "x-sfgen-replayed": "true"})
    try:
        text = _first_event(request, op, args)
        attempt = 0
        while True:
            session = db.session(request, owner)
            try:
                body = _reply_body(run(session, text))
                status = status_of(body)
                try:
                    session.commit({"status": status, "body": body, "request": fingerprint}
                                   if rid else None)
                except _sf.NotSerializable as exc:  # a record cannot be stored as JSON
                    session.release()
                    body = {"error": type(exc).__name__, "message": str(exc)}
                    status = status_of(body)
                    session.commit({"status": status, "body": body, "request": fingerprint}
                                   if rid else None)
                return response(status, body, headers)
            except state._Conflict as exc:  # another request holds a lease: start again
                session.release()
                wait = db.backoff(attempt)
                if time.monotonic() + wait > deadline:
                    holder = session.holder(exc.pk)
                    raise state.EntityBusy(
                        f"{exc.pk} is held by {holder}; gave up after waiting "
                        f"{db.wait_seconds:g} s") from None
                time.sleep(wait)
                attempt += 1
            except Exception:
                session.release()  # a failed request holds nothing
                raise
    except state.EntityBusy as exc:
        _unclaim(db, rid, owner)
        return response(503, {"error": "EntityBusy", "message": str(exc)},
                        {**headers, "retry-after": "1"})
    except state.LeaseLost as exc:
        _unclaim(db, rid, owner)
        return response(503, {"error": "LeaseLost", "message": str(exc)}, headers)
    except state.KeyTooLong as exc:
        _unclaim(db, rid, owner)
        return response(400, {"error": "KeyTooLong", "message": str(exc)}, headers)
    except Exception as exc:  # noqa: BLE001 (a fault of the runtime or of DynamoDB)
        log.exception("request %s failed", request)
        _unclaim(db, rid, owner)
        return response(500, {"error": "InternalError",
                              "message": f"{type(exc).__name__}: {exc}"}, headers)


def _unclaim(db, rid, owner):
    if rid is not None:
        try:
            db.unclaim(rid, owner)
        except Exception:  # noqa: BLE001 (the claim expires instead)
            log.exception("cannot release the claim on request %s", rid)
