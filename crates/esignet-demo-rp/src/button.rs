//! The portal signs residents in through eSignet-rs's "Sign in with eSignet" button, loaded
//! from the provider (`<esignet_url>/sdk/sign-in-button.js`), as the RP integration guide
//! (docs/relying-parties.md) tells relying parties to.
//!
//! The landing page keeps plain HTML forms (`POST /login`, `POST /login/par`, `POST /login/verified`): without
//! JavaScript they work as before. This page script replaces each form by the button, whose
//! `prepare` callback posts the same form with `Accept: application/json`; the portal's back
//! end then starts the login exactly as for the form (PKCE verifier, state and nonce in the
//! server-side session; PAR and the DPoP key for the FAPI variant) and answers with the URL to
//! go to, instead of a redirect.

/// Where the page script is served (same origin, so `script-src 'self'` covers it).
pub(crate) const PAGE_SCRIPT_PATH: &str = "/sign-in.js";

/// The page script. It reads the provider's URL from the container's `data-provider`.
pub(crate) const PAGE_SCRIPT: &str = r#"const container = document.getElementById("esignet-sign-in");
if (container) {
  const provider = container.dataset.provider;
  import(`${provider}/sdk/sign-in-button.js`).then(({ renderSignInButton }) => {
    for (const form of container.querySelectorAll("form.sign-in")) {
      const slot = document.createElement("div");
      slot.className = "sign-in-button";
      // A resident who already tabbed to the plain form's button keeps focus on its replacement.
      const hadFocus = form.contains(document.activeElement);
      form.replaceWith(slot);
      const button = renderSignInButton(slot, {
        label: form.querySelector("button").textContent,
        language: document.documentElement.lang,
        prepare: async () => {
          const response = await fetch(form.action, {
            method: "POST",
            headers: { Accept: "application/json" },
            credentials: "same-origin",
          });
          const body = await response.json();
          if (!response.ok || !body.location) throw new Error(body.error ?? "sign-in failed");
          return body.location;
        },
      });
      if (hadFocus) button.focus();
    }
    container.dataset.ready = "true";
  }).catch(() => {
    // The provider's script could not be loaded: the plain forms stay in place.
    container.dataset.ready = "forms";
  });
}
"#;
