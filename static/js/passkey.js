// Passkeys and security keys (WebAuthn) for the forms marked data-passkey="create" (register
// one) or data-passkey="get" (give it as the second factor). On submit it asks the server for
// the ceremony's options (a POST to data-options-url with the page's CSRF token), lets the
// browser talk to the authenticator, puts the answer as JSON into the form's hidden
// "credential" field and sends the form as usual: the server verifies it. No inline script.
(function () {
  "use strict";

  function toBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    var padded = base64 + "===".slice((base64.length + 3) % 4);
    var text = atob(padded);
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i += 1) {
      bytes[i] = text.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var text = "";
    for (var i = 0; i < bytes.length; i += 1) {
      text += String.fromCharCode(bytes[i]);
    }
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return { type: item.type, id: toBytes(item.id), transports: item.transports };
    });
  }

  function creationOptions(options) {
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    options.excludeCredentials = descriptors(options.excludeCredentials);
    return { publicKey: options };
  }

  function requestOptions(options) {
    options.challenge = toBytes(options.challenge);
    options.allowCredentials = descriptors(options.allowCredentials);
    return { publicKey: options };
  }

  function created(credential) {
    var response = credential.response;
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: {
        clientDataJSON: toBase64url(response.clientDataJSON),
        attestationObject: toBase64url(response.attestationObject),
        transports: response.getTransports ? response.getTransports() : []
      }
    };
  }

  function asserted(credential) {
    var response = credential.response;
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: {
        clientDataJSON: toBase64url(response.clientDataJSON),
        authenticatorData: toBase64url(response.authenticatorData),
        signature: toBase64url(response.signature),
        userHandle: response.userHandle ? toBase64url(response.userHandle) : undefined
      }
    };
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function ceremony(form) {
    var creating = form.dataset.passkey === "create";
    return fetch(form.dataset.optionsUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" }
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("options " + response.status);
        }
        return response.json();
      })
      .then(function (options) {
        return creating
          ? navigator.credentials.create(creationOptions(options)).then(created)
          : navigator.credentials.get(requestOptions(options)).then(asserted);
      });
  }

  function attach(form) {
    if (form.dataset.passkeyReady) {
      return; // the script is on the page twice
    }
    form.dataset.passkeyReady = "1";
    var status = form.querySelector(".passkey-status");
    var button = form.querySelector("button[type=submit]");
    var say = function (text) {
      if (status) {
        status.textContent = text;
      }
    };
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say(form.dataset.unsupported);
      if (button) {
        button.disabled = true;
      }
      return;
    }
    form.addEventListener("submit", function (event) {
      var name = form.querySelector("input[name=name]");
      event.preventDefault();
      if (name && !name.value.trim()) {
        name.focus();
        return;
      }
      if (button) {
        button.disabled = true;
      }
      say("");
      ceremony(form)
        .then(function (answer) {
          form.querySelector("input[name=credential]").value = JSON.stringify(answer);
          HTMLFormElement.prototype.submit.call(form);
        })
        .catch(function () {
          say(form.dataset.failed);
          if (button) {
            button.disabled = false;
          }
        });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-passkey]"), attach);
})();
