"""cdk-sms-otp: SMS one-time passwords on AWS, as CDK constructs that carry their Lambda code.

from cdk_sms_otp import OtpService
otp = OtpService(self, "Otp", brand_name="Acme", origination_identity="+12065550100")
"""

from cdk_sms_otp.config import ConfigError, OtpConfig
from cdk_sms_otp.service import OtpService

__all__ = ["ConfigError", "OtpConfig", "OtpService"]
