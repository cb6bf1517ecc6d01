"""Production: every key comes from a GRANTS_<KEY> environment variable."""

SESSION_COOKIE_SECURE = True
REMEMBER_COOKIE_SECURE = True
HSTS_MAX_AGE = 31_536_000  # a year: browsers come back over HTTPS only
