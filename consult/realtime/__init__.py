"""Real time: the catalogue of live events and the one path they are published by."""
