"""What the referral doors (api, pages) are given by the app: how an admission reads.

The admissions package stands above this one, so referrals never imports it: `create_app` puts
admissions' reader (`admissions.stays.discharge_for_referral`) on `app.state.referral_discharges`,
and the doors pass it to the service and query functions that continue a discharge. An app
without it has no admission to continue (404 for any `admission_request_id`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from yilian.referrals.queries.discharges import DischargeLookup, no_admissions


def discharge_lookup(request: Request) -> DischargeLookup:
    lookup: DischargeLookup = getattr(request.app.state, "referral_discharges", no_admissions)
    return lookup


DischargesDep = Annotated[DischargeLookup, Depends(discharge_lookup)]
