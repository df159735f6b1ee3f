"""The `dw` command line."""
