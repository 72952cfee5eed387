// LeadHunter's small amount of hand-written behaviour; everything else is htmx.
document.addEventListener("htmx:responseError", (event) => {
  const messages = document.getElementById("messages");
  if (!messages) return;
  const xhr = event.detail.xhr;
  const isText = (xhr.getResponseHeader("Content-Type") || "").startsWith("text/plain");
  const note = document.createElement("div");
  note.className = "message message-error";
  note.setAttribute("role", "alert");
  // A plain-text 4xx body is a message written for the user; anything else is unexpected.
  note.textContent = isText && xhr.status < 500 ? xhr.responseText : "That didn't work (" + xhr.status + "). Reload the page and try again.";
  messages.replaceChildren(note);
});

// "Select all" checkboxes in tables with bulk actions.
document.addEventListener("change", (event) => {
  const all = event.target.closest?.("[data-select-all]");
  if (!all) return;
  all.closest("table").querySelectorAll("tbody input[type=checkbox]").forEach((box) => {
    box.checked = all.checked;
  });
});

// Export links take the filter form's current values when clicked: the filters change
// without a reload, so the href rendered with the page may be stale. (Not hx-on: the
// Content-Security-Policy allows no inline script.)
document.addEventListener("click", (event) => {
  const link = event.target.closest?.("a[data-with-filters]");
  const form = link && document.getElementById(link.dataset.withFilters);
  if (!form) return;
  link.search = new URLSearchParams(new FormData(form)).toString();
});

// The phone menu (a <details> in the top bar) opens and closes without JavaScript; this adds
// what a menu is expected to do besides: Escape closes it and puts focus back on its button,
// and a tap anywhere outside it closes it.
document.addEventListener("keydown", (event) => {
  const menu = document.querySelector(".navmenu[open]");
  if (event.key !== "Escape" || !menu) return;
  menu.open = false;
  menu.querySelector("summary").focus();
});
document.addEventListener("click", (event) => {
  const menu = document.querySelector(".navmenu[open]");
  if (menu && !menu.contains(event.target)) menu.open = false;
});
