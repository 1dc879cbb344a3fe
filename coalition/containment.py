"""Failures that are not ``Exception``s: they end one request, never a worker.

A library written in another language may fail with a ``BaseException`` that is not an
``Exception`` (a Rust panic, raised by PyO3 as ``PanicException``). Flask and gunicorn's
sync worker let those through, and the worker process exits. Here they become a
``LibraryFailure`` (an ``Exception``) inside the request, so the site's 500 page answers;
a last guard around the whole WSGI app answers a plain 500 for anything that still gets
out. What really means "stop this process" (gunicorn's exit, Ctrl-C) still stops it.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from flask import Flask

log = logging.getLogger(__name__)

#: The ``BaseException``s that must keep their meaning: a process told to exit, a
#: keyboard interrupt, a generator being closed.
PROCESS_EXITS = (SystemExit, KeyboardInterrupt, GeneratorExit)


class LibraryFailure(Exception):
    """A library failed with a ``BaseException`` that is not an ``Exception``."""


def _where(error: BaseException) -> str:
    """The failing frame's file and line, never the error's message (it may quote the input)."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"


def log_failure(error: BaseException, context: str) -> None:
    """Log a contained failure by its type and place only."""
    log.error("%s failed with %s at %s; the request gets a 500", context, type(error).__name__, _where(error))


@contextmanager
def library_failures_as_exceptions(context: str):
    """Turn a non-``Exception`` ``BaseException`` raised inside into a ``LibraryFailure``."""
    try:
        yield
    except PROCESS_EXITS:
        raise
    except Exception:
        raise
    except BaseException as error:
        log_failure(error, context)
        raise LibraryFailure(type(error).__name__) from None


class ContainingFlask(Flask):
    """Flask, with the before-request checks and the view run so that a failure that is not
    an ``Exception`` reaches the error handlers (the site's 500 page) like any other."""

    def preprocess_request(self):
        """Flask's, with failures contained."""
        with library_failures_as_exceptions("a request check"):
            return super().preprocess_request()

    def dispatch_request(self):
        """Flask's, with failures contained."""
        with library_failures_as_exceptions("a view"):
            return super().dispatch_request()


_PLAIN_500 = b"Internal Server Error: the request failed. Please try again later.\n"


class ContainLibraryFailures:
    """WSGI middleware, outermost: a failure that is not an ``Exception`` anywhere in the app
    (or while a streamed body is produced) ends that response, not the worker."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        try:
            body = self.wsgi_app(environ, start_response)
        except PROCESS_EXITS:
            raise
        except Exception:
            raise
        except BaseException as error:
            log_failure(error, "the app")
            start_response(
                "500 Internal Server Error",
                [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(_PLAIN_500)))],
                sys.exc_info(),
            )
            return [_PLAIN_500]
        file_wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(file_wrapper, type) and isinstance(body, file_wrapper):
            return body  # a file sent as it is (sendfile): nothing of ours runs while it is sent
        return _ContainedBody(body)


class _ContainedBody:
    """A response body whose production stops (the response is cut short) on a contained failure."""

    def __init__(self, body: Iterable[bytes]) -> None:
        self.body = body

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.body
        except PROCESS_EXITS:
            raise
        except Exception:
            raise
        except BaseException as error:
            log_failure(error, "a streamed response")

    def close(self) -> None:
        """Close the wrapped body, as WSGI asks."""
        close = getattr(self.body, "close", None)
        if close is not None:
            close()
