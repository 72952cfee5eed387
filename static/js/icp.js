// ICP editor: while a criterion is being typed, the preview shows what it would change.
(() => {
  let timer = null;
  // Criteria added on this page so far, and for each draft preview sent, how many had been
  // added when it was sent.
  let added = 0;
  const draftsSent = new Map();
  // A draft preview on its way, and the form of the newest draft waiting for its answer.
  let sending = false;
  let waiting = null;
  document.addEventListener("input", schedule);
  document.addEventListener("change", schedule);
  // Adding the criterion replaces the form and refreshes the preview itself (after the swap);
  // a refresh still pending from the last keystroke would count the saved criterion again.
  document.addEventListener("submit", (event) => {
    if (!event.target.closest?.("#criterion-form")) return;
    clearTimeout(timer);
    waiting = null;
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

  // One draft preview at a time. htmx would queue a second one behind the first, but with the
  // preview it was to replace, which the first one's answer takes out of the page: the page
  // would go on showing the older draft. So the newest draft waits, and goes when the answer
  // on its way has landed.
  function refresh(form) {
    if (sending) {
      waiting = form;
      return;
    }
    if (!form.isConnected) return;  // swapped out meanwhile: its values are no draft any more
    const params = new URLSearchParams(new FormData(form));
    params.delete("csrfmiddlewaretoken");
    const path = form.dataset.previewUrl + "?" + params.toString();
    draftsSent.set(path, added);
    sending = true;
    const landed = () => {
      sending = false;
      const next = waiting;
      waiting = null;
      if (next) refresh(next);
    };
    htmx.ajax("GET", path, { target: "#icp-preview", swap: "outerHTML" }).then(landed, landed);
  }
})();
