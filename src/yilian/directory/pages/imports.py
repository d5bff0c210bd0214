"""The register workbook's page (/admin/imports, 批量导入): the templates to download, the upload
form, the dry run (counts by register, errors by sheet, row and column) and 确认导入, which asks
once. Parse, call one service function, render."""

from __future__ import annotations

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from yilian.auth import policy
from yilian.core.errors import Forbidden, Unprocessable
from yilian.core.i18n import N_
from yilian.directory.errors import NotAWorkbook, WorkbookBomb, WorkbookTooLarge
from yilian.directory.queries.imports import get_upload, upload_view
from yilian.directory.rules import files
from yilian.directory.rules.workbook import KINDS, SHEET_NAMES
from yilian.directory.service import imports
from yilian.web.deps import ActorDep, DbDep, NowDep, PathId
from yilian.web.templating import render

router = APIRouter(include_in_schema=False)
TEMPLATES = [(kind.value, SHEET_NAMES[kind]) for kind in KINDS]


@router.get("/admin/imports")
async def imports_page(request: Request, actor: ActorDep) -> Response:
    if not policy.may_import_registers(actor):
        raise Forbidden()
    return render(request, "directory/imports.html", {"templates": TEMPLATES, "upload": None})


@router.post("/admin/imports")
async def upload_page(actor: ActorDep, db: DbDep, now: NowDep, file: UploadFile | None = None) -> Response:
    if file is None or not file.filename:
        raise Unprocessable(N_("Choose a workbook (.xlsx) or CSV file."), field="file")
    content = await file.read(files.MAX_BYTES + 1)
    try:
        async with db.transaction() as session:
            view = await imports.upload_workbook(
                session, filename=file.filename, content=content, actor=actor, now=now
            )
    except (NotAWorkbook, WorkbookBomb) as error:
        error.field = "file"
        raise
    except WorkbookTooLarge:
        raise Unprocessable(N_("The file is larger than 20 MB."), field="file") from None
    return RedirectResponse(f"/admin/imports/{view.id}", status_code=303)


@router.get("/admin/imports/{upload_id}")
async def upload_detail(request: Request, upload_id: PathId, actor: ActorDep, db: DbDep) -> Response:
    async with db.read() as session:
        view = upload_view(await get_upload(session, upload_id=upload_id, actor=actor))
    return render(request, "directory/imports.html", {"templates": TEMPLATES, "upload": view})


@router.post("/admin/imports/{upload_id}/commit")
async def commit_page(upload_id: PathId, actor: ActorDep, db: DbDep, now: NowDep) -> Response:
    async with db.transaction() as session:
        await imports.commit_workbook(session, upload_id=upload_id, actor=actor, now=now)
    return RedirectResponse(f"/admin/imports/{upload_id}#result", status_code=303)
