// The landing and something-went-wrong pages: keep the incoming fragment on the links, show
// the HTTP status that led here.

import { $, config, t } from "./signup.js";

for (const id of ["go-register", "go-reset", "go-home"]) {
  const link = $(id);
  if (link && location.hash) link.setAttribute("href", link.getAttribute("href") + location.hash);
}
const status = new URLSearchParams(location.search).get("status");
if ($("wrong-status") && status && /^\d{3}$/.test(status)) {
  $("wrong-status").textContent = t("js.common.http_status", { status });
}
document.documentElement.dataset.ready = config.lang;
