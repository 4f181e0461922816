// Bangkok Transcripts, issuer pages: the issuance and upload progress, confirmations.
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

function pollUpload(box) {
  const rows = document.getElementById("rows");
  const tick = async () => {
    try {
      const response = await fetch(box.dataset.url, {
        headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      const data = await response.json();
      rows.textContent = data.rows_read.toLocaleString();
      if (data.finished) {
        window.location.reload();  // the batch, the errors, or what went wrong
        return;
      }
    } catch (e) {
      setTimeout(tick, 5000);
      return;
    }
    setTimeout(tick, 1000);
  };
  tick();
}

document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("progress");
  if (box && box.dataset.running === "1") pollProgress(box);
  const upload = document.getElementById("upload-progress");
  if (upload) pollUpload(upload);
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
});
