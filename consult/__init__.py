"""Consult: the project package, and the home of people, bureaus and consultations."""

from consult.celery import app as celery_app

__all__ = ["celery_app"]
