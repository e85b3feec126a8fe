"""Helpers of the Lambda target's tests: generated projects, moto, API Gateway events.

The projects come from tests/lambda.rs, which generates them into $SFGEN_LAMBDA_PROJECTS
(one folder per app: bank, misc) and runs these tests with the lambda venv's python.
"""
import importlib
import json
import os
import sys
import threading
import unittest

PROJECTS = os.environ.get("SFGEN_LAMBDA_PROJECTS")
MODULES = ("client", "handler", "state", "entities", "sfgen_runtime")

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.pop("DYNAMODB_ENDPOINT", None)


def project_dir(name):
    if not PROJECTS:
        raise unittest.SkipTest("SFGEN_LAMBDA_PROJECTS is not set (tests/lambda.rs sets it)")
    path = os.path.join(PROJECTS, name)
    if not os.path.isdir(path):
        raise unittest.SkipTest(f"no generated project {path}")
    return path


class Project:
    """The modules of one generated project, imported fresh (every project has its own
    handler, state, entities and sfgen_runtime)."""

    def __init__(self, name):
        self.name = name
        self.dir = project_dir(name)
        for m in MODULES:
            sys.modules.pop(m, None)
        sys.path[:0] = [self.dir, os.path.join(self.dir, "src")]
        try:
            self.client = importlib.import_module("client")
            self.handler = importlib.import_module("handler")
            self.state = importlib.import_module("state")
            self.sf = importlib.import_module("sfgen_runtime")
        finally:
            del sys.path[:2]
            for m in MODULES:
                sys.modules.pop(m, None)


_serial = threading.Lock()
_patched = False


def serialise_moto():
    """moto's DynamoDB backend has no locks: two threads can both pass a condition before
    either writes. DynamoDB applies each request atomically, so let one moto request run at
    a time, which is what the conditional writes rely on."""
    global _patched
    if _patched:
        return
    from moto.core.botocore_stubber import BotocoreStubber
    original = BotocoreStubber.process_request

    def process_request(self, request):
        with _serial:
            return original(self, request)

    BotocoreStubber.process_request = process_request
    _patched = True


class Moto:
    """A fresh emulated DynamoDB with the state table, used by `project`'s handler."""

    def __init__(self, project, table="sfgen-test", **db_options):
        import boto3
        import moto
        self.project = project
        self.mock = moto.mock_aws()
        self.mock.start()
        self.client = boto3.client("dynamodb")
        self.db = project.state.Database(self.client, table, **db_options)
        self.db.create_table()
        project.handler.configure(self.db)

    def close(self):
        self.project.handler.configure(None)
        self.mock.stop()

    def items(self):
        out = []
        kwargs = {"TableName": self.db.table, "ConsistentRead": True}
        while True:
            page = self.client.scan(**kwargs)
            out.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def leases(self):
        """Items that still carry a lease (should be none when no request runs)."""
        return [i["pk"]["S"] for i in self.items() if "lease_owner" in i]


def invoke(project, method, path, body=None, request_id=None, headers=None, event=None):
    """(status, body dict, headers) of one request through the handler."""
    hdrs = dict(headers or {})
    if request_id is not None:
        hdrs["x-request-id"] = request_id
    if event is None:
        event = project.client.api_event(method, path, body, hdrs)
    resp = project.handler.lambda_handler(event, None)
    assert resp["headers"]["content-type"] == "application/json"
    return resp["statusCode"], json.loads(resp["body"]), resp["headers"]


def step(project, op, cls, key=None, method=None, args=(), kwargs=None, request_id=None):
    s = {"op": op, "class": cls, "args": list(args), "kwargs": kwargs or {}}
    if key is not None:
        s["key"] = key
    if method is not None:
        s["method"] = method
    return invoke(project, *project.client.request_of(s), request_id=request_id)
