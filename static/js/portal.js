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
  // The menu button of small screens: opens and closes the navigation (the page's layout hides it there).
  for (const button of document.querySelectorAll("[data-menu-button]")) {
    button.addEventListener("click", () => {
      const open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      document.body.classList.toggle("nav-open", open);
    });
  }
});
