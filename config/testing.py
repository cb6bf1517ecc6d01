"""Tests: the fixture supplies the database URL; CSRF stays on."""

TESTING = True
SECRET_KEY = "testing-secret-key-not-for-production"
MAIL_BACKEND = "log"
SCHEDULER_EMBEDDED = False
# A cheap hash: a cost, not a bypass (the length and strength rules stay as in production).
PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
# Background work runs inside the request that starts it: deterministic tests.
BACKGROUND_TASKS_INLINE = True
