"""gunicorn settings: `gunicorn -c config/gunicorn.conf.py wsgi:app` (README, "Production").

Its logger prints no secret: the calendar feed's /calendar/<token>.ics appears as
/calendar/[token].ics in the access log (request line, path, referrer, headers) and in the
error log (grants.core.logs). Every setting here can be given on the command line instead.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from grants.core.logs import SecretFilter, mask_secrets

bind = "127.0.0.1:8000"
worker_class = "gthread"
workers = 2
threads = 4
accesslog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'


class MaskedLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, with the secrets of calendar feed addresses masked."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> Any:
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: _masked(value) for key, value in atoms.items()}

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        self.error_log.addFilter(SecretFilter())


def _masked(value: Any) -> Any:
    return mask_secrets(value) if isinstance(value, str) else value


logger_class = MaskedLogger
