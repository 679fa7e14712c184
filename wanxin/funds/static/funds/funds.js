// A second click on a money button does nothing: the first submission is on its way.
// (Disabled only after the submit event, so the clicked button's name/value is still sent.)
document.addEventListener("submit", function (event) {
  var buttons = event.target.querySelectorAll("button[data-once]");
  setTimeout(function () { buttons.forEach(function (b) { b.disabled = true; }); }, 0);
});
