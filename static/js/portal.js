// Progressive enhancements only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  document.documentElement.classList.add("js");
  for (const form of document.querySelectorAll("form[data-autosubmit]")) {
    for (const select of form.querySelectorAll("select")) {
      select.addEventListener("change", () => form.submit());
    }
  }
  // A form field shown only while a select has a given value: data-show-if="<select id>:<value>" on its input.
  for (const input of document.querySelectorAll("[data-show-if]")) {
    const [selectId, value] = input.dataset.showIf.split(":");
    const select = document.getElementById(selectId);
    if (!select) continue;
    const field = input.closest(".field") || input;
    const update = () => field.classList.toggle("is-hidden", select.value !== value);
    select.addEventListener("change", update);
    update();
  }
  // A table wider than the page scrolls inside its container; a keyboard must reach that scroll too
  // (WCAG 2.1.1, axe "scrollable-region-focusable"), so a scrolling container takes the focus.
  const scrollers = () => document.querySelectorAll(".table-scroll, .content table:not(.table-scroll table)");
  const focusable = () => {
    for (const box of scrollers()) {
      if (box.scrollWidth > box.clientWidth + 1) box.setAttribute("tabindex", "0");
      else box.removeAttribute("tabindex");
    }
  };
  focusable();
  window.addEventListener("resize", focusable);
  // The menu button of small screens: opens and closes the navigation (the page's layout hides it there).
  for (const button of document.querySelectorAll("[data-menu-button]")) {
    button.addEventListener("click", () => {
      const open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      document.body.classList.toggle("nav-open", open);
    });
  }
});
