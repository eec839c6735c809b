"""The cluster protocol's shared half: generated messages (pb/), sealing, auth, conversions."""
