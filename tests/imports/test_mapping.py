"""The mapping lines an administrator writes with a CRM file, in English or Chinese input."""

from integration.mapping import parse_mapping


def test_rights_and_roles_in_english():
    mapping, problems = parse_mapping(
        "Reports_Export = reports: view, export\nSystem Administrator = role: Administrator"
    )
    assert problems == []
    assert mapping.rights_of("reports_export") == [("reports", ["view", "export"])]
    assert mapping.role_for("system administrator") == "Administrator"


def test_the_chinese_keyword_and_full_width_marks_read_the_same():
    mapping, problems = parse_mapping("销售经理 ＝ 角色： 高级用户\n报表导出＝reports：view，export")
    assert problems == []
    assert mapping.role_for("销售经理") == "高级用户"
    assert mapping.rights_of("报表导出") == [("reports", ["view", "export"])]


def test_a_line_without_its_parts_is_named():
    _mapping, problems = parse_mapping("# a comment\n\nno equals sign here")
    assert len(problems) == 1 and "3" in problems[0]
