"""Routing rules: first match wins, in explicit order; they reroute, reclassify or suppress."""
