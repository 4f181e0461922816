/* The verifier page: reads the credential from the URL fragment (never sent to a
   server by the browser), posts it to the JSON API and shows the verdict. No
   third-party code; DOM built with textContent only. */
"use strict";
(function () {
  var API = "/api/v1/verify";
  var RESULTS = {
    VALID: ["เอกสารถูกต้อง", "Valid: issued by the BMA and unchanged", "ok"],
    INVALID: ["เอกสารไม่ถูกต้อง อาจถูกแก้ไขหรือปลอมแปลง", "Invalid: altered or forged", "bad"],
    REVOKED: ["เอกสารถูกเพิกถอนแล้ว", "Revoked by the issuing institution", "bad"],
    SUPERSEDED: ["มีเอกสารฉบับแก้ไขที่ใหม่กว่า", "Superseded: a newer version exists", "warn"],
    UNTRUSTED: ["ผู้ออกเอกสารไม่ได้รับการรับรอง", "Untrusted: not from a BMA-certified issuer", "bad"],
    INDETERMINATE: ["ยังยืนยันผลไม่ได้ในขณะนี้", "Cannot be confirmed right now", "warn"]
  };
  var STATUS = {pass: "✓", fail: "✗", warn: "!", indeterminate: "?", skipped: "–"};

  function $(id) { return document.getElementById(id); }
  function show(el, on) { el.hidden = !on; }

  function row(list, th, en, value, valueEn) {
    if (!value) { return; }
    var dt = document.createElement("dt");
    dt.textContent = th + " · ";
    var small = document.createElement("span");
    small.lang = "en"; small.className = "en"; small.textContent = en;
    dt.appendChild(small);
    var dd = document.createElement("dd");
    dd.textContent = value;
    if (valueEn && valueEn !== value) {
      var e = document.createElement("span");
      e.lang = "en"; e.className = "en"; e.textContent = valueEn;
      dd.appendChild(document.createElement("br"));
      dd.appendChild(e);
    }
    list.appendChild(dt); list.appendChild(dd);
  }

  function render(verdict) {
    var label = RESULTS[verdict.result] || [verdict.result, verdict.result, "warn"];
    $("result").className = "result " + label[2];
    $("result-th").textContent = label[0];
    $("result-en").textContent = label[1];
    var d = verdict.data || {};
    var data = $("data");
    data.textContent = "";
    var inst = d.institution || {}, student = d.student || {}, prog = d.programme || {};
    row(data, "ชื่อ-สกุล", "Name", student.name_th, student.name_en);
    row(data, "สถานศึกษา", "Institution",
        inst.name_th || inst.name_en || inst.code,
        [inst.name_th ? inst.name_en : "", inst.code ? "(" + inst.code + ")" : ""]
          .join(" ").trim());
    row(data, "หลักสูตร", "Programme", prog.name_th || prog.code,
        prog.name_en ? prog.name_en + " (" + prog.code + ")" : "");
    row(data, "ผลการเรียนเฉลี่ยสะสม", "Cumulative GPA", d.gpa, "");
    row(data, "วันที่สำเร็จการศึกษา", "Graduation date", d.graduation_date_th,
        d.graduation_date_en);
    row(data, "เลขที่เอกสาร", "Transcript no.",
        d.transcript_id ? d.transcript_id + " ฉบับที่ " + d.version : "",
        d.transcript_id ? "version " + d.version : "");
    row(data, "วันที่ออกเอกสาร", "Issued", d.issued_date_th, d.issued_date_en);
    show($("compare"), Boolean(d.transcript_id));
    show(data, data.childNodes.length > 0);
    var checks = $("checks");
    checks.textContent = "";
    (verdict.checks || []).forEach(function (c) {
      var li = document.createElement("li");
      li.className = "check " + c.status;
      li.dataset.check = c.id;
      var mark = document.createElement("span");
      mark.className = "mark"; mark.textContent = STATUS[c.status] || "?";
      mark.title = c.status;
      var th = document.createElement("span"); th.textContent = c.message_th;
      var en = document.createElement("span");
      en.className = "en"; en.lang = "en"; en.textContent = c.message_en;
      li.appendChild(mark); li.appendChild(th); li.appendChild(en);
      checks.appendChild(li);
    });
    $("details").open = verdict.result !== "VALID";
    show($("verdict"), true);
  }

  function fail(body) {
    var el = $("error");
    el.textContent = body && body.message_th
      ? body.message_th + " · " + body.message_en
      : "ติดต่อระบบตรวจสอบไม่ได้ · The verifier could not be reached";
    show(el, true);
  }

  function send(init) {
    show($("busy"), true); show($("error"), false); show($("verdict"), false);
    init.method = "POST";
    init.credentials = "same-origin";
    init.referrerPolicy = "no-referrer";
    init.cache = "no-store";
    return fetch(API, init).then(function (response) {
      return response.json().then(function (body) {
        if (response.ok && body.result) { render(body); } else { fail(body); }
      });
    }).catch(function () { fail(null); }).then(function () { show($("busy"), false); });
  }

  function verifyCredential(text) {
    return send({headers: {"Content-Type": "application/json"},
                 body: JSON.stringify({credential: text})});
  }

  function fromHash() {
    var raw = window.location.hash.slice(1);
    if (!raw) { return; }
    try { raw = decodeURIComponent(raw); } catch (e) { /* keep as is */ }
    verifyCredential(raw);
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("paste-form").addEventListener("submit", function (event) {
      event.preventDefault();
      verifyCredential($("credential").value.trim());
    });
    $("upload-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var file = $("upload").files[0];
      if (!file) { return; }
      var pdf = file.type === "application/pdf" || /\.pdf$/i.test(file.name);
      var form = new FormData();
      form.append(pdf ? "file" : "image", file);
      send({body: form});
    });
    window.addEventListener("hashchange", fromHash);
    fromHash();
  });
})();
