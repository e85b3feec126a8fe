"""Many invocations of the bank's handler at once, in threads, against moto: money is
conserved, no update is lost, no lease stays behind, and a request id runs once."""
import collections
import os
import random
import threading
import time
import unittest

import support
from support import invoke, step

THREADS = int(os.environ.get("SFGEN_LAMBDA_THREADS", "8"))
REQUESTS = int(os.environ.get("SFGEN_LAMBDA_REQUESTS", "40"))  # per thread
ACCOUNTS = ["NL01", "NL02", "NL03", "NL04", "NL05"]
INITIAL = 1000


class BankConcurrencyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        support.serialise_moto()
        cls.p = support.Project("bank")

    def setUp(self):
        self.moto = support.Moto(self.p, wait_seconds=60)
        self.addCleanup(self.moto.close)
        self.assertEqual(step(self.p, "create", "Bank", args=["tulip"])[0], 200)
        for i, iban in enumerate(ACCOUNTS):
            status, body, _ = step(self.p, "call", "Bank", "tulip", "open_account",
                                   [iban, f"owner{i}", INITIAL])
            self.assertEqual((status, body), (200, {"ok": {"$ref": ["Account", iban]}}))

    def balances(self):
        out = {}
        for iban in ACCOUNTS:
            status, body, _ = step(self.p, "state", "Account", iban)
            self.assertEqual(status, 200)
            out[iban] = body["ok"]
        return out

    def test_transfers_and_withdrawals_from_many_threads(self):
        conflicts = collections.Counter()
        original_init = self.p.state._Conflict.__init__

        def counting_init(exc, pk):
            conflicts[pk] += 1
            original_init(exc, pk)

        self.p.state._Conflict.__init__ = counting_init
        self.addCleanup(setattr, self.p.state._Conflict, "__init__", original_init)

        results = []  # (op, from, to, amount, status, body)
        lock = threading.Lock()
        start = threading.Barrier(THREADS)

        def worker(n):
            rng = random.Random(n)
            start.wait()
            for i in range(REQUESTS):
                src = rng.choice(ACCOUNTS)
                rid = f"t{n}-{i}"
                if rng.random() < 0.7:
                    dst = rng.choice(ACCOUNTS)
                    amount = rng.randint(1, 400)
                    status, body, _ = step(self.p, "call", "Account", src, "transfer",
                                           [amount, {"$ref": ["Account", dst]}],
                                           request_id=rid)
                    entry = ("transfer", src, dst, amount, status, body)
                else:
                    amount = rng.randint(1, 80)
                    status, body, _ = step(self.p, "call", "Account", src, "withdraw",
                                           [amount], request_id=rid)
                    entry = ("withdraw", src, None, amount, status, body)
                with lock:
                    results.append(entry)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        self.assertEqual(len(results), THREADS * REQUESTS)

        # every request finished with a result of the method (none gave up)
        outcomes = collections.Counter()
        expected = {iban: [INITIAL] for iban in ACCOUNTS}
        withdrawn = 0
        for op, src, dst, amount, status, body in results:
            if op == "transfer":
                self.assertEqual(status, 200, body)
                if body["ok"] is True:
                    outcomes["transfer ok"] += 1
                    expected[src].append(-amount)
                    expected[dst].append(amount)
                else:
                    self.assertIs(body["ok"], False)
                    outcomes["transfer refused"] += 1
            else:
                if status == 200:
                    outcomes["withdraw ok"] += 1
                    expected[src].append(-amount)
                    withdrawn += amount
                else:
                    self.assertEqual((status, body["error"]), (422, "InsufficientFunds"))
                    outcomes["withdraw refused"] += 1

        final = self.balances()
        total = sum(a["balance"] for a in final.values())
        # money is conserved: only successful withdrawals took any out
        self.assertEqual(total, INITIAL * len(ACCOUNTS) - withdrawn)
        for iban, acc in final.items():
            # no lost update: the history holds exactly the successful operations' entries
            self.assertEqual(sorted(acc["history"]), sorted(expected[iban]), iban)
            self.assertEqual(acc["balance"], sum(acc["history"]), iban)
            self.assertGreaterEqual(acc["balance"], 0, iban)
        # a cross-entity read agrees
        self.assertEqual(step(self.p, "call", "Bank", "tulip", "total_deposits")[1],
                         {"ok": total})
        # no stuck lease, no request left running
        self.assertEqual(self.moto.leases(), [])
        running = [i["pk"]["S"] for i in self.moto.items()
                   if i.get("status", {}).get("S") == "running"]
        self.assertEqual(running, [])
        print(f"\nconcurrency: {THREADS} threads x {REQUESTS} requests = {len(results)} "
              f"requests in {elapsed:.1f} s; {dict(sorted(outcomes.items()))}; "
              f"{sum(conflicts.values())} lease conflicts (restarts); money conserved "
              f"({total} = {INITIAL * len(ACCOUNTS)} - {withdrawn} withdrawn); "
              f"histories match; 0 leases left")

    def test_the_same_request_id_from_many_threads_runs_once(self):
        answers = []
        start = threading.Barrier(THREADS)

        def worker():
            start.wait()
            answers.append(step(self.p, "call", "Account", "NL01", "withdraw", [7],
                                request_id="same-id")[:2])

        threads = [threading.Thread(target=worker) for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(answers, [(200, {"ok": INITIAL - 7})] * THREADS)
        acc = self.balances()["NL01"]
        self.assertEqual((acc["balance"], acc["history"]), (INITIAL - 7, [INITIAL, -7]))
        # and sequentially, later
        status, body, headers = step(self.p, "call", "Account", "NL01", "withdraw", [7],
                                     request_id="same-id")
        self.assertEqual((status, body, headers.get("x-sfgen-replayed")),
                         (200, {"ok": INITIAL - 7}, "true"))
        self.assertEqual(self.balances()["NL01"]["balance"], INITIAL - 7)
        self.assertEqual(self.moto.leases(), [])

    def test_opposite_transfers_do_not_deadlock(self):
        # A -> B and B -> A at once: each holds one account and needs the other
        answers = []
        start = threading.Barrier(THREADS)

        def worker(n):
            src, dst = ("NL01", "NL02") if n % 2 else ("NL02", "NL01")
            start.wait()
            for i in range(10):
                answers.append(step(self.p, "call", "Account", src, "transfer",
                                    [1, {"$ref": ["Account", dst]}],
                                    request_id=f"x{n}-{i}")[:2])

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(answers, [(200, {"ok": True})] * (THREADS * 10))
        b = self.balances()
        self.assertEqual(b["NL01"]["balance"] + b["NL02"]["balance"], 2 * INITIAL)
        self.assertEqual(len(b["NL01"]["history"]), 1 + THREADS * 10)
        self.assertEqual(self.moto.leases(), [])


if __name__ == "__main__":
    unittest.main()
