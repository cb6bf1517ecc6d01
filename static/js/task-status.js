// Follows a background task on its page: polls its status.json, shows the progress, and
// reloads the page once the task has finished, which then shows the result.
// Without JavaScript the page's Refresh link does the same by hand.
(function () {
  "use strict";
  var INTERVAL_MS = 2000;
  var box = document.getElementById("task-status");
  if (!box || !box.dataset.statusUrl) {
    return;
  }
  var bar = document.getElementById("task-progress");
  var text = document.getElementById("task-progress-text");
  var state = document.getElementById("task-state");

  function show(status) {
    bar.max = status.max;
    bar.value = status.value;
    bar.textContent = status.percent + "%";
    text.textContent = status.text;
    // The live region speaks on changes of state only, not on every count.
    if (state.dataset.state !== status.state) {
      state.dataset.state = status.state;
      state.textContent = status.label;
    }
  }

  function poll() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (status) {
        show(status);
        if (status.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, INTERVAL_MS);
        }
      })
      .catch(function () {
        window.setTimeout(poll, INTERVAL_MS * 5);
      });
  }

  window.setTimeout(poll, INTERVAL_MS);
})();
