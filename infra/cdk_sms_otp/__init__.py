"""AWS CDK infrastructure of pinpoint-sms-otp: one stack, one construct module per concern."""
