"""The tasks resource: each user's own tasks."""
