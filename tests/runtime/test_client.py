"""client.py of a generated local project, run as a user runs it (a subprocess)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import support


class ClientTestCase(unittest.TestCase):
    fixture = "shop"

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sfgen-client-")
        self.addCleanup(shutil.rmtree, self.tmp)
        self.project = support.make_project(self.fixture, os.path.join(self.tmp, "project"))

    def client(self, *args, status=0):
        proc = support.run_client(self.project, *args)
        self.assertEqual(proc.returncode, status, proc.stderr)
        return proc


@unittest.skipUnless(support.have_shared(), "shared/conformance not found beside the repo")
class ShopReplayTest(ClientTestCase):
    fixture = case = "shop"

    def test_check_py_accepts_the_replay(self):
        """check.py runs `client.py replay scenario.json` and compares with expected.json."""
        case_dir = os.path.join(support.CASES, self.case)
        proc = subprocess.run(
            [sys.executable, os.path.join(support.CONFORMANCE, "check.py"), case_dir, "--",
             sys.executable, os.path.join(self.project, "client.py"), "replay", "{scenario}"],
            cwd=self.project, capture_output=True, text=True, timeout=300, check=False)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn(" 0 failed", proc.stdout)

    def test_replay_prints_the_oracles_format(self):
        case_dir = os.path.join(support.CASES, self.case)
        out = self.client("replay", os.path.join(case_dir, "scenario.json")).stdout
        with open(os.path.join(case_dir, "expected.json")) as f:
            self.assertEqual(out, f.read())


class BankReplayTest(ShopReplayTest):
    fixture = case = "bank"


class HotelReplayTest(ShopReplayTest):
    fixture = case = "hotel"


class CommandsTest(ClientTestCase):
    def result(self, *args, status=0):
        return json.loads(self.client(*args, status=status).stdout)

    def test_state_file_persists_between_invocations(self):
        state = os.path.join(self.tmp, "state.json")
        self.assertEqual(self.result("--state", state, "create", "Item", "apple", "30"),
                         {"ok": {"$ref": ["Item", "apple"]}})
        self.assertEqual(self.result("--state", state, "call", "Item", "apple",
                                     "update_stock", "5"), {"ok": True})
        self.assertEqual(self.result("--state", state, "create", "User", '"alice"'),
                         {"ok": {"$ref": ["User", "alice"]}})
        self.assertEqual(self.result("--state", state, "call", "User", "alice", "buy_item",
                                     "2", '{"$ref": ["Item", "apple"]}'), {"ok": True})
        self.assertEqual(self.result("--state", state, "state", "Item", "apple"),
                         {"ok": {"item_name": "apple", "price": 30, "stock": 3}})
        self.assertEqual(self.result("--state", state, "state", "User", "alice"),
                         {"ok": {"username": "alice", "balance": 940, "basket": []}})
        with open(state) as f:
            doc = json.load(f)
        self.assertEqual(doc["format"], "sfgen-local-state")
        self.assertEqual(len(doc["entities"]), 2)
        # without --state nothing is kept
        self.assertEqual(self.result("state", "Item", "apple", status=1),
                         {"error": "EntityNotFound"})

    def test_errors_exit_1_with_the_message_on_stderr(self):
        proc = self.client("call", "User", "bob", "deposit", "1", status=1)
        self.assertEqual(json.loads(proc.stdout), {"error": "EntityNotFound"})
        self.assertIn("EntityNotFound: User['bob']", proc.stderr)
        state = os.path.join(self.tmp, "s.json")
        self.client("--state", state, "create", "User", "alice")
        proc = self.client("--state", state, "call", "User", "alice", "deposit", "1", "2",
                           status=1)
        self.assertEqual(json.loads(proc.stdout), {"error": "TypeError"})
        self.assertIn("deposit()", proc.stderr)

    def test_kwargs_and_plain_string_arguments(self):
        state = os.path.join(self.tmp, "state.json")
        self.client("--state", state, "create", "User", "--kwargs", '{"username": "bo b"}')
        self.assertEqual(self.result("--state", state, "call", "User", "bo b", "deposit",
                                     "--kwargs", '{"amount": -1}'), {"ok": 999})
        self.assertEqual(self.result("--state", state, "call", "User", "bo b", "deposit",
                                     "-5"), {"ok": 994})


class MiscCommandsTest(ClientTestCase):
    fixture = "misc"

    def test_refs_and_tuples_survive_the_state_file(self):
        state = os.path.join(self.tmp, "state.json")
        self.client("--state", state, "create", "Counter", "c1")
        self.client("--state", state, "create", "Proxy", "A")
        self.assertEqual(
            json.loads(self.client("--state", state, "call", "Proxy", "A", "make", "c3").stdout),
            {"ok": {"$ref": ["Counter", "c3"]}})
        self.assertEqual(
            json.loads(self.client("--state", state, "call", "Counter", "c3", "pair").stdout),
            {"ok": ["c3", 7]})

    def test_untyped_reference_message(self):
        state = os.path.join(self.tmp, "state.json")
        self.client("--state", state, "create", "Counter", "c1")
        proc = self.client("--state", state, "call", "Counter", "c1", "untyped_price",
                           '{"$ref": ["Item", "apple"]}', status=1)
        self.assertEqual(json.loads(proc.stdout), {"error": "UntypedReference"})
        self.assertIn("annotate", proc.stderr)


if __name__ == "__main__":
    unittest.main()
