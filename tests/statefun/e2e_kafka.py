"""End to end through real Kafka topics: a tansu broker, the generated functions service
(functions/app.py, aiohttp), the harness's Kafka bridge in StateFun's place (ingress topics
-> /statefun -> egress topic) and the generated client.py talking to the broker.

    python e2e_kafka.py TANSU PROJECT CASE...

PROJECT is a generated statefun project, each CASE a conformance case folder
(app.py compiled into PROJECT, scenario.json, expected.json). Prints one line per case and
exits 1 when a replay differs from expected.json. Run with the statefun venv's python.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{what} did not listen on port {port} within {timeout} s")


def start(cmd, log, **kw):
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            **kw)


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main(argv):
    tansu, project, cases = argv[0], argv[1], argv[2:]
    logdir = os.environ.get("TMPDIR", "/tmp")
    log = open(os.path.join(logdir, f"sfgen-e2e-{os.getpid()}.log"), "w+", encoding="utf-8")
    kafka_port, fn_port = free_port(), free_port()
    bootstrap = f"127.0.0.1:{kafka_port}"
    procs = []
    try:
        broker = start([tansu, "broker", "--listener-url", f"tcp://{bootstrap}",
                        "--advertised-listener-url", f"tcp://{bootstrap}",
                        "--storage-engine", "memory://tansu/"], log)
        procs.append(broker)
        wait_port(kafka_port, broker, "tansu")
        env = dict(os.environ, PATH=os.path.dirname(tansu) + os.pathsep + os.environ["PATH"])
        subprocess.run(["sh", os.path.join(project, "kafka", "create-topics.sh"), bootstrap],
                       check=True, env=env, stdout=log, stderr=subprocess.STDOUT)
        functions = start([sys.executable, "app.py", "--host", "127.0.0.1", "--port",
                           str(fn_port)], log, cwd=os.path.join(project, "functions"))
        procs.append(functions)
        wait_port(fn_port, functions, "functions/app.py")
        bridge = start([sys.executable, os.path.join(project, "statefun_harness.py"),
                        "--bootstrap-servers", bootstrap,
                        "--endpoint", f"http://127.0.0.1:{fn_port}/statefun"], log)
        procs.append(bridge)
        failed = 0
        for case in cases:
            with open(os.path.join(case, "expected.json"), encoding="utf-8") as f:
                expected = json.load(f)["results"]
            t0 = time.monotonic()
            proc = subprocess.run([sys.executable, os.path.join(project, "client.py"),
                                   "--bootstrap-servers", bootstrap, "--timeout", "60",
                                   "replay", os.path.join(case, "scenario.json")],
                                  capture_output=True, text=True, timeout=600)
            took = time.monotonic() - t0
            try:
                got = json.loads(proc.stdout)["results"]
            except ValueError:
                got = None
            name = os.path.basename(case.rstrip("/"))
            if got == expected:
                print(f"e2e kafka {name}: {len(expected)} calls match expected.json "
                      f"({took:.1f} s)")
            else:
                failed += 1
                print(f"e2e kafka {name}: MISMATCH (rc {proc.returncode})\n"
                      f"stdout: {proc.stdout[:2000]}\nstderr: {proc.stderr[-2000:]}")
        return 1 if failed else 0
    finally:
        for p in reversed(procs):
            stop(p)
        log.seek(0)
        tail = log.read()[-3000:]
        log.close()
        if os.environ.get("SFGEN_E2E_LOG"):
            print(tail)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
