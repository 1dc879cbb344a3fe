"""gunicorn settings for the coalition site: ``gunicorn app:app`` reads this file.

Every value can be overridden on the command line or with GUNICORN_CMD_ARGS.
"""

import multiprocessing
import os
import re

from gunicorn.glogging import Logger

# Loopback (or a Unix socket, "unix:/run/coalition.sock"): gunicorn is never exposed
# directly; nginx in front of it takes the slow clients and the first rate limits.
# Production refuses any other address (see on_starting).
bind = os.environ.get("COALITION_BIND", "127.0.0.1:8000")
# Sync workers: two per core plus one, the usual rule for I/O-bound Flask apps.
workers = int(os.environ.get("COALITION_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then, so a slow leak can never grow without bound. Not too
# often: a new worker imports the app again (over a second of CPU) and starts with an
# empty page cache. At 5,000, a busy page's views replaced all the workers about once a
# minute, at nearly the same moment, and the benchmark round that caught it ran at half speed.
max_requests = 25000
max_requests_jitter = 2500
# Bounded request sizes (the app has its own MAX_CONTENT_LENGTH for bodies).
limit_request_line = 4094
limit_request_fields = 60
accesslog = "-"
errorlog = "-"
# No client address, query string (searches), referrer (may carry a token) or user agent.
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'

_TOKEN_SEGMENT = re.compile(r"/[A-Za-z0-9_\-.]{24,}")
_EMAIL = re.compile(r"[^/\s]+@[^/\s]+")
#: Control characters (a "%0A" in a path is a real line break once decoded): written as
#: escapes, so no request can forge a line of the log.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _escaped(match: re.Match) -> str:
    return f"\\x{ord(match.group(0)):02x}" if ord(match.group(0)) < 0x100 else f"\\u{ord(match.group(0)):04x}"


class ScrubbingLogger(Logger):
    """The access log with signed tokens and email addresses taken out of paths, and control
    characters escaped."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = atoms.get("U", "")
        atoms["U"] = _CONTROL.sub(_escaped, _EMAIL.sub("<email>", _TOKEN_SEGMENT.sub("/<token>", path)))
        atoms["m"] = _CONTROL.sub(_escaped, atoms.get("m", ""))
        return atoms


logger_class = ScrubbingLogger

# The site does not use gunicorn's control socket, and its one default path in the home
# directory would be fought over by several servers on one machine.
control_socket_disable = True


def on_starting(server):
    """Refuse to start, in one clear line, a production server that would count rate limits in
    each worker's memory or listen where clients could reach it without the proxy."""
    import sys

    from flask import Flask

    from coalition import PROJECT_ROOT
    from coalition.config import ConfigurationError, check_server, load_config

    probe = Flask(
        "coalition", instance_path=os.path.join(PROJECT_ROOT, "instance"), instance_relative_config=True
    )
    try:
        load_config(probe, None)
        check_server(probe.config, server.cfg.workers, list(server.cfg.bind))
    except ConfigurationError as refusal:
        print(refusal, file=sys.stderr)
        sys.exit(1)


def post_worker_init(worker):
    """Start the worker's mail sender at once, so an update half sent before a restart goes on."""
    from coalition import mail

    mail.start_sender(worker.wsgi)


def worker_exit(server, worker):
    """Let the mail sender finish the message in hand and record its batch (a graceful restart
    then sends nothing twice)."""
    from coalition import mail

    mail.stop_sender(timeout=max(1, graceful_timeout - 5))
