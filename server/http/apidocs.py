"""The API documentation page (``/fhir/docs``): one self-contained HTML page, nothing from the internet.

Its script fetches ``openapi.json`` beside it and lists, per resource type, the paths, methods,
parameters, bodies and answers; a filter box narrows the list. Text is set with
``textContent`` only, so nothing in the description is read as markup.
"""

from __future__ import annotations

SCRIPT = r"""
(function () {
  "use strict";
  var out = document.getElementById("api"), filter = document.getElementById("filter"), status = document.getElementById("status");
  function el(tag, text, cls) { var e = document.createElement(tag); if (text) e.textContent = text; if (cls) e.className = cls; return e; }
  function resolve(doc, o) { if (o && o.$ref) { var p = o.$ref.replace("#/", "").split("/"), v = doc; p.forEach(function (k) { v = v[k]; }); return v; } return o; }
  function render(doc) {
    var groups = {};
    Object.keys(doc.paths).forEach(function (path) {
      var item = doc.paths[path];
      ["get", "post", "put", "patch", "delete"].forEach(function (m) {
        var op = item[m]; if (!op) return;
        var tag = (op.tags || ["other"])[0];
        (groups[tag] = groups[tag] || []).push({ path: path, method: m, op: op, shared: item.parameters || [] });
      });
    });
    var base = (doc.servers && doc.servers[0] && doc.servers[0].url) || "";
    status.textContent = doc.info.title + " " + doc.info.version + " · base " + base + " · " + Object.keys(doc.paths).length + " paths";
    Object.keys(groups).forEach(function (tag) {
      var sec = el("details", null, "group"); sec.dataset.key = tag.toLowerCase();
      sec.appendChild(el("summary", tag + " (" + groups[tag].length + ")"));
      groups[tag].forEach(function (e) {
        var d = el("details", null, "op"); d.dataset.key = (tag + " " + e.method + " " + e.path + " " + (e.op.summary || "")).toLowerCase();
        var s = el("summary"); s.appendChild(el("span", e.method.toUpperCase(), "m " + e.method)); s.appendChild(el("code", e.path)); s.appendChild(el("span", " " + (e.op.summary || ""), "sum"));
        d.appendChild(s);
        var params = e.shared.concat(e.op.parameters || []);
        if (params.length) {
          var t = el("table"), h = el("tr"); ["parameter", "in", "type", "description"].forEach(function (x) { h.appendChild(el("th", x)); }); t.appendChild(h);
          params.forEach(function (p) {
            var r = el("tr"), sch = p.schema || {};
            r.appendChild(el("td", p.name + (p.required ? " *" : ""))); r.appendChild(el("td", p.in));
            r.appendChild(el("td", (sch.type || "") + (sch.enum ? " (" + sch.enum.join(" | ") + ")" : ""))); r.appendChild(el("td", p.description || ""));
            t.appendChild(r);
          });
          d.appendChild(t);
        }
        if (e.op.requestBody) d.appendChild(el("p", "Body: " + Object.keys(e.op.requestBody.content).join(", ")));
        var codes = Object.keys(e.op.responses).map(function (c) { var r = resolve(doc, e.op.responses[c]); return c + (r && r.description && c >= "300" ? " " + r.description : ""); });
        d.appendChild(el("p", "Answers: " + codes.join("; ")));
        if (e.op.security && !e.op.security.length) d.appendChild(el("p", "Public: no token needed."));
        sec.appendChild(d);
      });
      out.appendChild(sec);
    });
    var schemes = doc.components.securitySchemes || {};
    Object.keys(schemes).forEach(function (k) { if (schemes[k].description) document.getElementById("auth").textContent = schemes[k].description; });
  }
  filter.addEventListener("input", function () {
    var q = filter.value.trim().toLowerCase();
    out.querySelectorAll("details.op").forEach(function (d) { d.style.display = !q || d.dataset.key.indexOf(q) >= 0 ? "" : "none"; });
    out.querySelectorAll("details.group").forEach(function (g) {
      var shown = g.querySelectorAll("details.op:not([style*='none'])").length; g.style.display = shown ? "" : "none"; if (q) g.open = shown > 0;
    });
  });
  fetch("openapi.json").then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
    .then(render).catch(function (err) { status.textContent = "Could not load openapi.json: " + err.message; });
})();
"""

PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Liên Thông FHIR API</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 70em; padding: 0 1em; color: #222; }}
code {{ font: 13px ui-monospace, monospace; }} table {{ border-collapse: collapse; margin: .4em 0 .4em 1.5em; }}
td, th {{ border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }} th {{ background: #f3f3f3; }}
details.group > summary {{ font-weight: bold; font-size: 1.1em; margin-top: .6em; cursor: pointer; }}
details.op {{ margin-left: 1.2em; }} details.op > summary {{ cursor: pointer; }} details.op p {{ margin: .2em 0 .2em 1.5em; }}
.m {{ display: inline-block; width: 4.5em; font-weight: bold; }} .get {{ color: #0a6; }} .post {{ color: #06c; }} .put {{ color: #a60; }}
.patch {{ color: #960; }} .delete {{ color: #c00; }} .sum {{ color: #555; }} #filter {{ width: 20em; padding: 3px; }}
</style></head><body>
<h1>Liên Thông FHIR R4 API</h1>
<p>The machine-readable description is <a href="openapi.json">openapi.json</a> (OpenAPI 3.0), generated from the
<a href="metadata">CapabilityStatement</a>. Every path below needs a bearer token except the public ones. <span id="auth"></span></p>
<p><input id="filter" type="search" placeholder="filter: type, method or path" aria-label="filter"> <span id="status">Loading…</span></p>
<div id="api"></div>
<script>{SCRIPT}</script>
</body></html>
"""
