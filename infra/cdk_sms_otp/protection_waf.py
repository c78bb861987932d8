"""The optional WAF web ACLs of abuse protection: a per-IP rate rule on the API stage, and one on the
user pool's sign-in operations. Built by :class:`cdk_sms_otp.protection.OtpProtection` when
``wafEnabled`` is set; the per-number limits cannot see one source rotating through many numbers.
"""

from __future__ import annotations

import json
from typing import Final

from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from cdk_sms_otp.api import OtpApi
from cdk_sms_otp.auth import OtpAuth
from cdk_sms_otp.config import WAF_WINDOW_SECONDS

#: What Cognito's API operations carry in X-Amz-Target (AWS SDKs and Amplify send it on every call).
COGNITO_TARGET_PREFIX: Final = "AWSCognitoIdentityProviderService."
SIGN_IN_OPERATIONS: Final = ("InitiateAuth", "RespondToAuthChallenge")


def api_web_acl(scope: Construct, *, name_prefix: str, rate_limit: int, api: OtpApi) -> wafv2.CfnWebACL:
    """A per-IP rate rule on the API stage: one source cannot drive more than the configured rate,
    whatever numbers it rotates through (the per-number limits cannot see that pattern)."""
    name = f"{name_prefix}-otp"
    problem = {
        "type": "urn:otp:problem:ip-rate-limited",
        "title": "Too many requests from this address",
        "status": 429,
        "detail": f"more than {rate_limit} requests in 5 minutes from one address",
    }
    acl = wafv2.CfnWebACL(
        scope,
        "WebAcl",
        name=name,
        description="Per-IP rate limit in front of the OTP API",
        scope="REGIONAL",
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        custom_response_bodies={
            "ip-rate-limited": wafv2.CfnWebACL.CustomResponseBodyProperty(
                content_type="APPLICATION_JSON", content=json.dumps(problem)
            )
        },
        rules=[
            wafv2.CfnWebACL.RuleProperty(
                name="PerIpRateLimit",
                priority=0,
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        aggregate_key_type="IP",
                        limit=rate_limit,
                        evaluation_window_sec=WAF_WINDOW_SECONDS,
                    )
                ),
                action=wafv2.CfnWebACL.RuleActionProperty(
                    block=wafv2.CfnWebACL.BlockActionProperty(
                        custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                            response_code=429,
                            custom_response_body_key="ip-rate-limited",
                            response_headers=[
                                wafv2.CfnWebACL.CustomHTTPHeaderProperty(
                                    name="Retry-After", value=str(WAF_WINDOW_SECONDS)
                                )
                            ],
                        )
                    )
                ),
                visibility_config=_visibility("PerIpRateLimit"),
            )
        ],
        visibility_config=_visibility(name),
    )
    wafv2.CfnWebACLAssociation(
        scope,
        "WebAclAssociation",
        resource_arn=api.rest_api.deployment_stage.stage_arn,
        web_acl_arn=acl.attr_arn,
    )
    return acl


def sign_in_web_acl(scope: Construct, *, name_prefix: str, rate_limit: int, auth: OtpAuth) -> wafv2.CfnWebACL:
    """A web ACL of its own on the user pool: per IP, at most ``wafSignInRateLimit`` sign-in calls
    (InitiateAuth, RespondToAuthChallenge) in 5 minutes. Its own ACL rather than a second rule in the
    API's, so that a header cannot move a request from one rule's count to the other's. Cognito hands
    WAF the operation's X-Amz-Target header but never the username or the number
    (docs/abuse-protection.md)."""
    name = f"{name_prefix}-otp-sign-in"
    operations = [
        wafv2.CfnWebACL.StatementProperty(
            byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(single_header={"Name": "x-amz-target"}),
                # Lower-cased and matched at the end, so that neither the case of the header's value
                # nor anything before the operation's name can dodge the count; AdminInitiateAuth
                # (the integrator's backend, signed) does not end with ".initiateauth".
                positional_constraint="ENDS_WITH",
                search_string=f".{operation.lower()}",
                text_transformations=[
                    wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="LOWERCASE")
                ],
            )
        )
        for operation in SIGN_IN_OPERATIONS
    ]
    acl = wafv2.CfnWebACL(
        scope,
        "SignInWebAcl",
        name=name,
        description="Per-IP rate limit on the user pool sign-in operations",
        scope="REGIONAL",
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        rules=[
            wafv2.CfnWebACL.RuleProperty(
                name="PerIpSignInRateLimit",
                priority=0,
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        aggregate_key_type="IP",
                        limit=rate_limit,
                        evaluation_window_sec=WAF_WINDOW_SECONDS,
                        scope_down_statement=wafv2.CfnWebACL.StatementProperty(
                            or_statement=wafv2.CfnWebACL.OrStatementProperty(statements=operations)
                        ),
                    )
                ),
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                visibility_config=_visibility("PerIpSignInRateLimit"),
            )
        ],
        visibility_config=_visibility(name),
    )
    wafv2.CfnWebACLAssociation(
        scope,
        "SignInWebAclAssociation",
        resource_arn=auth.user_pool.user_pool_arn,
        web_acl_arn=acl.attr_arn,
    )
    return acl


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )
