"""Parsing and validating event lines and song files into rows; quarantine records for the rest."""
