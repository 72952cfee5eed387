// The public page's slot picker: times in the visitor's own zone (the browser's), and a new
// zone shows at once when picked. Without JavaScript the owner's zone shows and "Show" submits.
(() => {
  const form = document.querySelector("[data-booking-zone]");
  if (!form) return;
  const select = form.querySelector("select");
  const show = form.querySelector("[data-booking-zone-show]");
  if (show) show.hidden = true;
  select.addEventListener("change", () => form.requestSubmit());
  if (form.hasAttribute("data-zone-asked")) return;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const known = Array.from(select.options).some((option) => option.value === zone);
  if (zone && known && zone !== select.value) {
    const url = new URL(window.location.href);
    url.searchParams.set("tz", zone);
    url.hash = "booking-title";
    window.location.replace(url.toString());
  }
})();
