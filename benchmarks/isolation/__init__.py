"""Child-process isolation: start, limit, watch and stop children, and turn their deaths into one-line reasons."""
