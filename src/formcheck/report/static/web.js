// The web app's script (formcheck serve): upload with a progress bar, live analysis progress (Server-Sent Events),
// cancel and delete. A file of its own, behaviours keyed by ids and data attributes: the pages carry no inline
// script or handler, so the server's Content-Security-Policy (script-src 'self') holds.
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }
  function show(el, text) { if (el) { el.textContent = text; el.hidden = false; } }
  function mb(n) { return (n / 1048576).toFixed(1) + " MB"; }
  function clock(s) {
    if (s === null || s === undefined || !isFinite(s)) return "–";
    s = Math.round(s);
    return s >= 60 ? Math.floor(s / 60) + " min " + (s % 60) + " s" : s + " s";
  }
  function errorOf(xhrText, status) {
    try { var j = JSON.parse(xhrText); if (j && j.error) return j.error; } catch (e) { /* not JSON */ }
    return "the server answered " + status + "; try again";
  }

  // ---- upload
  var form = $("upload-form");
  if (form) {
    var input = $("file"), drop = $("drop"), picked = $("picked"), err = $("uperr");
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10);
    function pickedName() { picked.textContent = input.files.length ? input.files[0].name + " (" + mb(input.files[0].size) + ")" : ""; }
    input.addEventListener("change", function () { err.hidden = true; pickedName(); });
    ["dragenter", "dragover"].forEach(function (t) {
      drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (t) {
      drop.addEventListener(t, function () { drop.classList.remove("over"); });
    });
    drop.addEventListener("drop", function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; pickedName(); }
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      err.hidden = true;
      if (!input.files.length) { show(err, "choose a video first"); return; }
      var f = input.files[0];
      if (maxBytes && f.size > maxBytes) {
        show(err, "the upload is bigger than this server's limit of " + Math.floor(maxBytes / 1048576) +
             " MB; trim the clip or start the server with a larger --max-upload-mb");
        return;
      }
      var xhr = new XMLHttpRequest(), bar = $("upbar"), text = $("uptext"), go = $("go");
      $("upprog").hidden = false;
      go.disabled = true;
      xhr.upload.addEventListener("progress", function (ev) {
        if (ev.lengthComputable) {
          bar.value = 100 * ev.loaded / ev.total;
          text.textContent = "Uploading… " + mb(ev.loaded) + " of " + mb(ev.total);
        }
      });
      xhr.upload.addEventListener("load", function () { text.textContent = "Uploaded; checking the video…"; });
      xhr.addEventListener("load", function () {
        if (xhr.status === 202) {
          var j = JSON.parse(xhr.responseText);
          window.location.assign("/sets/" + encodeURIComponent(j.id));
          return;
        }
        go.disabled = false;
        $("upprog").hidden = true;
        show(err, errorOf(xhr.responseText, xhr.status));
      });
      xhr.addEventListener("error", function () {
        go.disabled = false;
        $("upprog").hidden = true;
        show(err, "the upload did not reach the server; check the connection and try again");
      });
      xhr.open("POST", form.getAttribute("action"));
      xhr.send(new FormData(form));
    });
  }

  // ---- a job under way: live progress
  var job = $("job");
  if (job && window.EventSource) {
    var es = new EventSource(job.getAttribute("data-events"));
    es.addEventListener("state", function (ev) {
      var s = JSON.parse(ev.data), p = s.progress;
      $("status").textContent = s.state;
      job.setAttribute("data-status", s.status);
      if (p && p.frames_total) {
        $("jobbar").value = 100 * p.frames_done / p.frames_total;
        $("frames").textContent = p.frames_done + " / " + p.frames_total;
        $("fps").textContent = p.fps ? p.fps.toFixed(1) + " frames/s" : "–";
        $("eta").textContent = clock(p.eta_s);
      }
      if (s.status === "done" || s.status === "failed") { es.close(); window.location.reload(); }
    });
    es.addEventListener("gone", function () { es.close(); window.location.assign("/"); });
  }
  var cancel = $("cancel");
  if (cancel) {
    cancel.addEventListener("click", function () {
      cancel.disabled = true;
      fetch(cancel.getAttribute("data-cancel"), {method: "DELETE"}).then(function (r) {
        if (r.ok) { window.location.assign("/"); return; }
        return r.json().then(function (j) { cancel.disabled = false; show($("joberr"), j.error); });
      });
    });
  }

  // ---- delete a set (history rows, a set's page)
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-delete]");
    if (!b) return;
    if (!window.confirm("Delete this set and its files?")) return;
    b.disabled = true;
    fetch(b.getAttribute("data-delete"), {method: "DELETE"}).then(function (r) {
      if (!r.ok) { b.disabled = false; return; }
      var row = b.getAttribute("data-row"), then = b.getAttribute("data-then");
      if (row && $(row)) { $(row).remove(); }
      if (then) window.location.assign(then);
    });
  });
})();
