"""Delivery packets for a large campaign: time and peak memory of one legislator's PDF.

    .venv/bin/python -m bench.packets --signers 100000

Builds a throw-away SQLite database with the test fixture's districts, one legislator,
and N confirmed signers in that district (half of them asking to be named), then builds
the packet once timed, and once more with the Python allocator traced. Memory grows with the PDF itself (fpdf2
keeps the document until it is written), never with a list of signers: names are read in
batches of ``delivery.BATCH``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import tracemalloc
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signers", type=int, default=100_000)
    args = parser.parse_args()

    from coalition import create_app
    from coalition.extensions import db
    from coalition.models import Legislator, Signature
    from coalition.models.types import utcnow
    from coalition.services import campaigns, districts, packets

    folder = tempfile.mkdtemp()
    app = create_app({"TESTING": True, "SECRET_KEY": "bench" * 10,
                      "DATABASE_URL": f"sqlite:///{os.path.join(folder, 'bench.sqlite')}"})
    with app.app_context():
        db.create_all()
        data = ROOT / "tests" / "data"
        with open(data / "tab20_sldu202420_zcta520_st36.txt") as senate, \
                open(data / "tab20_sldl202420_zcta520_st36.txt") as assembly:
            districts.load_districts((senate.name, senate), (assembly.name, assembly))
        campaign = campaigns.create_campaign(slug="big", title="A big campaign", summary="Many signers.",
                                             body="", target=1, status="open", goal_slugs=[])
        legislator = Legislator(openstates_id="ocd-person/bench", name="Pat Fahy", seat="upper",
                                district_ocd_id=districts.ocd_id("upper", 46), offices=[])
        db.session.add(legislator)
        place = districts.place_zip("12207", "NY").values()
        now = utcnow()
        rows = [
            {"campaign_id": campaign.id, "full_name": f"Signer Núñez {n}", "email": f"s{n}@example.org",
             "email_normalized": f"s{n}@example.org", "zip_code": "12207", "city": "Albany", "state": "NY",
             "status": "confirmed", "confirmed_at": now, "created_at": now, "deliver_name": n % 2 == 0, **place}
            for n in range(args.signers)
        ]
        db.session.execute(insert(Signature), rows)
        db.session.commit()
        del rows
        db.session.expire_all()
        started = time.perf_counter()
        result = packets.build_packet(campaign, legislator)
        seconds = time.perf_counter() - started
        # Again with the allocator traced (slower), for the peak.
        tracemalloc.start()
        packets.build_packet(campaign, legislator)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    print(f"{args.signers:,} signers ({result.named:,} named): {len(result.pdf) / 1e6:.1f} MB PDF "
          f"in {seconds:.1f} s, peak Python memory {peak / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
