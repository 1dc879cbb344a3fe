"""The site as ``gunicorn app:app`` serves it, plus one view that fails like a Rust panic
(a ``BaseException`` that is not an ``Exception``), for the test that no worker dies of it."""

from app import app
from coalition.extensions import csrf


class _Panic(BaseException):
    pass


@csrf.exempt
@app.post("/test-panic")
def _test_panic():
    raise _Panic("a library failed")
