"""The master's side of the cluster: the gRPC server and the snapshot publisher."""
