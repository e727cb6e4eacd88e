"""On-call schedules: layers of rotations with restrictions, overrides, who is on call,
the final schedule, coverage gaps, and iCalendar feeds."""
