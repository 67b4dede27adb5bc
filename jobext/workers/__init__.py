"""Where runs execute: the workers' registry (heartbeats, host stats, settling the runs of
workers that are gone), drain and resume, and their API."""
