"""Every configuration key, with its default and meaning.

Other modules in this package override a few of these. In production every key
can be set from an environment variable named GRANTS_<KEY> (see production.py).
"""

# --- Core -------------------------------------------------------------------
# Secret used to sign sessions and CSRF tokens. Development generates one and
# keeps it in instance/secret_key; production refuses to start without one.
SECRET_KEY: str | None = None

# SQLAlchemy URL. Empty means a SQLite file under instance/ (grants.sqlite3).
# PostgreSQL: postgresql+psycopg://user:password@host/dbname
SQLALCHEMY_DATABASE_URI: str | None = None
SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

# Languages offered, the first being the default.
LANGUAGES: tuple[str, ...] = ("ja", "en")
BABEL_DEFAULT_LOCALE = "ja"
BABEL_DEFAULT_TIMEZONE = "Asia/Tokyo"

# --- Security -----------------------------------------------------------------
# Limit on login attempts per client address (Flask-Limiter syntax).
LOGIN_RATE_LIMIT = "10 per minute"
# Where Flask-Limiter keeps its counters: memory:// for one process,
# redis://host:6379 when several gunicorn workers must share them.
RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_ENABLED = True
RATELIMIT_HEADERS_ENABLED = True
# How many reverse proxies (nginx, a load balancer) stand in front of the app and set
# X-Forwarded-For and X-Forwarded-Proto. 0 trusts no such header (a client could forge it);
# behind one proxy, 1: the sign-in limit then counts each client, not the proxy.
TRUSTED_PROXIES = 0
# Cookies: HttpOnly always; Secure in production (served over HTTPS).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False
REMEMBER_COOKIE_HTTPONLY = True
# Strict-Transport-Security max-age in seconds; 0 sends no header (plain HTTP in development).
HSTS_MAX_AGE = 0
# With HSTS, its includeSubDomains: every subdomain of the host must be on HTTPS too (turn
# it off only for a host whose subdomains serve plain HTTP).
HSTS_INCLUDE_SUBDOMAINS = True
# CSRF tokens on every form; a token lives for the whole session.
WTF_CSRF_ENABLED = True
WTF_CSRF_TIME_LIMIT = None
# Old secret keys, newest first, while SECRET_KEY is being rotated: sessions signed and
# TOTP secrets sealed with one of them still open (a TOTP secret is sealed again with
# SECRET_KEY the next time its code is accepted). See README, "Production".
SECRET_KEY_FALLBACKS: list[str] = []
# Failed sign-in attempts per account (by e-mail address, whichever client sends them),
# besides LOGIN_RATE_LIMIT per client address. Only refused attempts count.
LOGIN_ACCOUNT_RATE_LIMIT = "5 per minute; 20 per hour"
# Wrong second-factor attempts (code or passkey) per account, after the password.
SECOND_FACTOR_RATE_LIMIT = "5 per minute; 20 per hour"
# Roles that must have a second factor (an authenticator app or a passkey): a user of such a
# role without one is sent to set one up before any other page.
SECOND_FACTOR_ROLES: tuple[str, ...] = ("officer", "admin")
# For those roles, creating an API token asks for the second factor again when it was last
# given longer ago than this many minutes.
SECOND_FACTOR_STEP_UP_MINUTES = 10
# The domain passkeys are bound to (WebAuthn's relying party id), e.g. grants.example.jp.
# Empty: the host name the page was served under. Passkeys need a domain name (localhost
# counts), not an IP address; changing it later makes the registered passkeys unusable.
PASSKEY_RP_ID = ""
# Sessions end after this many minutes without a request, by role, and in any case this
# many hours after the sign-in; both are checked from timestamps in the signed session.
SESSION_IDLE_MINUTES: dict[str, int] = {
    "officer": 30,
    "admin": 30,
    "applicant": 480,
    "reviewer": 480,
}
SESSION_ABSOLUTE_HOURS = 12
# Least length of a new password. It must also be hard to guess: a zxcvbn score of 3 or
# more, judged offline with the account's own address and names as guessable words
# (grants/accounts/credentials/rules.py).
PASSWORD_MIN_LENGTH = 12
# Werkzeug password hashing method (scrypt; tests use a cheaper pbkdf2).
PASSWORD_HASH_METHOD = "scrypt"
# Nobody chooses another person's password: a new account is sent an invitation link to
# set its own, an administrator's "reset" and the forgotten-password page send a reset
# link. Each link works once, for this long.
INVITATION_HOURS = 72
RESET_LINK_MINUTES = 60
# The forgotten-password page's throttles: requests for one address, whoever sends them
# (known and unknown addresses alike), and requests from one client address. Setting a
# password from a link is throttled per client by LOGIN_RATE_LIMIT.
PASSWORD_RESET_ADDRESS_LIMIT = "3 per hour"
PASSWORD_RESET_CLIENT_LIMIT = "10 per hour"
# Attempts to change one's own password (which checks the current one), per account.
PASSWORD_CHANGE_RATE_LIMIT = "10 per hour"

# --- Request bodies -------------------------------------------------------------
# Largest request body of an upload (evidence files, web and API); larger get 413.
MAX_CONTENT_LENGTH = 20 * 1024 * 1024
# Largest body of every other request: a web form, and a JSON body under /api. The size
# the client declares (Content-Length) is checked before anything reads the body.
FORM_BODY_MAX = 1024 * 1024
JSON_BODY_MAX = 1024 * 1024
# --- Uploads ------------------------------------------------------------------
# Directory for uploaded evidence, outside static/. Empty: instance/uploads.
UPLOAD_FOLDER: str | None = None

# --- Mail -------------------------------------------------------------------
# SMTP server for e-mail alerts. MAIL_BACKEND "log" writes mails to the log
# and the admin outbox page instead of sending them (development).
MAIL_BACKEND = "smtp"
MAIL_SERVER = "localhost"
MAIL_PORT = 25
MAIL_USE_TLS = False
MAIL_USERNAME: str | None = None
MAIL_PASSWORD: str | None = None
MAIL_SENDER = "grants@localhost"
# Seconds to wait for the SMTP server before an attempt counts as failed.
MAIL_TIMEOUT_SECONDS = 10
# A failed e-mail is retried after 1, 2, 4 ... times this many seconds (exponential
# backoff), never waiting longer than MAIL_RETRY_MAX_SECONDS; it is never given up.
MAIL_RETRY_BASE_SECONDS = 60
MAIL_RETRY_MAX_SECONDS = 6 * 60 * 60
# At most this many e-mails per delivery run (the rest go in the next run).
MAIL_BATCH_LIMIT = 500
# Where links in e-mails point (the address users open the application at).
MAIL_BASE_URL = "http://127.0.0.1:5000"

# --- Scheduler ----------------------------------------------------------------
# Run the APScheduler jobs inside the web process (development only; in
# production run one `flask grants scheduler` process instead).
SCHEDULER_EMBEDDED = False
# Minutes between two milestone scans and two alert deliveries.
SCAN_INTERVAL_MINUTES = 60
DELIVER_INTERVAL_MINUTES = 5
# Seconds a scheduler holds the database lease after each renewal; another process takes
# over only once it expired, so a scheduler that died is replaced after about this long.
# Its heartbeat renews it every SCHEDULER_HEARTBEAT_SECONDS (keep that well below), also
# while a long job runs.
SCHEDULER_LEASE_SECONDS = 60
SCHEDULER_HEARTBEAT_SECONDS = 20

# Whether GET /readyz answers 503 while no scheduler holds a fresh lease. Off by default: a
# load balancer that asks /readyz would otherwise take every web worker out of service
# when the scheduler stops; turn it on where /readyz feeds monitoring.
SCHEDULER_EXPECTED = False

# --- Alerts -------------------------------------------------------------------
# Offsets used when a grant's pinned rule set has no "schedule" section (or lacks a key):
# reminders this many days before the due date (one alert tier per offset), the grace
# period after it before a milestone is overdue, escalation after this many days overdue
# (tier 1 to the officers, later tiers to the admins), and the days a review or an
# approved tranche may wait before someone is told.
ALERT_DUE_SOON_DAYS: tuple[int, ...] = (30, 7)
ALERT_GRACE_DAYS = 0
ALERT_ESCALATION_DAYS: tuple[int, ...] = (14, 30)
ALERT_REVIEW_WAITING_DAYS = 14
ALERT_TRANCHE_WAITING_DAYS = 14
# An approved tranche still unreleased this many days after it should have been flagged
# is no longer flagged late (approved milestones pile up for ever; the scan reads only
# recent decisions). It bounds how long a scheduler outage can be caught up on.
ALERT_CATCH_UP_DAYS = 90
# The daily digest (for the kinds of alert people chose to receive that way) is e-mailed
# once a day, from this hour on (0-23, Tokyo time); the job that sends it runs every
# DELIVER_INTERVAL_MINUTES.
NOTIFICATION_DIGEST_HOUR = 8
# Days the one-click link to a preference in an e-mail keeps working (without a sign-in).
NOTIFICATION_LINK_DAYS = 30

# --- Idempotency keys ------------------------------------------------------------
# A key whose first request stored no answer this many seconds after it began died between
# its effect and its answer: the next request with it settles it from the data (replays
# the release it made, or acts if it made none).
IDEMPOTENCY_STALE_SECONDS = 60
# Keys are deleted this many days after their first request (a scheduler job, every
# IDEMPOTENCY_PURGE_INTERVAL_MINUTES); a retry with an older key acts anew.
IDEMPOTENCY_KEY_DAYS = 30
IDEMPOTENCY_PURGE_INTERVAL_MINUTES = 6 * 60

# --- Background tasks -----------------------------------------------------------
# Long work (a large what-if, an export file) is queued in the database and claimed by any
# worker: each app server runs this many worker threads (started with its first request),
# and `flask grants scheduler` claims tasks too. 0: this server leaves the work to others.
BACKGROUND_WORKERS = 2
# Seconds an idle worker waits before it looks for work again (a worker of the process
# that queues a task is woken at once).
TASK_POLL_SECONDS = 5
# Directory for prepared export files, outside static/. Empty: instance/task-results.
TASK_RESULT_FOLDER: str | None = None
# Tasks and their files are deleted this many days after they were asked for.
TASK_RESULT_DAYS = 7
# Minutes between two purges of old tasks (a scheduler job).
TASK_PURGE_INTERVAL_MINUTES = 6 * 60
# A running task without a heartbeat (every few seconds) for this many minutes lost its
# worker: another worker claims it and runs it again.
TASK_STALE_MINUTES = 5
# The what-if page evaluates at most this many open applications plus active grants
# while the officer waits; above it, the page offers to run it in the background.
WHAT_IF_INLINE_LIMIT = 300
