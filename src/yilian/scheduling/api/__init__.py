"""The JSON door: routes.py (the routes under /api/v1), office.py (the clinic office's templates
and closures), desk.py (the booking hot path, no unit of work around it) and short_circuit.py
(the ASGI layer that answers bookings of a pool found full before the framework runs)."""

from fastapi import APIRouter

from yilian.scheduling.api import office, routes

router = APIRouter()
router.include_router(routes.router)
router.include_router(office.router)

__all__ = ["router"]
