"""Development: SQLite under instance/, mails to the log, embedded scheduler."""

MAIL_BACKEND = "log"
SCHEDULER_EMBEDDED = True
TEMPLATES_AUTO_RELOAD = True
