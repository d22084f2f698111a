"""The worker process: the ladder scan, the mail jobs, their schedule, lock and heartbeat."""
