// ICP editor: while a criterion is being typed, the preview shows what it would change.
(() => {
  let timer = null;
  document.addEventListener("input", schedule);
  document.addEventListener("change", schedule);
  // Adding the criterion replaces the form and refreshes the preview itself (after the swap);
  // a refresh still pending from the last keystroke would count the saved criterion again.
  document.addEventListener("submit", (event) => {
    if (event.target.closest?.("#criterion-form")) clearTimeout(timer);
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
    htmx.ajax("GET", form.dataset.previewUrl + "?" + params.toString(), { target: "#icp-preview", swap: "outerHTML" });
  }
})();
