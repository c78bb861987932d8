"""The library as a user gets it: the built wheel in a new virtual environment outside the repository,
with only aws-cdk-lib, constructs and cdk-nag beside it, used by a short CDK app of the user's own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
PINS = ("aws-cdk-lib", "constructs", "cdk-nag")

# The user's whole app (under 30 lines): its own pool, passed to the construct; the engine and whether
# to pass the pool come from the environment so that one file serves the three cases.
APP = textwrap.dedent(
    """
    import os
    import aws_cdk as cdk
    from aws_cdk import aws_cognito as cognito
    from cdk_nag import AwsSolutionsChecks
    from cdk_sms_otp import OtpService

    app = cdk.App()
    stack = cdk.Stack(app, "MyApp")
    pool = None
    if os.environ["WITH_POOL"] == "1":
        every = {"require_digits": True, "require_lowercase": True, "require_uppercase": True}
        pw = cognito.PasswordPolicy(min_length=12, require_symbols=True, **every)
        pool = cognito.UserPool(
            stack, "Users", sign_in_aliases=cognito.SignInAliases(phone=True), enable_sms_role=False,
            feature_plan=cognito.FeaturePlan.PLUS, password_policy=pw,
        )
        why = "MFA is the app's own decision: its users sign in with an SMS code already"
        ack = cdk.Acknowledgment(id="AwsSolutions::AwsSolutions-COG2", reason=why)
        cdk.Validations.of(pool).acknowledge(ack)
    OtpService(stack, "Otp", brand_name="Acme", origination_identity="+12065550123",
               engine=os.environ["ENGINE"], user_pool=pool)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()
    """
)
assert len(APP.strip().splitlines()) < 30


def _pinned(name: str) -> str:
    for line in (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{name}=="):
            return line.strip()
    raise AssertionError(f"{name} is not pinned in requirements.txt")


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=1500, check=False
    )
    assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def user_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with the built wheel and the three CDK packages only."""
    root = tmp_path_factory.mktemp("user")
    dist = root / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(REPO)], root)
    wheels = list(dist.glob("cdk_sms_otp-*.whl"))
    assert len(wheels) == 1, wheels
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], root)
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", str(wheels[0]), *map(_pinned, PINS)], root)
    return venv


def _synth(venv: Path, workdir: Path, *, engine: str, with_pool: bool, bundle: bool) -> dict[str, Any]:
    workdir.mkdir(parents=True)
    (workdir / "app.py").write_text(APP, encoding="utf-8")
    out = workdir / "cdk.out"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(workdir)),
        "CDK_OUTDIR": str(out),
        "ENGINE": engine,
        "WITH_POOL": "1" if with_pool else "0",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        # Pyodide (for the asset's bytecode) where a user's project would have it: `npm install pyodide`
        "CDK_SMS_OTP_PYODIDE_DIR": str(REPO / "node_modules" / "pyodide"),
    }
    if not bundle:
        env["CDK_CONTEXT_JSON"] = json.dumps({"aws:cdk:bundling-stacks": []})
    # -I: isolated, so that neither the repository nor the working directory is on sys.path
    _run([str(venv / "bin" / "python"), "-I", "app.py"], workdir, env)
    template: dict[str, Any] = json.loads((out / "MyApp.template.json").read_text(encoding="utf-8"))
    return template


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_wheel_alone_synthesizes_a_users_app_with_their_pool(user_venv, tmp_path):
    # Given the package imported from the wheel, not from this checkout
    where = _run(
        [str(user_venv / "bin" / "python"), "-I", "-c", "import cdk_sms_otp; print(cdk_sms_otp.__file__)"],
        tmp_path,
    )
    assert str(REPO) not in where
    assert "site-packages" in where

    for engine, with_pool, bundle in (
        ("pinpoint", True, True),
        ("endusermessaging", True, False),
        ("pinpoint", False, False),
    ):
        # When the user's app synthesizes (cdk-nag fails synthesis on any unacknowledged finding)
        template = _synth(
            user_venv, tmp_path / f"{engine}-{with_pool}", engine=engine, with_pool=with_pool, bundle=bundle
        )

        # Then it has exactly one user pool: the user's own when given, with the three triggers on it
        pools = _of_type(template, "AWS::Cognito::UserPool")
        assert len(pools) == 1, (engine, with_pool)
        ((pool_id, pool),) = pools.items()
        assert pool_id.startswith("Users") == with_pool
        triggers = pool["Properties"]["LambdaConfig"]
        assert {"DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse"} <= set(triggers)
        # and the API, the four functions and a CUSTOM_AUTH client
        assert len(_of_type(template, "AWS::ApiGateway::RestApi")) == 1
        functions = _of_type(template, "AWS::Lambda::Function")
        handlers = {f["Properties"].get("Handler", "") for f in functions.values()}
        assert {h for h in handlers if h.startswith("otp.handlers.")} >= {
            "otp.handlers.api.lambda_handler",
        }
        clients = _of_type(template, "AWS::Cognito::UserPoolClient")
        assert any("ALLOW_CUSTOM_AUTH" in c["Properties"]["ExplicitAuthFlows"] for c in clients.values())
        engine_resources = _of_type(template, "AWS::Pinpoint::App")
        assert bool(engine_resources) == (engine == "pinpoint")
        if bundle:
            # The asset was bundled from the installed package (bytecode and all)
            assets = list(
                (tmp_path / f"{engine}-{with_pool}" / "cdk.out").glob("asset.*/otp/handlers/api.py")
            )
            assert assets, "the Lambda asset was not bundled"
            assert list(assets[0].parent.glob("__pycache__/api.cpython-314.pyc"))
