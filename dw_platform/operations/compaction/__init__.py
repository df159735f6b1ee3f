"""Hourly compaction: rewrite an hour's small Firehose objects into a few large files, crash-safely."""
