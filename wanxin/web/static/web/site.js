// Page behaviour that used to sit inline, in one static file so the Content-Security-Policy can
// refuse every inline script. Declared on the elements:
//   <form data-confirm="Question?">  asks first; "Cancel" keeps the form unsent.
//   <form data-once>                 disables its buttons once sent, so a second click sends nothing
//                                    (after the submit event, so the clicked button's value is sent);
//                                    a form holding a <button data-once> does the same.
//   <form data-autosubmit>           sends itself as soon as the page loads (the hand-off to the bank).
//   <el data-poll="url">             asks url (JSON: message, status, final) until final, showing
//                                    message and status in place (a bid being confirmed by the bank).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      return;
    }
    if (form.hasAttribute("data-once") || form.querySelector("button[data-once]")) {
      setTimeout(function () {
        form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      }, 0);
    }
  });
  function poll(el) {
    var url = el.getAttribute("data-poll"), delay = 500, started = Date.now();
    function ask() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}, cache: "no-store"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data) {
            el.textContent = data.message;
            el.setAttribute("data-status", data.status);
            if (data.final) { el.removeAttribute("data-poll"); return; }
          }
          again();
        }, again);
    }
    function again() {  // a little slower each time; give up after ten minutes (recovery is slower)
      delay = Math.min(delay * 1.5, 5000);
      if (Date.now() - started < 600000) { setTimeout(ask, delay); }
    }
    setTimeout(ask, delay);
  }
  function start() {
    document.querySelectorAll("form[data-autosubmit]").forEach(function (form) { form.submit(); });
    document.querySelectorAll("[data-poll]").forEach(poll);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
