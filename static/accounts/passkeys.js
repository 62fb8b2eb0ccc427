// Passkey ceremonies (WebAuthn) for the elements rendered by templates/accounts/passkeys/_ceremony.html.
// Loaded as a static file (the CSP allows no inline script). Each ceremony is two POSTs: the options (the
// server keeps the challenge in the session), then the browser's answer, as JSON with base64url bytes.
"use strict";

(() => {
  const toBuffer = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    return Uint8Array.from(atob(padded), (ch) => ch.charCodeAt(0)).buffer;
  };

  const toBase64url = (buffer) => {
    let binary = "";
    for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };

  const withIds = (list) => (list || []).map((item) => ({ ...item, id: toBuffer(item.id) }));

  const creationOptions = (options) => ({
    ...options,
    challenge: toBuffer(options.challenge),
    user: { ...options.user, id: toBuffer(options.user.id) },
    excludeCredentials: withIds(options.excludeCredentials),
  });

  const requestOptions = (options) => ({
    ...options,
    challenge: toBuffer(options.challenge),
    allowCredentials: withIds(options.allowCredentials),
  });

  const common = (credential) => ({
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment || null,
    clientExtensionResults: credential.getClientExtensionResults(),
  });

  const attestation = (credential) => ({
    ...common(credential),
    response: {
      clientDataJSON: toBase64url(credential.response.clientDataJSON),
      attestationObject: toBase64url(credential.response.attestationObject),
      transports: credential.response.getTransports ? credential.response.getTransports() : [],
    },
  });

  const assertion = (credential) => ({
    ...common(credential),
    response: {
      clientDataJSON: toBase64url(credential.response.clientDataJSON),
      authenticatorData: toBase64url(credential.response.authenticatorData),
      signature: toBase64url(credential.response.signature),
      userHandle: credential.response.userHandle ? toBase64url(credential.response.userHandle) : null,
    },
  });

  const csrfToken = () => {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  };

  const fieldValue = (selector) => {
    const input = document.querySelector(selector);
    return input ? input.value.trim() : "";
  };

  async function post(url, body, json) {
    const headers = { "X-CSRFToken": csrfToken(), Accept: "application/json" };
    if (json) headers["Content-Type"] = "application/json";
    const response = await fetch(url, {
      method: "POST",
      headers,
      credentials: "same-origin",
      body: json ? JSON.stringify(body) : new URLSearchParams(body),
    });
    let data = {};
    try {
      data = await response.json();
    } catch (error) {
      data = {};
    }
    return { ok: response.ok, data };
  }

  // What each ceremony sends first, how it asks the browser, and what it sends back.
  const CEREMONIES = {
    "sign-in": {
      start: () => ({ username: fieldValue("input[name=username]"), organisation: fieldValue("input[name=organisation]") }),
      ask: (options) => navigator.credentials.get({ publicKey: requestOptions(options) }),
      answer: (credential) => ({ credential: assertion(credential) }),
    },
    verify: {
      start: (root) => ({ stage: root.dataset.stage || "" }),
      ask: (options) => navigator.credentials.get({ publicKey: requestOptions(options) }),
      answer: (credential) => ({ credential: assertion(credential) }),
    },
    register: {
      start: () => ({}),
      ask: (options) => navigator.credentials.create({ publicKey: creationOptions(options) }),
      answer: (credential) => ({ credential: attestation(credential), name: fieldValue("[data-passkey-form] [name=name]") }),
    },
  };

  async function run(root, ceremony) {
    const first = await post(root.dataset.optionsUrl, ceremony.start(root), false);
    if (!first.ok) return first.data;
    let credential;
    try {
      credential = await ceremony.ask(first.data);
    } catch (error) {
      return { error: root.dataset.cancelled };
    }
    if (!credential) return { error: root.dataset.cancelled };
    const body = { ...ceremony.answer(credential), next: root.dataset.next || "" };
    const second = await post(root.dataset.finishUrl, body, true);
    return second.data;
  }

  function setUp(root) {
    const ceremony = CEREMONIES[root.dataset.passkey];
    const button = root.querySelector("[data-passkey-start]");
    const errorBox = root.querySelector("[data-passkey-error]");
    if (!ceremony || !button || root.dataset.ready) return;
    root.dataset.ready = "1"; // the script may be included more than once on a page
    const showError = (message) => {
      errorBox.textContent = message || root.dataset.failed;
      errorBox.hidden = false;
    };
    if (!window.PublicKeyCredential || !navigator.credentials) {
      button.disabled = true;
      showError(root.dataset.unsupported);
      return;
    }
    button.addEventListener("click", async () => {
      button.disabled = true;
      errorBox.hidden = true;
      let result;
      try {
        result = await run(root, ceremony);
      } catch (error) {
        result = {};
      }
      if (result && result.redirect) {
        window.location.assign(result.redirect);
        return;
      }
      showError(result && result.error);
      button.disabled = false;
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const root of document.querySelectorAll("[data-passkey]")) setUp(root);
  });
})();
