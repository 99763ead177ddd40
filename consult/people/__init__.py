"""People and organisations: users, deputies, experts, handlers, bureaus, their API and tokens."""
