"""Master node: owns the database, serves /api/* and the console, publishes config to slaves."""
