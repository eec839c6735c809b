"""Database access: schema, engines, migrations."""
