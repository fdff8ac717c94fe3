"""`bench size`: from a latency SLO and a request rate to cores, instances and threads, measured and predicted."""
