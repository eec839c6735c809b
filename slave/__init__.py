"""Stateless relay node: config replica, delta shipper, page redirect (cluster issue)."""
