"""Browser helper: choose in a picker (static/js/pickers.js) as a person does, by typing and picking an option."""

from playwright.sync_api import expect


def pick(page, label: str, text: str, *, option: str | None = None) -> None:
    """Type ``text`` into the picker labelled ``label`` and click the option that shows ``option`` (or ``text``)."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.fill("")
    box.press_sequentially(text)
    choice = page.get_by_role("listbox").get_by_role("option").filter(has_text=option or text).first
    expect(choice).to_be_visible()
    choice.click()
    expect(box).to_have_attribute("aria-expanded", "false")
