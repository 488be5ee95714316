// The status pages (/error, /something-went-wrong, /network-error, not found): the shared
// language switcher, and Retry on /network-error, which returns to the page that lost the
// connection.

import { $ } from "./common.js";

const retry = $("retry");
if (retry) {
  retry.addEventListener("click", () => {
    const url = sessionStorage.getItem("retryUrl");
    sessionStorage.removeItem("retryUrl");
    // Only a page of this site: the stored URL is ours, but storage is not a trust boundary.
    if (url && new URL(url, location.href).origin === location.origin) location.replace(url);
    else history.back();
  });
}
