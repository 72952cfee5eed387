// LeadHunter's small amount of hand-written behaviour; everything else is htmx.

// Errors show where they happen. A form that did not validate comes back as 422 with its errors
// next to its fields (htmx-config in _base.html swaps it); focus moves to the first one. A request
// that failed outright (offline, timeout, server error) swaps nothing, so what was typed stays,
// and the form that sent it says the change was not saved. A slot that loads a panel on demand
// (class panel-slot, e.g. Today's Done, Snooze and Log) says in itself that it did not load.
document.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.xhr?.status !== 422) return;
  const target = event.detail.target;
  // An outerHTML swap replaces the target: look the region up again by its id.
  const region = target?.isConnected ? target : document.getElementById(target?.id || "");
  focusFirstError(region || document);
});

function focusFirstError(region) {
  const field = region.querySelector('[aria-invalid="true"], .field-invalid :is(input, select, textarea)');
  if (field) {
    field.focus();
    return;
  }
  const message = region.querySelector(".form-errors, .field-error, [role=alert]");
  if (!message) return;
  message.setAttribute("tabindex", "-1");
  message.focus();
}

function failureText(detail) {
  const xhr = detail.xhr;
  const saving = (detail.requestConfig?.verb || "post") !== "get";
  // A form with nothing typed into it names its own outcome (data-not-done="Not moved").
  const own = failureSpot(detail)?.dataset.notDone;
  const what = own || (saving ? "Not saved" : "Could not load this");
  const kept = saving && !own ? " What you typed is still here." : "";
  if (!xhr || xhr.status === 0) {
    return what + ": LeadHunter could not be reached." + kept + " Check your connection and try again.";
  }
  const isText = (xhr.getResponseHeader("Content-Type") || "").startsWith("text/plain");
  // A plain-text 4xx body is a message written for the person reading it.
  if (isText && xhr.status < 500 && xhr.responseText) return what + ": " + xhr.responseText;
  if (xhr.status === 403) return what + ": you may not change this, or your session has ended. Open the page in a new tab to check, then try again.";
  if (xhr.status === 404) return what + ": it no longer exists, or is no longer yours.";
  if (xhr.status < 500) return what + ": LeadHunter refused the change." + kept;
  return what + ": something went wrong on our side." + kept + " Try again in a moment.";
}

function failureSpot(detail) {
  return (detail.requestConfig?.elt || detail.elt)?.closest?.("form, .panel-slot") || null;
}

function sayNotDone(event, text) {
  const form = failureSpot(event.detail);
  if (form?.isConnected) {
    let note = form.querySelector(":scope > .form-failure");
    if (!note) {
      note = document.createElement("p");
      note.className = "form-failure";
      note.setAttribute("role", "alert");
      // A loading region's note goes first, before what it says while loading.
      if (form.matches("form")) form.append(note);
      else form.prepend(note);
    }
    note.textContent = text;
    // Under the button may be below the window's edge: the person must see it was not saved.
    note.scrollIntoView({ block: "nearest" });
    return;
  }
  const messages = document.getElementById("messages");
  if (!messages) return;
  const note = document.createElement("div");
  note.className = "message message-error";
  note.setAttribute("role", "alert");
  note.textContent = text;
  messages.replaceChildren(note);
}

document.addEventListener("htmx:responseError", (event) => sayNotDone(event, failureText(event.detail)));
document.addEventListener("htmx:sendError", (event) => sayNotDone(event, failureText({ ...event.detail, xhr: null })));
document.addEventListener("htmx:timeout", (event) => {
  const saving = (event.detail.requestConfig?.verb || "post") !== "get";
  const own = failureSpot(event.detail)?.dataset.notDone;
  sayNotDone(event, own
    ? own + ": LeadHunter took too long to answer. Try again."
    : saving
      ? "Not saved: LeadHunter took too long to answer. What you typed is still here; try again."
      : "Could not load this: LeadHunter took too long to answer. Try again in a moment.");
});

// A later request from the same form that got an answer clears the "not saved" note.
document.addEventListener("htmx:afterRequest", (event) => {
  if (!event.detail.successful) return;
  failureSpot(event.detail)?.querySelector(":scope > .form-failure")?.remove();
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

// A filter form that writes its filters into the address (data-filters-in-url: the lead
// list) shows the address's filters again after Back or Forward. htmx puts back the page's
// HTML as it was, and that HTML does not hold what a select or a checkbox was changed to, so
// the list came back filtered under selects saying "Any".
function showFiltersOfTheAddress() {
  const query = new URLSearchParams(window.location.search);
  for (const form of document.querySelectorAll("form[data-filters-in-url]")) {
    for (const field of form.elements) {
      if (!field.name || field.type === "hidden" || field.type === "submit") continue;
      const value = query.get(field.name) ?? "";
      if (field.type === "checkbox") {
        field.checked = query.getAll(field.name).includes(field.value);
      } else if (field.tagName !== "SELECT" || [...field.options].some((option) => option.value === value)) {
        // A value no option has (a hand-edited address) leaves the select as the page drew it.
        field.value = value;
      }
    }
  }
}
document.addEventListener("htmx:historyRestore", showFiltersOfTheAddress);
window.addEventListener("pageshow", showFiltersOfTheAddress);

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

// A time-zone select marked data-guess-time-zone starts at the browser's own zone (the first
// account, a new salesperson), unless the page came back with a choice already made.
document.addEventListener("DOMContentLoaded", () => {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  for (const select of document.querySelectorAll("select[data-guess-time-zone]")) {
    if (select.dataset.guessTimeZone !== "keep" && select.querySelector(`option[value="${CSS.escape(zone)}"]`)) {
      select.value = zone;
    }
  }
});

// Arriving at a card by its #anchor (Today's "Name the referrer", the lead list's "+ Add a
// lead"), a card marked data-focus-on-arrival puts the cursor in its first field: the task
// there is typing. From another page on load; on the same page when its link is clicked.
function focusCardArrivedAt(hash, options) {
  const card = hash ? document.getElementById(decodeURIComponent(hash.slice(1))) : null;
  if (!card?.hasAttribute("data-focus-on-arrival")) return;
  focusFirstField(card, options);
}

function focusFirstField(container, options) {
  container.querySelector("input:not([type=hidden]), select, textarea")?.focus(options);
}
window.addEventListener("load", () => focusCardArrivedAt(location.hash, { preventScroll: true }));

// A form loaded on demand into a panel just opened (the lead page's "Plan a different
// follow-up") takes the cursor in its first field: what the person opened it for is typing.
// Only while they are still at that panel: not if they closed it or went on typing elsewhere
// while it loaded.
document.addEventListener("htmx:load", (event) => {
  const form = event.detail.elt;
  if (!form?.matches?.("form[data-focus-on-load]")) return;
  const panel = form.closest("details");
  const focused = document.activeElement;
  const stillThere = focused === document.body || panel?.contains(focused);
  if (panel && (!panel.open || !stillThere)) return;
  focusFirstField(form);
});
document.addEventListener("click", (event) => {
  const link = event.target.closest?.('a[href^="#"]');
  // After the click's own jump to the anchor, which moves the focus itself.
  if (link) setTimeout(() => focusCardArrivedAt(link.hash));
});
