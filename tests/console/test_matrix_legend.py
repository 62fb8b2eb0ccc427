"""Issue 19, the role matrix reads without guessing: a legend says what granted, not granted and not applicable
look like, each mark also says it in words for screen readers (in the reader's language), and the editor has a
toggle per row and per column (buttons hidden until static/js/grids.js runs)."""

import re

from tests.factories import builtin_role


def cells_of(html: str) -> list[tuple[str, str]]:
    """(class, spoken text) of every read-only cell of the matrix."""
    table = html.split('data-testid="role-matrix"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<td class="cell-(yes|no|na)">.*?<span class="visually-hidden">([^<]+)</span></td>', table)


def test_the_role_page_has_a_legend_and_every_mark_says_what_it_means(admin_client_acme, acme):
    basic = builtin_role(acme, "basic")  # products: view
    html = admin_client_acme.get(f"/console/roles/{basic.pk}/").content.decode()
    legend = html.split('data-testid="matrix-legend"', 1)[1].split("</ul>", 1)[0]
    assert [text.strip() for text in re.findall(r"</span>([^<]+)</li>", legend)] == [
        "Granted",
        "Not granted",
        "Not applicable",
    ]
    spoken = {state: text for state, text in cells_of(html)}
    assert spoken == {"yes": "Granted", "no": "Not granted", "na": "Not applicable"}
    assert sum(1 for state, _text in cells_of(html) if state == "yes") == 1
    assert "grid-toggle" not in html  # nothing to tick on the read-only page


def test_the_marks_and_the_legend_are_translated(admin_client_acme, acme):
    basic = builtin_role(acme, "basic")
    admin_client_acme.post("/accounts/language/", {"language": "zh-hans", "next": "/"})
    html = admin_client_acme.get(f"/console/roles/{basic.pk}/").content.decode()
    assert {text for _state, text in cells_of(html)} == {"已授予", "未授予", "不适用"}
    assert 'aria-label="图例"' in html


def test_the_matrix_editor_has_a_toggle_per_row_and_per_column(admin_client_acme, acme):
    advanced = builtin_role(acme, "advanced")
    html = admin_client_acme.get(f"/console/roles/{advanced.pk}/matrix/").content.decode()
    toggles = re.findall(
        r'<button type="button" class="grid-toggle" data-grid-toggle="(row|col)"[^>]*aria-label="([^"]+)" hidden>', html
    )
    rows = [name for kind, name in toggles if kind == "row"]
    columns = [name for kind, name in toggles if kind == "col"]
    assert "Select all: Products" in rows and "Select all: Audit trail" in rows
    assert columns == [
        f"Select all: {label}"
        for label in ("View", "Create", "Change", "Delete", "Export", "Review", "Approve", "View sensitive fields")
    ]
    assert 'data-grid-row="products" data-grid-col="view" aria-label="Products: View"' in html
    assert "Not applicable" in html and 'data-testid="matrix-legend"' in html
