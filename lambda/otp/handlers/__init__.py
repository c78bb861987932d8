"""Lambda entry points: ``api`` (API Gateway), ``cognito`` (the custom-auth triggers),
``notify_code_configuration`` (the stack's custom resource for End User Messaging) and ``fallback``
(EventBridge Scheduler's channel fallback jobs)."""

from otp.handlers import lean_imports, startup

# Before any entry point imports its dependencies (see otp/handlers/startup.py).
startup.begin()
# Import what the entry points use, not what their libraries could do (otp/handlers/lean_imports.py):
# Powertools' one event data class each trigger reads without the other forty, phonenumbers without its
# free-text matcher.
lean_imports.defer_package_init(lean_imports.POWERTOOLS_DATA_CLASSES)
lean_imports.defer_phonenumbers_matcher()
