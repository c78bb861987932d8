"""Template assertions on the default deployment (IAM auth)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk import Token
from aws_cdk.assertions import Match
from jsonschema import Draft4Validator, Draft202012Validator  # type: ignore[import-untyped]

from cdk_sms_otp.api_contract import request_body_schema
from cdk_sms_otp.functions import API_BUDGET, TRIGGER_BUDGET
from otp import metric_names
from otp.settings import load_settings
from tests.infra.support import REAL_IDENTITY, Synth, arn_of, deployed_settings, ref, synth

HANDLERS = {
    "Api": "otp.handlers.api.lambda_handler",
    "DefineAuthChallenge": "otp.handlers.cognito.define_auth_challenge",
    "CreateAuthChallenge": "otp.handlers.cognito.create_auth_challenge",
    "VerifyAuthChallenge": "otp.handlers.cognito.verify_auth_challenge",
}
SEND, VERIFY = "mobiletargeting:SendOTPMessage", "mobiletargeting:VerifyOTPMessage"


@pytest.fixture(scope="module")
def default() -> Synth:
    # The stack as `npx cdk synth` builds it from cdk.json, with a real-looking identity.
    return synth(REAL_IDENTITY)


def _functions(s: Synth) -> dict[str, dict[str, Any]]:
    """Function name (Api, DefineAuthChallenge, ...) -> the AWS::Lambda::Function resource."""
    by_handler = {v["Properties"]["Handler"]: v for v in s.resources("AWS::Lambda::Function").values()}
    return {name: by_handler[handler] for name, handler in HANDLERS.items()}


def _function_logical_id(s: Synth, name: str) -> str:
    return s.logical_id(getattr(s.service.functions, _attribute(name)))


def _attribute(name: str) -> str:
    return {"Api": "api"}.get(name) or re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _policy_statements(s: Synth, role_logical_id: str) -> list[dict[str, Any]]:
    statements = []
    for policy in s.resources("AWS::IAM::Policy").values():
        if ref(role_logical_id) in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else actions


def test_every_function_runs_python_3_14_on_arm64_with_tracing(default):
    # Given the default deployment
    # When its four functions are read from the template
    functions = _functions(default)

    # Then each runs its handler on the newest runtime, on Graviton, traced, with 256 MB
    assert len(default.resources("AWS::Lambda::Function")) == 4
    for name, function in functions.items():
        props = function["Properties"]
        assert props["Handler"] == HANDLERS[name]
        assert props["Runtime"] == "python3.14"
        assert props["Architectures"] == ["arm64"]
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["MemorySize"] == 256


def test_timeouts_fit_api_gateway_and_cognito_limits(default):
    # Given the functions and the Pinpoint client budgets they are configured with
    functions = _functions(default)

    # When their timeouts are compared with the callers' limits
    api = functions["Api"]["Properties"]
    triggers = [functions[n]["Properties"] for n in HANDLERS if n != "Api"]

    # Then the API function ends inside API Gateway's 29 s and the triggers inside Cognito's 5 s,
    # and the worst case of the Pinpoint client fits inside each function's timeout
    assert api["Timeout"] == 20 < 29
    assert API_BUDGET.worst_case_s < api["Timeout"]
    assert all(t["Timeout"] == 5 for t in triggers)
    assert TRIGGER_BUDGET.worst_case_s < 5
    for props, budget in [
        (api, API_BUDGET),
        (functions["CreateAuthChallenge"]["Properties"], TRIGGER_BUDGET),
    ]:
        env = props["Environment"]["Variables"]
        assert (
            float(env["OTP_ENGINE_CONNECT_TIMEOUT"]) * int(env["OTP_ENGINE_MAX_ATTEMPTS"])
            + float(env["OTP_ENGINE_READ_TIMEOUT"])
            + budget.backoff_allowance_s
            < props["Timeout"]
        )


def test_environment_carries_the_configuration_the_code_reads(default):
    # Given the default configuration plus the real-looking identity
    # When the API function's environment is read
    env = _functions(default)["Api"]["Properties"]["Environment"]["Variables"]

    # Then every variable docs/configuration.md lists is set from the configuration
    assert env["PINPOINT_APPLICATION_ID"] == ref(default.logical_id(default.service.messaging.app))
    assert env["OTP_BRAND_NAME"] == "Acme"
    assert env["OTP_ORIGINATION_IDENTITY"] == "+12065550123"
    # defaults are not written: the functions read them from the same schema
    assert not {"OTP_CODE_LENGTH", "OTP_VALIDITY_MINUTES", "OTP_ALLOWED_COUNTRIES", "OTP_LANGUAGE"} & set(env)
    settings = deployed_settings(env)
    assert (settings.code_length, settings.validity_minutes, settings.allowed_attempts) == (6, 5, 3)
    assert settings.allowed_countries == ("US", "CA", "GB")
    assert settings.language == "en-US"
    assert env["POWERTOOLS_SERVICE_NAME"] == metric_names.SERVICE
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == metric_names.NAMESPACE
    assert env["POWERTOOLS_LOG_LEVEL"] == "INFO"
    assert "OTP_ENTITY_ID" not in env
    assert "OTP_TEMPLATE_ID" not in env


@pytest.mark.parametrize("name", HANDLERS)
def test_the_code_accepts_each_function_environment_as_deployed(default, name):
    # Given a function's environment from the template, CloudFormation references filled in
    variables = _functions(default)[name]["Properties"]["Environment"]["Variables"]
    environ = {k: v if isinstance(v, str) else f"resolved-{k.lower()}" for k, v in variables.items()}
    environ["AWS_LAMBDA_FUNCTION_NAME"] = f"SmsOtp-{name}"  # what Lambda sets: "deployed"

    # When the code's own settings loader reads it (what happens at the function's cold start)
    settings = load_settings(environ)

    # Then it starts, with the configured values
    assert settings.brand_name == "Acme"
    assert settings.code_length == 6
    assert settings.language == "en-US"
    if name in ("CreateAuthChallenge", "VerifyAuthChallenge"):  # the triggers that call Pinpoint
        assert settings.max_attempts * settings.connect_timeout + settings.read_timeout < 5  # Cognito's wait


def test_each_function_has_its_own_role_with_only_its_pinpoint_actions(default):
    # Given the Pinpoint application's ARN
    app_arn = arn_of(default.logical_id(default.service.messaging.app))
    expected = {"Api": {SEND, VERIFY}, "CreateAuthChallenge": {SEND}, "VerifyAuthChallenge": {VERIFY}}

    # When each function's role and policies are read
    roles = {name: f["Properties"]["Role"]["Fn::GetAtt"][0] for name, f in _functions(default).items()}

    # Then no two functions share a role, and each may call only its own Pinpoint operations,
    # on this application only
    assert len(set(roles.values())) == 4
    for name, role in roles.items():
        statements = _policy_statements(default, role)
        pinpoint = [s for s in statements if any(a.startswith("mobiletargeting:") for a in _actions(s))]
        granted = {a for s in pinpoint for a in _actions(s)}
        assert granted == expected.get(name, set()), name
        for statement in pinpoint:
            suffix = "otp" if _actions(statement) == [SEND] else "verify-otp"
            assert statement["Resource"] == [app_arn, {"Fn::Join": ["", [app_arn, f"/{suffix}"]]}]


def test_no_wildcard_permission_except_x_ray_and_no_managed_policy_on_function_roles(default):
    # Given every function role
    roles = {f["Properties"]["Role"]["Fn::GetAtt"][0] for f in _functions(default).values()}

    # When their statements are inspected
    for role in roles:
        assert "ManagedPolicyArns" not in default.json["Resources"][role]["Properties"]
        for statement in _policy_statements(default, role):
            actions = _actions(statement)
            # Then no action is a wildcard, and only X-Ray's write actions have Resource "*"
            assert not any("*" in a for a in actions)
            if statement["Resource"] == "*":
                assert set(actions) == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
            # and the logs statement names the function's own log group
            if "logs:PutLogEvents" in actions:
                assert statement["Resource"]["Fn::GetAtt"][1] == "Arn"


def test_every_function_logs_to_its_own_group_with_retention(default):
    # Given the log groups of the stack
    groups = default.resources("AWS::Logs::LogGroup")

    # When the functions' logging configuration is followed
    used = [f["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] for f in _functions(default).values()]

    # Then each function has its own group and every group expires its events after 30 days
    assert len(set(used)) == 4
    assert all(groups[g]["Properties"]["RetentionInDays"] == 30 for g in used)
    assert all(g["Properties"]["RetentionInDays"] == 30 for g in groups.values())


def test_every_method_has_iam_authorization_and_validation(default):
    # Given the REST API's methods
    methods = default.resources("AWS::ApiGateway::Method")
    validator = next(iter(default.resources("AWS::ApiGateway::RequestValidator").items()))

    # When they are read
    # Then there are exactly POST /otp, POST /otp/verify, GET and DELETE /otp/{referenceId}, every one
    # SigV4-authorized and validated
    assert sorted(
        (m["Properties"]["OperationName"], m["Properties"]["HttpMethod"]) for m in methods.values()
    ) == [
        ("CancelVerification", "DELETE"),
        ("GetVerification", "GET"),
        ("SendOtp", "POST"),
        ("VerifyOtp", "POST"),
    ]
    for method in methods.values():
        props = method["Properties"]
        assert props["AuthorizationType"] == "AWS_IAM"
        assert props["ApiKeyRequired"] is False
        assert props["RequestValidatorId"] == ref(validator[0])
        assert props["Integration"]["Type"] == "AWS_PROXY"
    assert validator[1]["Properties"]["ValidateRequestBody"] is True
    resources = default.resources("AWS::ApiGateway::Resource")
    assert sorted(r["Properties"]["PathPart"] for r in resources.values()) == [
        "otp",
        "verify",
        "{referenceId}",
    ]
    # and API Gateway itself refuses a status request without the number (the handler checks its format)
    by_name = {m["Properties"]["OperationName"]: m["Properties"] for m in methods.values()}
    assert by_name["GetVerification"]["RequestParameters"] == {
        "method.request.path.referenceId": True,
        "method.request.querystring.phoneNumber": True,
    }
    assert by_name["CancelVerification"]["RequestParameters"] == {
        "method.request.path.referenceId": True,
        "method.request.querystring.phoneNumber": False,
    }


def _model_schema(s: Synth, name: str) -> dict[str, Any]:
    models = {
        m["Properties"]["Name"]: m["Properties"] for m in s.resources("AWS::ApiGateway::Model").values()
    }
    assert models[name]["ContentType"] == "application/json"
    schema: dict[str, Any] = models[name]["Schema"]
    return schema


SEND_BODIES = [
    ({"phoneNumber": "+12065550100"}, True),
    ({"phoneNumber": "+12065550100", "referenceId": "order-42:a.b", "language": "en-US"}, True),
    ({"phoneNumber": "+12065550100", "referenceId": "r" * 48, "language": "ko-KR"}, True),
    ({"phoneNumber": "+12065550100", "referenceId": None, "language": None}, True),
    ({}, False),
    ({"phoneNumber": "12065550100"}, False),
    ({"phoneNumber": "+0206555"}, False),
    ({"phoneNumber": "+1206555010012345"}, False),
    ({"phoneNumber": 12065550100}, False),
    ({"phoneNumber": None}, False),
    ({"phoneNumber": "+12065550100", "referenceId": ""}, False),
    ({"phoneNumber": "+12065550100", "referenceId": "r" * 49}, False),
    ({"phoneNumber": "+12065550100", "referenceId": "a b"}, False),
    ({"phoneNumber": "+12065550100", "language": "en"}, False),
    ({"phoneNumber": "+12065550100", "language": "kr-KR"}, False),
    ({"phoneNumber": "+12065550100", "code": "123456"}, False),
    ({"phoneNumber": "+12065550100", "channel": "SMS"}, True),
    ({"phoneNumber": "+12065550100", "channel": "VOICE", "language": "en-GB"}, True),
    ({"phoneNumber": "+12065550100", "channel": "WHATSAPP"}, True),
    ({"phoneNumber": "+12065550100", "channel": None}, True),
    ({"phoneNumber": "+12065550100", "channel": "voice"}, False),
    ({"phoneNumber": "+12065550100", "channel": "TEXT"}, False),
    ({"phoneNumber": "+12065550100", "channel": ["SMS"]}, False),
]
VERIFY_BODIES = [
    ({"phoneNumber": "+12065550100", "referenceId": "r1", "code": "123456"}, True),
    ({"phoneNumber": "+12065550100", "referenceId": "r1", "code": "12345678"}, True),
    # 4 to 8 digits: every length an engine can issue; the function then requires the deployment's own
    ({"phoneNumber": "+12065550100", "referenceId": "r1", "code": "1234"}, True),
    ({"phoneNumber": "+12065550100", "referenceId": "r1", "code": "123"}, False),
    ({"phoneNumber": "+12065550100", "referenceId": "r1", "code": "123456789"}, False),
    ({"phoneNumber": "+12065550100", "referenceId": "r1", "code": 123456}, False),
    ({"phoneNumber": "+12065550100", "referenceId": None, "code": "123456"}, False),
    ({"phoneNumber": "+12065550100", "code": "123456"}, False),
    ({"referenceId": "r1", "code": "123456"}, False),
    ({"phoneNumber": "+12065550100", "referenceId": "r1"}, False),
    ({"phoneNumber": "+12065550100", "referenceId": "r1", "code": "123456", "extra": 1}, False),
]


@pytest.mark.parametrize(("body", "accepted"), SEND_BODIES)
def test_send_model_accepts_exactly_the_contract(default, body, accepted):
    # Given the JSON schema API Gateway validates POST /otp bodies with (draft 4, as API Gateway runs it)
    gateway = Draft4Validator(_model_schema(default, "SendOtpRequest"))
    # and the handler's own schema for the same body (lambda/otp/api_schema.py, also docs/openapi.json)
    handler = Draft202012Validator(request_body_schema("/otp"))

    # When a body is validated
    # Then both validators agree, and a body passes only if the contract allows it
    assert gateway.is_valid(body) is accepted
    assert handler.is_valid(body) is accepted


@pytest.mark.parametrize(("body", "accepted"), VERIFY_BODIES)
def test_verify_model_accepts_exactly_the_contract(default, body, accepted):
    # Given the API Gateway model and the handler's schema for POST /otp/verify
    gateway = Draft4Validator(_model_schema(default, "VerifyOtpRequest"))
    handler = Draft202012Validator(request_body_schema("/otp/verify"))

    # When a body is validated, Then all three fields are required, nothing else is allowed, and
    # API Gateway and the handler agree
    assert gateway.is_valid(body) is accepted
    assert handler.is_valid(body) is accepted


def test_stage_v1_is_throttled_traced_and_logs_json(default):
    # Given the deployment stage
    (stage,) = default.resources("AWS::ApiGateway::Stage").values()
    props = stage["Properties"]

    # When its settings are read
    settings = props["MethodSettings"][0]
    access_format = json.loads(props["AccessLogSetting"]["Format"])

    # Then it is v1, throttled from the configuration, traced, logs errors but never bodies,
    # and writes one JSON object per request to a log group with retention
    assert props["StageName"] == "v1"
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (10, 20)
    assert (settings["HttpMethod"], settings["ResourcePath"]) == ("*", "/*")
    assert props["TracingEnabled"] is True
    assert settings["LoggingLevel"] == "ERROR"
    assert settings["DataTraceEnabled"] is False
    assert access_format["requestId"] == "$context.requestId"
    assert access_format["status"] == "$context.status"
    assert "apiKey" not in access_format  # the key id is logged, never the key
    log_group = props["AccessLogSetting"]["DestinationArn"]["Fn::Join"][1][-1]["Ref"]
    assert default.json["Resources"][log_group]["Properties"]["RetentionInDays"] == 30


def test_api_gateway_errors_are_problem_json(default):
    # Given API Gateway's own error responses
    responses = [r["Properties"] for r in default.resources("AWS::ApiGateway::GatewayResponse").values()]
    types = {r["ResponseType"] for r in responses}

    # When their templates are rendered with sample $context values
    samples = {
        "$context.error.messageString": json.dumps('Invalid request "body"'),
        "$context.requestId": "c0ffee",
    }

    # Then validation, auth and throttling errors (and the 4XX/5XX defaults) are RFC 9457 documents
    assert {"BAD_REQUEST_BODY", "ACCESS_DENIED", "MISSING_AUTHENTICATION_TOKEN", "THROTTLED"} <= types
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "INTEGRATION_TIMEOUT"} <= types
    for response in responses:
        assert (
            response["ResponseParameters"]["gatewayresponse.header.Content-Type"]
            == "'application/problem+json'"
        )
        body = response["ResponseTemplates"]["application/json"]
        for variable, value in samples.items():
            body = body.replace(variable, value)
        problem = json.loads(body)
        assert problem["type"].startswith("urn:otp:problem:")  # the handler's problem type scheme
        assert problem["requestId"] == "c0ffee"
        assert problem["detail"] == 'Invalid request "body"'
        if "StatusCode" in response:
            assert problem["status"] == int(response["StatusCode"])
    throttled = next(r for r in responses if r["ResponseType"] == "THROTTLED")
    assert throttled["ResponseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"


def test_pinpoint_app_has_an_enabled_sms_channel(default):
    # Given the messaging resources
    (app_id,) = default.resources("AWS::Pinpoint::App")

    # When the SMS channel is read, Then it is enabled on this app; a phone number sets no sender id
    default.template.has_resource_properties(
        "AWS::Pinpoint::SMSChannel",
        {
            "ApplicationId": ref(app_id),
            "Enabled": True,
            "SenderId": Match.absent(),
            "ShortCode": Match.absent(),
        },
    )


def test_user_pool_signs_in_by_phone_with_the_three_triggers(default):
    # Given the Cognito resources
    (pool_id, pool) = next(iter(default.resources("AWS::Cognito::UserPool").items()))
    props = pool["Properties"]
    functions = {name: _function_logical_id(default, name) for name in HANDLERS}

    # When the pool is read
    # Then users sign in with their phone number, the three auth-challenge triggers are attached,
    # and Cognito never sends SMS itself (no SNS role, nothing auto-verified, no self sign-up)
    # (the username is the phone number itself: no username or alias attribute, so Cognito's USERNAME
    # is the number typed for registered and unknown numbers alike)
    assert "UsernameAttributes" not in props
    assert "AliasAttributes" not in props
    assert props["LambdaConfig"] == {
        "DefineAuthChallenge": arn_of(functions["DefineAuthChallenge"]),
        "CreateAuthChallenge": arn_of(functions["CreateAuthChallenge"]),
        "VerifyAuthChallengeResponse": arn_of(functions["VerifyAuthChallenge"]),
    }
    assert "SmsConfiguration" not in props
    assert props["AutoVerifiedAttributes"] == []
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    # and Cognito may invoke each trigger, from this pool only
    permissions = [p["Properties"] for p in default.resources("AWS::Lambda::Permission").values()]
    cognito = [p for p in permissions if p["Principal"] == "cognito-idp.amazonaws.com"]
    assert sorted(p["FunctionName"]["Fn::GetAtt"][0] for p in cognito) == sorted(
        functions[n] for n in ("DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallenge")
    )
    assert all(p["SourceArn"] == arn_of(pool_id) for p in cognito)


def test_app_client_uses_custom_auth_and_refresh_without_user_enumeration(default):
    # Given the user pool client
    (client,) = default.resources("AWS::Cognito::UserPoolClient").values()
    props = client["Properties"]

    # Then only CUSTOM_AUTH and refresh tokens are allowed, existence errors are hidden, and the
    # challenge session lasts as long as the code
    assert sorted(props["ExplicitAuthFlows"]) == ["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert props["PreventUserExistenceErrors"] == "ENABLED"
    assert props["GenerateSecret"] is False
    assert props["AuthSessionValidity"] == 5


def test_outputs_name_the_api_url_user_pool_client_and_pinpoint_app(default):
    # Given the stack outputs
    outputs = default.json["Outputs"]
    stack = default.service

    # Then the four documented outputs exist and point at the right resources
    assert outputs["UserPoolId"]["Value"] == ref(default.logical_id(stack.auth.user_pool))
    assert outputs["UserPoolClientId"]["Value"] == ref(default.logical_id(stack.auth.client))
    assert outputs["PinpointApplicationId"]["Value"] == ref(default.logical_id(stack.messaging.app))
    url = outputs["ApiUrl"]["Value"]["Fn::Join"][1]
    assert url[0] == "https://"
    assert ref(default.logical_id(stack.api)) in url
    assert ref(default.logical_id(stack.api.deployment_stage)) in url
    assert "ApiKeyId" not in outputs
    assert not [k for k in outputs if k.startswith("ApiRestApiEndpoint")]  # no duplicate URL output


def test_the_stack_is_environment_agnostic(default):
    # Given the synthesized template
    text = json.dumps(default.json)

    # Then no account id or region is baked in: they are pseudo parameters resolved at deploy time
    assert not re.search(r"\b\d{12}\b", text)
    assert not re.search(
        r"\b(us|eu|ap|sa|ca|me|af)-(east|west|north|south|central|northeast|southeast)-\d\b", text
    )
    assert Token.is_unresolved(default.stack.account)
    assert Token.is_unresolved(default.stack.region)


def test_the_sandboxs_api_gateway_defines_exactly_the_stacks_resources_and_methods(default):
    # Given the REST API's resources and methods as synthesized
    from local.api_gateway import RESOURCES

    resources = default.resources("AWS::ApiGateway::Resource")

    def path_of(resource_id: Any) -> str:
        if not isinstance(resource_id, dict) or "Ref" not in resource_id:
            return ""  # the API's root resource (a GetAtt of the RestApi)
        resource = resources[resource_id["Ref"]]["Properties"]
        return f"{path_of(resource['ParentId'])}/{resource['PathPart']}"

    synthesized: dict[str, set[str]] = {}
    for method in default.resources("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        synthesized.setdefault(path_of(props["ResourceId"]), set()).add(props["HttpMethod"])
    # Then the sandbox answers the same resources and methods, and 403s everything else as API Gateway does
    assert synthesized == {path: set(methods) for path, methods in RESOURCES.items()}
