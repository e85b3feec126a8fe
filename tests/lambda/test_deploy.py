"""The deployment files of the generated projects: the SAM template translates to
CloudFormation that passes cfn-lint, the Terraform files parse and are formatted, and both
declare the same resources with a least-privilege policy."""
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import unittest

import support

BIN = os.path.dirname(sys.executable)
ACTIONS = sorted(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                  "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"])
APPS = ("bank", "misc")


def cfn_lint(path):
    proc = subprocess.run([os.path.join(BIN, "cfn-lint"), "--", path], capture_output=True,
                          text=True, timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr


class PolicyLoader:
    """The managed-policy loader samtranslator wants (the template names none)."""

    def load(self):
        return {}


def translate(template_path):
    """The CloudFormation template SAM deploys, as `sam package` + the transform make it
    (the code is uploaded to S3 first, so CodeUri becomes an s3:// URI)."""
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse
    with open(template_path) as f:
        tpl = yaml_parse(f.read())
    tpl = copy.deepcopy(tpl)
    for res in tpl["Resources"].values():
        if res["Type"] == "AWS::Serverless::Function":
            res["Properties"]["CodeUri"] = "s3://example-bucket/function.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return transform(tpl, {}, PolicyLoader())


class SamTest(unittest.TestCase):
    def test_template_translates_and_passes_cfn_lint(self):
        for app in APPS:
            with self.subTest(app=app):
                d = support.project_dir(app)
                template = os.path.join(d, "template.yaml")
                rc, out = cfn_lint(template)
                self.assertEqual(rc, 0, f"cfn-lint template.yaml:\n{out}")
                cfn = translate(template)
                with tempfile.TemporaryDirectory() as tmp:
                    path = os.path.join(tmp, "translated.json")
                    with open(path, "w") as f:
                        json.dump(cfn, f, indent=1)
                    rc, out = cfn_lint(path)
                self.assertEqual(rc, 0, f"cfn-lint on the translated template:\n{out}")
                types = sorted({r["Type"] for r in cfn["Resources"].values()})
                self.assertEqual(types, [
                    "AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Stage",
                    "AWS::DynamoDB::Table", "AWS::IAM::Role", "AWS::Lambda::Function",
                    "AWS::Lambda::Permission"])
                self.check_resources(cfn)

    def check_resources(self, cfn):
        res = cfn["Resources"]
        table = res["StateTable"]["Properties"]
        self.assertEqual(table["KeySchema"], [{"AttributeName": "pk", "KeyType": "HASH"}])
        self.assertEqual(table["TimeToLiveSpecification"],
                         {"AttributeName": "expires_at", "Enabled": True})
        fn = res["AppFunction"]["Properties"]
        self.assertEqual(fn["Handler"], "handler.lambda_handler")
        self.assertEqual(fn["Runtime"], "python3.11")
        self.assertEqual(fn["Environment"]["Variables"]["STATE_TABLE"], {"Ref": "StateTable"})
        lease = float(fn["Environment"]["Variables"]["SFGEN_LEASE_SECONDS"])
        self.assertGreater(lease, fn["Timeout"], "a live invocation must not lose its lease")
        role = res["AppFunctionRole"]["Properties"]
        statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
        self.assertEqual(len(statements), 1)
        self.assertEqual(sorted(statements[0]["Action"]), ACTIONS)
        self.assertEqual(statements[0]["Resource"], {"Fn::GetAtt": ["StateTable", "Arn"]})
        api = [r for r in res.values() if r["Type"] == "AWS::ApiGatewayV2::Api"][0]
        routes = sorted(api["Properties"]["Body"]["paths"])
        self.assertEqual(routes, ["/{entity}", "/{entity}/{key}", "/{entity}/{key}/{method}"])

    def test_samconfig(self):
        for app in APPS:
            with open(os.path.join(support.project_dir(app), "samconfig.toml"), "rb") as f:
                cfg = tomllib.load(f)
            self.assertEqual(cfg["version"], 0.1)
            self.assertTrue(cfg["default"]["global"]["parameters"]["stack_name"]
                            .startswith("sfgen-"))
            self.assertEqual(cfg["default"]["deploy"]["parameters"]["capabilities"],
                             "CAPABILITY_IAM")

    def test_sam_validate_lint(self):
        sam = shutil.which("sam")
        if sam is None:
            print("\nSKIPPED: sam validate --lint (the SAM CLI is not installed)", flush=True)
            self.skipTest("the SAM CLI is not installed")
        for app in APPS:
            proc = subprocess.run([sam, "validate", "--lint", "--region", "us-east-1"],
                                  cwd=support.project_dir(app), capture_output=True,
                                  text=True, timeout=300, check=False)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)


def unquote(s):
    return s[1:-1] if isinstance(s, str) and len(s) >= 2 and s[0] == s[-1] == '"' else s


class TerraformTest(unittest.TestCase):
    def load(self, app):
        import hcl2
        out = {}
        d = os.path.join(support.project_dir(app), "terraform")
        for name in ("versions.tf", "main.tf", "variables.tf", "outputs.tf"):
            with open(os.path.join(d, name)) as f:
                out[name] = hcl2.load(f)  # raises on a syntax error
        return out

    def test_hcl_parses_and_declares_the_resources(self):
        for app in APPS:
            with self.subTest(app=app):
                tf = self.load(app)
                resources = {}
                for block in tf["main.tf"].get("resource", []):
                    for rtype, named in block.items():
                        for rname, body in named.items():
                            resources[f"{unquote(rtype)}.{unquote(rname)}"] = body
                self.assertEqual(sorted(resources), [
                    "aws_apigatewayv2_api.http", "aws_apigatewayv2_integration.function",
                    "aws_apigatewayv2_route.call", "aws_apigatewayv2_route.create",
                    "aws_apigatewayv2_route.state", "aws_apigatewayv2_stage.default",
                    "aws_dynamodb_table.state", "aws_iam_role.function",
                    "aws_iam_role_policy.state", "aws_iam_role_policy_attachment.logs",
                    "aws_lambda_function.app", "aws_lambda_permission.api"])
                routes = sorted(unquote(resources[f"aws_apigatewayv2_route.{r}"]["route_key"])
                                for r in ("create", "call", "state"))
                self.assertEqual(routes, ["GET /{entity}/{key}", "POST /{entity}",
                                          "POST /{entity}/{key}/{method}"])
                policy = json.dumps(resources["aws_iam_role_policy.state"]["policy"])
                for action in ACTIONS:
                    self.assertIn(action, policy)
                self.assertIn("aws_dynamodb_table.state.arn", policy)
                self.assertNotIn('"*"', policy)
                fn = resources["aws_lambda_function.app"]
                self.assertEqual(unquote(fn["handler"]), "handler.lambda_handler")
                self.assertEqual(unquote(fn["runtime"]), "python3.11")
                variables = {unquote(k) for v in tf["variables.tf"]["variable"] for k in v}
                self.assertLessEqual({"name", "region", "timeout", "lease_seconds"}, variables)
                outputs = {unquote(k) for o in tf["outputs.tf"]["output"] for k in o}
                self.assertIn("api_url", outputs)

    def test_terraform_fmt(self):
        terraform = shutil.which("terraform")
        if terraform is None:
            print("\nSKIPPED: terraform fmt -check (no terraform binary)", flush=True)
            self.skipTest("no terraform binary")
        with tempfile.TemporaryDirectory() as tmp:
            rc = os.path.join(tmp, "terraformrc")
            with open(rc, "w") as f:
                f.write("disable_checkpoint = true\n")
            env = dict(os.environ, TF_CLI_CONFIG_FILE=rc)
            for app in APPS:
                proc = subprocess.run(
                    [terraform, "fmt", "-check", "-diff", "-recursive",
                     os.path.join(support.project_dir(app), "terraform")],
                    capture_output=True, text=True, timeout=120, env=env, check=False)
                self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)


if __name__ == "__main__":
    unittest.main()
