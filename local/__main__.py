"""``python -m local``: start the sandbox (what ``make run`` does) and keep it up until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from local.sandbox import Sandbox, SandboxOptions, slow_seconds_from_environment
from local.stopping import StopSignals, remove_quietly


def parse_options(argv: list[str] | None = None) -> tuple[SandboxOptions, bool]:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--aws-port", type=int, default=4566, help="AWS endpoint port (0 = any free port)")
    parser.add_argument("--api-port", type=int, default=3000, help="HTTP API port (0 = any free port)")
    parser.add_argument("--ready-file", type=Path, help="write the URLs and ids here as JSON once ready")
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request")
    args = parser.parse_args(argv)
    try:
        slow_seconds = slow_seconds_from_environment(os.environ)
    except ValueError as exc:
        parser.error(str(exc))
    options = SandboxOptions(
        host=args.host,
        aws_port=args.aws_port,
        api_port=args.api_port,
        ready_file=args.ready_file,
        slow_seconds=slow_seconds,
    )
    return options, args.verbose


def banner(sandbox: Sandbox, application_id: str) -> str:
    aws, api = sandbox.aws_url, sandbox.api_url
    pool = sandbox.ready_info
    number = "+12065550100"
    engine = pool.engine if pool else "pinpoint"
    # What the engine sends through: Pinpoint needs an application; End User Messaging needs none.
    configuration = getattr(pool, "notify_code_configuration_id", None) or "-"
    resource = (
        f"Pinpoint app  {application_id}"
        if engine == "pinpoint"
        else f"End User Messaging  notify code configuration {configuration}"
    )
    return f"""
Sandbox ready (Ctrl-C to stop)
  AWS endpoint  {aws}   boto3: endpoint_url= or AWS_ENDPOINT_URL; CLI: aws --endpoint-url {aws}
  HTTP API      {api}/v1
  Engine        {engine} (OTP_ENGINE=pinpoint|endusermessaging before make run)
  {resource}
  User pool     {pool.user_pool_id if pool else "-"}  app client {pool.user_pool_client_id if pool else "-"}
                (CUSTOM_AUTH sign-in by SMS code: see docs/cognito.md)
  Sign-in page  {sandbox.sign_in_page_url}   (create a user, sign in with the code from the outbox)
  Outbox        {aws}/_sandbox/messages

Try it:
  curl -s -X POST {api}/v1/otp -H 'Content-Type: application/json' -d '{{"phoneNumber": "{number}"}}'
  curl -s {aws}/_sandbox/messages
  curl -s -X POST {api}/v1/otp/verify -H 'Content-Type: application/json' \\
       -d '{{"phoneNumber": "{number}", "referenceId": "<referenceId>", "code": "<code>"}}'

Codes appear only here and in the outbox, never in the service's logs.
""".rstrip()


def main(argv: list[str] | None = None) -> int:
    options, verbose = parse_options(argv)
    logging.basicConfig(level=logging.INFO, format="[sandbox] %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("botocore").setLevel(logging.WARNING)  # "found credentials" is noise here

    # A flag and a self-pipe, no locks in the handler; stopped within 2 s whatever happens (stopping.py).
    signals = StopSignals(cleanup=remove_quietly(options.ready_file))
    signals.install()

    try:
        sandbox = Sandbox(options)
    except OSError as exc:
        print(f"[sandbox] {exc}", file=sys.stderr)
        return 1
    try:
        info = sandbox.start()
        print(banner(sandbox, info.application_id), flush=True)
        signals.wait_for_stop()
        print("\n[sandbox] stopping", flush=True)
        return 0
    except Exception as exc:
        print(f"[sandbox] start-up failed: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        sandbox.stop()
        signals.finished()


def run() -> None:
    """Exit as soon as the servers are down: no wait for stray non-daemon threads or atexit hooks."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
