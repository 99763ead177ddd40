"""Elasticsearch through the official client. The only module that imports ``elasticsearch``."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from search.backends import EngineHealth


class ElasticsearchBackend:
    name = "elasticsearch"

    def __init__(self, url: str) -> None:
        self.client = Elasticsearch(url, request_timeout=2, max_retries=0)

    def health(self) -> EngineHealth:
        try:
            status = self.client.cluster.health(timeout="1s")["status"]
        except Exception as exc:  # the client raises many transport errors; all mean "down"
            return EngineHealth(False, f"unreachable: {type(exc).__name__}")
        return EngineHealth(status in {"green", "yellow"}, f"cluster status {status}")
