"""The management API `/api/*` (docs/one-api-compat.md §4). One module per resource, each exporting `routes`."""
