"""The runtime templates: standard library only, no pickle, clean under ruff."""
import ast
import os
import shutil
import subprocess
import sys
import unittest

import support

TEMPLATE_FILES = [os.path.join(support.COMMON, "sfgen_runtime.py"),
                  os.path.join(support.LOCAL, "local_runtime.py"),
                  os.path.join(support.LOCAL, "client.py")]
PROJECT_MODULES = {"sfgen_client", "sfgen_runtime", "local_runtime", "entities"}


class TemplatesTest(unittest.TestCase):
    def test_standard_library_only_and_no_pickle(self):
        for path in TEMPLATE_FILES:
            with open(path) as f:
                source = f.read()
            tree = ast.parse(source, path)
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                for name in names:
                    top = name.split(".")[0]
                    with self.subTest(path=path, module=name):
                        self.assertTrue(top in sys.stdlib_module_names
                                        or top in PROJECT_MODULES, name)
                        self.assertNotIn(top, {"pickle", "marshal", "shelve", "dill"})
            self.assertNotIn("pickle.", source)
            self.assertNotIn("eval(", source)

    @unittest.skipUnless(shutil.which("ruff") or os.environ.get("RUFF"),
                         "ruff not installed (set RUFF=/path/to/ruff)")
    def test_ruff_default_rules(self):
        ruff = os.environ.get("RUFF") or shutil.which("ruff")
        targets = [*TEMPLATE_FILES, support.FIXTURES, support.HERE]
        for select in ([], ["--select", "E4,E7,E9,F"]):
            proc = subprocess.run([ruff, "check", "--isolated", *select, *targets],
                                  capture_output=True, text=True, timeout=120, check=False)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)


if __name__ == "__main__":
    unittest.main()
