"""Celery tasks of the contracts area (KPI report chasers, contract milestone reminders): none yet."""
