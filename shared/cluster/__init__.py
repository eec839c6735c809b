"""The cluster protocol's shared half: generated messages (pb/), sealing, auth, conversions."""

# gRPC's default 4 MB message cap is too small for a snapshot of a large install (tens of thousands
# of tokens) or a busy slave's quota batch; both ends of every cluster channel use this instead.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
GRPC_MESSAGE_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
]
