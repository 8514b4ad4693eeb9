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

  function init(config) {
    var data = JSON.parse(document.getElementById(config.dataId).textContent);
    var map = window[config.map];
    if (config.hidden && window[config.hidden]) map.removeLayer(window[config.hidden]);
    var strings = data.strings;
    var state = { day: parseDay(data.asOf) };
    var markers = {};

    function record(i) {
      var r = data.records[i];
      return { date: strings[r[0]], kind: strings[r[1]], status: r[2], summary: strings[r[3]],
               source: strings[r[4]], url: r[5] < 0 ? null : strings[r[5]], border: r[6] === 1,
               id: r[7], start: r[8], mirror: r[9] === 1 };
    }
    // A status step: [since, status, record, conflict, text, run since, run record].
    function statusOn(crossing, day) {
      var found = null;
      crossing.timeline.forEach(function (step) { if (parseDay(step[0]) <= day) found = step; });
      if (!found || found[1] === null) return { status: null };
      var evidence = record(found[2]);
      var age = day - parseDay(evidence.start);
      return { status: found[1], record: found[2], conflict: found[3], text: strings[found[4]],
               since: found[6] === null ? found[5] : record(found[6]).date, age: age,
               uncertain: age > data.staleAfterDays };
    }
    function colour(status) { return data.colours[status === null ? "" : status]; }
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

    function icon(crossing, now) {
      var shape = { "road": "xing-road", "rail": "xing-rail", "road+rail": "xing-roadrail" }[crossing.mode] || "xing-unknown";
      var size = crossing.mode === "road+rail" ? 16 : 18;
      var span = el("div", { className: "xing-icon " + shape + (now.uncertain ? " xing-uncertain" : "") });
      span.style.width = size + "px";
      span.style.height = size + "px";
      // Evidence over two years older than the day shown: a hollow marker in the status colour.
      if (now.uncertain) { span.style.background = "#fff"; span.style.borderColor = colour(now.status); }
      else span.style.background = colour(now.status);
      span.setAttribute("data-crossing", crossing.id);
      span.setAttribute("data-status", now.status === null ? "none" : now.status);
      span.setAttribute("data-uncertain", now.uncertain ? "true" : "false");
      return L.divIcon({ html: span, className: "", iconSize: [size, size], iconAnchor: [size / 2, size / 2] });
    }

    function historyList(crossing) {
      var list = el("ol", { className: "history" });
      crossing.history.forEach(function (entry) {
        var r = record(entry[0]), role = strings[entry[1]];
        var item = el("li", { "data-record": r.id }, [
          el("b", { text: r.date }),
          el("span", { text: " [" + r.kind + (r.status ? ": " + r.status.replace(/_/g, " ") : "") + "] " + r.summary + " — " }),
          link(r.source, r.url),
          mirrorNote(r),
          role ? el("span", { className: "role", text: " · " + role }) : null
        ]);
        list.appendChild(item);
      });
      return list;
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
      var r = record(now.record);
      line.appendChild(el("b", { text: now.text }));
      line.appendChild(el("span", { text: " since " + now.since }));
      box.appendChild(el("p", { className: "evidence" }, [
        el("span", { text: "Evidence: " + r.id + " · " + r.date + " · " }),
        link(r.source, r.url),
        mirrorNote(r),
        el("span", { text: " · " + ageText(now.age) + " old" + (r.border ? " · border-wide record" : "") })
      ]));
      if (now.uncertain)
        box.appendChild(el("p", { className: "uncertain", text: "Uncertain: the evidence is more than two years older than this day." }));
      if (now.conflict) box.appendChild(el("p", { className: "conflict", text: "Sources disagree on this date." }));
      return box;
    }

    function lifecycleOn(structure, day) {
      var found = null;
      structure.lifecycle.forEach(function (step) { if (parseDay(step[0]) <= day) found = step; });
      return found ? { lifecycle: found[1], record: record(found[2]) } : null;
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
                                  : "no lifecycle record") })
        ]));
      });
      return el("div", {}, [el("h5", { text: "Structures" }), list]);
    }

    function popup(crossing) {
      return el("div", { className: "xing-popup" }, [
        el("h4", { text: crossing.name_en }),
        el("div", { className: "names", text: crossing.name_zh + " · " + crossing.name_ko }),
        el("div", { text: "China: " + crossing.cn }),
        el("div", { text: "DPRK: " + crossing.kp }),
        el("div", { text: "River: " + crossing.river + " · Mode: " + crossing.mode }),
        el("div", { text: "Point: " + crossing.point }),
        statusLine(crossing),
        structureList(crossing),
        historyList(crossing)
      ]);
    }

    // Crossings.
    var crossingLayer = window[config.crossings];
    data.crossings.forEach(function (crossing) {
      if (crossing.lat === null) return;
      var marker = L.marker([crossing.lat, crossing.lon], { icon: icon(crossing, statusOn(crossing, state.day)), zIndexOffset: 1000,
                                                          title: crossing.name_en });
      // An element, not a string: Leaflet would read a string as HTML.
      marker.bindTooltip(el("span", { text: crossing.name_en + " · " + crossing.name_zh + " · " + crossing.name_ko }));
      // Never wider than the screen: phones are 360-430 px wide.
      marker.bindPopup(function () { return popup(crossing); },
                       { maxWidth: Math.min(400, window.innerWidth - 50), autoPanPadding: [10, 10] });
      marker.crossing = crossing;
      marker.addTo(crossingLayer);
      markers[crossing.id] = marker;
    });

    // The first view holds every crossing on any screen: the room kept for the controls
    // shrinks with the screen (a fixed margin wider than a phone would zoom in to nothing).
    var located = data.crossings.filter(function (c) { return c.lat !== null; });
    if (located.length > 1) {
      var width = map.getSize().x, height = map.getSize().y;
      map.fitBounds(L.latLngBounds(located.map(function (c) { return [c.lat, c.lon]; })), {
        paddingTopLeft: [Math.min(270, width * 0.2), Math.min(60, height * 0.08)],
        paddingBottomRight: [Math.min(240, width * 0.1), Math.min(40, height * 0.05)],
        maxZoom: 13,
        animate: false
      });
    }

    // Observations at their own points, clustered; details built when clicked.
    var obs = data.observations;
    [config.infrastructure, config.other].forEach(function (layerName, which) {
      if (!layerName) return;
      var layer = window[layerName];
      var batch = [];
      for (var i = 0; i < obs.lon.length; i++) {
        if (obs.layer[i] !== which) continue;
        var m = L.circleMarker([obs.lat[i], obs.lon[i]], { radius: 5, weight: 1, color: "#333",
                                                          fillColor: which === 0 ? "#7b3294" : "#2c7fb8", fillOpacity: 0.8 });
        m.observation = i;
        batch.push(m);
      }
      layer.addLayers ? layer.addLayers(batch) : batch.forEach(function (m) { m.addTo(layer); });
      layer.on("click", function (event) {
        var i = event.layer.observation;
        if (i === undefined) return;
        var box = el("div", { className: "xing-popup" }, [
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
      var box = el("div", { className: "xing-control xing-legend", id: "status-legend" }, [
        el("h4", {}, [el("span", { text: "Status on " }), legendDate])
      ]);
      Object.keys(data.labels).forEach(function (key) {
        var sw = el("span", { className: "swatch" });
        sw.style.background = data.colours[key];
        box.appendChild(el("div", { className: "legend-item", "data-status": key || "none" },
                           [sw, el("span", { text: data.labels[key] })]));
      });
      var hollow = el("span", { className: "swatch hollow" });
      box.appendChild(el("div", { className: "legend-item", "data-status": "uncertain" },
                         [hollow, el("span", { text: "hollow: evidence over two years older than the day" })]));
      box.appendChild(el("div", { text: "● road  ■ rail  ◆ road+rail" }));
      if (data.unmapped.length) {
        box.appendChild(el("details", { className: "unmapped" }, [
          el("summary", { text: data.unmapped.length + " crossing(s) not mapped: no coordinates found" }),
          el("div", { text: data.unmapped.join("; ") })
        ]));
      }
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    legend.addTo(map);

    function setDay(day) {
      state.day = day;
      legendDate.textContent = isoDay(day);
      Object.keys(markers).forEach(function (id) {
        var marker = markers[id];
        marker.setIcon(icon(marker.crossing, statusOn(marker.crossing, day)));
        if (marker.isPopupOpen()) marker.setPopupContent(popup(marker.crossing));
      });
      drawSide();
      slider.value = day;
      picker.value = isoDay(day);
    }

    // Time control.
    var first = parseDay(data.start), last = parseDay(data.today);
    var slider = el("input", { type: "range", min: first, max: last, step: 1, value: state.day, id: "time-slider",
                               "aria-label": "Date" });
    var picker = el("input", { type: "date", min: data.start, max: data.today, value: data.asOf, id: "time-date" });
    var todayButton = el("button", { type: "button", text: "Today", id: "time-today" });
    slider.addEventListener("input", function () { setDay(+slider.value); });
    picker.addEventListener("change", function () { if (picker.value) setDay(parseDay(picker.value)); });
    todayButton.addEventListener("click", function () { setDay(last); });
    var timeControl = L.control({ position: "topright" });
    timeControl.onAdd = function () {
      var box = el("div", { className: "xing-control xing-time" }, [
        el("h4", { text: "Status on a date" }), slider, el("div", { className: "row" }, [picker, todayButton])
      ]);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    timeControl.addTo(map);

    // Search by any name or alias, in any script.
    var searchInput = el("input", { type: "search", placeholder: "Find a crossing (Sinuiju, 신의주, 新义州…)",
                                    id: "crossing-search", "aria-label": "Find a crossing" });
    var results = el("ul", { id: "crossing-search-results" });
    searchInput.addEventListener("input", function () {
      results.textContent = "";
      var query = fold(searchInput.value);
      if (!query) return;
      data.crossings.forEach(function (crossing) {
        var names = [crossing.id, crossing.name_en, crossing.name_zh, crossing.name_ko].concat(crossing.aliases);
        if (!names.some(function (name) { return fold(name).indexOf(query) !== -1; })) return;
        var a = el("a", { "data-crossing": crossing.id, text: crossing.name_en + " · " + crossing.name_zh });
        a.addEventListener("click", function () {
          var marker = markers[crossing.id];
          if (marker) { map.setView(marker.getLatLng(), Math.max(map.getZoom(), 12)); marker.openPopup(); }
        });
        results.appendChild(el("li", {}, [a]));
      });
    });
    var search = L.control({ position: "topleft" });
    search.onAdd = function () {
      var box = el("div", { className: "xing-control xing-search" }, [searchInput, results]);
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
        button.addEventListener("click", function () { chart.classList.toggle("open"); });
        var box = el("div", { className: "xing-control" }, [button]);
        L.DomEvent.disableClickPropagation(box);
        return box;
      };
      chartControl.addTo(map);
    }

    // A crossing's own page: its structures on the map, its status and history beside it.
    var side = document.getElementById("crossing-side");
    function drawSide() {
      if (!side || data.crossings.length !== 1) return;
      var crossing = data.crossings[0];
      side.textContent = "";
      side.appendChild(el("h3", { text: crossing.name_en }));
      side.appendChild(el("div", { className: "names", text: crossing.name_zh + " · " + crossing.name_ko }));
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
        var mark = el("div", { className: "xing-structure", "data-structure": structure.id });
        var marker = L.marker(where, { icon: L.divIcon({ html: mark, className: "", iconSize: [14, 14], iconAnchor: [7, 7] }),
                                       title: structure.name });
        marker.bindTooltip(el("span", { text: "Structure: " + structure.name }));
        marker.bindPopup(function () {
          var now = lifecycleOn(structure, state.day);
          return el("div", { className: "xing-popup" }, [
            el("h4", { text: structure.name }),
            el("div", { text: structure.kind.replace(/_/g, " ") + " · ±" + structure.precision + " m · " + structure.source }),
            el("div", { text: now ? "On " + isoDay(state.day) + ": " + now.lifecycle.replace(/_/g, " ") + " (" + now.record.date + ", " + now.record.id + ")"
                                  : "No record gives its lifecycle." }),
            el("div", { text: structure.notes })
          ]);
        });
        marker.addTo(crossingLayer);
      });
      drawSide();
    }

    window.crossingsState = { setDay: function (iso) { setDay(parseDay(iso)); }, markers: markers, ready: true };
    document.body.setAttribute("data-map-ready", "true");
  }
  return { init: init };
})();
