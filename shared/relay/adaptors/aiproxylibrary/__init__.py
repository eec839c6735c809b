"""The aiproxylibrary provider folder: its channel types are declared in spec.py (listed in ../registry.py)."""
