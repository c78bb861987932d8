#!/usr/bin/env python3
"""CDK entry point (cdk.json: "app": "python3 app.py"). Needs no AWS credentials to synthesize."""

import sys

from cdk_sms_otp.application import build_app
from cdk_sms_otp.config import ConfigError


def main() -> None:
    try:
        app, _ = build_app()
    except ConfigError as exc:
        sys.exit(str(exc))
    app.synth()


if __name__ == "__main__":
    main()
