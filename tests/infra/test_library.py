"""The construct library: OtpService in a stack of your own, its keyword arguments, one schema for every
consumer of an option, and the app's template keeping the logical ids it had before the construct."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, CfnResource, Stack
from aws_cdk.assertions import Template
from constructs import Construct

from cdk_sms_otp import ConfigError, OtpConfig, OtpService
from cdk_sms_otp._lambda.otp.options.declaration import option, schema_class
from cdk_sms_otp._lambda.otp.options.kinds import Text
from cdk_sms_otp.application import STACK_NAME, build_app
from cdk_sms_otp.config import load_options
from cdk_sms_otp.environment import function_environment
from cdk_sms_otp.logical_ids import make_unique_id
from cdk_sms_otp.options_reference import environment_table, main, options_table
from otp.options.declaration import option as lambda_option
from otp.options.declaration import schema_class as lambda_schema_class
from otp.options.kinds import Text as LambdaText
from otp.settings import Settings, SettingsError, load_extended_settings
from tests.infra.support import REAL_IDENTITY, VARIANT, cdk_context

REPO = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixtures" / "logical_ids_0_1.json"


def _template(stack: Stack) -> dict[str, Any]:
    return dict(Template.from_stack(stack).to_json())


def _own_stack(**arguments: Any) -> tuple[Stack, OtpService]:
    app = App(context={"aws:cdk:bundling-stacks": []}, outdir=tempfile.mkdtemp())
    stack = Stack(app, "Mine")
    otp = OtpService(stack, "Otp", **arguments)
    return stack, otp


def test_the_construct_builds_the_service_in_a_stack_of_your_own():
    # Given a stack of a user's own app, When OtpService is added with keyword arguments
    stack, otp = _own_stack(brand_name="Acme", origination_identity="+12065550123", send_limit_per_hour=3)

    # Then the stack has the API, the four functions, the pool and the table, and the props lead to them
    resources = _template(stack)["Resources"]
    types = [r["Type"] for r in resources.values()]
    assert types.count("AWS::ApiGateway::RestApi") == 1
    assert types.count("AWS::Cognito::UserPool") == 1
    assert types.count("AWS::DynamoDB::GlobalTable") + types.count("AWS::DynamoDB::Table") == 1
    rest_api = otp.api.node.default_child
    assert isinstance(rest_api, CfnResource)
    assert stack.resolve(otp.api.rest_api_id) == {"Ref": stack.get_logical_id(rest_api)}
    assert otp.options.send_limit_per_hour == 3
    assert otp.user_pool_client is not None
    assert otp.table is not None
    assert otp.dashboard is not None
    assert otp.alarm_topic is None
    # and the functions are told the non-default limit
    functions = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Function"]
    told = [f["Properties"]["Environment"]["Variables"].get("OTP_SEND_LIMIT_PER_HOUR") for f in functions]
    assert told.count("3") == 4


def test_arguments_are_validated_with_messages_naming_them():
    # Given arguments out of range, a rule broken between two of them, and one that does not exist
    with pytest.raises(ConfigError) as caught:
        _own_stack(
            brand_name="Acme",
            origination_identity="+12065550123",
            code_length=9,
            send_limit_per_hour=6,
            send_limit_per_day=5,
            brand_colour="red",
        )

    # Then each is named as the Python argument, with the value and what is allowed
    problems = caught.value.problems
    assert "code_length = 9 is invalid: must be an integer from 5 to 8 with engine=pinpoint" in problems
    assert "send_limit_per_day = 5 is invalid: must be at least send_limit_per_hour (6)" in problems
    assert any(p.startswith("brand_colour is not an argument of OtpService") for p in problems)
    # and a missing required argument is named too
    with pytest.raises(ConfigError, match="brand_name is required"):
        _own_stack(origination_identity="+12065550123")


def test_the_app_template_keeps_the_logical_ids_it_had_before_the_construct():
    # Given the resources (logical id and type) 0.1.0's stack synthesized, for three configurations
    expected = json.loads(FIXTURE.read_text(encoding="utf-8"))
    configurations = {
        "default": REAL_IDENTITY,
        "variant": VARIANT,
        "endusermessaging": {
            **REAL_IDENTITY,
            "otp.engine": "endusermessaging",
            "otp.channels": ["SMS", "VOICE"],
        },
    }
    for name, context in configurations.items():
        # When the app is synthesized now
        app, _ = build_app(cdk_context(context), outdir=tempfile.mkdtemp())
        template = app.synth().get_stack_by_name(STACK_NAME).template
        now = sorted(f"{k} {v['Type']}" for k, v in template["Resources"].items())

        # Then every resource keeps its logical id (a deployment updates in place, nothing is replaced),
        # those whose id embeds another construct's unique id included (invoke permissions, usage plan key);
        # resources added since are new in any case
        # (but API Gateway's Deployment, whose id CDK derives from a hash of the API's definition so that a
        # changed API, such as a new request member, is deployed again: that one must change with the API)
        kept = {entry for entry in expected[name] if not entry.endswith(" AWS::ApiGateway::Deployment")}
        assert sorted(kept - set(now)) == [], name


def test_the_unique_id_port_agrees_with_cdk():
    # Given constructs at several depths of a plain stack, CDK's own ids are the reference
    app = App()
    stack = Stack(app, "S")
    deep = Construct(Construct(stack, "Outer-Part"), "Inner")
    for scope, path in (
        (stack, ["Top"]),
        (deep, ["Outer-Part", "Inner", "Resource"]),
        (deep, ["Outer-Part", "Inner", "Default"]),
    ):
        resource = CfnResource(scope, path[-1], type="Test::Thing")
        assert make_unique_id(path) == stack.get_logical_id(resource)


# A key added to the schema reaches every consumer: context, arguments, environment, settings, docs.


@schema_class
class _ExtendedConfig(OtpConfig):
    greeting: str = option(
        default="Hello", kind=Text(r"[A-Za-z ]{1,20}", "1-20 letters or spaces"), doc="a test key"
    )


@lambda_schema_class
class _ExtendedSettings(Settings):
    greeting: str = lambda_option(
        default="Hello", kind=LambdaText(r"[A-Za-z ]{1,20}", "1-20 letters or spaces"), doc="a test key"
    )


class _ExtendedService(OtpService):
    options_type = _ExtendedConfig


def test_a_key_added_to_the_schema_reaches_every_consumer():
    # Context: -c otp.greeting is known, parsed and validated with the key's name
    config = load_options({"otp": {**REQUIRED_CONTEXT, "greeting": "Good day"}}, _ExtendedConfig)
    assert config.greeting == "Good day"
    with pytest.raises(
        ConfigError, match=r"otp.greeting = \"Hi!\" is invalid: must be 1-20 letters or spaces"
    ):
        load_options({"otp": {**REQUIRED_CONTEXT, "greeting": "Hi!"}}, _ExtendedConfig)

    # Arguments: the construct takes it as a keyword argument
    app = App(context={"aws:cdk:bundling-stacks": []}, outdir=tempfile.mkdtemp())
    stack = Stack(app, "Mine")
    # (a subclass that adds options would redeclare the signature for type checkers; this one does not)
    extra: dict[str, Any] = {"greeting": "Hey"}
    otp = _ExtendedService(stack, "Otp", brand_name="Acme", origination_identity="+12065550123", **extra)
    assert otp.options.greeting == "Hey"  # type: ignore[attr-defined]

    # Environment: written as OTP_GREETING when not the default, and on every function
    assert function_environment(config)["OTP_GREETING"] == "Good day"
    assert "OTP_GREETING" not in function_environment(
        _ExtendedConfig(brand_name="A", origination_identity="+1206")
    )
    variables = [
        r["Properties"]["Environment"]["Variables"]
        for r in _template(stack)["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    ]
    assert [v.get("OTP_GREETING") for v in variables] == ["Hey"] * 4

    # Settings: the functions read it back, with its default and its bounds
    environ = {
        "OTP_BRAND_NAME": "Acme",
        "OTP_ORIGINATION_IDENTITY": "+12065550123",
        "PINPOINT_APPLICATION_ID": "app",
    }
    assert (
        load_extended_settings({**environ, "OTP_GREETING": "Good day"}, _ExtendedSettings).greeting
        == "Good day"
    )
    assert load_extended_settings(environ, _ExtendedSettings).greeting == "Hello"
    with pytest.raises(SettingsError, match="OTP_GREETING: must be 1-20 letters or spaces"):
        load_extended_settings({**environ, "OTP_GREETING": "Hi!"}, _ExtendedSettings)

    # Docs: both tables have its row
    assert "| `greeting` | `greeting` | `Hello` | 1-20 letters or spaces | a test key |" in options_table(
        _ExtendedConfig
    )
    assert "`OTP_GREETING`" in environment_table(_ExtendedConfig)


REQUIRED_CONTEXT = {"brandName": "Acme", "originationIdentity": "+12065550123"}


def test_the_configuration_page_is_generated_from_the_schema():
    # The generated part of docs/configuration.md is what the schema gives today
    assert main(["--check"], root=REPO) == 0


def test_the_library_loads_without_the_lambda_code_on_the_import_path():
    # Given a Python with only the package's directory on its path (as an installed wheel has it), When
    # the library is imported, Then it works, and no top-level `otp` module was needed or loaded: the
    # schema it shares with the functions imports only relative, dependency-free modules
    script = "import sys, cdk_sms_otp.service; assert 'otp' not in sys.modules, sorted(sys.modules)"
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, 'infra'); {script}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
