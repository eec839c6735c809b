"""The relay engine every node runs: token auth, channel choice, adaptors, streaming, billing."""
