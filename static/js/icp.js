// ICP editor: while a criterion is being typed, the preview shows what it would change.
(() => {
  let timer = null;
  // Criteria added on this page so far, and for each draft preview sent, how many had been
  // added when it was sent.
  let added = 0;
  const draftsSent = new Map();
  document.addEventListener("input", schedule);
  document.addEventListener("change", schedule);
  // Adding the criterion replaces the form and refreshes the preview itself (after the swap);
  // a refresh still pending from the last keystroke would count the saved criterion again.
  document.addEventListener("submit", (event) => {
    if (!event.target.closest?.("#criterion-form")) return;
    clearTimeout(timer);
    added += 1;
  });
  // A draft preview already on its way when the criterion was added (a slow server) must not
  // land after the fresh one: it would show the saved criterion counted twice.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const path = event.detail.pathInfo?.requestPath;
    if (!draftsSent.has(path)) return;
    const addedWhenSent = draftsSent.get(path);
    draftsSent.delete(path);
    if (addedWhenSent < added) event.detail.shouldSwap = false;
  });

  function schedule(event) {
    const form = event.target.closest?.("#criterion-form");
    if (!form) return;
    clearTimeout(timer);
    timer = setTimeout(() => refresh(form), 300);
  }

  function refresh(form) {
    if (!form.isConnected) return;  // swapped out meanwhile: its values are no draft any more
    const params = new URLSearchParams(new FormData(form));
    params.delete("csrfmiddlewaretoken");
    const path = form.dataset.previewUrl + "?" + params.toString();
    draftsSent.set(path, added);
    htmx.ajax("GET", path, { target: "#icp-preview", swap: "outerHTML" });
  }
})();
