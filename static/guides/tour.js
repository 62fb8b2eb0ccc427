// The first-visit tour of the menu's areas (templates/guides/_tour.html). Shown on the home page until the
// person closes or finishes it; remembered per user in this browser (localStorage). "?tour=1" shows it again.
document.addEventListener("DOMContentLoaded", () => {
  const tour = document.querySelector("[data-tour]");
  if (!tour) return;
  const key = tour.dataset.tourKey;
  const store = {
    done() {
      try {
        return window.localStorage.getItem(key) === "done";
      } catch {
        return false;
      }
    },
    finish() {
      try {
        window.localStorage.setItem(key, "done");
      } catch {
        /* storage refused (private mode): the tour stays closed for this page only */
      }
    },
  };
  const again = new URLSearchParams(window.location.search).get("tour") === "1";
  if (store.done() && !again) return;

  const steps = Array.from(tour.querySelectorAll("[data-tour-step]"));
  const back = tour.querySelector("[data-tour-back]");
  const next = tour.querySelector("[data-tour-next]");
  const done = tour.querySelector("[data-tour-done]");
  const position = tour.querySelector("[data-tour-position]");
  let at = 0;

  const targets = (step) => {
    const id = step.dataset.tourTarget;
    const element = id && document.getElementById(id);
    if (!element) return [];
    const list = element.nextElementSibling && element.nextElementSibling.matches("ul") ? [element.nextElementSibling] : [];
    return [element, ...list];
  };
  const clear = () => {
    for (const element of document.querySelectorAll(".tour-highlight")) element.classList.remove("tour-highlight");
  };
  const show = (index) => {
    at = Math.max(0, Math.min(index, steps.length - 1));
    steps.forEach((step, n) => {
      step.hidden = n !== at;
    });
    clear();
    for (const element of targets(steps[at])) element.classList.add("tour-highlight");
    back.disabled = at === 0;
    next.hidden = at === steps.length - 1;
    done.hidden = at !== steps.length - 1;
    position.textContent = tour.dataset.textPosition.replace("%(n)s", at + 1).replace("%(total)s", steps.length);
  };
  const close = () => {
    store.finish();
    clear();
    tour.hidden = true;
    const main = document.getElementById("main");
    if (main) {
      main.setAttribute("tabindex", "-1");
      main.focus({ preventScroll: true });
    }
  };

  back.addEventListener("click", () => show(at - 1));
  next.addEventListener("click", () => {
    show(at + 1);
    (at === steps.length - 1 ? done : next).focus();
  });
  done.addEventListener("click", close);
  tour.querySelector("[data-tour-close]").addEventListener("click", close);
  tour.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  tour.hidden = false;
  show(0);
});
