"""Provisioning the AWS profile's resources from the warehouse declaration (plan, apply, destroy)."""
