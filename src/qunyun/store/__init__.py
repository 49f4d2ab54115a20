"""The event store: engines, schema, migrations, and the ingester that writes events."""
