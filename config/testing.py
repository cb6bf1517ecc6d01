"""Tests: the fixture supplies the database URL; CSRF stays on."""

TESTING = True
SECRET_KEY = "testing-secret-key-not-for-production"
MAIL_BACKEND = "log"
SCHEDULER_EMBEDDED = False
PASSWORD_MIN_LENGTH = 8
PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
# Background work runs inside the request that starts it: deterministic tests.
BACKGROUND_TASKS_INLINE = True
