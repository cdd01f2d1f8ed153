"""Hardware reports: schema version 1 and the OCI 42 agent's body."""
