"""cdk-sms-otp: SMS one-time passwords on AWS, as CDK constructs that carry their Lambda code."""
