"""Lambda entry points: ``api`` (API Gateway) and ``cognito`` (the custom-auth triggers)."""

from otp.handlers import startup

# Before any entry point imports its dependencies (see otp/handlers/startup.py).
startup.begin()
