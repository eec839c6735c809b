"""Code every node runs: settings, logging, the relay engine and the cluster data types."""
