"""Settings from the environment, their one-line problems, the project's home for local state."""
