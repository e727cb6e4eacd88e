"""The append-only record of every change: who, what, before, after, when, from where."""
