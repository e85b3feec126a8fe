"""Entity state in DynamoDB for the AWS Lambda target of sfgen: leases, records, results.

One table holds everything, with the partition key `pk` (a string):

    <Entity>#<key>     an entity: `record` (its operator record as JSON text, absent while
                       the entity does not exist), `version` (a number, +1 on every write of
                       the record) and, while a request holds it, the lease: `lease_request`
                       (the request id), `lease_owner` (the invocation holding it) and
                       `lease_expires` (epoch milliseconds)
    $request#<id>      a request sent with an x-request-id header: `status` ("running" or
                       "done"), `response` (the stored HTTP response, JSON text), the lease
                       of the invocation running it, and `expires_at` (epoch seconds, the
                       table's time-to-live attribute)

`<key>` is the entity key as compact JSON, so that the str "1" and the int 1 stay apart:
`Account#"NL01"`, `Seat#12`.

A request runs in one Session: the first time it touches an entity it takes the entity's
lease with a conditional write (free, expired, or already its own) that also returns the
item; later touches (re-entrant calls of the same request) use the record in memory. The
record changes only in memory until the request ends; then `commit` writes every changed
record (condition: the lease is still ours and the version is the one read), releases every
lease and stores the response, all in one DynamoDB transaction. A request that fails
before that writes nothing and releases its leases (`release`); one that is killed writes
nothing either, and its leases expire. Python standard library and boto3 only; no pickle.
"""
import json
import os
import random
import time

import boto3  # part of the Lambda runtime; requirements.txt brings it for local runs
from botocore.exceptions import ClientError

import sfgen_runtime as _sf

TRANSACTION_LIMIT = 100   # actions in one TransactWriteItems call (DynamoDB's limit)
BACKOFF_FIRST = 0.01      # seconds: the first wait after a lease conflict ...
BACKOFF_MAX = 0.5         # ... doubling up to this, with jitter


class EntityBusy(Exception):
    """Another request held an entity's lease for longer than this request may wait."""


class RequestInProgress(Exception):
    """Another invocation is still running the request with this request id."""


class LeaseLost(Exception):
    """The request's lease expired and another request took the entity over, so its changes
    were not written (the function ran for longer than the lease)."""


class _Conflict(Exception):
    """Internal: a lease is held by another request; retry after a backoff."""

    def __init__(self, pk):
        super().__init__(pk)
        self.pk = pk


class KeyTooLong(ValueError):
    """An entity's key does not fit DynamoDB's partition key (2048 bytes)."""


MAX_KEY_BYTES = 2048  # DynamoDB's limit for a partition key


def item_key(cls, key):
    """The partition key of entity (cls, key): 'Account#"NL01"'."""
    pk = cls + "#" + json.dumps(_sf.encode(key, f"key of {cls}"), ensure_ascii=False,
                                separators=(",", ":"))
    size = len(pk.encode("utf-8"))
    if size > MAX_KEY_BYTES:
        raise KeyTooLong(f"the key of a {cls} is too long for DynamoDB: its item key "
                         f"'{cls}#...' takes {size} bytes, at most {MAX_KEY_BYTES} fit")
    return pk


def request_key(request):
    return "$request#" + request


def record_text(cls, key, record):
    """The JSON text stored for an entity's record: its fields only. The runtime core's
    own isolation and duplicate-suppression bookkeeping stay out: here the lease isolates,
    and the events of a request never leave the invocation, so none arrives twice."""
    return json.dumps(_sf.encode_record(cls, key, {"fields": record["fields"]}),
                      ensure_ascii=False, separators=(",", ":"))


def _now_ms():
    return int(time.time() * 1000)


def _code(exc):
    return exc.response.get("Error", {}).get("Code", "") if hasattr(exc, "response") else ""


def _s(v):
    return {"S": v}


def _n(v):
    return {"N": str(v)}


class Database:
    """The state table. `lease_seconds` must be longer than a request can run (the function
    timeout); `wait_seconds` bounds how long a request waits for leases held by others."""

    def __init__(self, client, table, lease_seconds=40.0, wait_seconds=10.0,
                 result_ttl_seconds=86400):
        self.client = client
        self.table = table
        self.lease_ms = int(float(lease_seconds) * 1000)
        self.wait_seconds = float(wait_seconds)
        self.result_ttl = int(result_ttl_seconds)

    @classmethod
    def from_env(cls):
        """The table named by $STATE_TABLE ($DYNAMODB_ENDPOINT: another endpoint, e.g. a
        local emulator); $SFGEN_LEASE_SECONDS, $SFGEN_LEASE_WAIT_SECONDS and
        $SFGEN_RESULT_TTL_SECONDS override the defaults."""
        client = boto3.client("dynamodb", endpoint_url=os.environ.get("DYNAMODB_ENDPOINT") or None)
        env = os.environ.get
        return cls(client, os.environ["STATE_TABLE"],
                   lease_seconds=env("SFGEN_LEASE_SECONDS") or 40.0,
                   wait_seconds=env("SFGEN_LEASE_WAIT_SECONDS") or 10.0,
                   result_ttl_seconds=env("SFGEN_RESULT_TTL_SECONDS") or 86400)

    def create_table(self):
        """Creates the table as template.yaml and terraform/ declare it (tests, local runs)."""
        self.client.create_table(
            TableName=self.table, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        self.client.update_time_to_live(
            TableName=self.table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})

    def get(self, pk):
        """The raw item with partition key `pk`, or None (a consistent read)."""
        return self.client.get_item(TableName=self.table, Key={"pk": _s(pk)},
                                    ConsistentRead=True).get("Item")

    def backoff(self, attempt):
        """Seconds to wait before retry number `attempt` (0, 1, ...): doubling, jittered."""
        cap = min(BACKOFF_MAX, BACKOFF_FIRST * (2 ** min(attempt, 16)))
        return cap / 2 + random.uniform(0, cap / 2)

    # -- request records (idempotency) -------------------------------------------------

    def claim(self, request, owner):
        """Claims request id `request` for this invocation: None when it is ours to run, or
        the stored response (a dict) when it already ran. Raises RequestInProgress while
        another live invocation runs it (an expired claim is taken over)."""
        now = _now_ms()
        try:
            self.client.put_item(
                TableName=self.table,
                Item={"pk": _s(request_key(request)), "status": _s("running"),
                      "lease_owner": _s(owner), "lease_expires": _n(now + self.lease_ms),
                      "expires_at": _n(now // 1000 + self.result_ttl)},
                ConditionExpression="attribute_not_exists(pk) OR "
                                    "(#st = :running AND lease_expires < :now)",
                ExpressionAttributeNames={"#st": "status"},
                ExpressionAttributeValues={":running": _s("running"), ":now": _n(now)})
            return None
        except ClientError as exc:
            if _code(exc) not in ("ConditionalCheckFailedException",
                                  "TransactionConflictException"):
                raise
        item = self.get(request_key(request))
        if item is not None and item.get("status", {}).get("S") == "done":
            return json.loads(item["response"]["S"])
        raise RequestInProgress(f"request {request!r} is being run by another invocation")

    def unclaim(self, request, owner):
        """Gives up the claim on `request` (nothing was stored: a retry runs it)."""
        try:
            self.client.delete_item(
                TableName=self.table, Key={"pk": _s(request_key(request))},
                ConditionExpression="lease_owner = :me",
                ExpressionAttributeValues={":me": _s(owner)})
        except ClientError as exc:
            if _code(exc) not in ("ConditionalCheckFailedException",
                                  "TransactionConflictException"):
                raise

    def session(self, request, owner):
        return Session(self, request, owner)


class _Entry:
    __slots__ = ("cls", "key", "pk", "record", "text", "version")

    def __init__(self, cls, key, pk, record, text, version):
        self.cls = cls
        self.key = key
        self.pk = pk
        self.record = record    # the live record (None: no entity)
        self.text = text        # the record's JSON text as read (None: no entity)
        self.version = version  # the item's version as read


class Session:
    """One attempt at running one request: the entities it holds leases on and their
    records, changed in memory until `commit`."""

    def __init__(self, db, request, owner):
        self.db = db
        self.request = request
        self.owner = owner
        self.entries = {}  # pk -> _Entry, in the order the request touched them

    def load(self, cls, key):
        """The record of entity (cls, key) (None: no such entity), taking its lease the first
        time this request touches it. Raises _Conflict while another request holds it."""
        pk = item_key(cls, key)
        entry = self.entries.get(pk)
        if entry is not None:  # a re-entrant touch: the lease is ours already
            return entry.record
        db = self.db
        now = _now_ms()
        try:
            item = db.client.update_item(
                TableName=db.table, Key={"pk": _s(pk)},
                UpdateExpression="SET lease_owner = :me, lease_request = :req, "
                                 "lease_expires = :exp, #v = if_not_exists(#v, :zero)",
                ConditionExpression="attribute_not_exists(lease_owner) OR lease_owner = :me "
                                    "OR lease_expires < :now",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={
                    ":me": _s(self.owner), ":req": _s(self.request),
                    ":exp": _n(now + db.lease_ms), ":now": _n(now), ":zero": _n(0)},
                ReturnValues="ALL_NEW")["Attributes"]
        except ClientError as exc:
            if _code(exc) in ("ConditionalCheckFailedException",
                              "TransactionConflictException"):
                raise _Conflict(pk) from None
            raise
        # the entry goes in before decoding: a lease taken is released whatever follows
        entry = _Entry(cls, key, pk, None, None, int(item["version"]["N"]))
        self.entries[pk] = entry
        if "record" in item:
            text = item["record"]["S"]
            entry.record = _sf.decode_record(_sf.decode(text))
            entry.text = text
        return entry.record

    def store(self, cls, key, record):
        """The record of (cls, key) after an event (kept in memory until commit)."""
        self.entries[item_key(cls, key)].record = record

    def _actions(self, response):
        """The writes that end the request: one per touched entity (its new record, or just
        the release of its lease), plus the stored response when there is one."""
        db = self.db
        me = {":me": _s(self.owner)}
        actions = []
        for e in self.entries.values():
            key = {"pk": _s(e.pk)}
            text = None
            if e.record is not None:
                text = record_text(e.cls, e.key, e.record)
            if text is None:  # no entity (before or after): remove the lease's placeholder
                actions.append({"Delete": {
                    "TableName": db.table, "Key": key,
                    "ConditionExpression": "lease_owner = :me",
                    "ExpressionAttributeValues": me}})
            elif text == e.text:  # unchanged: release the lease only
                actions.append({"Update": {
                    "TableName": db.table, "Key": key,
                    "UpdateExpression": "REMOVE lease_owner, lease_request, lease_expires",
                    "ConditionExpression": "lease_owner = :me",
                    "ExpressionAttributeValues": me}})
            else:  # the new record, a new version, and no lease
                actions.append({"Put": {
                    "TableName": db.table,
                    "Item": {**key, "record": _s(text), "version": _n(e.version + 1)},
                    "ConditionExpression": "lease_owner = :me AND #v = :v",
                    "ExpressionAttributeNames": {"#v": "version"},
                    "ExpressionAttributeValues": {**me, ":v": _n(e.version)}}})
        if response is not None:
            now = _now_ms()
            actions.append({"Put": {
                "TableName": db.table,
                "Item": {"pk": _s(request_key(self.request)), "status": _s("done"),
                         "response": _s(json.dumps(response, ensure_ascii=False,
                                                   sort_keys=True)),
                         "expires_at": _n(now // 1000 + db.result_ttl)},
                "ConditionExpression": "lease_owner = :me",
                "ExpressionAttributeValues": me}})
        return actions

    def commit(self, response=None):
        """Writes every changed record, releases every lease and stores `response` (the
        request's HTTP response, when the request has an id), atomically. Raises
        NotSerializable (naming the field) when a record cannot be stored, and LeaseLost
        when a lease or the request's claim was taken over (nothing is written then)."""
        actions = self._actions(response)
        if not actions:
            return
        if len(actions) > TRANSACTION_LIMIT:  # too many for one transaction: one by one
            for action in actions:
                self._write_one(action)
            self.entries.clear()
            return
        for attempt in range(8):
            try:
                self.db.client.transact_write_items(TransactItems=actions)
                self.entries.clear()
                return
            except ClientError as exc:
                code = _code(exc)
                reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                if code == "TransactionCanceledException" and "ConditionalCheckFailed" in reasons:
                    raise LeaseLost(self._lost_message()) from None
                if code not in ("TransactionCanceledException", "TransactionConflictException",
                                "TransactionInProgressException"):
                    raise
            time.sleep(self.db.backoff(attempt))  # a conflicting transaction: try again
        raise LeaseLost("the commit kept conflicting with other transactions")

    def _write_one(self, action):
        (kind, args), = action.items()
        try:
            if kind == "Put":
                self.db.client.put_item(**args)
            elif kind == "Update":
                self.db.client.update_item(**args)
            else:
                self.db.client.delete_item(**args)
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                raise LeaseLost(self._lost_message()) from None
            raise

    def _lost_message(self):
        return (f"request {self.request!r} lost a lease before it could write its changes "
                f"(it ran for longer than the lease of {self.db.lease_ms / 1000:g} s); "
                f"nothing was written")

    def release(self):
        """Releases every lease this attempt holds without writing anything (best effort:
        a lease that cannot be released expires)."""
        db = self.db
        for e in list(self.entries.values()):
            try:
                if e.text is None:  # the item holds no entity: remove it
                    db.client.delete_item(
                        TableName=db.table, Key={"pk": _s(e.pk)},
                        ConditionExpression="lease_owner = :me AND attribute_not_exists(#r)",
                        ExpressionAttributeNames={"#r": "record"},
                        ExpressionAttributeValues={":me": _s(self.owner)})
                else:
                    db.client.update_item(
                        TableName=db.table, Key={"pk": _s(e.pk)},
                        UpdateExpression="REMOVE lease_owner, lease_request, lease_expires",
                        ConditionExpression="lease_owner = :me",
                        ExpressionAttributeValues={":me": _s(self.owner)})
            except Exception:  # noqa: BLE001, S110 (it expires instead)
                pass
        self.entries.clear()

    def holder(self, pk):
        """Who holds the lease of `pk`, for error messages."""
        try:
            item = self.db.get(pk) or {}
        except Exception:  # noqa: BLE001
            return "another request"
        req = item.get("lease_request", {}).get("S")
        exp = item.get("lease_expires", {}).get("N")
        if req is None:
            return "another request"
        left = (int(exp) - _now_ms()) / 1000 if exp else 0
        return f"request {req!r} (its lease expires in {max(left, 0):.1f} s)"
