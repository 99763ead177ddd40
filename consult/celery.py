"""The Celery application: transcription, search indexing, deadline sweeps, notifications."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consult.settings")

app = Celery("consult")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Redis restarts (docs/decisions/0011-redis-restarts.md): reconnect forever (Celery's default gives up after 100
# tries and the worker exits), notice a dead or half-open broker connection, and retry a command that timed out.
app.conf.broker_connection_retry = True
app.conf.broker_connection_max_retries = None
app.conf.broker_transport_options = {
    "socket_keepalive": True,
    "socket_connect_timeout": 5,
    "health_check_interval": 10,
    "retry_on_timeout": True,
}
app.autodiscover_tasks()
