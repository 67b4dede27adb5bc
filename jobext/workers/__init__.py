"""Where runs execute: servers' registry, heartbeats and recovery."""
