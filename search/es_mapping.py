"""What Consult's Elasticsearch indexes look like: names, the index template, analysis, and documents.

Pure functions (no client): the backend in ``search/elasticsearch_backend.py`` sends what they build, and
``tests/search/test_es_builders.py`` checks them without a cluster.

- **Names.** One index per document type, ``{prefix}-{doc_type}-{timestamp}``, always reached through the
  alias ``{prefix}-{doc_type}``; an index template for ``{prefix}-{doc_type}-*`` holds the settings and
  mappings, so every new index (first use or rebuild) gets them.
- **Matching** uses bigrams made by Elasticsearch itself (standard tokenizer, ``cjk_width``, ``lowercase``,
  ``cjk_bigram``: the built-in ``cjk`` analyzer without its English stop words) over text that Python has
  already normalised (``analysis.normalize``). These are the bigrams ``analysis.grams`` makes for the
  embedded engine, so a phrase of them matches the same documents on both engines.
- **Ranking by words**: ``words`` holds the jieba segmentation with our dictionary of bureau names and
  policy terms, made in Python exactly as for the embedded engine. When every node has ``analysis-ik`` or
  ``analysis-smartcn`` (detected when an index is created), the text fields also get a ``words`` sub-field
  analysed by that plugin; it only adds to the score, so hits never depend on which plugins a cluster has.
- **Originals** go in ``source`` (kept, not indexed): snippets are cut from the text as the user wrote it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from search import analysis
from search.documents import KEYWORD_FIELDS, TEXT_FIELDS, SearchDocument, version_key

JSON = dict[str, Any]

#: Analyzer of the matching fields (bigrams, like ``analysis.grams``).
BIGRAMS = "consult_bigrams"
#: Analyzer of ``words``: Python has segmented it already, so spaces are all that separate words.
PRESEGMENTED = "consult_presegmented"
#: Bumped when the mapping changes in a way that needs ``search_rebuild`` (2: the ``bureaus`` text field).
SCHEMA_VERSION = 2
TEMPLATE_PRIORITY = 500  # above Elastic's built-in templates (100), should a prefix ever overlap them


@dataclass(frozen=True)
class WordsAnalyzer:
    """A Chinese word-segmentation plugin found on the cluster, and its analyzers."""

    plugin: str
    index_analyzer: str
    search_analyzer: str


#: In order of preference: ik can load a custom dictionary (bureau names, policy terms); smartcn cannot.
WORDS_PLUGINS: tuple[WordsAnalyzer, ...] = (
    WordsAnalyzer("analysis-ik", "ik_max_word", "ik_smart"),
    WordsAnalyzer("analysis-smartcn", "smartcn", "smartcn"),
)


# --- names -------------------------------------------------------------------------------------


def alias_name(prefix: str, doc_type: str) -> str:
    return f"{prefix}-{doc_type}"


def template_name(prefix: str, doc_type: str) -> str:
    return f"{prefix}-{doc_type}"


def index_pattern(prefix: str, doc_type: str) -> str:
    return f"{prefix}-{doc_type}-*"


def new_index_name(prefix: str, doc_type: str, now: datetime, suffix: str) -> str:
    """A fresh versioned name; ``suffix`` (a few random characters) keeps two rebuilds in one second apart."""
    return f"{prefix}-{doc_type}-{now.strftime('%Y%m%d%H%M%S')}-{suffix}"


# --- analysis and mappings ---------------------------------------------------------------------


def plugins_by_node(nodes_info: Mapping[str, Any]) -> list[set[str]]:
    """The plugin names of each node, from a ``GET _nodes/plugins`` response."""
    nodes: Mapping[str, Any] = nodes_info.get("nodes") or {}
    return [{str(plugin.get("name", "")) for plugin in node.get("plugins") or ()} for node in nodes.values()]


def choose_words_analyzer(node_plugins: Sequence[set[str]]) -> WordsAnalyzer | None:
    """The preferred segmentation plugin that *every* node has (a shard may live on any node)."""
    if not node_plugins:
        return None
    for candidate in WORDS_PLUGINS:
        if all(candidate.plugin in plugins for plugins in node_plugins):
            return candidate
    return None


def index_settings() -> JSON:
    return {
        "analysis": {
            "filter": {
                "consult_bigram": {"type": "cjk_bigram", "output_unigrams": False},
            },
            "analyzer": {
                BIGRAMS: {
                    "type": "custom",
                    "tokenizer": "standard",
                    "filter": ["cjk_width", "lowercase", "consult_bigram"],
                },
                PRESEGMENTED: {"type": "custom", "tokenizer": "whitespace"},
            },
        },
    }


def _text_field(words: WordsAnalyzer | None) -> JSON:
    # Offsets in the postings let the unified highlighter mark phrases without re-analysing long texts.
    field: JSON = {"type": "text", "analyzer": BIGRAMS, "index_options": "offsets"}
    if words is not None:
        field["fields"] = {
            "words": {"type": "text", "analyzer": words.index_analyzer, "search_analyzer": words.search_analyzer}
        }
    return field


def index_mappings(words: WordsAnalyzer | None) -> JSON:
    properties: JSON = {"object_id": {"type": "long"}}
    properties.update({name: _text_field(words) for name in TEXT_FIELDS})
    properties["words"] = {"type": "text", "analyzer": PRESEGMENTED, "index_options": "freqs"}
    properties.update({name: {"type": "keyword"} for name in (*KEYWORD_FIELDS, "acl")})
    properties["date"] = {"type": "date", "format": "epoch_second"}
    properties["version"] = {"type": "long", "index": False}
    properties["source"] = {"type": "object", "enabled": False}
    return {
        "dynamic": "strict",
        "_source": {"excludes": ["words"]},  # searched only; never read back
        "_meta": {"schema_version": SCHEMA_VERSION, **({"words_plugin": words.plugin} if words else {})},
        "properties": properties,
    }


def index_template(prefix: str, doc_type: str, words: WordsAnalyzer | None) -> JSON:
    """Keyword arguments for ``indices.put_index_template``."""
    return {
        "name": template_name(prefix, doc_type),
        "index_patterns": [index_pattern(prefix, doc_type)],
        "priority": TEMPLATE_PRIORITY,
        "template": {"settings": index_settings(), "mappings": index_mappings(words)},
        "meta": {"managed_by": "consult", "schema_version": SCHEMA_VERSION},
    }


def has_word_fields(mappings: Mapping[str, Any]) -> bool:
    """Whether an index's mappings (``GET {index}/_mapping`` of one index) carry plugin ``words`` sub-fields."""
    meta: Mapping[str, Any] = mappings.get("_meta") or {}
    return bool(meta.get("words_plugin"))


# --- rebuild ---------------------------------------------------------------------------------

#: While a rebuild loads a new index nobody searches it, so it need not refresh.
LOADING_SETTINGS: JSON = {"index": {"refresh_interval": "-1"}}
#: Back to the cluster's default refresh interval before the index goes live.
LIVE_SETTINGS: JSON = {"index": {"refresh_interval": None}}


def first_index_aliases(alias: str) -> JSON:
    """The alias of the first index, made its write index: should two processes race to create the first
    index on first use, Elasticsearch refuses the second (an alias has one write index at most)."""
    return {alias: {"is_write_index": True}}


def swap_actions(alias: str, old_indices: Iterable[str], new_index: str) -> list[JSON]:
    """One ``update_aliases`` call: the alias leaves every old index and points at the new one atomically."""
    actions: list[JSON] = [
        {"remove": {"index": old, "alias": alias}} for old in sorted(old_indices) if old != new_index
    ]
    actions.append({"add": {"index": new_index, "alias": alias, "is_write_index": True}})
    return actions


# --- documents -----------------------------------------------------------------------------


def document_source(document: SearchDocument) -> JSON:
    """The ``_source`` of one document: normalised texts (matched, highlighted), words, keywords, originals."""
    source: JSON = {"object_id": document.object_id}
    originals: dict[str, str] = {}
    all_words: list[str] = []
    for name in TEXT_FIELDS:
        original = document.texts.get(name, "")
        if original:
            normalized = analysis.normalize(original)
            source[name] = normalized
            originals[name] = original
            all_words.extend(analysis.words(normalized))
    source["words"] = " ".join(all_words)
    for name in KEYWORD_FIELDS:
        values = [str(value) for value in document.keywords.get(name, ())]
        if values:
            source[name] = values
    source["acl"] = list(document.acl)
    source["date"] = int(document.date.timestamp())
    source["version"] = version_key(document.version)
    source["source"] = originals
    return source


def index_actions(index: str, documents: Iterable[SearchDocument]) -> Iterator[JSON]:
    """Bulk actions adding or replacing each document (its id is the object id)."""
    for document in documents:
        yield {
            "_op_type": "index",
            "_index": index,
            "_id": str(document.object_id),
            "_source": document_source(document),
        }


def delete_actions(index: str, object_ids: Iterable[int]) -> Iterator[JSON]:
    for object_id in object_ids:
        yield {"_op_type": "delete", "_index": index, "_id": str(int(object_id))}


def bulk_alias_missing(errors: Iterable[Mapping[str, Any]]) -> bool:
    """Whether a bulk request failed because the alias is gone (dropped meanwhile): recreate it and retry."""
    for item in errors:
        for outcome in item.values():
            error = outcome.get("error") if isinstance(outcome, Mapping) else None
            if isinstance(error, Mapping) and error.get("type") == "index_not_found_exception":
                return True
    return False
