"""The `watchbill` command."""
