// Keeps a form with files under the server's request size limit (MAX_CONTENT_LENGTH): when
// the chosen files would make the request too large, it does not send it and shows the
// message the page holds next to the file field, so that the text typed into the form is
// not lost on the server's "too large" page. Without JavaScript the server still refuses
// such a request (413). Markup: <form data-max-bytes="…" data-limit-message="message id">.
(function () {
  "use strict";
  var PART_OVERHEAD = 512; // multipart headers and boundary of one field, generously

  function fileBytes(form) {
    var total = 0;
    Array.prototype.forEach.call(form.querySelectorAll("input[type=file]"), function (input) {
      Array.prototype.forEach.call(input.files || [], function (file) {
        total += file.size + PART_OVERHEAD;
      });
    });
    return total;
  }

  function otherBytes(form) {
    var total = 0;
    Array.prototype.forEach.call(form.elements, function (element) {
      if (element.name && element.type !== "file" && typeof element.value === "string") {
        total += new Blob([element.value]).size + PART_OVERHEAD;
      }
    });
    return total;
  }

  function guard(form) {
    var limit = Number(form.dataset.maxBytes);
    var message = document.getElementById(form.dataset.limitMessage);
    var inputs = form.querySelectorAll("input[type=file]");
    if (!limit || !message || !inputs.length) {
      return;
    }

    function fits() {
      var over = fileBytes(form) > 0 && fileBytes(form) + otherBytes(form) > limit;
      message.hidden = !over;
      Array.prototype.forEach.call(inputs, function (input) {
        var field = input.closest(".field");
        if (field) {
          field.classList.toggle("over-limit", over);
        }
        if (over) {
          input.setAttribute("aria-invalid", "true");
          input.setAttribute("aria-errormessage", message.id);
        } else {
          input.removeAttribute("aria-errormessage");
          if (!(field && field.classList.contains("has-error"))) {
            input.removeAttribute("aria-invalid");
          }
        }
      });
      return !over;
    }

    Array.prototype.forEach.call(inputs, function (input) {
      input.addEventListener("change", fits);
    });
    form.addEventListener("submit", function (event) {
      if (!fits()) {
        event.preventDefault();
        inputs[0].focus();
      }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-max-bytes]"), guard);
})();
