"""Runs: the rules, their events and streams, and the supervisor of their processes."""
