"""The outside world: telephony and SMS behind a provider interface, enterprise webhooks,
Open311 GeoReport v2 (the intake issue)."""
