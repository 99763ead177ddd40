"""The consult app's admin: each room registers its own (autodiscovery imports this module)."""

from consult.people import admin as people_admin  # noqa: F401  (users, bureaus, profiles, tokens)
