"""Getting events into the lake: Firehose's conversion rules and a local delivery stream."""
