"""The sample-data generator: a deterministic source tree with every quirk of the real data."""
