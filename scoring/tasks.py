"""Celery tasks of the scoring area (reminders to panel members come with score sheets): none yet."""
