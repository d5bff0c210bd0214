"""The register workbook's routes under /api/v1 (批量导入): upload (the dry run), read it, commit
it; the templates and the exports as XLSX. Parse, call one service function, answer."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, File, UploadFile, status
from fastapi.responses import Response

from yilian.core.i18n import gettext
from yilian.directory.queries.imports import UploadView, get_upload, upload_view
from yilian.directory.rules import files
from yilian.directory.rules.workbook import kinds_named
from yilian.directory.schemas import ImportCountOut, ImportOut, ImportProblemOut
from yilian.directory.service import imports
from yilian.web.deps import ActorDep, DbDep, LocaleDep, NowDep, PathId

router = APIRouter(prefix="/api/v1", tags=["imports"])
XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KindName = Literal["institutions", "departments", "practitioners", "consortia", "accounts", "all"]
ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "`forbidden`: not a register's keeper"},
    404: {"description": "Not found (another user's upload)"},
}
WORKBOOK: dict[int | str, dict[str, Any]] = {200: {"content": {XLSX: {}}, "description": "The workbook"}}


def import_out(view: UploadView, locale: str) -> ImportOut:
    return ImportOut(
        id=view.id,
        filename=view.filename,
        sha256=view.sha256,
        size=view.size,
        created_at=view.created_at,
        committed_at=view.committed_at,
        ok=view.ok,
        counts=[
            ImportCountOut(
                kind=c.kind, sheet=c.sheet, create=c.create, update=c.update, unchanged=c.unchanged
            )
            for c in view.counts
        ],
        errors=[
            ImportProblemOut(
                sheet=p.sheet, row=p.row, column=p.column, message=gettext(locale, p.message, **p.params)
            )
            for p in view.problems
        ],
        error_total=view.problem_total,
    )


def workbook_response(content: bytes, name: str) -> Response:
    return Response(
        content,
        media_type=XLSX,
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@router.post(
    "/imports",
    status_code=status.HTTP_201_CREATED,
    responses={
        **ERRORS,
        413: {"description": "`workbook_too_large`: over 20 MB"},
        422: {"description": "`not_a_workbook`, `workbook_bomb`"},
    },
)
async def upload_import(
    locale: LocaleDep,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    file: Annotated[UploadFile, File(description="XLSX or CSV (UTF-8 or GB18030), at most 20 MB")],
) -> ImportOut:
    """Upload a register workbook: its dry run (what would be created, updated, left alone, and
    every error by sheet, row and column). Nothing else is written until the commit."""
    content = await file.read(files.MAX_BYTES + 1)  # one byte over is enough to refuse
    async with db.transaction() as session:
        view = await imports.upload_workbook(
            session, filename=file.filename or "", content=content, actor=actor, now=now
        )
    return import_out(view, locale)


@router.get("/imports/{upload_id}", responses=ERRORS)
async def get_import(upload_id: PathId, locale: LocaleDep, actor: ActorDep, db: DbDep) -> ImportOut:
    """An upload of one's own and its dry run (or, once committed, what it did)."""
    async with db.read() as session:
        return import_out(upload_view(await get_upload(session, upload_id=upload_id, actor=actor)), locale)


@router.post(
    "/imports/{upload_id}/commit",
    responses={
        **ERRORS,
        409: {"description": "`workbook_already_imported`"},
        422: {"description": "`workbook_has_errors`: nothing was imported"},
    },
)
async def commit_import(
    upload_id: PathId, locale: LocaleDep, actor: ActorDep, db: DbDep, now: NowDep
) -> ImportOut:
    """Import an upload: read again, checked again, written in one transaction (or not at all)."""
    async with db.transaction() as session:
        view = await imports.commit_workbook(session, upload_id=upload_id, actor=actor, now=now)
    return import_out(view, locale)


@router.get("/imports/templates/{kind}", responses={**ERRORS, **WORKBOOK}, response_class=Response)
async def import_template(kind: KindName, _actor: ActorDep) -> Response:
    """The template of a register (`all`: every register, a sheet each): Chinese headers, one
    example row, drop-down lists for the fixed lists."""
    return workbook_response(imports.template_workbook(kinds_named(kind)), f"yilian-template-{kind}.xlsx")


@router.get("/exports/{kind}", responses={**ERRORS, **WORKBOOK}, response_class=Response)
async def export_register(kind: KindName, actor: ActorDep, db: DbDep, now: NowDep) -> Response:
    """A register as a workbook with the template's columns: the rows the caller administers."""
    async with db.transaction() as session:  # the export is audited
        content = await imports.export_workbook(session, kinds=kinds_named(kind), actor=actor, now=now)
    return workbook_response(content, f"yilian-{kind}.xlsx")
