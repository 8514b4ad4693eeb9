/* Crossings map: builds markers, popups, legend, time control, search and panels
 * from the JSON data the page carries. Every text is set with textContent or as an
 * attribute value, never parsed as HTML, so no text from the store can run. */
"use strict";
var crossingsMap = (function () {
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }
  function link(name, url) {
    // Only a web address becomes a link, whatever the store holds: javascript: would run.
    if (!url || !/^https?:\/\/[^\s]+$/i.test(url)) return el("span", { text: name });
    return el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: name });
  }
  function fold(text) {
    return String(text).normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
  }
  function parseDay(iso) { var p = iso.split("-"); return Date.UTC(+p[0], +p[1] - 1, +p[2]) / 86400000; }
  function isoDay(day) { return new Date(day * 86400000).toISOString().slice(0, 10); }
  // A month or a year on, the day of the month kept where the month has it (31 Jan + 1 month: 28 Feb).
  function addMonths(day, months) {
    var d = new Date(day * 86400000), y = d.getUTCFullYear(), m = d.getUTCMonth() + months;
    var last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
    return Date.UTC(y, m, Math.min(d.getUTCDate(), last)) / 86400000;
  }
  // What a person typed, read as a day: YYYY-MM-DD (or / or . between), else why not.
  function readDay(text) {
    var value = String(text).trim(), m = /^(\d{4})[-\/.](\d{1,2})[-\/.](\d{1,2})$/.exec(value);
    if (m) {
      var day = Date.UTC(+m[1], +m[2] - 1, +m[3]) / 86400000;
      if (isoDay(day) !== m[1] + "-" + ("0" + m[2]).slice(-2) + "-" + ("0" + m[3]).slice(-2))
        return { error: value + " is not a day of the calendar" };
      return { day: day };
    }
    var other = /^(\d{1,2})[-\/.](\d{1,2})[-\/.](\d{4})$/.exec(value);
    if (other) {
      var a = other[3] + "-" + ("0" + other[1]).slice(-2) + "-" + ("0" + other[2]).slice(-2);
      var b = other[3] + "-" + ("0" + other[2]).slice(-2) + "-" + ("0" + other[1]).slice(-2);
      return { error: value + (a === b ? " is " + a : " could be " + a + " or " + b) + ": write the day as YYYY-MM-DD" };
    }
    return { error: "write the day as YYYY-MM-DD, e.g. 2021-06-01" };
  }

  // The page's state in its address, so a link reopens the same map:
  // #date=2021-06-01&crossing=quanhe-wonjong&view=40.1,124.4,10
  // Any address may come in a link: a part that cannot be read (a malformed escape) is left
  // out and the rest applied; keys are kept apart from the object's own properties.
  function readHash() {
    var found = Object.create(null);
    location.hash.replace(/^#/, "").split("&").forEach(function (part) {
      var pair = part.split("=");
      if (pair.length !== 2) return;
      try { found[decodeURIComponent(pair[0])] = decodeURIComponent(pair[1]); } catch (e) { /* left out */ }
    });
    return found;
  }
  function own(object, key) { return Object.prototype.hasOwnProperty.call(object, key); }

  // The shipped base layer under the tiles (z-index 150 < 200): with no network the map still
  // shows the land, the sea, the rivers' names and where the border runs. The land comes in two
  // levels of detail: the region at a few kilometres, and near the border at some tens of metres.
  var DETAIL_ZOOM = 9;
  function baseStyle(feature) {
    return feature.properties.kind === "border"
      ? { color: "#b2182b", weight: 2, dashArray: "8 4", className: "xing-boundary" }
      : { stroke: false, fillColor: "#f2efe9", fillOpacity: 1 };
  }
  function miniStyle(feature) {
    return feature.properties.kind === "border" ? { color: "#b2182b", weight: 1 } : baseStyle(feature);
  }
  function baseLayer(basemap, kinds, pane, style) {
    return L.geoJSON({ type: "FeatureCollection", features: basemap.features.filter(function (f) {
      return kinds.indexOf(f.properties.kind) !== -1;
    }) }, { pane: pane, interactive: false, attribution: basemap.attribution, style: style || baseStyle,
            renderer: L.svg({ pane: pane }),  // a few shapes: SVG, whatever the map prefers
            pointToLayer: function (feature, latlng) {
              var p = feature.properties;
              var label = el("div", { className: "xing-river-label" }, [
                el("span", { text: p.name_en + " " }), el("span", { lang: "zh", text: p.name_zh + " " }),
                el("span", { lang: "ko", text: p.name_ko })]);
              return L.marker(latlng, { pane: pane, interactive: false, keyboard: false,
                                        icon: L.divIcon({ html: label, className: "", iconSize: null }) });
            } });
  }
  function drawBasemap(map, basemap, minimapName) {
    map.createPane("xing-base").style.zIndex = 150;
    var overview = baseLayer(basemap, ["land-overview"], "xing-base").addTo(map);
    var detail = baseLayer(basemap, ["land"], "xing-base");
    baseLayer(basemap, ["border", "river"], "xing-base").addTo(map);
    function level() {
      if (!detail.getLayers().length) return;  // a crossing's page: one layer, detailed near it
      var near = map.getZoom() >= DETAIL_ZOOM;
      if (near && !map.hasLayer(detail)) { detail.addTo(map); overview.remove(); }
      if (!near && !map.hasLayer(overview)) { overview.addTo(map); detail.remove(); }
    }
    map.on("zoomend", level);
    level();
    // The region's land is all the map holds: no zooming out to where it ends.
    var region = overview.getBounds();
    if (region.isValid()) map.setMinZoom(map.getSize().x < 640 ? 5 : 6);
    // The mini-map shows the same land, not tiles that need the network.
    var minimap = minimapName && window[minimapName];
    if (minimap && minimap.changeLayer) minimap.changeLayer(baseLayer(basemap, ["land-overview", "border"], "overlayPane", miniStyle));
  }

  function init(config, refs) {
    var data = JSON.parse(document.getElementById(config.dataId).textContent);
    var linked = readHash();  // read first: drawing the map writes the address
    document.documentElement.lang = "en";  // the page's words; names in Chinese and Korean say theirs
    var map = window[config.map];
    // Phones: controls fold away, the legend is a toggle, the side panel goes below the map.
    var narrow = window.innerWidth < 640;
    if (narrow && refs && refs.layerControl) {
      refs.layerControl.remove();
      refs.layerControl.options.collapsed = true;
      refs.layerControl.addTo(map);
    }
    if (config.hidden && window[config.hidden]) map.removeLayer(window[config.hidden]);
    var strings = data.strings;
    // The shipped base layer under the tiles (z-index 150 < 200): with no network the map
    // still shows the land, the coast and where the border runs.
    if (data.basemap) drawBasemap(map, data.basemap, config.minimap);
    var state = { day: parseDay(data.asOf) };
    var markers = {};

    // Rows come as lists; data.fields names their fields, and each is read by its name.
    function named(kind, row) {
      var fields = data.fields[kind], found = {};
      for (var i = 0; i < fields.length; i++) found[fields[i]] = row[i];
      return found;
    }
    function record(i) {
      var r = named("record", data.records[i]);
      function text(i) { return i < 0 ? null : strings[i]; }
      return { date: strings[r.date], kind: strings[r.kind], status: r.status, summary: strings[r.summary],
               source: strings[r.source], url: text(r.url), border: r.border === 1,
               id: r.id, start: r.start, mirror: r.mirror === 1, quote: text(r.quote),
               quoteEn: text(r.quoteEn), checked: r.checked, archive: text(r.archive), detail: text(r.detail) };
    }
    // The step of a timeline (status steps, or a structure's lifecycle) in force on a day.
    function stepOn(kind, steps, day) {
      var found = null;
      steps.forEach(function (row) { var step = named(kind, row); if (parseDay(step.since) <= day) found = step; });
      return found;
    }
    function statusOn(crossing, day) {
      var found = stepOn("step", crossing.timeline, day);
      if (!found || found.status === null) return { status: null };
      // The evidence shown is the record of the run a reader can check best (see geo.status).
      var shown = found.evidence === null ? found.record : found.evidence;
      var age = day - parseDay(record(shown).start);
      return { status: found.status, record: found.record, evidence: shown, supporting: found.supporting,
               conflict: found.conflict, text: strings[found.text],
               since: found.runRecord === null ? found.runSince : record(found.runRecord).date, age: age,
               uncertain: age > data.staleAfterDays };
    }
    // A status the map has no colour for (a destroyed structure's lifecycle) is drawn as none.
    function colour(status) { return data.colours[status === null ? "" : status] || data.colours[""]; }
    function label(status) { return data.labels[status === null ? "" : status] || status; }
    // "(mirror)" beside a link that is a copy of the original, unless its name already says so.
    function mirrorNote(r) {
      if (!r.mirror || /mirror/i.test(r.source)) return null;
      return el("span", { className: "mirror", text: " (mirror)" });
    }
    function ageText(days) {
      if (days < 60) return days + " days";
      if (days < 730) return Math.round(days / 30.44) + " months";
      return (days / 365.25).toFixed(1) + " years";
    }

    // A point known only to within more than this is drawn as approximate, with its circle.
    var APPROXIMATE_M = 1000;
    function approximate(crossing) { return crossing.precision !== null && crossing.precision > APPROXIMATE_M; }
    function distanceText(metres) { return metres >= 1000 ? (metres / 1000) + " km" : metres + " m"; }

    // A mark inside each marker says the status without colour (for colour-blind readers):
    // open has none, the others a sign of their own; the legend shows the same.
    var GLYPHS = { "restricted": "–", "closed": "×", "unknown": "?", "planned": "P",
                   "under_construction": "C", "built_not_opened": "B", "": "·" };
    function glyph(status) { return GLYPHS[status === null ? "" : status] || ""; }

    // What a screen reader says of a marker: "Friendship Bridge: open since 2026-03-12".
    function markerName(crossing, now) {
      if (now.status === null) return crossing.name_en + ": status unknown on " + isoDay(state.day);
      return crossing.name_en + ": " + now.text + " since " + now.since + (now.uncertain ? " (uncertain: old evidence)" : "");
    }
    function setIcon(marker, offset) {
      var now = statusOn(marker.crossing, state.day);
      marker.setIcon(icon(marker.crossing, now, offset));
      var element = marker.getElement();
      if (element) element.setAttribute("aria-label", markerName(marker.crossing, now));
    }
    function icon(crossing, now, offset) {
      var shape = { "road": "xing-road", "rail": "xing-rail", "road+rail": "xing-roadrail" }[crossing.mode] || "xing-unknown";
      var size = crossing.mode === "road+rail" ? 16 : 18;
      offset = offset || [0, 0];
      var span = el("div", { className: "xing-icon " + shape + (now.uncertain ? " xing-uncertain" : "") +
                                        (approximate(crossing) ? " xing-approx" : "") });
      span.style.width = size + "px";
      span.style.height = size + "px";
      // Evidence over two years older than the day shown: a hollow marker in the status colour.
      if (now.uncertain) { span.style.background = "#fff"; span.style.borderColor = colour(now.status); }
      else span.style.background = colour(now.status);
      var mark = el("span", { className: "xing-glyph", text: glyph(now.status), "aria-hidden": "true" });
      if (now.uncertain) mark.style.color = colour(now.status);
      span.appendChild(mark);
      span.setAttribute("data-crossing", crossing.id);
      span.setAttribute("data-status", now.status === null ? "none" : now.status);
      span.setAttribute("data-uncertain", now.uncertain ? "true" : "false");
      // A marker moved off its point so that it can be tapped: anchors follow the move.
      return L.divIcon({ html: span, className: "", iconSize: [size, size],
                         iconAnchor: [size / 2 - offset[0], size / 2 - offset[1]],
                         popupAnchor: [0, -size / 2], tooltipAnchor: [size / 2, 0] });
    }

    // The history as of the day shown: the evidence marked, records after the day greyed.
    function historyList(crossing) {
      var list = el("ol", { className: "history" });
      var now = statusOn(crossing, state.day);
      var evidence = now.status === null ? null : record(now.evidence).id;
      crossing.history.forEach(function (row) {
        var entry = named("history", row), r = record(entry.record), role = strings[entry.role];
        var when = parseDay(r.start) > state.day ? "later" : (r.id === evidence ? "evidence" : "");
        var item = el("li", { "data-record": r.id, className: when }, [
          el("b", { text: r.date }),
          el("span", { text: " [" + r.kind + (r.status ? ": " + r.status.replace(/_/g, " ") : "") + "] " + r.summary + " — " }),
          link(r.source, r.url),
          mirrorNote(r),
          role ? el("span", { className: "role", text: " · " + role }) : null
        ]);
        list.appendChild(item);
      });
      if (!crossing.perYear.length) return list;
      // A long history: its newest records, how many there are a year, and how to list them all.
      var most = 1;
      crossing.perYear.forEach(function (pair) { most = Math.max(most, pair[1]); });
      var years = el("ul", { className: "per-year", "aria-label": "Records a year" });
      crossing.perYear.forEach(function (pair) {
        var bar = el("span", { className: "bar" });
        bar.style.width = Math.max(2, Math.round(60 * pair[1] / most)) + "px";
        years.appendChild(el("li", { title: pair[0] + ": " + count(pair[1]) + " records" }, [
          el("span", { className: "year", text: String(pair[0]) }), bar, el("span", { text: count(pair[1]) })
        ]));
      });
      return el("div", { className: "history-cut" }, [
        el("p", { className: "cut-note", text: "Listed: the newest " + count(crossing.historyShown) + " of the " +
          count(crossing.historyTotal) + " records of this crossing on its status and works, with its structures' " +
          "and the border's. Its records a year are below; every record: " }, [
          el("code", { text: "crossings show " + crossing.id + " --format csv" })
        ]),
        years,
        list
      ]);
    }

    function count(n) { return n.toLocaleString("en-US"); }
    // 1234 reads 1.2k, 56789 reads 57k: a count that fits a small disc.
    function shortCount(n) {
      if (n < 1000) return String(n);
      if (n < 1e6) return (n < 1e4 ? (n / 1e3).toFixed(1) : Math.round(n / 1e3)) + "k";
      return (n / 1e6).toFixed(1) + "M";
    }
    function cellIcon(n, className) {
      var size = Math.round(Math.min(22 + 6 * Math.log10(Math.max(n, 1)), 52));
      return L.divIcon({ html: el("span", { text: shortCount(n) }), className: className, iconSize: [size, size] });
    }

    // The status on the day, since when, and the record it rests on with its source and age.
    function statusLine(crossing) {
      var now = statusOn(crossing, state.day);
      var box = el("div", { className: "status" });
      var line = el("p", {}, [el("span", { text: "Status on " + isoDay(state.day) + ": " })]);
      box.appendChild(line);
      if (now.status === null) {
        line.appendChild(el("b", { text: "unknown" }));
        line.appendChild(el("span", { text: " — no record names this crossing by this day" }));
        return box;
      }
      var r = record(now.evidence);
      line.appendChild(el("b", { text: now.text }));
      line.appendChild(el("span", { text: " since " + now.since }));
      var more = now.supporting - 1;
      box.appendChild(el("p", { className: "evidence" }, [
        el("span", { text: "Evidence: " + r.id + " · " + r.date + " · " }),
        link(r.source, r.url),
        mirrorNote(r),
        el("span", { text: " · " + ageText(now.age) + " old" + (r.border ? " · border-wide record" : "") +
                           (more > 0 ? " · " + more + " more record" + (more > 1 ? "s agree" : " agrees") : "") })
      ]));
      box.appendChild(quoteBlock(r));
      if (now.uncertain)
        box.appendChild(el("p", { className: "uncertain", text: "Uncertain: the evidence is more than two years older than this day." }));
      if (now.conflict) box.appendChild(el("p", { className: "conflict", text: "Sources disagree on this date." }));
      return box;
    }

    // The source's own words under the evidence line, and why a source has no web address.
    function quoteBlock(r) {
      var box = el("div", { className: "quote" });
      if (r.quote) {
        box.appendChild(el("blockquote", { className: "words", text: r.quote }));
        if (r.quoteEn) box.appendChild(el("p", { className: "words-en", text: "In English: " + r.quoteEn }));
        box.appendChild(el("p", { className: "checked" }, [
          el("span", { text: r.checked ? "Checked against the source on " + r.checked : "Not checked against the source" }),
          r.archive ? el("span", { text: " · " }) : null,
          r.archive ? link("a copy", r.archive) : null
        ]));
      } else {
        box.appendChild(el("p", { className: "checked", text: "No quote: no copy of the source was read." }));
      }
      if (!r.url)
        box.appendChild(el("p", { className: "no-url", text: "No web address: " + (r.detail || "the record does not say why.") }));
      return box;
    }

    function lifecycleOn(structure, day) {
      var found = stepOn("lifecycle", structure.lifecycle, day);
      return found ? { lifecycle: found.lifecycle, record: record(found.record) } : null;
    }
    function structureList(crossing) {
      if (!crossing.structures.length) return null;
      var list = el("ul", { className: "structures" });
      crossing.structures.forEach(function (structure) {
        var now = lifecycleOn(structure, state.day);
        list.appendChild(el("li", { "data-structure": structure.id }, [
          el("b", { text: structure.name }),
          el("span", { text: " (" + structure.kind.replace(/_/g, " ") + "): " +
                             (now ? now.lifecycle.replace(/_/g, " ") + " — " + now.record.date + ", " + now.record.id
                                  : "no record gives its lifecycle") })
        ]));
      });
      return el("div", {}, [el("h5", { text: "Structures" }), list]);
    }

    function namesLine(crossing) {
      return el("div", { className: "names" }, [el("span", { lang: "zh", text: crossing.name_zh }), el("span", { text: " · " }),
                                                el("span", { lang: "ko", text: crossing.name_ko })]);
    }
    function pageLink(id, text) {
      var target = (id === null ? "index" : encodeURIComponent(id)) + ".html#date=" + isoDay(state.day) +
                   (id === null && data.crossings.length === 1 ? "&crossing=" + encodeURIComponent(data.crossings[0].id) : "");
      return el("a", { href: target, className: "page-link", text: text });
    }
    function popup(crossing) {
      var onOverview = data.crossings.length > 1;
      return el("div", { className: "xing-popup" }, [
        el("h4", { text: crossing.name_en }),
        namesLine(crossing),
        // What a reader opens a popup for first: the status, its evidence and the source's words.
        statusLine(crossing),
        onOverview ? el("div", {}, [pageLink(crossing.id, "Open this crossing's page →")]) : null,
        el("div", { text: "China: " + crossing.cn }),
        el("div", { text: "DPRK: " + crossing.kp }),
        el("div", { text: "River: " + crossing.river + " · Mode: " + crossing.mode }),
        approximate(crossing)
          ? el("div", { className: "approx", text: "Approximate: ±" + distanceText(crossing.precision) + " (" + crossing.note + ")" })
          : null,
        el("div", { text: "Point: " + crossing.point }),
        structureList(crossing),
        historyList(crossing)
      ]);
    }

    // Crossings.
    var crossingLayer = window[config.crossings];
    data.crossings.forEach(function (crossing) {
      if (crossing.lat === null) return;
      if (approximate(crossing))
        L.circle([crossing.lat, crossing.lon], { radius: crossing.precision, color: "#555", weight: 1, dashArray: "3 5",
                                                 fill: true, fillOpacity: 0.05, interactive: false }).addTo(crossingLayer);
      var marker = L.marker([crossing.lat, crossing.lon], { icon: icon(crossing, statusOn(crossing, state.day)), zIndexOffset: 1000,
                                                          title: crossing.name_en });
      // An element, not a string: Leaflet would read a string as HTML.
      marker.bindTooltip(el("span", { text: crossing.name_en + " · " + crossing.name_zh + " · " + crossing.name_ko }));
      // Never wider than the screen: phones are 360-430 px wide.
      marker.bindPopup(function (layer) { return roomFor(layer.getPopup(), popup(crossing)); },
                       { maxWidth: Math.min(400, window.innerWidth - 50), autoPanPadding: [10, 10] });
      marker.crossing = crossing;
      marker.offset = [0, 0];
      // A tap opens the popup, and the tooltip (the names, which the popup also gives) closes.
      marker.on("popupopen", function () { marker.closeTooltip(); });
      marker.addTo(crossingLayer);
      marker.getElement().setAttribute("aria-label", markerName(crossing, statusOn(crossing, state.day)));
      markers[crossing.id] = marker;
    });

    // The first view holds every crossing on any screen: the room kept for the controls
    // shrinks with the screen (a fixed margin wider than a phone would zoom in to nothing).
    var located = data.crossings.filter(function (c) { return c.lat !== null; });
    // The first view also keeps every marker clear of the controls (the legend, the search):
    // of a few ways to leave them room, the first that hides no marker, else the one that hides fewest.
    function controlBoxes() {
      var outer = map.getContainer().getBoundingClientRect();
      return Array.prototype.map.call(map.getContainer().querySelectorAll(".leaflet-control"), function (node) {
        var r = node.getBoundingClientRect();
        return { left: r.left - outer.left, top: r.top - outer.top, right: r.right - outer.left, bottom: r.bottom - outer.top };
      });
    }
    function hiddenMarkers() {
      var boxes = controlBoxes(), reach = 12;
      return located.filter(function (c) {
        var p = map.latLngToContainerPoint([c.lat, c.lon]);
        return boxes.some(function (b) { return p.x > b.left - reach && p.x < b.right + reach && p.y > b.top - reach && p.y < b.bottom + reach; });
      }).length;
    }
    function fitFirstView() {
      var width = map.getSize().x, height = map.getSize().y, boxes = controlBoxes();
      var side = function (test, size) { return boxes.filter(test).reduce(function (most, b) { return Math.max(most, size(b)); }, 0) + 12; };
      var leftW = side(function (b) { return b.left < width / 2; }, function (b) { return b.right; });
      var rightW = side(function (b) { return b.left >= width / 2; }, function (b) { return width - b.left; });
      var bottomH = side(function (b) { return b.top >= height / 2; }, function (b) { return height - b.top; });
      var topH = side(function (b) { return b.top < height / 2; }, function (b) { return b.bottom; });
      var ways = [
        [[Math.min(270, width * 0.2), Math.min(60, height * 0.08)], [Math.min(240, width * 0.1), Math.min(40, height * 0.05)]],
        [[Math.min(leftW, width * 0.4), 20], [Math.min(rightW, width * 0.4), 20]],
        [[20, Math.min(topH, height * 0.4)], [20, Math.min(bottomH, height * 0.4)]],
        [[Math.min(leftW, width * 0.4), Math.min(topH, height * 0.4)], [Math.min(rightW, width * 0.4), Math.min(bottomH, height * 0.4)]]
      ];
      if (narrow) ways.unshift(ways.splice(2, 1)[0]);  // a phone has room above and below, not beside
      map.options.zoomSnap = 0.25;  // the border fills the screen, not the zoom level below it
      var bounds = L.latLngBounds(located.map(function (c) { return [c.lat, c.lon]; })), best = null;
      for (var i = 0; i < ways.length; i++) {
        map.fitBounds(bounds, { paddingTopLeft: ways[i][0], paddingBottomRight: ways[i][1], maxZoom: 13, animate: false });
        var hidden = hiddenMarkers();
        if (hidden === 0) { map.options.zoomSnap = 1; return; }
        if (best === null || hidden < best.hidden) best = { hidden: hidden, way: ways[i] };
      }
      map.fitBounds(bounds, { paddingTopLeft: best.way[0], paddingBottomRight: best.way[1], maxZoom: 13, animate: false });
      map.options.zoomSnap = 1;
    }

    // Markers closer than a fingertip at this zoom are pushed apart, each with a line to its
    // true point, so that every crossing can be tapped (Friendship and New Yalu are 7 km apart).
    var TAP_PX = 28;
    var leaders = L.layerGroup().addTo(crossingLayer);
    // Each entry: a marker and how to draw it moved by an offset (crossings, and structures on a page).
    var spreadable = Object.keys(markers).map(function (id) {
      return { marker: markers[id], redraw: function (offset) { setIcon(markers[id], offset); } };
    });
    function spread() {
      var ids = spreadable.map(function (entry, n) { return n; });
      var entries = spreadable;
      var points = entries.map(function (entry) { return map.latLngToLayerPoint(entry.marker.getLatLng()); });
      var moved = points.map(function (p) { return [p.x, p.y]; });
      for (var round = 0; round < 12; round++) {
        var changed = false;
        for (var i = 0; i < moved.length; i++) {
          for (var j = i + 1; j < moved.length; j++) {
            var dx = moved[j][0] - moved[i][0], dy = moved[j][1] - moved[i][1];
            var d = Math.sqrt(dx * dx + dy * dy);
            if (d >= TAP_PX) continue;
            if (d < 0.01) { dx = 1; dy = 0; d = 1; }  // the same point: side by side
            var push = (TAP_PX - d) / 2 + 0.5;
            moved[i][0] -= dx / d * push; moved[i][1] -= dy / d * push;
            moved[j][0] += dx / d * push; moved[j][1] += dy / d * push;
            changed = true;
          }
        }
        if (!changed) break;
      }
      leaders.clearLayers();
      ids.forEach(function (n) {
        var marker = entries[n].marker;
        var offset = [Math.round(moved[n][0] - points[n].x), Math.round(moved[n][1] - points[n].y)];
        if (!isFinite(offset[0]) || !isFinite(offset[1])) offset = [0, 0];  // a map not yet sized
        if (offset[0] === marker.offset[0] && offset[1] === marker.offset[1]) return;
        marker.offset = offset;
        entries[n].redraw(offset);
      });
      ids.forEach(function (n) {
        var marker = entries[n].marker;
        if (marker.offset[0] === 0 && marker.offset[1] === 0) return;
        leaders.addLayer(L.polyline([marker.getLatLng(), map.layerPointToLatLng(L.point(moved[n][0], moved[n][1]))],
                                    { color: "#222", weight: 1, interactive: false }));
      });
    }
    map.on("zoomend", spread);
    spread();

    // A crossing's page: the ring fills the screen, whatever its size. Not animated, so that
    // every layer is drawn for the final view at once.
    if (data.ringKm && located.length === 1) {
      var centre = L.latLng(located[0].lat, located[0].lon);
      L.circle(centre, { radius: data.ringKm * 1000, color: "#555", weight: 1, fill: false, dashArray: "6",
                         interactive: false }).addTo(map);
      // The label at the ring's foot: its top is under the date control on a phone.
      L.marker([located[0].lat - data.ringKm / 111.2, located[0].lon], { interactive: false, keyboard: false,
        icon: L.divIcon({ html: el("div", { className: "xing-ring-label", text: data.ringLabel }), className: "",
                          iconSize: [160, 16], iconAnchor: [80, 8] }) }).addTo(map);
      map.fitBounds(centre.toBounds(2000 * data.ringKm * 1.15), { animate: false });
    }

    // Observations at their own points, clustered; details built when clicked.
    var OBSERVATION_FILL = ["#000", "#fff"];
    var obs = data.observations;
    [config.infrastructure, config.other].forEach(function (layerName, which) {
      if (!layerName) return;
      var layer = window[layerName];
      var batch = [];
      if (obs.count && L.MarkerClusterGroup && layer instanceof L.MarkerClusterGroup) {
        // A cluster of cells says how many records it holds, not how many cells.
        layer.options.iconCreateFunction = function (cluster) {
          var total = 0;
          cluster.getAllChildMarkers().forEach(function (m) { total += obs.count[m.observation]; });
          return cellIcon(total, "xing-cell xing-cell-cluster");
        };
      }
      for (var i = 0; i < obs.lon.length; i++) {
        if (obs.layer[i] !== which) continue;
        var m;
        if (obs.count) {
          // A cell of many records (a large store): its count, in a disc that grows with it.
          m = L.marker([obs.lat[i], obs.lon[i]], { icon: cellIcon(obs.count[i], "xing-cell"), keyboard: false,
                                                   title: count(obs.count[i]) + " records in this cell" });
        } else {
          // Small and neutral, unlike any status colour: black for infrastructure, white for others.
          m = L.circleMarker([obs.lat[i], obs.lon[i]], { radius: 4, weight: 2, color: which === 0 ? "#fff" : "#000",
                                                        fillColor: OBSERVATION_FILL[which], fillOpacity: 1 });
        }
        m.observation = i;
        batch.push(m);
      }
      layer.addLayers ? layer.addLayers(batch) : batch.forEach(function (m) { m.addTo(layer); });
      layer.on("click", function (event) {
        var i = event.layer.observation;
        if (i === undefined) return;
        var where = obs.lat[i].toFixed(4) + "," + obs.lon[i].toFixed(4);
        var box = obs.count ? el("div", { className: "xing-popup" }, [
          el("b", { text: count(obs.count[i]) + " observation(s) of any crossing and kind in this " +
                          obs.cellKm + " km cell" }),
          el("div", { text: "Too many records to draw one by one. List them with:" }),
          el("code", { text: "crossings near " + where + " --km " + obs.cellKm + " --observations" })
        ]) : el("div", { className: "xing-popup" }, [
          el("b", { text: strings[obs.date[i]] + " · " + strings[obs.kind[i]] + " · " + strings[obs.crossing[i]] }),
          el("div", { text: strings[obs.summary[i]] }),
          link(strings[obs.source[i]], obs.url[i] < 0 ? null : strings[obs.url[i]])
        ]);
        L.popup({ maxWidth: 380 }).setLatLng(event.layer.getLatLng()).setContent(box).openOn(map);
      });
    });

    // Legend.
    var legend = L.control({ position: "bottomleft" });
    var legendDate = el("span", { className: "legend-date", text: isoDay(state.day) });
    legend.onAdd = function () {
      var box = el("div", { className: "xing-legend" });
      // A toggle on a phone; open on a wider screen.
      var outer = el("details", { className: "xing-control xing-legend-box", id: "status-legend" }, [
        el("summary", {}, [el("b", {}, [el("span", { text: "Status on " }), legendDate])]), box
      ]);
      if (!narrow) outer.setAttribute("open", "");
      Object.keys(data.labels).forEach(function (key) {
        var sw = el("span", { className: "swatch", text: GLYPHS[key] || "" });
        sw.style.background = data.colours[key];
        box.appendChild(el("div", { className: "legend-item", "data-status": key || "none" },
                           [sw, el("span", { text: data.labels[key] })]));
      });
      var hollow = el("span", { className: "swatch hollow" });
      box.appendChild(el("div", { className: "legend-item", "data-status": "uncertain" },
                         [hollow, el("span", { text: "hollow: evidence over two years older than the day" })]));
      box.appendChild(el("div", { text: "● road  ■ rail  ◆ road+rail" }));
      var approx = el("span", { className: "swatch approx" });
      box.appendChild(el("div", { className: "legend-item", "data-status": "approximate" },
                         [approx, el("span", { text: "dotted, in a dashed circle: approximate point" })]));
      ["infrastructure observation", "other observation"].forEach(function (text, which) {
        var dot = el("span", { className: "swatch observation" });
        dot.style.background = OBSERVATION_FILL[which];
        dot.style.borderColor = which === 0 ? "#fff" : "#000";
        box.appendChild(el("div", { className: "legend-item", "data-status": "observation-" + which },
                           [dot, el("span", { text: text })]));
      });
      if (data.unmapped.length) {
        box.appendChild(el("details", { className: "unmapped" }, [
          el("summary", { text: data.unmapped.length + " crossing(s) not mapped: no coordinates found" }),
          el("div", { text: data.unmapped.join("; ") })
        ]));
      }
      L.DomEvent.disableClickPropagation(outer);
      L.DomEvent.disableScrollPropagation(outer);
      return outer;
    };
    legend.addTo(map);

    // Shown only in print: what the figure is and the day it shows.
    var printTitle = el("div", { className: "xing-print-title" });
    map.getContainer().appendChild(printTitle);
    function titleFor(day) {
      var what = data.crossings.length === 1 ? data.crossings[0].name_en : "China–DPRK border crossings";
      return what + ": status on " + isoDay(day);
    }
    printTitle.textContent = titleFor(state.day);
    window.crossingsPrint = { before: beforePrint, after: afterPrint };
    // Printing: the legend open, the map fitted to the paper with every crossing (and the open
    // popup), and under it the status of every crossing with its evidence, as text.
    var printList = el("section", { className: "xing-print-list", id: "print-list" });
    document.body.appendChild(printList);
    function drawPrintList() {
      if (data.crossings.length < 2) return;  // a crossing's page prints its side panel
      printList.textContent = "";
      printList.appendChild(el("h2", { text: titleFor(state.day) }));
      var table = el("table", {}, [el("thead", {}, [el("tr", {}, ["Crossing", "Status", "Since", "Evidence"].map(function (h) {
        return el("th", { text: h });
      }))])]);
      var body = el("tbody");
      data.crossings.forEach(function (crossing) {
        var now = statusOn(crossing, state.day), r = now.status === null ? null : record(now.evidence);
        body.appendChild(el("tr", { "data-crossing": crossing.id }, [
          el("td", {}, [el("span", { text: crossing.name_en + " " }), el("span", { lang: "zh", text: crossing.name_zh }),
                        el("span", { text: " " }), el("span", { lang: "ko", text: crossing.name_ko }),
                        crossing.lat === null ? el("span", { text: " (no point)" }) : null]),
          el("td", { text: now.status === null ? "unknown" : now.text + (now.uncertain ? " (uncertain)" : "") }),
          el("td", { text: now.status === null ? "" : now.since }),
          el("td", { text: r ? r.id + " · " + r.date + " · " + r.source + (r.url ? " · " + r.url : "") : "no record names it" })
        ]));
      });
      table.appendChild(body);
      printList.appendChild(table);
    }
    drawPrintList();
    var printing = null;
    function beforePrint() {
      var box = document.getElementById("status-legend");
      if (box) box.setAttribute("open", "");  // a closed legend would print closed
      if (printing || located.length < 2) return;
      printing = { centre: map.getCenter(), zoom: map.getZoom() };
      map.invalidateSize({ animate: false });
      var bounds = L.latLngBounds(located.map(function (c) { return [c.lat, c.lon]; }));
      if (map._popup && map.hasLayer(map._popup)) bounds.extend(map._popup.getLatLng());
      map.fitBounds(bounds, { padding: [20, 20], animate: false });
    }
    function afterPrint() {
      if (!printing) return;
      map.invalidateSize({ animate: false });
      map.setView(printing.centre, printing.zoom, { animate: false });
      printing = null;
    }
    window.addEventListener("beforeprint", beforePrint);
    window.addEventListener("afterprint", afterPrint);
    if (window.matchMedia) {
      var printMedia = window.matchMedia("print");
      (printMedia.addEventListener ? printMedia.addEventListener.bind(printMedia, "change") : printMedia.addListener.bind(printMedia))(
        function (event) { if (event.matches) beforePrint(); else afterPrint(); });
    }

    function setDay(day, how) {
      state.day = day;
      legendDate.textContent = isoDay(day);
      printTitle.textContent = titleFor(day);
      Object.keys(markers).forEach(function (id) {
        var marker = markers[id];
        setIcon(marker, marker.offset);
        if (marker.isPopupOpen()) marker.setPopupContent(roomFor(marker.getPopup(), popup(marker.crossing)));
      });
      drawSide();
      markTradeDay(day);
      slider.value = Math.max(day, sliderFirst);
      // What is being typed stays as typed: only a day set another way is written back.
      if (!(how && how.typing)) picker.value = isoDay(day);
      drawPrintList();
      writeHash();
    }

    // The day shown, as a line on the trade chart's time axis.
    function markTradeDay(day) {
      var svg = document.querySelector("#trade-chart svg");
      var line = document.getElementById("trade-day");
      if (!svg || !line) return;
      var first = parseDay(svg.getAttribute("data-first-day")), days = +svg.getAttribute("data-days");
      var x = +svg.getAttribute("data-x0") + +svg.getAttribute("data-span") * (day - first) / days;
      var inside = day >= first && day < first + days;
      line.setAttribute("x1", x); line.setAttribute("x2", x);
      line.setAttribute("visibility", inside ? "visible" : "hidden");
    }

    var openCrossing = null;
    function writeHash() {
      var centre = map.getCenter();
      var parts = ["date=" + isoDay(state.day)];
      if (openCrossing) parts.push("crossing=" + encodeURIComponent(openCrossing));
      parts.push("view=" + centre.lat.toFixed(4) + "," + centre.lng.toFixed(4) + "," + map.getZoom());
      if (window.history && history.replaceState) history.replaceState(null, "", "#" + parts.join("&"));
    }

    // Time control: an ISO day typed or pasted (never rewritten while it is being typed),
    // steps of a month and a year, and a slider over the span of the status records.
    var first = parseDay(data.start), last = parseDay(data.today);
    var sliderFirst = Math.max(first, parseDay(data.firstStatus || data.start));
    var slider = el("input", { type: "range", min: sliderFirst, max: last, step: 1, value: Math.max(state.day, sliderFirst),
                               id: "time-slider", "aria-label": "Day shown, from the first status record to today" });
    var picker = el("input", { type: "text", value: data.asOf, id: "time-date", inputmode: "numeric", autocomplete: "off",
                               spellcheck: "false", placeholder: "YYYY-MM-DD", size: "10", "aria-describedby": "time-message" });
    var message = el("p", { id: "time-message", className: "message", role: "status", "aria-live": "polite" });
    function tryDay(text) {
      var got = readDay(text);
      if (got.error) return got;
      if (got.day < first) return { error: isoDay(got.day) + " is before the first record (" + data.start + ")" };
      if (got.day > last) return { error: isoDay(got.day) + " is after " + data.today + ", the last day of this map" };
      return got;
    }
    function typed(final) {
      var got = tryDay(picker.value);
      if (got.error) {
        // While typing, an unfinished day is no error; once done (Enter, leaving), say why.
        message.textContent = final ? got.error : "";
        picker.setAttribute("aria-invalid", final ? "true" : "false");
        return;
      }
      message.textContent = "";
      picker.setAttribute("aria-invalid", "false");
      if (got.day !== state.day) setDay(got.day, { typing: !final });
    }
    function step(to) {
      message.textContent = "";
      setDay(Math.min(Math.max(to, first), last));
    }
    picker.addEventListener("input", function () { typed(false); });
    picker.addEventListener("change", function () { typed(true); });
    picker.addEventListener("keydown", function (event) {
      var keys = { ArrowUp: 1, ArrowDown: -1, PageUp: "m", PageDown: "-m" };
      if (event.key === "Enter") { typed(true); return; }
      if (!own(keys, event.key)) return;
      event.preventDefault();
      var k = keys[event.key];
      step(k === "m" ? addMonths(state.day, 1) : k === "-m" ? addMonths(state.day, -1) : state.day + k);
    });
    slider.addEventListener("input", function () { message.textContent = ""; setDay(+slider.value); });
    var buttons = [["−1 y", -12, "A year earlier"], ["−1 m", -1, "A month earlier"], ["+1 m", 1, "A month later"],
                   ["+1 y", 12, "A year later"]].map(function (b) {
      var button = el("button", { type: "button", text: b[0], "aria-label": b[2], className: "step", "data-months": b[1] });
      button.addEventListener("click", function () { step(addMonths(state.day, b[1])); });
      return button;
    });
    var todayButton = el("button", { type: "button", text: "Today", id: "time-today" });
    todayButton.addEventListener("click", function () { step(last); });
    var timeControl = L.control({ position: "topright" });
    timeControl.onAdd = function () {
      var box = el("div", { className: "xing-control xing-time", role: "group", "aria-labelledby": "time-title" }, [
        el("h4", { id: "time-title", text: "Status on a day" }),
        el("div", { className: "row" }, [el("label", { "for": "time-date", text: "Day" }), picker, todayButton]),
        el("div", { className: "row steps" }, buttons),
        slider, message
      ]);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    timeControl.addTo(map);

    // Search by any name or alias, in any script; results chosen by click, or arrows and Enter.
    var searchInput = el("input", { type: "search", placeholder: "Find a crossing (Sinuiju, 신의주, 新义州…)",
                                    id: "crossing-search", "aria-label": "Find a crossing", role: "combobox",
                                    "aria-autocomplete": "list", "aria-expanded": "false",
                                    "aria-controls": "crossing-search-results" });
    var results = el("ul", { id: "crossing-search-results", role: "listbox", "aria-label": "Crossings found" });
    var active = -1;
    function choose(crossing) {
      var marker = markers[crossing.id];
      if (marker) {
        map.setView(marker.getLatLng(), Math.max(map.getZoom(), 12));
        marker.openPopup();
      } else if (data.pages.some(function (page) { return page[0] === crossing.id; })) {
        // No point to show: its own page says why, with its status and history.
        location.href = encodeURIComponent(crossing.id) + ".html#date=" + isoDay(state.day);
      }
    }
    function highlight(n) {
      var items = results.querySelectorAll("li");
      active = items.length ? (n + items.length) % items.length : -1;
      Array.prototype.forEach.call(items, function (item, i) { item.setAttribute("aria-selected", i === active ? "true" : "false"); });
      if (active >= 0) { searchInput.setAttribute("aria-activedescendant", items[active].id); items[active].scrollIntoView({ block: "nearest" }); }
      else searchInput.removeAttribute("aria-activedescendant");
    }
    searchInput.addEventListener("input", function () {
      results.textContent = "";
      active = -1;
      searchInput.removeAttribute("aria-activedescendant");
      var query = fold(searchInput.value);
      if (query) data.crossings.forEach(function (crossing) {
        var names = [crossing.id, crossing.name_en, crossing.name_zh, crossing.name_ko].concat(crossing.aliases);
        if (!names.some(function (name) { return fold(name).indexOf(query) !== -1; })) return;
        var item = el("li", { role: "option", id: "search-" + results.childNodes.length, "aria-selected": "false",
                              "data-crossing": crossing.id }, [
          el("a", { "data-crossing": crossing.id, text: crossing.name_en + " · " }),
          el("span", { lang: "zh", text: crossing.name_zh }),
          crossing.lat === null ? el("span", { className: "no-point", text: " (no point: opens its page)" }) : null
        ]);
        item.addEventListener("click", function () { choose(crossing); });
        item.crossing = crossing;
        results.appendChild(item);
      });
      searchInput.setAttribute("aria-expanded", results.childNodes.length ? "true" : "false");
    });
    searchInput.addEventListener("keydown", function (event) {
      var items = results.querySelectorAll("li");
      if (!items.length) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        highlight(active + (event.key === "ArrowDown" ? 1 : -1));
      } else if (event.key === "Enter") {
        event.preventDefault();
        choose(items[active >= 0 ? active : 0].crossing);
      }
    });
    var search = L.control({ position: "topleft" });
    search.onAdd = function () {
      var box = el("div", { className: "xing-control xing-search", role: "search" }, [searchInput, results]);
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    search.addTo(map);

    // Trade chart, drawn as inline SVG by the page.
    var chart = document.getElementById("trade-chart");
    if (chart) {
      var chartControl = L.control({ position: "topleft" });
      chartControl.onAdd = function () {
        var button = el("button", { type: "button", id: "trade-chart-button", text: "China–DPRK trade" });
        button.setAttribute("aria-expanded", "false");
        button.setAttribute("aria-controls", "trade-chart");
        button.addEventListener("click", function () {
          var open = chart.classList.toggle("open");
          button.setAttribute("aria-expanded", open ? "true" : "false");
          if (open) map.closePopup();  // the chart never covers an open popup
        });
        var close = el("button", { type: "button", id: "trade-chart-close", className: "close", text: "Close ×",
                                   "aria-label": "Close the trade chart" });
        close.addEventListener("click", function () { chart.classList.remove("open"); button.setAttribute("aria-expanded", "false"); button.focus(); });
        chart.insertBefore(close, chart.firstChild);
        map.on("popupopen", function () { chart.classList.remove("open"); button.setAttribute("aria-expanded", "false"); });
        var box = el("div", { className: "xing-control" }, [button]);
        L.DomEvent.disableClickPropagation(box);
        return box;
      };
      chartControl.addTo(map);
      markTradeDay(state.day);
    }

    // A crossing's own page: its structures on the map, its status and history beside it.
    var side = document.getElementById("crossing-side");
    function drawSide() {
      if (!side || data.crossings.length !== 1) return;
      var crossing = data.crossings[0];
      side.textContent = "";
      var nav = el("nav", { className: "pages" }, [pageLink(null, "← All crossings (overview map)")]);
      var others = el("select", { "aria-label": "Another crossing's page", id: "crossing-pages" }, [
        el("option", { value: "", text: "Another crossing…" })
      ]);
      data.pages.forEach(function (page) {
        if (page[0] !== crossing.id) others.appendChild(el("option", { value: page[0], text: page[1] }));
      });
      others.addEventListener("change", function () {
        if (others.value) location.href = encodeURIComponent(others.value) + ".html#date=" + isoDay(state.day);
      });
      if (data.pages.length > 1) nav.appendChild(others);
      side.appendChild(nav);
      side.appendChild(el("h3", { text: crossing.name_en }));
      side.appendChild(namesLine(crossing));
      side.appendChild(el("div", { text: "Point: " + crossing.point }));
      side.appendChild(statusLine(crossing));
      var structures = structureList(crossing);
      if (structures) side.appendChild(structures);
      side.appendChild(historyList(crossing));
    }
    if (side && data.crossings.length === 1) {
      data.crossings[0].structures.forEach(function (structure) {
        if (structure.lat === null) return;
        var where = [structure.lat, structure.lon];
        if (structure.precision) L.circle(where, { radius: structure.precision, color: "#333", weight: 1,
                                                   dashArray: "2 4", fill: false, interactive: false }).addTo(crossingLayer);
        function structureIcon(offset) {
          var mark = el("div", { className: "xing-structure xing-structure-" + structure.kind, "data-structure": structure.id,
                                 "aria-hidden": "true" });
          return L.divIcon({ html: mark, className: "", iconSize: [14, 14], iconAnchor: [7 - offset[0], 7 - offset[1]] });
        }
        var marker = L.marker(where, { icon: structureIcon([0, 0]), title: structure.name, alt: structure.name });
        marker.offset = [0, 0];
        spreadable.push({ marker: marker, redraw: function (offset) {
          marker.setIcon(structureIcon(offset));
          marker.getElement().setAttribute("aria-label", "Structure: " + structure.name);
        } });
        marker.bindTooltip(el("span", { text: "Structure: " + structure.name }));
        marker.bindPopup(function (layer) {
          var now = lifecycleOn(structure, state.day);
          return roomFor(layer.getPopup(), el("div", { className: "xing-popup" }, [
            el("h4", { text: structure.name }),
            el("div", { text: structure.kind.replace(/_/g, " ") + " · ±" + structure.precision + " m · " + structure.source }),
            el("div", { text: now ? "On " + isoDay(state.day) + ": " + now.lifecycle.replace(/_/g, " ") + " (" + now.record.date + ", " + now.record.id + ")"
                                  : "No record gives its lifecycle." }),
            el("div", { text: structure.notes })
          ]));
        });
        marker.addTo(crossingLayer);
        marker.getElement().setAttribute("aria-label", "Structure: " + structure.name);
      });
      drawSide();
      spread();
    }

    // Popups open where the controls leave them room, as the controls are when it opens
    // (the legend may have been folded or unfolded since): Leaflet pans the popup clear
    // of the corners' controls, and a popup taller than the room between them scrolls.
    function controlsHeight(corner) {
      var box = map.getContainer().querySelector(".leaflet-" + corner);
      return box ? box.getBoundingClientRect().height : 0;
    }
    function roomFor(openingPopup, content) {
      var height = map.getSize().y;
      var top = Math.min(Math.max(controlsHeight("top.leaflet-left"), controlsHeight("top.leaflet-right")) + 10, height * 0.4);
      var bottom = Math.min(Math.max(controlsHeight("bottom.leaflet-left"), controlsHeight("bottom.leaflet-right")) + 10, height * 0.4);
      openingPopup.options.autoPanPaddingTopLeft = L.point(10, top);
      openingPopup.options.autoPanPaddingBottomRight = L.point(10, bottom);
      var room = height - top - bottom - 70;  // the popup's frame and tip take about 70 px
      content.style.maxHeight = Math.min(480, Math.max(120, room)) + "px";
      return content;
    }
    map.on("popupopen", function (event) {
      var source = event.popup._source;
      openCrossing = source && source.crossing ? source.crossing.id : null;
      writeHash();
    });
    map.on("popupclose", function () { openCrossing = null; writeHash(); });
    map.on("moveend", writeHash);

    // No tooltip beside an open popup: a tap, or a marker that comes under the pointer as the
    // popup pans into view, would show one.
    map.on("popupopen", function () { L.DomUtil.addClass(map.getContainer(), "xing-has-popup"); });
    map.on("popupclose", function () { L.DomUtil.removeClass(map.getContainer(), "xing-has-popup"); });

    // Escape closes a popup and gives the focus back to the marker that opened it.
    var opener = null;
    map.on("popupopen", function (event) { opener = event.popup._source || null; });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || !map._popup || !map.hasLayer(map._popup)) return;
      var back = opener && opener.getElement ? opener.getElement() : null;
      map.closePopup();
      if (back) back.focus();
    });

    // Layers that need the network say so when it is missing; the offline land stays.
    var notice = el("div", { className: "xing-control xing-offline", role: "status", hidden: "" });
    var offline = L.control({ position: "bottomright" });
    offline.onAdd = function () { return notice; };
    offline.addTo(map);
    map.eachLayer(function (layer) {
      if (!(layer instanceof L.TileLayer)) return;
      layer.on("tileerror", function () {
        notice.textContent = "Offline: map tiles need the network. Shown: the offline land, rivers and border.";
        notice.removeAttribute("hidden");
      });
    });
    map.on("baselayerchange overlayadd", function (event) {
      if (event.layer instanceof L.TileLayer) event.layer.on("tileerror", function () { notice.removeAttribute("hidden"); });
    });

    // A crossing's page without a point says why, on the map itself.
    if (data.crossings.length === 1 && data.crossings[0].lat === null) {
      var why = L.control({ position: "topright" });
      why.onAdd = function () {
        return el("div", { className: "xing-control xing-no-point", id: "no-point", role: "note",
                           text: "No point on this map: " + (data.crossings[0].note || "no coordinates found") });
      };
      why.addTo(map);
    }

    // A shared link reopens the same view, date and crossing; so does an address edited
    // in an open tab.
    function applyHash(wanted) {
      var view = wanted.view ? wanted.view.split(",").map(Number) : [];
      var viewOk = view.length === 3 && view.every(isFinite) && Math.abs(view[0]) <= 90 &&
                   Math.abs(view[1]) <= 180 && view[2] >= 0 && view[2] <= 19;
      if (viewOk) map.setView([view[0], view[1]], view[2], { animate: false });
      if (wanted.date && /^\d{4}-\d{2}-\d{2}$/.test(wanted.date)) {
        var asked = parseDay(wanted.date);
        if (isFinite(asked) && asked !== state.day) setDay(Math.min(Math.max(asked, first), last));
      }
      if (wanted.crossing && own(markers, wanted.crossing) && wanted.crossing !== openCrossing) {
        if (!viewOk) map.setView(markers[wanted.crossing].getLatLng(), Math.max(map.getZoom(), 10), { animate: false });
        markers[wanted.crossing].openPopup();
      }
    }
    window.addEventListener("hashchange", function () { applyHash(readHash()); });
    if (located.length > 1) { fitFirstView(); spread(); }
    applyHash(linked);

    window.crossingsState = { setDay: function (iso) { setDay(parseDay(iso)); }, markers: markers, map: map, ready: true };
    document.body.setAttribute("data-map-ready", "true");
  }
  return { init: init };
})();
