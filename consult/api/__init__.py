"""The JSON API's shared plumbing: errors, schema, pagination, parsers."""
