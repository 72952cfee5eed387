// ICP editor: while a criterion is being typed, the preview shows what it would change.
(() => {
  let timer = null;
  document.addEventListener("input", schedule);
  document.addEventListener("change", schedule);

  function schedule(event) {
    const form = event.target.closest?.("#criterion-form");
    if (!form) return;
    clearTimeout(timer);
    timer = setTimeout(() => refresh(form), 300);
  }

  function refresh(form) {
    const params = new URLSearchParams(new FormData(form));
    params.delete("csrfmiddlewaretoken");
    htmx.ajax("GET", form.dataset.previewUrl + "?" + params.toString(), { target: "#icp-preview", swap: "outerHTML" });
  }
})();
