"""A request killed after it took its leases: the entities are usable again once the leases
expire, and nothing it did in memory was written. The killed invocation is a separate
process (SIGKILL: no cleanup runs), against moto_server on 127.0.0.1."""
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import unittest
import urllib.request

import support
from support import step

LEASE_SECONDS = 3.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class KilledRequestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = support.Project("bank")
        moto_server = os.path.join(os.path.dirname(sys.executable), "moto_server")
        if not os.path.exists(moto_server):
            raise unittest.SkipTest("moto_server is not installed")
        port = free_port()
        cls.endpoint = f"http://127.0.0.1:{port}"
        cls.server = subprocess.Popen([moto_server, "-H", "127.0.0.1", "-p", str(port)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(cls.endpoint + "/moto-api/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or cls.server.poll() is not None:
                    cls.server.kill()
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.2)

    @classmethod
    def tearDownClass(cls):
        cls.server.send_signal(signal.SIGTERM)
        try:
            cls.server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            cls.server.kill()
            cls.server.wait()

    def setUp(self):
        import boto3
        client = boto3.client("dynamodb", endpoint_url=self.endpoint)
        self.db = self.p.state.Database(client, "crash", lease_seconds=LEASE_SECONDS,
                                        wait_seconds=0.5)
        self.db.create_table()
        self.addCleanup(client.delete_table, TableName="crash")
        self.p.handler.configure(self.db)
        self.addCleanup(self.p.handler.configure, None)

    def lease(self, pk):
        item = self.db.get(pk) or {}
        if "lease_owner" not in item:
            return None
        return item["lease_request"]["S"], int(item["lease_expires"]["N"]) / 1000

    def test_a_killed_request_leaves_nothing_locked_for_good(self):
        for iban, owner in (("NL01", "ann"), ("NL02", "bas")):
            self.assertEqual(step(self.p, "create", "Account", args=[iban, owner])[0], 200)
            self.assertEqual(step(self.p, "call", "Account", iban, "deposit", [100])[1],
                             {"ok": 100})
        # pay_in_installments(5, 10, NL01) on NL02: part = 5 // 10 = 0, so it deposits 0
        # into NL01 forever, holding both accounts; the process is killed mid-request
        script = textwrap.dedent("""
            import sys
            sys.path.insert(0, sys.argv[1])
            import client, handler
            event = client.api_event("POST", "/Account/NL02/pay_in_installments",
                                     {"args": [5, 10, {"$ref": ["Account", "NL01"]}]},
                                     {"x-request-id": "doomed"})
            print(handler.lambda_handler(event, None), flush=True)
        """)
        env = dict(os.environ, DYNAMODB_ENDPOINT=self.endpoint, STATE_TABLE="crash",
                   SFGEN_LEASE_SECONDS=str(LEASE_SECONDS), PYTHONPATH="")
        proc = subprocess.Popen(
            [sys.executable, "-c", script, os.path.join(self.p.dir, "src")],
            cwd=self.p.dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while not (self.lease('Account#"NL01"') and self.lease('Account#"NL02"')):
                if proc.poll() is not None:
                    self.fail(f"the request ended: {proc.communicate()}")
                self.assertLess(time.monotonic(), deadline, "the request took no leases")
                time.sleep(0.05)
            time.sleep(0.3)  # it runs on for a while, all in memory
        finally:
            proc.kill()  # SIGKILL: no except or finally runs in it
            proc.communicate()
        killed_at = time.time()
        holder, expires = self.lease('Account#"NL01"')
        self.assertEqual(holder, "doomed")
        self.assertEqual(self.db.get("$request#doomed")["status"]["S"], "running")

        # while the lease lives: a clear, bounded refusal that names the holder
        status, body, _ = step(self.p, "call", "Account", "NL01", "deposit", [1])
        self.assertEqual((status, body["error"]), (503, "EntityBusy"))
        self.assertIn("'doomed'", body["message"])
        self.assertLess(time.time(), expires, "the test was too slow to see the lease")

        # after the expiry the accounts work again, unchanged: the killed request's
        # deposits of 0 and its claim on NL02's balance were never written
        time.sleep(max(0.0, expires - time.time()) + 0.2)
        self.assertEqual(step(self.p, "call", "Account", "NL01", "deposit", [1])[:2],
                         (200, {"ok": 101}))
        state = {iban: step(self.p, "state", "Account", iban)[1]["ok"]
                 for iban in ("NL01", "NL02")}
        self.assertEqual(state["NL01"]["history"], [100, 1])
        self.assertEqual(state["NL02"]["history"], [100])
        self.assertIsNone(self.lease('Account#"NL01"'))
        self.assertIsNone(self.lease('Account#"NL02"'))
        print(f"\ncrash: killed a request holding 2 leases; EntityBusy while they lived; "
              f"usable {time.time() - killed_at:.1f} s after the kill "
              f"(lease {LEASE_SECONDS:g} s); nothing of it written", flush=True)
        # its request id is claimed by a dead invocation: after expiry a retry takes the
        # claim over (here with a request that ends)
        status, body, _ = step(self.p, "call", "Account", "NL02", "get_balance",
                               request_id="doomed")
        self.assertEqual((status, body), (200, {"ok": 100}))
        self.assertEqual(json.loads(self.db.get("$request#doomed")["response"]["S"])["body"],
                         {"ok": 100})


if __name__ == "__main__":
    unittest.main()
