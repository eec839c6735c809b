"""The management API `/api/*` (reference §4). One module per resource, each exporting `routes`."""
