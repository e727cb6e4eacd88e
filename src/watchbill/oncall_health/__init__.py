"""On-call health, the Director's view: hours on call, pages, sleep-hour pages, off-hours
interruptions, nights interrupted and time to acknowledge per person and team, with
warnings over configurable limits; JSON, CSV, a page and a command."""
