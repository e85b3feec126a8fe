"""Command-line client of an app compiled by sfgen for AWS Lambda + DynamoDB.

    python3 client.py [--url URL] create CLASS ARGS... [--kwargs JSON]
    python3 client.py [--url URL] call CLASS KEY METHOD ARGS... [--kwargs JSON]
    python3 client.py [--url URL] state CLASS KEY
    python3 client.py [--url URL] replay SCENARIO.json
    python3 client.py --local replay SCENARIO.json

URL is the deployed HTTP API (the ApiUrl output of the stack; default $SFGEN_API_URL).
With --local, the handler in src/ runs in this process against DynamoDB emulated by moto
(pip install -r requirements.txt): entities then live for one invocation.

ARGS and KEY are JSON values (a reference is {"$ref": [CLASS, KEY]}); text that is not
valid JSON is taken as a plain string. create, call and state print {"ok": VALUE} or
{"error": "NAME"} (the error's message goes to stderr) and exit with 0 or 1; replay prints
the results document of the conformance oracle. Every request carries an x-request-id, so
the client can retry one safely after a timeout or an EntityBusy answer: it runs once.
"""
import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import sfgen_client

HERE = os.path.dirname(os.path.abspath(__file__))
RETRY_STATUSES = (409, 429, 502, 503, 504)  # answered without running: safe to retry


def key_segment(key):
    """The path segment of an entity key: a non-empty str that is not itself JSON as it
    is, anything else as JSON (so that "12" and 12 stay apart), percent-encoded."""
    text = key
    if type(key) is str:
        try:
            json.loads(key)
        except ValueError:
            if key == "":  # (an empty segment is no key)
                text = '""'
        else:
            text = json.dumps(key, ensure_ascii=False)
    else:
        text = json.dumps(key, ensure_ascii=False, separators=(",", ":"))
    return urllib.parse.quote(text, safe="")


def request_of(step):
    """(HTTP method, path, body) of a scenario step."""
    cls = urllib.parse.quote(step["class"], safe="")
    op = step["op"]
    if op == "create":
        return "POST", f"/{cls}", {"args": step.get("args", []),
                                   "kwargs": step.get("kwargs", {})}
    if op == "call":
        method = urllib.parse.quote(step["method"], safe="")
        return "POST", f"/{cls}/{key_segment(step['key'])}/{method}", {
            "args": step.get("args", []), "kwargs": step.get("kwargs", {})}
    if op == "state":
        return "GET", f"/{cls}/{key_segment(step['key'])}", None
    raise ValueError(f"unknown scenario op {op!r}")


def api_event(method, path, body=None, headers=None):
    """The API Gateway HTTP API event (payload format 2.0) of a request to the $default
    stage, as Lambda receives it."""
    parts = path.split("/")[1:]
    names = {1: ["entity"], 2: ["entity", "key"], 3: ["entity", "key", "method"]}
    params = dict(zip(names.get(len(parts), []), (urllib.parse.unquote(p) for p in parts),
                      strict=False))
    route = method + " /" + "/".join("{" + n + "}" for n in names.get(len(parts), []))
    hdrs = {"content-type": "application/json", **(headers or {})}
    return {
        "version": "2.0",
        "routeKey": route if params else "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": hdrs,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "sfgen-client"},
            "requestId": uuid.uuid4().hex,
            "routeKey": route if params else "$default",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 1767225600000,
        },
        "pathParameters": params,
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


class HttpTransport:
    """Requests to the deployed API."""

    def __init__(self, url, timeout=60.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def send(self, method, path, body, request_id):
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers={"content-type": "application/json", "x-request-id": request_id})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                return resp.status, json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace")
            try:
                doc = json.loads(text)
            except ValueError:
                doc = None
            if type(doc) is not dict or ("error" not in doc and "ok" not in doc):
                # not the function's answer (API Gateway's own, e.g. {"message": ...})
                doc = {"error": f"HTTP{exc.code}", "message": text}
            return exc.code, doc

    def close(self):
        pass


class LocalTransport:
    """The handler in src/, called in this process, against DynamoDB emulated by moto."""

    def __init__(self):
        try:
            import boto3
            import moto
        except ImportError as exc:
            sys.exit(f"--local needs boto3 and moto ({exc}): pip install -r requirements.txt")
        for name, value in (("AWS_DEFAULT_REGION", "us-east-1"),
                            ("AWS_ACCESS_KEY_ID", "testing"),
                            ("AWS_SECRET_ACCESS_KEY", "testing")):
            os.environ.setdefault(name, value)
        os.environ.pop("DYNAMODB_ENDPOINT", None)  # everything stays in this process
        self.mock = moto.mock_aws()
        self.mock.start()
        sys.path.insert(0, os.path.join(HERE, "src"))
        import handler
        import state
        db = state.Database(boto3.client("dynamodb"), "sfgen-local")
        db.create_table()
        handler.configure(db)
        self.handler = handler

    def send(self, method, path, body, request_id):
        event = api_event(method, path, body, {"x-request-id": request_id})
        resp = self.handler.lambda_handler(event, None)
        return resp["statusCode"], json.loads(resp["body"])

    def close(self):
        self.mock.stop()


class Client:
    """Sends requests with an x-request-id, retrying those that did not run."""

    def __init__(self, transport, retries=3):
        self.transport = transport
        self.retries = retries
        self.prefix = uuid.uuid4().hex[:12]
        self.count = 0
        self.last = None  # the body of the last answer

    def send(self, method, path, body, request_id=None):
        if request_id is None:
            self.count += 1
            request_id = f"{self.prefix}-{self.count}"
        for attempt in range(self.retries + 1):
            try:
                status, doc = self.transport.send(method, path, body, request_id)
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                status, doc = 599, {"error": "ConnectionError", "message": str(exc)}
            if (status not in RETRY_STATUSES and status != 599) or attempt == self.retries:
                break
            time.sleep(0.2 * 2 ** attempt)
        self.last = doc
        if "ok" in doc:
            return {"ok": doc["ok"]}
        return {"error": doc.get("error", f"HTTP{status}")}

    def step(self, step, request_id=None):
        if step.get("op") == "barrier":
            return None
        return self.send(*request_of(step), request_id=request_id)

    def replay(self, calls):
        return sfgen_client.replay(self.step, calls)

    def error_message(self):
        if self.last is None or "error" not in self.last:
            return None
        return self.last.get("message", "")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="client.py", description=__doc__.strip().splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("SFGEN_API_URL"),
                        help="the API's base URL (default: $SFGEN_API_URL)")
    parser.add_argument("--local", action="store_true",
                        help="run the handler in process against DynamoDB emulated by moto")
    parser.add_argument("--request-id", metavar="ID",
                        help="the x-request-id of a create, call or state (default: new)")
    parser.add_argument("--retries", type=int, default=3, metavar="N",
                        help="resend a request that was not run up to N times (default 3)")
    sfgen_client.add_commands(parser)
    args = parser.parse_args(argv)
    if args.request_id is not None and args.command == "replay":
        parser.error("--request-id names one request: it goes with create, call or state, "
                     "not replay (each replayed step gets its own id)")
    if not args.local and not args.url:
        parser.error("give the API's URL with --url or $SFGEN_API_URL, or use --local")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    transport = LocalTransport() if args.local else HttpTransport(args.url)
    client = Client(transport, retries=args.retries)
    try:
        return sfgen_client.run_command(
            client, args, run=lambda step: client.step(step, request_id=args.request_id))
    finally:
        transport.close()


if __name__ == "__main__":
    sys.exit(main())
