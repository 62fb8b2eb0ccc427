"""Fxiaoke (纷享销客), as its address book and role management export them, with Chinese headers: 员工
(姓名, 手机号, 邮箱, 主属部门, 职位, 角色, 状态) and 角色 (角色名称, 角色描述). The first role of an employee is
their Portcullis role; further roles are the grants the mapping gives them; the main department (主属部门)
is their organisation. Portcullis signs people in by e-mail, so 邮箱 is required."""

from __future__ import annotations

from django.utils.translation import gettext as _

from integration.formats.crm import add_rights, add_user, unknown_file
from integration.rows import ROLE, Parsed, Upload, Where, csv_records, split_list, truthy

SOURCE = "Fxiaoke"


def read(uploads: list[Upload], mapping) -> Parsed:
    parsed = Parsed()
    for upload in uploads:
        headers, records = csv_records(upload)
        if "姓名" in headers and "邮箱" in headers:
            _employees(upload, records, mapping, parsed)
        elif "角色名称" in headers:
            for line, r in records:
                name = mapping.role_for(r.get("角色名称", ""))
                description = r.get("角色描述", "") or r.get("描述", "")
                parsed.add(Where(upload.name, line), ROLE, name=name, description=description, matrix=None)
        else:
            unknown_file(parsed, upload.name, SOURCE)
    return parsed


def _employees(upload, records, mapping, parsed) -> None:
    for line, r in records:
        where = Where(upload.name, line)
        email = r.get("邮箱", "")
        if not email:
            parsed.problem(where, _("邮箱 (e-mail) is empty: Portcullis signs people in by e-mail."))
            continue
        roles = split_list(r.get("角色", ""))
        add_user(
            parsed,
            where,
            mapping,
            email=email,
            full_name=r.get("姓名", ""),
            role=roles[0] if roles else "",
            organisation=r.get("主属部门", ""),
            active=truthy(r.get("状态"), default=True) and r.get("状态", "") not in {"离职", "停用"},
        )
        for extra in roles[1:]:
            add_rights(parsed, where, mapping, email=email, name=extra, source=SOURCE)
