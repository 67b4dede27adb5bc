"""Cron schedules: syntax and timing, the rules, the firing loop, handlers."""
