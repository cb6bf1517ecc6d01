// Before leaving a page whose long form was changed and not sent, the browser asks whether
// to leave (its own words: a page cannot choose them). Markup: <form data-warn-unsaved>.
(function () {
  "use strict";
  var changed = false;
  Array.prototype.forEach.call(document.querySelectorAll("form[data-warn-unsaved]"), function (form) {
    form.addEventListener("input", function () { changed = true; });
    form.addEventListener("change", function () { changed = true; });
    form.addEventListener("submit", function () { changed = false; });
  });
  window.addEventListener("beforeunload", function (event) {
    if (!changed) { return; }
    event.preventDefault();
    event.returnValue = "";
  });
})();
