// Page behaviour that used to sit inline, in one static file so the Content-Security-Policy can
// refuse every inline script. Declared on the elements:
//   <form data-confirm="Question?">  asks first; "Cancel" keeps the form unsent.
//   <form data-once>                 disables its buttons once sent, so a second click sends nothing
//                                    (after the submit event, so the clicked button's value is sent);
//                                    a form holding a <button data-once> does the same.
//   <form data-autosubmit>           sends itself as soon as the page loads (the hand-off to the bank).
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
  function autosubmit() {
    document.querySelectorAll("form[data-autosubmit]").forEach(function (form) { form.submit(); });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", autosubmit);
  } else {
    autosubmit();
  }
})();
