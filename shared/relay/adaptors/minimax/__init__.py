"""MiniMax (type 27): chat only, on its own path."""
