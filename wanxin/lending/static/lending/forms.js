// Forms of the lending, repayment and review pages, without inline handlers (CSP):
// a form with data-confirm asks first; a submitted form's buttons are disabled so a
// double click sends it once.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (form.hasAttribute("data-once") || form.querySelector("button[data-once]")) {
      window.setTimeout(function () {
        form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      }, 0);
    }
  });
})();
