/* The pages of `crossings serve`: the team bar and the proposals on a map page, and the
   small map of the record form. Every text is set as text, never as HTML. */
(function () {
  "use strict";

  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      if (key === "text") node.textContent = props[key];
      else if (key === "className") node.className = props[key];
      else node.setAttribute(key, props[key]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  // The page's Leaflet map, as the map's script gives it once drawn.
  function findMap() {
    return window.crossingsState && window.crossingsState.map ? window.crossingsState.map : null;
  }

  function proposalPopup(item) {
    return el("div", { className: "web-proposal" }, [
      el("strong", { text: "Proposed, not yet reviewed" }),
      el("div", { text: (item.date || "") + " · " + (item.kind || "") + (item.status ? " · status " + item.status : "") }),
      el("p", { text: item.summary || "" }),
      el("div", { text: "by " + item.proposed_by + " on " + item.proposed_at.slice(0, 10) }),
      el("a", { href: "/proposals/" + encodeURIComponent(item.id), text: "The proposal" })
    ]);
  }

  function teamBar(map) {
    var bar = document.getElementById("web-bar");
    if (!bar) return;
    var control = L.control({ position: "topleft" });
    control.onAdd = function () {
      var box = el("div", { className: "leaflet-control web-bar-control" });
      box.appendChild(bar);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    control.addTo(map);
    var layer = L.layerGroup();
    var box = document.getElementById("include-proposals");
    box.addEventListener("change", function () {
      if (!box.checked) { map.removeLayer(layer); return; }
      fetch("/proposals.json", { credentials: "same-origin" })
        .then(function (answer) { return answer.json(); })
        .then(function (items) {
          layer.clearLayers();
          items.forEach(function (item) {
            var icon = L.divIcon({ className: "web-proposal-icon", iconSize: [18, 18] });
            var marker = L.marker([item.lat, item.lon], { icon: icon, title: "Proposed: " + item.summary });
            marker.on("add", function () {
              var node = marker.getElement();
              if (node) { node.setAttribute("data-proposal", item.id); node.setAttribute("aria-label", "Proposed, not yet reviewed: " + item.summary); }
            });
            marker.bindPopup(proposalPopup(item));
            layer.addLayer(marker);
          });
          layer.addTo(map);
          document.body.setAttribute("data-proposals", String(items.length));
        });
    });
  }

  function whenMapReady(callback) {
    if (document.body.dataset.mapReady === "true") { callback(); return; }
    new MutationObserver(function (changes, observer) {
      if (document.body.dataset.mapReady === "true") { observer.disconnect(); callback(); }
    }).observe(document.body, { attributes: true, attributeFilter: ["data-map-ready"] });
  }

  // The record form's small map: a click sets the point; choosing a crossing goes there.
  function recordMap(node) {
    var points = JSON.parse(node.getAttribute("data-points") || "{}");
    var field = document.getElementById("at");
    var crossing = document.getElementById("crossing_id");
    var map = L.map(node, { zoomControl: true }).setView([41.5, 127.5], 6);
    L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
      maxZoom: 19, attribution: "&copy; OpenStreetMap contributors"
    }).addTo(map);
    Object.keys(points).forEach(function (id) {
      L.circleMarker(points[id], { radius: 5, color: "#24323f" }).addTo(map).bindTooltip(el("span", { text: id }));
    });
    var chosen = null;
    function show(lat, lon) {
      if (chosen) chosen.setLatLng([lat, lon]); else chosen = L.marker([lat, lon]).addTo(map);
    }
    function fromField() {
      var parts = field.value.split(",").map(Number);
      if (parts.length === 2 && parts.every(isFinite)) { show(parts[0], parts[1]); map.setView([parts[0], parts[1]], 12); return true; }
      return false;
    }
    function goCrossing() { if (points[crossing.value]) map.setView(points[crossing.value], 12); }
    map.on("click", function (event) {
      field.value = event.latlng.lat.toFixed(5) + ", " + event.latlng.lng.toFixed(5);
      show(event.latlng.lat, event.latlng.lng);
    });
    field.addEventListener("change", fromField);
    crossing.addEventListener("change", goCrossing);
    if (!fromField()) goCrossing();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var small = document.getElementById("record-map");
    if (small && window.L) recordMap(small);
  });
  if (document.getElementById("web-bar") && window.L) {
    whenMapReady(function () { var map = findMap(); if (map) teamBar(map); });
  }
})();
