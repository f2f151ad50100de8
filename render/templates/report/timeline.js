// Draws the patient timelines of the validation report when they scroll into view (and all of
// them before printing), from the compressed data embedded in the page (render/report/timeline.py
// documents the layout). Text from the data is only ever set as text: nothing is parsed as markup.
(function () {
  "use strict";
  var WIDTH = 1080, LABEL = 150, RIGHT = 24, LANE = 18, TOP = 26;
  var NS = "http://www.w3.org/2000/svg";
  var COLOR = { o: "#2e7d32", e: "#e65100", m: "#c62828", n: "#9e9e9e", t: "#757575" };
  var STOP = "#c62828", OTHER_STOP = "#9e9e9e", UNPLANNED = "#6a1b9a", WINDOW = "#e3ecf7";

  function el(name, attrs, parent, title) {
    var node = document.createElementNS(NS, name);
    for (var k in attrs) node.setAttribute(k, attrs[k]);
    if (title) {
      var t = document.createElementNS(NS, "title");
      t.textContent = title;
      node.appendChild(t);
    }
    if (parent) parent.appendChild(node);
    return node;
  }

  function clip(text, chars) {
    var n = Math.floor(chars);
    return text.length <= n ? text : text.slice(0, Math.max(n - 1, 1)) + "\u2026";
  }

  function draw(d, id) {
    var lo = d.lo, hi = d.hi, h = d.h;
    function x(day) {
      day = Math.min(Math.max(day, lo), hi);
      return Math.round((LABEL + (day - lo) / (hi - lo) * (WIDTH - LABEL - RIGHT)) * 10) / 10;
    }
    function y(i) { return TOP + i * LANE + LANE / 2; }
    var svg = el("svg", { width: WIDTH, height: h, viewBox: "0 0 " + WIDTH + " " + h, role: "img",
                          "aria-label": "Timeline of patient " + id });
    var lanes = d.lanes, nl = lanes.length, i;
    for (i = 0; i < nl; i++) {
      if (i % 2 === 0) el("rect", { x: 0, y: TOP + i * LANE, width: WIDTH, height: LANE, fill: "#fafafa" }, svg);
      el("text", { x: LABEL - 8, y: y(i) + 4, "text-anchor": "end", "class": "lane" }, svg).textContent = lanes[i];
    }
    if (d.ae) el("text", { x: LABEL - 8, y: y(nl) + 4, "text-anchor": "end", "class": "lane" }, svg).textContent = "adverse events";
    d.ticks.forEach(function (t) {
      el("line", { x1: x(t), y1: TOP - 4, x2: x(t), y2: h - 26, stroke: "#eee" }, svg);
      el("text", { x: x(t), y: h - 12, "text-anchor": "middle", "class": "tick" }, svg).textContent = "day " + (d.d1 && t >= 0 ? t + 1 : t);
    });
    el("line", { x1: x(0), y1: TOP - 10, x2: x(0), y2: h - 26, stroke: "#555" }, svg);
    el("text", { x: x(0) + 3, y: TOP - 12, "class": "mark" }, svg).textContent = d.anchor;
    if (lo <= d.cut && d.cut <= hi) {
      el("line", { x1: x(d.cut), y1: TOP - 10, x2: x(d.cut), y2: h - 26, stroke: "#777", "stroke-dasharray": "4 3" }, svg);
      el("text", { x: x(d.cut) - 3, y: TOP - 12, "text-anchor": "end", "class": "mark" }, svg).textContent = d.cutl;
    }
    d.m.forEach(function (m) {
      var kind = m[0], cy, px;
      if (kind === "b") {
        cy = y(m[1]);
        el("rect", { x: x(m[2]), y: cy - 3, width: Math.max(x(m[3] + 1) - x(m[2]), 1.5), height: 6, fill: "#a5d6a7" }, svg, m[4]);
      } else if (kind === "r") {
        cy = y(m[1]);
        if (m[3] !== null) {
          el("rect", { x: x(m[3]), y: cy - 6, width: Math.max(x(m[4] + 1) - x(m[3]), 2), height: 12, rx: 2, fill: WINDOW }, svg, m[6]);
        }
        if (m[5] === null) return;
        px = x(m[5]);
        if (m[2] === "m") {
          el("path", { d: "M" + (px - 4) + " " + (cy - 4) + " L" + (px + 4) + " " + (cy + 4) + " M" + (px - 4) + " " + (cy + 4) + " L" + (px + 4) + " " + (cy - 4),
                       stroke: COLOR.m, "stroke-width": 2 }, svg, m[6]);
        } else if (m[2] === "n") {
          el("circle", { cx: px, cy: cy, r: 3.5, fill: "white", stroke: COLOR.n }, svg, m[6]);
        } else {
          el("circle", { cx: px, cy: cy, r: 4, fill: COLOR[m[2]] }, svg, m[6]);
        }
      } else if (kind === "d") {
        cy = y(m[1]); px = x(m[3]);
        if (m[2] === "m") el("line", { x1: px, y1: cy - 6, x2: px, y2: cy + 6, stroke: COLOR.m, "stroke-width": 1.5 }, svg, m[4]);
        else el("circle", { cx: px, cy: cy, r: 3, fill: COLOR[m[2]] }, svg, m[4]);
      } else if (kind === "u") {
        cy = y(m[1]); px = x(m[2]);
        el("path", { d: "M" + px + " " + (cy - 5) + " L" + (px + 5) + " " + cy + " L" + px + " " + (cy + 5) + " L" + (px - 5) + " " + cy + " Z",
                     fill: UNPLANNED }, svg, m[3]);
      } else if (kind === "a") {
        cy = y(nl + m[1]);
        var x1 = x(m[2]), x2 = x(m[3] + 1);
        el("rect", { x: x1, y: cy - 5, width: Math.max(x2 - x1, 3), height: 10, rx: 2, fill: m[4] }, svg, m[6]);
        if (x2 - x1 > 40) el("text", { x: x1 + 3, y: cy + 3.5, "class": "bar" }, svg).textContent = clip(m[5], (x2 - x1) / 5.5);
      } else if (kind === "s") {
        px = x(m[1]);
        var attrs = { x1: px, y1: TOP, x2: px, y2: h - 26, stroke: m[2] === "stop" ? STOP : OTHER_STOP, "stroke-width": 1.5 };
        if (!m[3]) attrs["stroke-dasharray"] = "2 2";
        el("line", attrs, svg, m[4]);
      }
    });
    return svg;
  }

  function start() {
    var source = document.getElementById("timeline-data");
    var holders = Array.prototype.slice.call(document.querySelectorAll("div.tl[data-tl]"));
    if (!source || !holders.length) return;
    function say(text) { holders.forEach(function (hd) { hd.textContent = text; }); }
    if (typeof DecompressionStream === "undefined") {
      say("This browser cannot draw the timelines (it cannot read compressed data): open the report in a current Chrome, Edge, Firefox or Safari.");
      return;
    }
    var bytes = Uint8Array.from(atob(source.textContent.trim()), function (c) { return c.charCodeAt(0); });
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    new Response(stream).text().then(function (text) {
      var data = JSON.parse(text);
      function show(hd) {
        if (hd.getAttribute("data-drawn")) return;
        hd.setAttribute("data-drawn", "1");
        var d = data[+hd.getAttribute("data-tl")];
        hd.textContent = "";
        hd.appendChild(draw(d, hd.getAttribute("data-patient") || ""));
      }
      if ("IntersectionObserver" in window) {
        var seen = new IntersectionObserver(function (entries) {
          entries.forEach(function (e) { if (e.isIntersecting) { seen.unobserve(e.target); show(e.target); } });
        }, { rootMargin: "800px 0px" });
        holders.forEach(function (hd) { seen.observe(hd); });
      } else {
        holders.forEach(show);
      }
      window.addEventListener("beforeprint", function () { holders.forEach(show); });
    }, function () { say("The timeline data could not be read."); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
