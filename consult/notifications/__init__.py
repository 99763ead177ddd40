"""In-app notifications: what needs someone, delivered in the app (and by e-mail)."""
