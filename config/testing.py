"""Tests: the fixture supplies the database URL; CSRF stays on."""

TESTING = True
SECRET_KEY = "testing-secret-key-not-for-production"
MAIL_BACKEND = "log"
SCHEDULER_EMBEDDED = False
# A cheap hash: a cost, not a bypass (the length and strength rules stay as in production).
PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
# No worker threads: a test runs the queued tasks where it needs them, through the same
# claim and run (tests.support.tasks.run_queued), as a server that leaves them to others.
BACKGROUND_WORKERS = 0
