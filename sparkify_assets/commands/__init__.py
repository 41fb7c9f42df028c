"""What the ``sparkify`` subcommands run beyond Dagster's own commands: ``build``, ``migrate``."""
