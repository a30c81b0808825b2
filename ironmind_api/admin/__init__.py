"""The admin resource: every account the API knows, and what an admin may do to one."""
