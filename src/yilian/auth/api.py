"""Auth routes under /api/v1: bearer tokens, the signed-in user, the audit trail."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import Response

from yilian.auth import queries, service
from yilian.auth.errors import SignInThrottled
from yilian.auth.schemas import AuditEventOut, MeOut, TokenOut
from yilian.core.schemas import PageOut
from yilian.web import errors
from yilian.web.deps import (
    ActorDep,
    DbDep,
    IsoDateTime,
    Limit,
    NowDep,
    Offset,
    OptionalQueryId,
    bearer_token,
    client_addr,
    state,
)

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses={
        401: {"description": "`invalid_credentials`: wrong username or password (or an account closed)"},
        429: {"description": "`too_many_sign_ins`: throttled; wait `Retry-After` seconds"},
    },
)
async def issue_token(
    request: Request,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    db: DbDep,
    now: NowDep,
    grant_type: Annotated[Literal["password"], Form()] = "password",
) -> TokenOut | Response:
    """OAuth2 password grant: `username`, `password` → a bearer token for an integration client."""
    app = state(request)
    try:
        async with db.transaction() as session:
            user = await service.authenticate(
                session,
                username=username,
                password=password,
                client_addr=client_addr(request),
                now=now,
                throttle=app.throttle,
            )
            token, expires_in = await service.issue_token(
                session, user=user, now=now, policy=app.login_policy
            )
    except SignInThrottled as throttled:
        response = await errors.domain_error(request, throttled)
        response.headers["retry-after"] = str(throttled.retry_after)
        return response
    return TokenOut(access_token=token, expires_in=expires_in)


@router.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={401: {"description": "No valid bearer token"}},
)
async def revoke_token(request: Request, actor: ActorDep, db: DbDep, now: NowDep) -> Response:
    """Revoke the bearer token this request carries (a browser signs out with `POST /logout`)."""
    token = bearer_token(request)
    if token is not None:
        async with db.transaction() as session:
            await service.revoke_token(session, token=token, now=now)
        state(request).tokens.forget(token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me")
async def me(actor: ActorDep, db: DbDep) -> MeOut:
    """The signed-in user."""
    async with db.read() as session:
        user = await queries.get_user(session, user_id=actor.user_id)
    return MeOut(
        username=user.username,
        display_name=user.display_name,
        roles=sorted(user.roles),
        institution_id=user.institution_id,
        practitioner_id=user.practitioner_id,
        consortium_id=user.consortium_id,
    )


@router.get("/audit-events", responses={403: {"description": "Admins only"}})
async def list_audit_events(
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    action: Annotated[str | None, Query(max_length=64, description="Action prefix, e.g. resident.")] = None,
    username: Annotated[str | None, Query(max_length=64)] = None,
    resident_id: OptionalQueryId = None,
    outcome: Literal["allowed", "denied", "locked"] | None = None,
    since: Annotated[IsoDateTime | None, Query()] = None,
    until: Annotated[IsoDateTime | None, Query()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[AuditEventOut]:
    """The audit trail, newest first (system admin: all; consortium admin: its members')."""
    async with db.transaction() as session:
        page = await queries.list_audit_events(
            session,
            actor=actor,
            now=now,
            action=action,
            username=username,
            resident_id=resident_id,
            outcome=outcome,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )
    return PageOut(items=[AuditEventOut.model_validate(e) for e in page.items], total=page.total)
