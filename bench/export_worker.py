"""Run one signatures export as the site serves it, and report its time and peak memory.

Run as its own process (one per export), so its peak resident memory (``ru_maxrss``)
is the export's alone. It builds the real app, streams the campaign's CSV from
``coalition.services.exports`` chunk by chunk to a file, as a WSGI server streams a
response, and prints one JSON line: rows, bytes, seconds, and memory before and at peak.
Exit status 3 means the export service is not there (yet).
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import sys
import time


def _rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def export_chunks(exports, campaign):
    """The CSV chunks of a campaign's confirmed signatures, whatever shape the service has."""
    if hasattr(exports, "signatures_export") and hasattr(exports, "stream_csv"):
        export = exports.signatures_export(campaign, exports.ExportFilters(status="confirmed"))
        return exports.stream_csv(export, actor_id=None, via="bench")
    if hasattr(exports, "export_signatures_csv"):
        return exports.export_signatures_csv(campaign)
    raise SystemExit("coalition.services.exports has neither signatures_export/stream_csv nor export_signatures_csv")


def main() -> int:
    """Export, then print the measurements as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--slug", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    try:
        exports = importlib.import_module("coalition.services.exports")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("coalition.services.exports"):
            print(json.dumps({"skipped": "coalition.services.exports not present"}))
            return 3
        raise
    from coalition import create_app
    from coalition.extensions import db
    from coalition.models import Campaign

    app = create_app({"DATABASE_URL": args.url, "SECRET_KEY": "bench-export", "LOG_LEVEL": "WARNING"})
    with app.app_context():
        campaign = db.session.execute(db.select(Campaign).where(Campaign.slug == args.slug)).scalar_one()
        before_kb = _rss_kb()
        started = time.perf_counter()
        written = 0
        with open(args.out, "wb") as out:
            for chunk in export_chunks(exports, campaign):
                data = chunk.encode("utf-8") if isinstance(chunk, str) else chunk
                out.write(data)
                written += len(data)
        seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "bytes": written, "rss_before_kb": before_kb, "peak_kb": peak_kb}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
