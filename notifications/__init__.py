"""E-mail derived from the event log through an outbox: never lost, never sent twice."""
