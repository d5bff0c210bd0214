"""User accounts for their administrators (/admin/accounts) and everyone's own 修改密码 (/password)."""

from __future__ import annotations

from typing import Annotated, Final, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from yilian.auth import policy, queries
from yilian.auth.policy import Actor, Role
from yilian.auth.service import accounts
from yilian.core.errors import Unprocessable
from yilian.core.i18n import N_
from yilian.core.schemas import MAX_ID
from yilian.web.deps import ActorDep, DbDep, NowDep, Offset, PathId, state
from yilian.web.templating import render

router = APIRouter(include_in_schema=False)

ACCOUNTS_PAGE: Final = 50
Password = Annotated[str, Form(max_length=256)]
Name = Annotated[str, Form(max_length=64)]
Choice = Annotated[str, Form(max_length=12)]
Roles = Annotated[list[Role], Form()]


def _see_other(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)


def _grantable(actor: Actor) -> list[str]:
    return [role.value for role in Role if policy.may_grant_role(actor, role)]


def _chosen_id(value: str, field: str) -> int | None:
    """A select's value: "" is none, else a number."""
    text = value.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_ID:
        raise Unprocessable(N_("Choose one of the list."), field=field)
    return int(text)


def _name(value: str) -> str:
    text = value.strip()
    if not text:
        raise Unprocessable(N_("This field is required."), field="display_name")
    return text


@router.get("/admin/accounts")
async def account_list(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    q: Annotated[str | None, Query(max_length=64)] = None,
    active: Annotated[Literal["", "yes", "no"] | None, Query()] = None,
    offset: Offset = 0,
) -> Response:
    filters = {"q": (q or "").strip(), "active": active or ""}
    async with db.transaction() as session:
        page = await queries.list_accounts(
            session,
            actor=actor,
            now=now,
            q=filters["q"] or None,
            active={"yes": True, "no": False}.get(filters["active"]),
            limit=ACCOUNTS_PAGE,
            offset=offset,
        )
        institutions = dict(await queries.institution_choices(session, actor=actor))
    context = {
        "page": page,
        "filters": filters,
        "institutions": institutions,
        "limit": ACCOUNTS_PAGE,
        "offset": offset,
    }
    return render(request, "auth/accounts.html", context)


@router.get("/admin/accounts/new")
async def account_new(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    institution_id: Annotated[str | None, Query(max_length=12)] = None,
) -> Response:
    """The form; a system administrator first picks the institution (its practitioners follow)."""
    async with db.transaction() as session:
        await queries.list_accounts(session, actor=actor, now=now, limit=1, offset=0)  # may it at all
        institutions = await queries.institution_choices(session, actor=actor)
        chosen = _chosen_id(institution_id or "", "institution_id") if institution_id else None
        place = chosen if chosen in dict(institutions) else actor.institution_id
        practitioners = await queries.practitioner_choices(session, institution_id=place)
    context = {
        "institutions": institutions,
        "practitioners": practitioners,
        "roles": _grantable(actor),
        "own_institution": place,
    }
    return render(request, "auth/account_new.html", context)


@router.post("/admin/accounts")
async def account_create(
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    username: Name,
    display_name: Name,
    password: Password,
    institution_id: Choice = "",
    practitioner_id: Choice = "",
    roles: Roles | None = None,
) -> Response:
    async with db.transaction() as session:
        user = await accounts.create_account(
            session,
            actor=actor,
            now=now,
            username=username.strip(),
            display_name=_name(display_name),
            password=password,
            roles=frozenset(roles or ()),
            institution_id=_chosen_id(institution_id, "institution_id"),
            practitioner_id=_chosen_id(practitioner_id, "practitioner_id"),
        )
    return _see_other(f"/admin/accounts/{user.id}?created=1")


@router.get("/admin/accounts/{account_id}")
async def account_page(
    request: Request,
    account_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    created: Annotated[Literal["1"] | None, Query()] = None,
    done: Annotated[Literal["saved", "reset", "deactivated", "reactivated"] | None, Query()] = None,
) -> Response:
    async with db.transaction() as session:
        user = await queries.get_account(session, actor=actor, now=now, account_id=account_id)
        institutions = dict(await queries.institution_choices(session, actor=actor))
        practitioners = await queries.practitioner_choices(session, institution_id=user.institution_id)
    context = {
        "account": user,
        "institution": institutions.get(user.institution_id) if user.institution_id else None,
        "practitioners": practitioners,
        "roles": _grantable(actor),
        "may_deactivate": user.id != actor.user_id,
        "done": "created" if created else done,
    }
    return render(request, "auth/account.html", context)


@router.post("/admin/accounts/{account_id}")
async def account_update(
    request: Request,
    account_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    display_name: Name,
    practitioner_id: Choice = "",
    roles: Roles | None = None,
) -> Response:
    async with db.transaction() as session:
        await accounts.update_account(
            session,
            actor=actor,
            now=now,
            account_id=account_id,
            display_name=_name(display_name),
            roles=frozenset(roles or ()),
            practitioner_id=_chosen_id(practitioner_id, "practitioner_id"),
        )
    state(request).tokens.forget_user(account_id, now)
    return _see_other(f"/admin/accounts/{account_id}?done=saved")


@router.post("/admin/accounts/{account_id}/password")
async def account_reset_password(
    request: Request, account_id: PathId, actor: ActorDep, db: DbDep, now: NowDep, password: Password
) -> Response:
    async with db.transaction() as session:
        await accounts.reset_password(session, actor=actor, now=now, account_id=account_id, password=password)
    state(request).tokens.forget_user(account_id, now)
    return _see_other(f"/admin/accounts/{account_id}?done=reset")


@router.post("/admin/accounts/{account_id}/deactivate")
async def account_deactivate(
    request: Request, account_id: PathId, actor: ActorDep, db: DbDep, now: NowDep
) -> Response:
    async with db.transaction() as session:
        await accounts.deactivate_account(session, actor=actor, now=now, account_id=account_id)
    state(request).tokens.forget_user(account_id, now)
    return _see_other(f"/admin/accounts/{account_id}?done=deactivated")


@router.post("/admin/accounts/{account_id}/reactivate")
async def account_reactivate(account_id: PathId, actor: ActorDep, db: DbDep, now: NowDep) -> Response:
    async with db.transaction() as session:
        await accounts.reactivate_account(session, actor=actor, now=now, account_id=account_id)
    return _see_other(f"/admin/accounts/{account_id}?done=reactivated")


@router.get("/password")
async def password_form(
    request: Request, actor: ActorDep, done: Annotated[Literal["1"] | None, Query()] = None
) -> Response:
    return render(request, "auth/password.html", {"must_change": actor.must_change_password, "done": done})


@router.post("/password")
async def password_change(
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    current_password: Password,
    new_password: Password,
    new_password_again: Password,
) -> Response:
    if new_password != new_password_again:
        raise Unprocessable(N_("The two new passwords differ."), field="new_password_again")
    async with db.transaction() as session:
        await accounts.change_own_password(
            session, actor=actor, now=now, current=current_password, new=new_password
        )
    # The first change leads on to the home page; a later one says it is done.
    return _see_other("/" if actor.must_change_password else "/password?done=1")
