/* The verifier page's one job that needs a script: a QR opens /v#<credential>, and the
   fragment is never sent to a server. Take it out of the address bar (and history),
   then post it through the page's own form, so it travels in a request body, never in
   a URL. The server renders the verdict; without this script the forms work alone. */
"use strict";
(function () {
  function $(id) { return document.getElementById(id); }
  function busy() { $("busy").hidden = false; }

  function fromHash() {
    var raw = window.location.hash.slice(1);
    if (!raw) { return; }
    try { raw = decodeURIComponent(raw); } catch (e) { /* keep as is */ }
    window.history.replaceState(null, "", window.location.pathname);
    $("credential").value = raw;
    busy();
    $("paste-form").submit();
  }

  // A verdict page: screen readers start at the verdict's heading; printing shows the
  // checks unfolded (browsers without ::details-content).
  function showVerdict() {
    var heading = $("result-th");
    if (heading) { heading.focus(); }
    var details = $("details");
    if (details) {
      var was = details.open;
      window.addEventListener("beforeprint", function () { details.open = true; });
      window.addEventListener("afterprint", function () { details.open = was; });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    showVerdict();
    $("paste-form").addEventListener("submit", busy);
    $("upload-form").addEventListener("submit", busy);
    window.addEventListener("hashchange", fromHash);
    fromHash();
  });
})();
