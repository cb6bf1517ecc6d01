"""Scheduled jobs (APScheduler 3): the milestone scan and alert delivery, behind a lease."""
