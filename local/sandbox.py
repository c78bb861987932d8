"""Assembles the sandbox: both servers, the handler's environment, the resources it needs, readiness.

Start-up order matters: the servers are bound first (so port 0 resolves to real ports before anything
needs the URL), then the process environment is pointed at the AWS endpoint, then the Pinpoint
application, the DynamoDB table and (with ``OTP_ENGINE=endusermessaging``) the notify code
configuration are created through boto3 against the endpoint itself (as a deployment would create them:
the configuration by the stack's own custom-resource code), and only then is the handler imported - its
settings are read at import, so a bad ``OTP_*`` value stops start-up with the handler's own message.

To provision more (e.g. a Cognito user pool), extend ``Sandbox.provision`` and put the ids in the
returned ``ReadyInfo``; register endpoint overrides on ``Sandbox.aws_endpoint`` before ``start``.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import BaseWSGIServer, get_sockaddr, make_server, select_address_family

from local.api_gateway import STAGE, ApiGatewayProxy, put_lambda_asset_on_path
from local.aws_endpoint import AwsEndpoint
from local.clock import SandboxClock
from local.cognito_custom_auth import CognitoCustomAuth
from local.cognito_pools import create_sign_in_pool, session_minutes_for
from local.notify_code_emulator import SANDBOX_CONFIGURATION_SET
from local.notify_limits import DEFAULT_TIER as NOTIFY_DEFAULT_TIER
from local.notify_limits import TIERS as NOTIFY_TIERS
from local.otp_emulator import OtpEmulator, SentSms
from local.protection_table import AtomicDynamoDb, create_protection_table
from local.sandbox_control import ReadyInfo
from local.schedules import FALLBACK_FUNCTION_ARN, FALLBACK_GROUP, SCHEDULER_ROLE_ARN, ScheduleRunner
from local.sign_in_page import APP_PATH, SignInPage
from local.test_numbers import DEFAULT_SLOW_SECONDS

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

REGION = "us-east-1"
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
DEFAULT_TABLE_NAME = "otp-sandbox"
# Defaults for the handler's own settings; a value the user exported wins.
OTP_DEFAULTS = {"OTP_BRAND_NAME": "Sandbox", "OTP_ORIGINATION_IDENTITY": "+12065550199"}
# With OTP_ENGINE=endusermessaging: the sandbox's configuration set, SMS and voice calls (so that the
# Cognito sign-in offers "call me instead" out of the box), and WhatsApp's two required values when
# OTP_CHANNELS enables it (a WhatsApp phone number id's shape; the sandbox accepts any).
END_USER_MESSAGING_DEFAULTS = {
    "OTP_CONFIGURATION_SET": SANDBOX_CONFIGURATION_SET,
    "OTP_CHANNELS": "SMS,VOICE",
    # The sandbox's account is on the Advanced tier (25 sends a second) unless told otherwise, and the
    # functions keep to the tier it emulates (local/notify_limits.py).
    "OTP_NOTIFY_TIER": NOTIFY_DEFAULT_TIER,
}
WHATSAPP_DEFAULTS = {
    "OTP_WHATSAPP_TEMPLATE_NAME": "otp_sandbox",
    "OTP_WHATSAPP_ORIGINATION_IDENTITY": "phone-number-id-0123456789abcdef0123456789abcdef",
}

FALLBACK_DEFAULTS = {
    "OTP_FALLBACK_SCHEDULE_GROUP": FALLBACK_GROUP,
    "OTP_FALLBACK_TARGET_ARN": FALLBACK_FUNCTION_ARN,
    "OTP_FALLBACK_ROLE_ARN": SCHEDULER_ROLE_ARN,
}

_log = logging.getLogger("local.sandbox")


@dataclass(frozen=True)
class SandboxOptions:
    host: str = "127.0.0.1"
    aws_port: int = 4566
    api_port: int = 3000
    ready_file: Path | None = None
    slow_seconds: float = DEFAULT_SLOW_SECONDS


def slow_seconds_from_environment(environ: MutableMapping[str, str]) -> float:
    raw = environ.get("SANDBOX_SLOW_SECONDS")
    if raw is None:
        return DEFAULT_SLOW_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"SANDBOX_SLOW_SECONDS must be a number of seconds, got {raw!r}") from None
    if not 0 <= seconds <= 3600:
        raise ValueError(f"SANDBOX_SLOW_SECONDS must be between 0 and 3600, got {raw!r}")
    return seconds


def point_environment_at(aws_url: str, environ: MutableMapping[str, str]) -> None:
    """Make every boto3 client in this process (the handler's included) talk to the sandbox only."""
    # A profile, a session token or a service-specific endpoint could send a call to real AWS.
    for name in [name for name in environ if name.startswith("AWS_ENDPOINT_URL_")]:
        del environ[name]
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
        environ.pop(name, None)
    environ.update(DUMMY_CREDENTIALS)
    environ.update(
        {
            "AWS_ENDPOINT_URL": aws_url,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "POWERTOOLS_SERVICE_NAME": "otp",
            "POWERTOOLS_METRICS_NAMESPACE": "OtpService",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    for name, value in OTP_DEFAULTS.items():
        environ.setdefault(name, value)
    if environ.get("OTP_ENGINE") == "endusermessaging":
        for name, value in END_USER_MESSAGING_DEFAULTS.items():
            environ.setdefault(name, value)
        if "WHATSAPP" in environ.get("OTP_CHANNELS", "").upper():
            for name, value in WHATSAPP_DEFAULTS.items():
                environ.setdefault(name, value)
        if "," in environ.get("OTP_CHANNELS", ""):
            # More than one channel: channel fallback, its schedules run by the sandbox (local/schedules.py).
            for name, value in FALLBACK_DEFAULTS.items():
                environ.setdefault(name, value)


_CONSOLE_LABELS = {"SMS": "SMS", "VOICE": "Voice call", "WHATSAPP": "WhatsApp message"}


def print_delivery(sms: SentSms) -> None:
    """The sandbox console is one of the three places a code may appear (with the outbox and /_aws)."""
    label = _CONSOLE_LABELS.get(sms.channel, sms.channel)
    print(f"[sandbox] {label} to {sms.destination} (reference {sms.reference_id}): {sms.body}", flush=True)


def create_notify_code_configuration(client: Any, environ: Mapping[str, str]) -> str:
    """Create the deployment's notify code configuration from the handler's own settings, with the code
    the stack's custom resource runs (otp.engine_rules builds it, otp.adapters creates it); its id."""
    from otp.adapters.notify_code_configurations import NotifyCodeConfigurations, desired_configuration
    from otp.engine_rules import notify_code_configuration, notify_code_configuration_name
    from otp.settings import load_settings

    settings = load_settings(environ)
    properties = notify_code_configuration(
        name=notify_code_configuration_name(DEFAULT_TABLE_NAME),
        brand=settings.brand_name,
        code_length=settings.code_length,
        validity_minutes=settings.validity_minutes,
        allowed_attempts=settings.allowed_attempts,
        channels=tuple(channel.value for channel in settings.channels),
        message_template=settings.message_template,
        voice_template=settings.voice_template,
        voice_language=settings.voice_language or settings.language,
        voice_id=settings.voice_id,
        whatsapp_template_name=settings.whatsapp_template_name,
        whatsapp_language=settings.language,
        entity_id=settings.entity_id,
        template_id=settings.template_id,
    )
    store = NotifyCodeConfigurations(client)
    return store.create(
        desired_configuration(properties), client_token=secrets.token_hex(16)
    ).configuration_id


def serve_in_background(server: BaseWSGIServer, name: str) -> threading.Thread:
    # A short poll interval makes shutdown() (and so Ctrl-C) return in a tenth of a second, not half.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True
    )
    thread.start()
    return thread


def bind_server(host: str, port: int, app: WSGIApplication, **kwargs: Any) -> BaseWSGIServer:
    """A threaded werkzeug server on a socket bound here, so a busy port is an OSError we can word,
    not werkzeug's own message and ``sys.exit``."""
    family = select_address_family(host, port)
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as http.server does
        listener.bind(get_sockaddr(host, port, family))
        listener.listen(128)
    except OSError as exc:
        listener.close()
        reason = f"cannot listen on {host}:{port} ({exc.strerror})"
        raise OSError(f"{reason}; is another sandbox running?") from exc
    try:
        return make_server(host, port, app, threaded=True, fd=listener.fileno(), **kwargs)
    finally:
        listener.close()  # the server works on its own duplicate of the descriptor


class Sandbox:
    """The AWS endpoint and the HTTP API, started and stopped together."""

    def __init__(
        self,
        options: SandboxOptions,
        *,
        environ: MutableMapping[str, str] = os.environ,
        on_delivery: Callable[[SentSms], None] = print_delivery,
    ) -> None:
        self.options = options
        self._environ = environ
        self.emulator = OtpEmulator(
            clock=SandboxClock(), slow_seconds=options.slow_seconds, on_delivery=on_delivery
        )
        self.aws_endpoint = AwsEndpoint(self.emulator)
        # Cognito CUSTOM_AUTH sign-ins, on the sandbox clock so tests can expire sessions without sleeping.
        self.cognito = CognitoCustomAuth(clock=self.emulator.clock.now, region=REGION)
        self.aws_endpoint.add_override(self.cognito)
        # The web sign-in page and its users route, before the sandbox's own /_sandbox/* routes.
        self.aws_endpoint.add_override(SignInPage(self.aws_endpoint.status, region=REGION), first=True)
        # The per-number limits rely on DynamoDB's atomic conditional writes, which moto lacks.
        self.aws_endpoint.add_override(AtomicDynamoDb(self.aws_endpoint.forward_to_moto))
        self.api = ApiGatewayProxy()
        self._aws_server = bind_server(
            options.host, options.aws_port, self.aws_endpoint, request_handler=MotoRequestHandler
        )
        try:
            self._api_server = bind_server(options.host, options.api_port, self.api)
        except OSError:
            self._aws_server.server_close()
            raise
        self._threads: list[threading.Thread] = []
        self.ready_info: ReadyInfo | None = None
        self.schedules: ScheduleRunner | None = None

    @property
    def aws_url(self) -> str:
        return f"http://{self.options.host}:{self._aws_server.port}"

    @property
    def sign_in_page_url(self) -> str:
        return f"{self.aws_url}{APP_PATH}/"

    @property
    def api_url(self) -> str:
        return f"http://{self.options.host}:{self._api_server.port}"

    def start(self) -> ReadyInfo:
        self._threads = [
            serve_in_background(self._aws_server, "aws-endpoint"),
            serve_in_background(self._api_server, "http-api"),
        ]
        point_environment_at(self.aws_url, self._environ)
        tier = self._environ.get("OTP_NOTIFY_TIER")
        if tier:  # the emulated account's tier is the one the functions are told (a bad one stops them)
            self.aws_endpoint.notify_codes.limits.configure(tier=tier if tier in NOTIFY_TIERS else None)
        info = self.provision()
        self._environ["PINPOINT_APPLICATION_ID"] = info.application_id
        self.api.handler()
        self.cognito.use_project_triggers()
        # Cooldowns and hourly caps follow the sandbox clock, so /_sandbox/clock can move past them.
        from otp import wiring

        wiring.limits_clock = self.emulator.clock.now
        if self._environ.get("OTP_FALLBACK_SCHEDULE_GROUP") == FALLBACK_GROUP:
            self.schedules = self._schedule_runner()
            self.emulator.clock.on_advance(self.schedules.run_due)
            self.schedules.start()
        self.aws_endpoint.status.mark_ready(info)
        self.ready_info = info
        if self.options.ready_file is not None:
            self._write_ready_file(self.options.ready_file, info)
        return info

    def _schedule_runner(self) -> ScheduleRunner:
        def client() -> Any:
            return boto3.session.Session(
                aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                region_name=REGION,
            ).client("scheduler", endpoint_url=self.aws_url)

        def fallback_handler() -> Any:
            from otp.handlers.fallback import lambda_handler

            return lambda_handler

        return ScheduleRunner(client, self.emulator.clock.now, {FALLBACK_FUNCTION_ARN: fallback_handler})

    def provision(self) -> ReadyInfo:
        """Create, through the endpoint, what the deployed stack would have created."""
        session = boto3.session.Session(
            aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=REGION,
        )
        pinpoint = session.client("pinpoint", endpoint_url=self.aws_url)
        application = pinpoint.create_app(CreateApplicationRequest={"Name": "otp-sandbox"})
        table_name = self._environ.setdefault("OTP_TABLE_NAME", DEFAULT_TABLE_NAME)
        put_lambda_asset_on_path()  # the table's key names come from otp.adapters.store
        create_protection_table(session.client("dynamodb", endpoint_url=self.aws_url), table_name)
        if "OTP_SECRET_ARN" not in self._environ:
            # As the stack's generated one (infra/secret.py): random, and only in this sandbox's moto.
            self._environ["OTP_SECRET_ARN"] = session.client(
                "secretsmanager", endpoint_url=self.aws_url
            ).create_secret(
                Name=f"otp-sandbox-{secrets.token_hex(4)}", SecretString=secrets.token_urlsafe(48)
            )["ARN"]
        engine = self._environ.get("OTP_ENGINE", "pinpoint")
        if engine == "endusermessaging" and not self._environ.get("OTP_NOTIFY_CODE_CONFIGURATION"):
            # The settings as the handler will read them (start() sets the application id afterwards).
            handler_environ = {
                **self._environ,
                "PINPOINT_APPLICATION_ID": application["ApplicationResponse"]["Id"],
            }
            self._environ["OTP_NOTIFY_CODE_CONFIGURATION"] = create_notify_code_configuration(
                session.client("endusermessaging", endpoint_url=self.aws_url), handler_environ
            )
        if self._environ.get("OTP_FALLBACK_SCHEDULE_GROUP") == FALLBACK_GROUP:
            session.client("scheduler", endpoint_url=self.aws_url).create_schedule_group(Name=FALLBACK_GROUP)
        sign_in = create_sign_in_pool(
            session.client("cognito-idp", endpoint_url=self.aws_url),
            self.cognito.trigger_arns,
            session_minutes=session_minutes_for(self._environ),
        )
        return ReadyInfo(
            application_id=application["ApplicationResponse"]["Id"],
            user_pool_id=sign_in.user_pool_id,
            user_pool_client_id=sign_in.client_id,
            engine=engine,
            notify_code_configuration_id=self._environ.get("OTP_NOTIFY_CODE_CONFIGURATION"),
        )

    def _write_ready_file(self, path: Path, info: ReadyInfo) -> None:
        document = {
            "awsEndpoint": self.aws_url,
            "apiEndpoint": self.api_url,
            "apiBaseUrl": f"{self.api_url}/{STAGE}",
            "signInPageUrl": self.sign_in_page_url,
            "awsPort": self._aws_server.port,
            "apiPort": self._api_server.port,
            "applicationId": info.application_id,
            "userPoolId": info.user_pool_id,
            "userPoolClientId": info.user_pool_client_id,
            "engine": info.engine,
            "notifyCodeConfigurationId": info.notify_code_configuration_id,
            "pid": os.getpid(),
        }
        # Written whole, then renamed: a reader polling for the file never sees half of it.
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        partial.replace(path)

    def stop(self) -> None:
        if self.schedules is not None:
            self.schedules.stop()
        for server in (self._api_server, self._aws_server):
            if self._threads:
                server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        if self.options.ready_file is not None:
            self.options.ready_file.unlink(missing_ok=True)
