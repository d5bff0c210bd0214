"""Auth routes under /api/v1: bearer tokens, the signed-in user, the audit trail."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import Response

from yilian.auth import audit, queries, service
from yilian.auth.errors import PasswordChangeRequired, SignInThrottled
from yilian.auth.schemas import (
    AccountIn,
    AccountOut,
    AccountPatch,
    AuditEventOut,
    MeOut,
    PasswordChangeIn,
    PasswordIn,
    TokenOut,
)
from yilian.auth.service import accounts
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
    PathId,
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
        403: {
            "description": "`password_change_required`: the password was set by an administrator; "
            "change it first (the 修改密码 page, or `POST /api/v1/me/password` with a browser session)"
        },
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
            if user.must_change_password:
                refusal = audit.event(
                    service.actor_of(user, client_addr(request)),
                    "auth.sign_in",
                    at=now,
                    outcome="denied",
                    detail={"reason": "password_change_required"},
                )
                raise audit.keep_on_refusal(PasswordChangeRequired(), refusal)
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


# --- user accounts (an institution's administrator: its own; the system administrator: all) ------

ACCOUNT_REFUSALS: dict[int | str, dict[str, str]] = {
    403: {"description": "`forbidden`: not this account's administrator, or a role it may not give"},
    404: {"description": "`not_found`: no such account"},
    422: {"description": "`unprocessable`: a field refused (`errors[].field`), e.g. a weak password"},
}


@router.get("/accounts", responses={403: ACCOUNT_REFUSALS[403]})
async def list_accounts(
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    institution_id: OptionalQueryId = None,
    q: Annotated[str | None, Query(max_length=64, description="Part of the username or name")] = None,
    active: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[AccountOut]:
    """User accounts by username (an institution's administrator sees its own institution's)."""
    async with db.transaction() as session:
        page = await queries.list_accounts(
            session,
            actor=actor,
            now=now,
            institution_id=institution_id,
            q=(q or "").strip() or None,
            active=active,
            limit=limit,
            offset=offset,
        )
    return PageOut(items=[AccountOut.model_validate(u) for u in page.items], total=page.total)


@router.post(
    "/accounts",
    status_code=status.HTTP_201_CREATED,
    responses={**ACCOUNT_REFUSALS, 409: {"description": "`username_taken`"}},
)
async def create_account(body: AccountIn, actor: ActorDep, db: DbDep, now: NowDep) -> AccountOut:
    """A new account with a first password; it must change it at its first sign-in."""
    async with db.transaction() as session:
        user = await accounts.create_account(
            session,
            actor=actor,
            now=now,
            username=body.username,
            display_name=body.display_name,
            password=body.password,
            roles=frozenset(body.roles),
            institution_id=body.institution_id,
            practitioner_id=body.practitioner_id,
            consortium_id=body.consortium_id,
        )
        return AccountOut.model_validate(user)


@router.get("/accounts/{account_id}", responses=ACCOUNT_REFUSALS)
async def get_account(account_id: PathId, actor: ActorDep, db: DbDep, now: NowDep) -> AccountOut:
    async with db.transaction() as session:
        user = await queries.get_account(session, actor=actor, now=now, account_id=account_id)
        return AccountOut.model_validate(user)


@router.patch("/accounts/{account_id}", responses=ACCOUNT_REFUSALS)
async def update_account(
    request: Request, account_id: PathId, body: AccountPatch, actor: ActorDep, db: DbDep, now: NowDep
) -> AccountOut:
    """Change the name, the roles or the linked practitioner (`null` unlinks it)."""
    given = body.model_fields_set
    async with db.transaction() as session:
        user = await accounts.update_account(
            session,
            actor=actor,
            now=now,
            account_id=account_id,
            display_name=body.display_name,
            roles=frozenset(body.roles) if body.roles is not None else None,
            practitioner_id=body.practitioner_id if "practitioner_id" in given else accounts.KEEP,
        )
        out = AccountOut.model_validate(user)
    state(request).tokens.forget_user(account_id, now)  # its roles are read again at its next call
    return out


@router.post("/accounts/{account_id}/password", responses=ACCOUNT_REFUSALS)
async def reset_password(
    request: Request, account_id: PathId, body: PasswordIn, actor: ActorDep, db: DbDep, now: NowDep
) -> AccountOut:
    """A new first password (changed at the next sign-in); the account's sessions and tokens end."""
    async with db.transaction() as session:
        user = await accounts.reset_password(
            session, actor=actor, now=now, account_id=account_id, password=body.password
        )
        out = AccountOut.model_validate(user)
    state(request).tokens.forget_user(account_id, now)
    return out


@router.post(
    "/accounts/{account_id}/deactivate",
    responses={**ACCOUNT_REFUSALS, 409: {"description": "`own_account`: not one's own"}},
)
async def deactivate_account(
    request: Request, account_id: PathId, actor: ActorDep, db: DbDep, now: NowDep
) -> AccountOut:
    """Close the account: its browser sessions and bearer tokens end at once."""
    async with db.transaction() as session:
        user = await accounts.deactivate_account(session, actor=actor, now=now, account_id=account_id)
        out = AccountOut.model_validate(user)
    state(request).tokens.forget_user(account_id, now)
    return out


@router.post("/accounts/{account_id}/reactivate", responses=ACCOUNT_REFUSALS)
async def reactivate_account(account_id: PathId, actor: ActorDep, db: DbDep, now: NowDep) -> AccountOut:
    async with db.transaction() as session:
        user = await accounts.reactivate_account(session, actor=actor, now=now, account_id=account_id)
        return AccountOut.model_validate(user)


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={422: {"description": "`unprocessable`: current password wrong, or the new one refused"}},
)
async def change_own_password(body: PasswordChangeIn, actor: ActorDep, db: DbDep, now: NowDep) -> Response:
    """The signed-in user's own password: the current one and the new one (not the same)."""
    async with db.transaction() as session:
        await accounts.change_own_password(
            session, actor=actor, now=now, current=body.current_password, new=body.new_password
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
