"""Production: every key comes from a GRANTS_<KEY> environment variable."""

SESSION_COOKIE_SECURE = True
REMEMBER_COOKIE_SECURE = True
