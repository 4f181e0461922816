// Bangkok Transcripts, issuer pages: the issuance progress bar and confirmations.
"use strict";

function pollProgress(box) {
  const bar = document.getElementById("bar");
  const done = document.getElementById("done");
  const state = document.getElementById("state");
  const error = document.getElementById("job-error");
  const download = document.getElementById("download");
  const label = document.getElementById("status-label");
  const tick = async () => {
    let data;
    try {
      const response = await fetch(box.dataset.url, {
        headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      data = await response.json();
    } catch (e) {
      setTimeout(tick, 5000);
      return;
    }
    bar.max = data.total || 1;
    bar.value = data.done;
    done.textContent = data.done;
    if (label) {
      label.textContent = data.status_label;
      label.className = "status s-" + data.status;
    }
    if (data.issued > 0 && download) download.hidden = false;
    if (data.error) {
      error.textContent = data.error;
      error.hidden = false;
    }
    if (data.finished) {
      state.textContent = "✓";
      window.location.reload();
      return;
    }
    if (data.running) {
      sawRunning = true;
      setTimeout(tick, 1000);
    } else if (sawRunning) {
      window.location.reload();  // stopped without finishing: the page offers to resume
    }
  };
  let sawRunning = false;
  tick();
}

document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("progress");
  if (box && box.dataset.running === "1") pollProgress(box);
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
});
