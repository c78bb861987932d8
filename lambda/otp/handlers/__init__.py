"""Lambda entry points: ``api`` (API Gateway) and ``cognito`` (the custom-auth triggers)."""

from otp.handlers import lean_imports, startup

# Before any entry point imports its dependencies (see otp/handlers/startup.py).
startup.begin()
# The API needs Powertools' REST resolver only, not the package __init__ that imports every resolver.
lean_imports.defer_package_init(lean_imports.POWERTOOLS_EVENT_HANDLER)
