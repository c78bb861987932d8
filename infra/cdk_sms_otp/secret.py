"""The deployment secret: random bytes CloudFormation generates at deploy time, which the functions turn
into one key per purpose (``otp.wiring.deployment_key``), e.g. the HMAC key of the made-up masked
numbers a decoy sign-in challenge shows.

A secret rather than anything derived from the stack: every id a stack has (the Pinpoint application,
the user pool, the API) is printed in outputs, consoles and client configuration, and a key derived
from a public value is public. Only the functions given ``grant_read`` can read it.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Acknowledgment, RemovalPolicy, Stack, Validations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

#: The variable ``otp.settings`` reads the secret's ARN from; set only on the functions granted it.
SECRET_ARN_VARIABLE: Final = "OTP_SECRET_ARN"
SECRET_LENGTH: Final = 64


class DeploymentSecret(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description=f"{Stack.of(self).stack_name}: random bytes the OTP functions derive their keys from",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=SECRET_LENGTH, exclude_punctuation=True, include_space=False
            ),
            # Nothing is encrypted with it: a new deployment simply generates a new one.
            removal_policy=RemovalPolicy.DESTROY,
        )
        Validations.of(self.secret).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-SMG4",
                reason=(
                    "Not rotated on purpose: the decoy challenge shows a masked number derived from it for "
                    "each unknown username, and a real user's masked number never changes, so a rotation "
                    "would change every decoy at once and tell them apart. It protects no data at rest; to "
                    "replace it, redeploy with a new secret (the decoys then change once, for everyone)."
                ),
            )
        )

    def grant_read(self, function: lambda_.Function) -> None:
        """Let one function read the secret (and only this secret), and tell it where it is."""
        self.secret.grant_read(function)
        function.add_environment(SECRET_ARN_VARIABLE, self.secret.secret_arn)
