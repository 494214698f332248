// report.html's script: seek the video from the timeline, the rep cards and the charts; draw the playheads.
// A file of its own so the page also works under a strict Content-Security-Policy (no inline script or style).
(function () {
  "use strict";
  var v = document.getElementById("video");
  // the charts' phone layout: the same media query the browser uses to pick the phone SVG
  var source = document.querySelector(".pwrap source");
  var narrow = source && window.matchMedia ? window.matchMedia(source.getAttribute("media")) : null;
  // timeline segments: positions (percent "left width") come as data, not style attributes, for the CSP
  [].forEach.call(document.querySelectorAll("[data-pos]"), function (el) {
    var p = el.getAttribute("data-pos").split(" ");
    el.style.left = p[0] + "%";
    el.style.width = p[1] + "%";
  });
  function geom(pw) {  // where the chart's axes are in the image shown now (the phone layout differs)
    var box = pw.getAttribute(narrow && narrow.matches ? "data-nbox" : "data-box").split(" ").map(Number);
    return {box: box, t0: +pw.getAttribute("data-t0"), t1: +pw.getAttribute("data-t1")};
  }
  function visible(el) {
    var r = el.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= (window.innerHeight || document.documentElement.clientHeight);
  }
  function seek(t, play) {
    if (!v || !isFinite(t)) return;
    v.currentTime = t;
    if (play) { var p = v.play(); if (p && p.catch) p.catch(function () {}); } else { v.pause(); }
    if (!visible(v)) v.scrollIntoView({behavior: "smooth", block: "center"});
  }
  document.addEventListener("click", function (e) {
    var el = e.target.closest("[data-seek]");
    if (el) {
      e.preventDefault();
      seek(parseFloat(el.getAttribute("data-seek")), el.getAttribute("data-play") === "1");
      return;
    }
    var tl = e.target.closest(".timeline");
    if (tl && v) {
      var r = tl.getBoundingClientRect();
      seek(parseFloat(tl.getAttribute("data-t1")) * (e.clientX - r.left) / r.width, false);
      return;
    }
    var pw = e.target.closest(".pwrap");
    if (pw && v) {
      var g = geom(pw), b = pw.getBoundingClientRect(), fx = (e.clientX - b.left) / b.width;
      var t = g.t0 + (fx - g.box[0]) / (g.box[2] - g.box[0]) * (g.t1 - g.t0);
      seek(Math.min(Math.max(t, g.t0), g.t1), false);
    }
  });
  if (!v) return;
  var segs = [].slice.call(document.querySelectorAll(".seg"));
  var tl = document.querySelector(".timeline");
  function update() {
    var t = v.currentTime;
    document.body.classList.add("playing");
    if (tl) tl.querySelector(".ph").style.left = (100 * t / parseFloat(tl.getAttribute("data-t1"))) + "%";
    [].forEach.call(document.querySelectorAll(".pwrap"), function (pw) {
      var g = geom(pw), ph = pw.querySelector(".ph");
      ph.style.left = (100 * (g.box[0] + (t - g.t0) / (g.t1 - g.t0) * (g.box[2] - g.box[0]))) + "%";
      ph.style.top = (100 * (1 - g.box[3])) + "%";
      ph.style.height = (100 * (g.box[3] - g.box[1])) + "%";
    });
    segs.forEach(function (s) {
      s.classList.toggle("on", t >= +s.getAttribute("data-seek") - 1e-3 && t <= +s.getAttribute("data-end"));
    });
  }
  v.addEventListener("timeupdate", update);
  v.addEventListener("seeked", update);
  v.addEventListener("error", function () { var e = document.querySelector(".verr"); if (e) e.hidden = false; });
})();
