// The map preview: Ambrogio's public API in a browser, with nothing but this origin.
//
// What it uses, all from the server that serves this page:
//   /tiles/services.json   TileJSON, followed by MapLibre to the vector tiles (the filters as
//                          query parameters, so a filter changes the tiles asked for);
//   /graphql               mapClusters (the clusters of the view), services (the list: text,
//                          filters, nearest first from a clicked point), comuni (the gazetteer's
//                          centroids and names), categories, node and slots (the details);
//   /map/config.json       the overlays the server offers (each a tile layer with a TileJSON).
// Labels are HTML markers: the style has no glyphs, so no font server is needed.
// window.ambrogioPreview exposes the map and what the page last asked, for the console.

import * as maplibregl from "./maplibre-gl/maplibre-gl.mjs";

// This module is <prefix>/map/static/map.js; the API is at <prefix>/.
const BASE = new URL("../../", import.meta.url).href;
const COLOURS = {
  background: "#f4f1ea",
  comune: "#8d6e63",
  service: "#c2185b",
  cluster: "#1e88e5",
  near: "#2e7d32",
  overlay: "#ef6c00",
};
const LABELS_FROM_ZOOM = 11;
const CLUSTERS_BELOW_ZOOM = 14;
const RESULTS = 20;
const WEEK_MS = 7 * 24 * 3600 * 1000;

const $ = (selector) => document.querySelector(selector);
const state = { text: "", near: null, filter: {}, now: new Date() };
const preview = { state, lastClusters: null, lastResults: null, lastDetails: null, ready: false };
window.ambrogioPreview = preview;

// --- the API ---------------------------------------------------------------------------------

async function graphql(query, variables = {}) {
  const response = await fetch(BASE + "graphql", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) {
    throw new Error(body.errors.map((error) => error.message).join("; "));
  }
  return body.data;
}

async function getJSON(path) {
  const response = await fetch(BASE + path, { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

// Answers can come back out of order (a filter, then a click): each view shows only the answer
// to the last question it asked.
function latestOnly(ask) {
  let asked = 0;
  return async (...args) => {
    const mine = ++asked;
    const answer = await ask(...args);
    return { answer, current: mine === asked };
  };
}

function showError(error) {
  console.error(error);
  const status = $("#status");
  status.textContent = String(error.message || error);
  status.classList.add("error");
}

// --- filters: one state, spelt as GraphQL's ServiceFilter and as the tiles' parameters --------

function readFilter() {
  state.now = new Date(Math.floor(Date.now() / 60000) * 60000);
  state.filter = {
    category: $("#category").value,
    delivery: $("#delivery").value,
    welfare: $("#welfare").checked,
    openNow: $("#open-now").checked,
    freeSlot: $("#free-slot").checked,
  };
}

function serviceFilter() {
  const { category, delivery, welfare, openNow, freeSlot } = state.filter;
  const filter = {};
  if (category) filter.categories = [category];
  if (delivery) filter.delivery = [delivery];
  if (welfare) filter.welfareEligible = true;
  if (openNow) filter.openAt = state.now.toISOString();
  if (freeSlot) {
    filter.freeBetween = {
      from: state.now.toISOString(),
      to: new Date(state.now.getTime() + WEEK_MS).toISOString(),
    };
  }
  return Object.keys(filter).length ? filter : null;
}

function tileParameters() {
  const filter = serviceFilter() || {};
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filter)) {
    if (name === "freeBetween") params.set(name, `${value.from}/${value.to}`);
    else params.set(name, Array.isArray(value) ? value.join(",") : String(value));
  }
  return params.toString();
}

function servicesTileJSON() {
  const query = tileParameters();
  return BASE + "tiles/services.json" + (query ? `?${query}` : "");
}

// --- the map ---------------------------------------------------------------------------------

const EMPTY = { type: "FeatureCollection", features: [] };

function style(tilejsonUrl) {
  return {
    version: 8,
    sources: {
      comuni: { type: "geojson", data: EMPTY },
      services: { type: "vector", url: tilejsonUrl },
      clusters: { type: "geojson", data: EMPTY },
      near: { type: "geojson", data: EMPTY },
    },
    layers: [
      { id: "background", type: "background", paint: { "background-color": COLOURS.background } },
      {
        id: "comuni",
        type: "circle",
        source: "comuni",
        paint: { "circle-radius": 3, "circle-color": COLOURS.comune, "circle-opacity": 0.7 },
      },
      {
        id: "clusters",
        type: "circle",
        source: "clusters",
        maxzoom: CLUSTERS_BELOW_ZOOM,
        paint: {
          "circle-color": COLOURS.cluster,
          "circle-opacity": 0.25,
          "circle-stroke-color": COLOURS.cluster,
          "circle-stroke-width": 1,
          "circle-radius": ["interpolate", ["linear"], ["get", "count"], 1, 8, 50, 22, 300, 40],
        },
      },
      {
        id: "services",
        type: "circle",
        source: "services",
        "source-layer": "services",
        paint: {
          "circle-radius": ["interpolate", ["linear"], ["zoom"], 8, 2, 14, 5],
          "circle-color": COLOURS.service,
          "circle-stroke-color": "#fff",
          "circle-stroke-width": ["interpolate", ["linear"], ["zoom"], 8, 0, 14, 1],
        },
      },
      {
        id: "near",
        type: "circle",
        source: "near",
        paint: {
          "circle-radius": 7,
          "circle-color": COLOURS.near,
          "circle-stroke-color": "#fff",
          "circle-stroke-width": 2,
        },
      },
    ],
  };
}

// Tiles name records by uuid; GraphQL by global id: base64url of "Type:uuid", unpadded.
function globalId(type, uuid) {
  return btoa(`${type}:${uuid}`).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function point(lon, lat, properties = {}) {
  return { type: "Feature", geometry: { type: "Point", coordinates: [lon, lat] }, properties };
}

let map;
let clusterMarkers = [];

const CLUSTERS = `query Clusters($bbox: BBoxInput!, $zoom: Int!, $filter: ServiceFilter) {
  mapClusters(bbox: $bbox, zoom: $zoom, filter: $filter) { cell count lat lon }
}`;

const askClusters = latestOnly(graphql);

async function refreshClusters() {
  const bounds = map.getBounds();
  const variables = {
    bbox: {
      west: bounds.getWest(),
      south: bounds.getSouth(),
      east: bounds.getEast(),
      north: bounds.getNorth(),
    },
    zoom: Math.floor(map.getZoom()),
    filter: serviceFilter(),
  };
  const { answer, current } = await askClusters(CLUSTERS, variables);
  if (!current) return;
  const { mapClusters } = answer;
  preview.lastClusters = { variables, clusters: mapClusters };
  map.getSource("clusters").setData({
    type: "FeatureCollection",
    features: mapClusters.map((c) => point(c.lon, c.lat, { count: c.count, cell: c.cell })),
  });
  for (const marker of clusterMarkers) marker.remove();
  clusterMarkers = [];
  if (variables.zoom < CLUSTERS_BELOW_ZOOM) {
    for (const cluster of mapClusters) {
      const element = document.createElement("div");
      element.className = "cluster-label";
      element.dataset.count = String(cluster.count);
      element.textContent = String(cluster.count);
      clusterMarkers.push(
        new maplibregl.Marker({ element }).setLngLat([cluster.lon, cluster.lat]).addTo(map),
      );
    }
  }
  const total = mapClusters.reduce((sum, c) => sum + c.count, 0);
  $("#map").dataset.clusterTotal = String(total);
}

// The gazetteer holds every comune of Italy; the preview labels those of the province it opens on.
const COMUNI = `query Comuni($after: String) {
  comuni(provinceCodes: ["LC"], first: 100, after: $after) {
    edges { node { istatCode name lat lon } }
    pageInfo { hasNextPage endCursor }
  }
}`;

async function loadComuni() {
  const comuni = [];
  let after = null;
  for (;;) {
    const { comuni: page } = await graphql(COMUNI, { after });
    comuni.push(...page.edges.map((edge) => edge.node).filter((c) => c.lat !== null));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  map.getSource("comuni").setData({
    type: "FeatureCollection",
    features: comuni.map((c) => point(c.lon, c.lat, { name: c.name, istat: c.istatCode })),
  });
  for (const comune of comuni) {
    const element = document.createElement("div");
    element.className = "comune-label";
    element.textContent = comune.name;
    new maplibregl.Marker({ element, offset: [0, -10] }).setLngLat([comune.lon, comune.lat]).addTo(map);
  }
}

function showLabelsByZoom() {
  $("#map").classList.toggle("far", map.getZoom() < LABELS_FROM_ZOOM);
}

// Overlays: tile layers the server lists in /map/config.json (OVERLAYS in
// ambrogio/http/map_preview.py). Polygons are a fill and points circles; with `value`, both are
// coloured over `domain` (a choropleth, light to dark). A `signed_in` layer is drawn only once
// a bearer token is given, and only that layer's requests carry it; without a token, or when
// the server refuses it, the layer says so beside its checkbox.
const CHOROPLETH = ["#ffe082", "#b71c1c"];
const NO_TOKEN = "Livello per utenti registrati: incolla nel campo Token un token di accesso " +
  "(ambrogio users token NOME).";
const REFUSED = {
  401: "Il server non accetta il token (401): non valido o scaduto.",
  403: "L'utente del token non ha il permesso di vedere questo livello (403).",
};
const signedIn = { token: "", prefixes: [], overlays: [] };

function authorise(url) {
  if (signedIn.token && signedIn.prefixes.some((prefix) => url.startsWith(prefix))) {
    return { url, headers: { Authorization: `Bearer ${signedIn.token}` } };
  }
  return { url };
}

const POLYGONS = ["match", ["geometry-type"], ["Polygon", "MultiPolygon"], true, false];
const POINTS = ["match", ["geometry-type"], ["Point", "MultiPoint"], true, false];

function drawOverlay(overlay, id) {
  map.addSource(id, { type: "vector", url: BASE + overlay.tilejson });
  const colour = overlay.value
    ? ["interpolate", ["linear"], ["to-number", ["get", overlay.value], 0],
       overlay.domain[0], CHOROPLETH[0], overlay.domain[1], CHOROPLETH[1]]
    : COLOURS.overlay;
  const from = { source: id, "source-layer": overlay.layer };
  map.addLayer({
    ...from, id: `${id}-fill`, type: "fill", filter: POLYGONS,
    paint: { "fill-color": colour, "fill-opacity": 0.6, "fill-outline-color": "#8d6e63" },
  }, "clusters");
  map.addLayer({
    ...from, id: `${id}-points`, type: "circle", filter: POINTS,
    paint: { "circle-radius": 6, "circle-color": colour,
             "circle-stroke-color": "#fff", "circle-stroke-width": 1 },
  }, "services");
}

function legend(overlay) {
  const bar = element("span", undefined, "legend");
  bar.style.background = `linear-gradient(to right, ${CHOROPLETH.join(", ")})`;
  bar.title = `${overlay.value}: ${overlay.domain.join("–")}`;
  return [` ${overlay.domain[0]}`, bar, `${overlay.domain[1]}`];
}

function addOverlay(overlay) {
  const id = `overlay-${overlay.layer}`;
  const box = document.createElement("input");
  box.type = "checkbox";
  box.name = id;
  const note = element("span", undefined, "overlay-note");
  note.dataset.overlay = overlay.layer;
  let drawn = false;
  let refusal = "";  // why the server refused this layer's tiles, until the token changes
  const show = () => {
    const waiting = overlay.signed_in && !signedIn.token;
    if (box.checked && !waiting && !drawn) drawOverlay(overlay, id);
    drawn ||= box.checked && !waiting;
    for (const layer of drawn ? [`${id}-fill`, `${id}-points`] : []) {
      map.setLayoutProperty(layer, "visibility", box.checked && !waiting ? "visible" : "none");
    }
    note.textContent = !box.checked ? "" : waiting ? NO_TOKEN : refusal;
    note.hidden = !note.textContent;
  };
  box.addEventListener("change", show);
  if (overlay.signed_in) {
    signedIn.prefixes.push(BASE + `tiles/${overlay.layer}/`, BASE + `tiles/${overlay.layer}.json`);
    const refuse = (text) => { refusal = text; show(); };
    // a new token: the refusal of the last one no longer holds, the layer is drawn afresh
    // (tiles MapLibre failed to load are not asked again)
    const retry = () => {
      refusal = "";
      if (drawn) {
        for (const layer of [`${id}-fill`, `${id}-points`]) map.removeLayer(layer);
        map.removeSource(id);
        drawn = false;
      }
      show();
    };
    signedIn.overlays.push({ source: id, retry, refuse });
  } else {
    box.checked = true;
  }
  show();
  const label = document.createElement("label");
  label.append(box, ` ${overlay.title}` + (overlay.signed_in ? " (con token)" : ""));
  if (overlay.value) label.append(...legend(overlay));
  $("#overlays").append(label, note);
  $("#overlays").hidden = false;
}

function watchToken() {
  $("#token-row").hidden = false;
  $("#token").addEventListener("change", () => {
    signedIn.token = $("#token").value.trim();
    for (const overlay of signedIn.overlays) overlay.retry();
  });
}

// A signed-in overlay's errors are its own (a refused token, said beside it); others show.
function mapError(event) {
  const overlay = signedIn.overlays.find((o) => o.source === event.sourceId);
  if (!overlay) {
    showError(event.error);
    return;
  }
  const status = event.error?.status;
  overlay.refuse(REFUSED[status] || `Livello non disponibile: ${event.error?.message || status}`);
}

// --- the list and the details ----------------------------------------------------------------

const SERVICES = `query Services($text: String, $near: LatLonInput, $filter: ServiceFilter, $first: Int) {
  services(text: $text, near: $near, filter: $filter, first: $first) {
    totalCount
    edges { distanceMeters node { id name provider { name } categories { label } } }
  }
}`;

function formatDistance(metres) {
  return metres < 1000 ? `${Math.round(metres)} m` : `${(metres / 1000).toFixed(2)} km`;
}

const askServices = latestOnly(graphql);

async function refreshList() {
  const variables = {
    text: state.text || null,
    near: state.near,
    filter: serviceFilter(),
    first: RESULTS,
  };
  const { answer, current } = await askServices(SERVICES, variables);
  if (!current) return;
  const { services } = answer;
  preview.lastResults = { variables, services };
  const list = $("#results");
  list.replaceChildren();
  for (const edge of services.edges) {
    const item = document.createElement("li");
    item.dataset.id = edge.node.id;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = edge.node.name;
    item.append(name);
    if (edge.distanceMeters !== null) {
      const distance = document.createElement("span");
      distance.className = "distance";
      distance.dataset.metres = String(edge.distanceMeters);
      distance.textContent = formatDistance(edge.distanceMeters);
      item.append(distance);
    }
    const provider = document.createElement("div");
    provider.className = "provider";
    const categories = edge.node.categories.map((c) => c.label).join(", ");
    provider.textContent = [edge.node.provider?.name, categories].filter(Boolean).join(" · ");
    item.append(provider);
    item.addEventListener("click", () => {
      for (const other of list.children) other.classList.remove("selected");
      item.classList.add("selected");
      showDetails(edge.node.id).catch(showError);
    });
    list.append(item);
  }
  const where = state.near
    ? ` vicino a ${state.near.lat.toFixed(4)}, ${state.near.lon.toFixed(4)}`
    : "";
  const status = $("#status");
  status.classList.remove("error");
  status.textContent = `${services.totalCount} servizi${where}` +
    (services.totalCount > services.edges.length ? ` (i primi ${services.edges.length})` : "");
}

const DETAILS = `query Details($id: ID!, $from: DateTime!, $to: DateTime!, $today: Date!) {
  node(id: $id) {
    ... on Service {
      id name description delivery welfareEligible
      costOptions { amount currency unit description }
      categories { label }
      provider { name kind phone email website description }
      locations {
        id address cap comune { name } openingHours
        hours { error week(from: $today) { date weekday publicHoliday patronSaint periods { opens closes } } }
      }
    }
  }
  slots(serviceId: $id, from: $from, to: $to) {
    id startsAt endsAt remaining capacity cancelled location { address }
  }
}`;

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

const DAY = new Intl.DateTimeFormat("it-IT", {
  timeZone: "Europe/Rome", weekday: "short", day: "numeric", month: "numeric",
});
const TIME = new Intl.DateTimeFormat("it-IT", {
  timeZone: "Europe/Rome", weekday: "short", day: "numeric", month: "short",
  hour: "2-digit", minute: "2-digit",
});

const askDetails = latestOnly(graphql);

async function showDetails(id) {
  const from = new Date();
  const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Rome" }).format(from);
  const variables = {
    id, from: from.toISOString(), to: new Date(from.getTime() + WEEK_MS).toISOString(), today,
  };
  const { answer: data, current } = await askDetails(DETAILS, variables);
  if (!current) return;
  preview.lastDetails = { variables, data };
  const service = data.node;
  const details = $("#details");
  details.replaceChildren();
  details.dataset.id = id;
  const close = element("button", "×", "close");
  close.type = "button";
  close.title = "Chiudi";
  close.addEventListener("click", () => { details.hidden = true; });
  details.append(close, element("h2", service.name));
  const provider = service.provider;
  if (provider) {
    details.append(element("p", `${provider.name} (${provider.kind.toLowerCase()})`, "provider"));
    const contacts = [provider.phone, provider.email, provider.website].filter(Boolean).join(" · ");
    if (contacts) details.append(element("p", contacts, "contacts"));
  }
  if (service.description) details.append(element("p", service.description));
  const facts = [
    service.categories.map((c) => c.label).join(", "),
    service.delivery.join(", ").toLowerCase(),
    service.welfareEligible ? "welfare aziendale" : null,
    ...service.costOptions.map((c) =>
      c.amount === null ? c.description : `${c.amount} ${c.currency} / ${c.unit.toLowerCase()}`),
  ].filter(Boolean);
  details.append(element("p", facts.join(" · "), "facts"));
  for (const location of service.locations) {
    details.append(element("h3", [location.address, location.comune?.name].filter(Boolean).join(", ")));
    if (!location.hours) {
      details.append(element("p", "Orari non indicati", "hours"));
      continue;
    }
    const table = element("table", undefined, "hours");
    table.title = location.openingHours;
    for (const day of location.hours.week) {
      const row = element("tr");
      const holiday = day.publicHoliday ? " (festivo)" : day.patronSaint ? " (patrono)" : "";
      row.append(element("td", DAY.format(new Date(`${day.date}T12:00:00Z`)) + holiday));
      const periods = day.periods.map((p) => `${p.opens}–${p.closes}`).join(", ");
      row.append(element("td", periods || "chiuso"));
      table.append(row);
    }
    details.append(table);
  }
  const free = data.slots.filter((slot) => slot.remaining > 0 && !slot.cancelled);
  details.append(element("h3", `Posti liberi nei prossimi 7 giorni: ${free.length}`));
  const slots = element("ul", undefined, "slots");
  for (const slot of free.slice(0, 12)) {
    const text = `${TIME.format(new Date(slot.startsAt))} · ${slot.remaining}/${slot.capacity}` +
      (slot.location?.address ? ` · ${slot.location.address}` : "");
    slots.append(element("li", text));
  }
  details.append(slots);
  details.hidden = false;
}

// --- putting it together ---------------------------------------------------------------------

const CHOICES = `{
  categories { slug label children { slug label } }
  delivery: __type(name: "Delivery") { enumValues { name } }
}`;

async function loadChoices() {
  const { categories, delivery } = await graphql(CHOICES);
  const select = $("#category");
  for (const root of categories) {
    const group = document.createElement("optgroup");
    group.label = root.label;
    for (const category of [root, ...root.children]) {
      const option = new Option(category === root ? `${root.label} (tutto)` : category.label, category.slug);
      group.append(option);
    }
    select.append(group);
  }
  for (const value of delivery.enumValues) {
    $("#delivery").append(new Option(value.name.toLowerCase().replace("_", " "), value.name));
  }
}

function refreshAll() {
  readFilter();
  map.getSource("services").setUrl(servicesTileJSON());
  return Promise.all([refreshClusters(), refreshList()]).catch(showError);
}

async function start() {
  readFilter();
  const [tilejson, config] = await Promise.all([
    getJSON("tiles/services.json"),
    getJSON("map/config.json"),
    loadChoices(),
  ]);
  map = new maplibregl.Map({
    container: "map",
    style: style(servicesTileJSON()),
    bounds: tilejson.bounds,
    attributionControl: false,
    transformRequest: authorise,
  });
  preview.map = map;
  map.on("error", mapError);
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  await map.once("load");
  for (const overlay of config.overlays) addOverlay(overlay);
  if (signedIn.overlays.length) watchToken();
  showLabelsByZoom();
  map.on("zoom", showLabelsByZoom);
  map.on("moveend", () => refreshClusters().catch(showError));
  // A click lists the services nearest to it; on a service's dot, it opens that one too.
  map.on("click", (event) => {
    state.near = { lat: event.lngLat.lat, lon: event.lngLat.lng };
    map.getSource("near").setData(point(state.near.lon, state.near.lat));
    refreshList().catch(showError);
    const [feature] = map.queryRenderedFeatures(event.point, { layers: ["services"] });
    if (feature) showDetails(globalId("Service", feature.properties.id)).catch(showError);
  });
  map.on("mouseenter", "services", () => { map.getCanvas().style.cursor = "pointer"; });
  map.on("mouseleave", "services", () => { map.getCanvas().style.cursor = ""; });
  $("#search").addEventListener("submit", (event) => {
    event.preventDefault();
    state.text = $("#text").value.trim();
    refreshList().catch(showError);
  });
  $("#filters").addEventListener("change", refreshAll);
  await Promise.all([loadComuni(), refreshClusters(), refreshList()]);
  preview.ready = true;
  document.body.dataset.ready = "true";
}

start().catch(showError);
