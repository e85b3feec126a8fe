"""Shared helpers of the runtime tests (not a test module)."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TEMPLATES = os.path.join(REPO, "templates")
COMMON = os.path.join(TEMPLATES, "common")
LOCAL = os.path.join(TEMPLATES, "local")
FIXTURES = os.path.join(HERE, "fixtures")
# shared/ lies beside the repository (also in CI); SFGEN_SHARED overrides.
SHARED = os.environ.get("SFGEN_SHARED") or os.path.join(os.path.dirname(REPO), "shared")
CONFORMANCE = os.path.join(SHARED, "conformance")
CASES = os.path.join(CONFORMANCE, "cases")

for _p in (COMMON, LOCAL):
    if _p not in sys.path:
        sys.path.insert(0, _p)

# the runtime under test, imported from the templates
sfgen_runtime = importlib.import_module("sfgen_runtime")
local_runtime = importlib.import_module("local_runtime")

_modules = {}


def have_shared():
    return os.path.isfile(os.path.join(CONFORMANCE, "check.py"))


def fixture(name):
    """The fixture's entities.py as a module (loaded once per name)."""
    if name not in _modules:
        path = os.path.join(FIXTURES, name, "entities.py")
        spec = importlib.util.spec_from_file_location(f"sfgen_fixture_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _modules[name] = module
    return _modules[name]


def runtime(name, **options):
    return local_runtime.LocalRuntime(fixture(name).ENTITIES, **options)


def make_project(name, folder):
    """A generated local project in `folder`: the fixture's entities.py plus the templates."""
    os.makedirs(folder, exist_ok=True)
    shutil.copy(os.path.join(FIXTURES, name, "entities.py"), folder)
    for f in ("sfgen_runtime.py", "sfgen_client.py"):
        shutil.copy(os.path.join(COMMON, f), folder)
    for f in ("local_runtime.py", "client.py"):
        shutil.copy(os.path.join(LOCAL, f), folder)
    return folder


def run_client(folder, *args, check=False):
    proc = subprocess.run([sys.executable, "client.py", *args], cwd=folder,
                          capture_output=True, text=True, timeout=120, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"client.py {args} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def case_calls(case_dir):
    with open(os.path.join(case_dir, "scenario.json")) as f:
        return json.load(f)["calls"]


def oracle_results(case_dir):
    """What plain Python gives for a case (app.py + scenario.json), by the shared oracle."""
    proc = subprocess.run([sys.executable, os.path.join(CONFORMANCE, "oracle.py"), case_dir],
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(proc.stdout)["results"]


def expected_results(case_dir):
    with open(os.path.join(case_dir, "expected.json")) as f:
        return json.load(f)["results"]


def same(a, b):
    """check.py's comparison (floats with a relative tolerance)."""
    spec = importlib.util.spec_from_file_location(
        "sfgen_conformance_check", os.path.join(CONFORMANCE, "check.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.same(a, b)
