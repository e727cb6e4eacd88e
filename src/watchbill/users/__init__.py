"""People: who they are, where they live (time zone), how to reach them, what they may do."""
