"""The map preview in a real browser (headless Chromium) against a real ``ambrogio serve``: the
page draws the vector tiles, and what it lists and clusters is what the API answers for the
same question. The run writes ``docs/img/map-preview.png``, the README's picture."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import BrowserContext, Page
from pyproj import Geod

from ambrogio.ids import to_global_id
from ambrogio.settings import PROJECT_ROOT
from tests.support.browser import Console, Recorder, chromium, until
from tests.support.map_oracle import LECCO
from tests.support.servers import serving

GEOD = Geod(ellps="WGS84")
SCREENSHOT = PROJECT_ROOT / "docs" / "img" / "map-preview.png"
# the colours of the services layer and of an overlay without a value, in map.js
SERVICE_RGB = (0xC2, 0x18, 0x5B)
OVERLAY_RGB = (0xEF, 0x6C, 0x00)

CLUSTERS = """query($bbox: BBoxInput!, $zoom: Int!, $filter: ServiceFilter) {
  mapClusters(bbox: $bbox, zoom: $zoom, filter: $filter) { cell count lat lon }
}"""
SERVICES = """query($text: String, $near: LatLonInput, $filter: ServiceFilter, $first: Int) {
  services(text: $text, near: $near, filter: $filter, first: $first) {
    totalCount edges { distanceMeters node { id name locations { lat lon } } }
  }
}"""
SLOTS = """query($id: ID!, $from: DateTime!, $to: DateTime!) {
  slots(serviceId: $id, from: $from, to: $to) { id remaining cancelled }
}"""

# Reads the canvas right after MapLibre has drawn a frame (the drawing buffer is not kept past
# it), and counts the pixels of the background's colour and of the services layer's.
CANVAS_PIXELS = """(colours) => new Promise((resolve) => {
  const map = window.ambrogioPreview.map;
  map.once("render", () => {
    const gl = map.getCanvas().getContext("webgl2");
    const [w, h] = [gl.drawingBufferWidth, gl.drawingBufferHeight];
    const px = new Uint8Array(w * h * 4);
    gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, px);
    const near = (i, rgb) => Math.abs(px[i] - rgb[0]) + Math.abs(px[i + 1] - rgb[1])
      + Math.abs(px[i + 2] - rgb[2]) < 24;
    const background = [px[0], px[1], px[2]];
    const counts = colours.map(() => 0);
    let same = 0;
    for (let i = 0; i < px.length; i += 4) {
      if (near(i, background)) same += 1;
      colours.forEach((rgb, k) => { if (near(i, rgb)) counts[k] += 1; });
    }
    resolve({ pixels: w * h, background: same, counts });
  });
  map.triggerRepaint();
})"""


# The map has settled: its style and every source loaded (a changed TileJSON too), all tiles
# of the view in, no camera movement.
SETTLED = """() => { const map = window.ambrogioPreview.map;
  return map.loaded() && map.areTilesLoaded() && !map.isMoving(); }"""


async def idle(page: Page) -> None:
    await until(page, SETTLED, seconds=60)


IDS = "(items) => items.map(i => i.dataset.id)"


@pytest.fixture(scope="module")
def server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with serving(db_url, tmp_path_factory.mktemp("map-preview")) as (port,):
        yield port


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
async def browser(
    tmp_path_factory: pytest.TempPathFactory, recorder: Recorder
) -> AsyncIterator[BrowserContext]:
    async with chromium(tmp_path_factory.mktemp("chromium-profile"), recorder) as context:
        yield context


@pytest.fixture
async def page(browser: BrowserContext, server: int) -> AsyncIterator[tuple[Page, Console]]:
    """The preview, loaded and ready (its first clusters and list shown), tiles drawn."""
    page = await browser.new_page()
    console = Console()
    console.watch(page)
    await page.goto(f"http://127.0.0.1:{server}/map")
    await page.wait_for_selector("body[data-ready=true]", state="attached", timeout=30_000)
    await idle(page)
    yield page, console
    await page.close()


def free_slots(slots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [slot for slot in slots if slot["remaining"] > 0 and not slot["cancelled"]]


def api(port: int, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The API's answer, asked directly (not through the page)."""
    response = httpx.post(
        f"http://127.0.0.1:{port}/graphql", json={"query": query, "variables": variables}
    )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return dict(body["data"])


async def last(page: Page, what: str) -> Any:
    return await page.evaluate(f"() => window.ambrogioPreview.{what}")


async def test_the_page_loads_cleanly_and_draws_the_vector_tiles(page, recorder, server) -> None:
    page, console = page

    # then nothing went wrong, the tiles were fetched through the TileJSON and drawn
    assert console.errors == []
    tiles = [
        (url, status)
        for url, status, kind in recorder.responses
        if urlsplit(url).path.endswith(".mvt") and kind == "application/vnd.mapbox-vector-tile"
    ]
    assert tiles and all(status == 200 for _, status in tiles), recorder.responses
    assert any(url.endswith("/tiles/services.json") for url in recorder.requests)
    canvas = await page.evaluate(CANVAS_PIXELS, [list(SERVICE_RGB), list(OVERLAY_RGB)])
    assert canvas["pixels"] > 100_000
    # the canvas is not blank: most of it is background, the services' dots are on it, and
    # so are the welfare points (the overlay, from its own tiles)
    assert 0.5 * canvas["pixels"] < canvas["background"] < canvas["pixels"]
    services, welfare_points = canvas["counts"]
    assert services > 50 and welfare_points > 50, canvas
    assert any("/tiles/welfare_points/" in url for url, _, _ in recorder.responses)

    # when the overlay is unchecked, its points go
    await page.uncheck("input[name=overlay-welfare_points]")
    await idle(page)
    hidden = await page.evaluate(CANVAS_PIXELS, [list(SERVICE_RGB), list(OVERLAY_RGB)])
    assert hidden["counts"][1] < welfare_points / 10, hidden
    # and the comuni are labelled from the gazetteer (all of them with a centroid)
    labels = await page.locator(".comune-label").all_text_contents()
    assert "Lecco" in labels and len(labels) >= 80


async def test_a_text_search_updates_the_list(page, server) -> None:
    page, console = page
    before = await page.locator("#results li").evaluate_all(IDS)

    # when someone searches for a word
    await page.fill("#text", "fisioterapia")
    await page.press("#text", "Enter")
    await until(page, "() => window.ambrogioPreview.lastResults.variables.text === 'fisioterapia'")
    shown = await page.locator("#results li").evaluate_all(IDS)

    # then the list is the API's answer to that search, and it changed
    answer = api(server, SERVICES, {"text": "fisioterapia", "first": 20})["services"]
    assert shown == [edge["node"]["id"] for edge in answer["edges"]]
    assert shown and shown != before
    names = await page.locator("#results li .name").all_text_contents()
    assert any("isioterapi" in name for name in names)
    assert str(answer["totalCount"]) in await page.locator("#status").text_content()
    assert console.errors == []


FILTERS = [
    ("category", lambda page: page.select_option("#category", "salute-e-benessere")),
    ("delivery", lambda page: page.select_option("#delivery", "AT_HOME")),
    ("welfare", lambda page: page.check("#welfare")),
    ("open now", lambda page: page.check("#open-now")),
    ("free slot", lambda page: page.check("#free-slot")),
]


@pytest.mark.parametrize("choose", [choose for _, choose in FILTERS], ids=[n for n, _ in FILTERS])
async def test_a_filter_changes_the_clusters(page, recorder, server, choose) -> None:
    page, console = page
    before = await last(page, "lastClusters")
    total_before = sum(cluster["count"] for cluster in before["clusters"])

    # when a filter is chosen
    await choose(page)
    await until(page, "() => window.ambrogioPreview.lastClusters.variables.filter !== null")
    await idle(page)
    after = await last(page, "lastClusters")

    # then the clusters are the API's for the same view and filter, and fewer than before
    answer = api(server, CLUSTERS, after["variables"])["mapClusters"]
    assert after["clusters"] == answer
    total_after = sum(cluster["count"] for cluster in answer)
    assert 0 <= total_after < total_before
    labels = await page.locator(".cluster-label").evaluate_all(
        "(items) => items.map(i => Number(i.dataset.count))"
    )
    assert sum(labels) == total_after
    # and the tiles are asked for with the same filter, through the TileJSON
    names = set(after["variables"]["filter"])
    tiles = [url for url in recorder.requests if "/tiles/services/" in url]
    assert any(all(f"{name}=" in url for name in names) for url in tiles), names
    assert console.errors == []


async def test_a_click_near_lecco_lists_the_nearest_with_the_apis_distances(page, server) -> None:
    page, console = page
    # given the map centred on Lecco
    await page.evaluate(
        "([lon, lat]) => window.ambrogioPreview.map.jumpTo({center: [lon, lat], zoom: 13})",
        [LECCO[1], LECCO[0]],
    )
    await idle(page)

    # when someone clicks the middle of the map
    box = await page.locator("#map canvas").bounding_box()
    assert box is not None
    await page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await until(page, "() => window.ambrogioPreview.lastResults.variables.near !== null")
    near = (await last(page, "lastResults"))["variables"]["near"]
    items = await page.locator("#results li").evaluate_all(
        """(items) => items.map(i => ({id: i.dataset.id,
             metres: Number(i.querySelector('.distance').dataset.metres),
             text: i.querySelector('.distance').textContent}))"""
    )

    # then the click was at Lecco, and the list is the API's nearest services from that point
    _, _, off = GEOD.inv(LECCO[1], LECCO[0], near["lon"], near["lat"])
    assert off < 30
    answer = api(server, SERVICES, {"near": near, "first": 20})["services"]["edges"]
    assert len(items) == 20 == len(answer)
    assert [item["id"] for item in items] == [edge["node"]["id"] for edge in answer]
    assert [item["metres"] for item in items] == [edge["distanceMeters"] for edge in answer]
    assert [item["metres"] for item in items] == sorted(item["metres"] for item in items)
    for item, edge in zip(items, answer, strict=True):
        metres = item["metres"]
        shown = f"{round(metres)} m" if metres < 1000 else f"{metres / 1000:.2f} km"
        assert item["text"] == shown
        # the API's distance is the ellipsoidal one to the service's nearest location
        oracle = min(
            GEOD.inv(near["lon"], near["lat"], loc["lon"], loc["lat"])[2]
            for loc in edge["node"]["locations"]
        )
        assert metres == pytest.approx(oracle, abs=0.01)

    # when the nearest one with a free slot this week is opened
    start = datetime.now(UTC)
    window = {"from": start.isoformat(), "to": (start + timedelta(days=7)).isoformat()}
    with_free = [
        index
        for index, item in enumerate(items)
        if any(free_slots(api(server, SLOTS, {"id": item["id"], **window})["slots"]))
    ]
    assert with_free, "no service near Lecco has a free slot this week"
    chosen = items[with_free[0]]["id"]
    await page.locator("#results li").nth(with_free[0]).click()
    await until(page, "(id) => window.ambrogioPreview.lastDetails?.variables.id === id", chosen)
    details = await last(page, "lastDetails")

    # then its provider, opening hours and free slots are shown, as the API has them
    name = next(edge["node"]["name"] for edge in answer if edge["node"]["id"] == chosen)
    assert await page.locator("#details h2").text_content() == name
    assert await page.locator("#details .provider").count() == 1
    variables = details["variables"]
    slots = api(server, SLOTS, {k: variables[k] for k in ("id", "from", "to")})["slots"]
    free = free_slots(slots)
    heading = await page.locator("#details h3").last.text_content()
    assert free and heading is not None and heading.endswith(f": {len(free)}")
    assert await page.locator("#details .slots li").count() == min(len(free), 12)
    for table in await page.locator("#details table.hours").all():
        assert await table.locator("tr").count() == 7
    assert console.errors == []
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOT))


# A service's dot drawn on the map: its feature's id and where it is on the screen.
A_DOT = """() => {
  const map = window.ambrogioPreview.map;
  const { width, height } = map.getCanvas().getBoundingClientRect();
  const inner = [[width * 0.1, height * 0.1], [width * 0.9, height * 0.9]];
  for (const feature of map.queryRenderedFeatures(inner, { layers: ["services"] })) {
    const at = map.project(feature.geometry.coordinates);
    const [top] = map.queryRenderedFeatures(at, { layers: ["services"] });
    if (top.properties.id === feature.properties.id) {
      return { id: feature.properties.id, x: at.x, y: at.y };
    }
  }
  return null;
}"""


async def test_a_click_on_a_service_dot_opens_it(page, server) -> None:
    page, console = page
    # given the map zoomed in on Lecco, where dots are apart
    await page.evaluate(
        "([lon, lat]) => window.ambrogioPreview.map.jumpTo({center: [lon, lat], zoom: 14})",
        [LECCO[1], LECCO[0]],
    )
    await idle(page)
    dot = await page.evaluate(A_DOT)
    assert dot is not None

    # when someone clicks it
    box = await page.locator("#map canvas").bounding_box()
    assert box is not None
    await page.mouse.click(box["x"] + dot["x"], box["y"] + dot["y"])

    # then that service's details open (the tile's uuid names the API's global id)
    service = {"id": to_global_id("Service", dot["id"])}
    opened = "(id) => window.ambrogioPreview.lastDetails?.variables.id === id"
    await until(page, opened, service["id"])
    shown = await page.locator("#details h2").text_content()
    node = api(server, "query($id: ID!) { node(id: $id) { ... on Service { name } } }", service)
    assert shown == node["node"]["name"]
    assert console.errors == []


# the gap choropleth's ends (map.js's CHOROPLETH), over the overlay's domain 0..1
CHOROPLETH = ((0xFF, 0xE0, 0x82), (0xB7, 0x1C, 0x1C))
GAPS = "needs_gaps"
GAP_BOX = f"input[name=overlay-{GAPS}]"
GAP_NOTE = f".overlay-note[data-overlay={GAPS}]"
# the gap layer's features drawn (none before it is added): comune and score
DRAWN_GAPS = f"""() => {{
  const map = window.ambrogioPreview.map;
  const layers = ["overlay-{GAPS}-fill", "overlay-{GAPS}-points"];
  return map.getLayer(layers[0]) ? map.queryRenderedFeatures({{ layers }})
    .map((f) => [f.properties.comune, f.properties.gap_score]) : [];
}}"""


BACKGROUND_RGB = (0xF4, 0xF1, 0xEA)
FILL_OPACITY = 0.6  # of the overlays' polygons, in map.js


def choropleth(score: float, polygon: bool) -> list[int]:
    """The colour a score is drawn in: linear in RGB between the ends, as MapLibre does; a
    polygon's fill over the background."""
    low, high = CHOROPLETH
    colour = [a + (b - a) * score for a, b in zip(low, high, strict=True)]
    if polygon:
        colour = [
            c * FILL_OPACITY + g * (1 - FILL_OPACITY)
            for c, g in zip(colour, BACKGROUND_RGB, strict=True)
        ]
    return [round(c) for c in colour]


@pytest.fixture(scope="module")
async def planner(login: Any) -> str:
    header = await login("planner-map-preview", "planner")
    return str(header["Authorization"]).removeprefix("Bearer ")


def gap_map(port: int, token: str) -> dict[str, tuple[float, bool]]:
    """The gap score of each comune on the map, and whether it is a polygon, as the API's
    GeoJSON has it."""
    response = httpx.get(
        f"http://127.0.0.1:{port}/needs/gaps.geojson",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,  # the whole analysis, on a machine that may be busy
    )
    assert response.status_code == 200, response.text
    return {
        feature["id"]: (
            feature["properties"]["gap_score"],
            "Polygon" in feature["geometry"]["type"],
        )
        for feature in response.json()["features"]
        if feature["properties"]["gap_score"] is not None
    }


async def sign_in(page: Page, token: str) -> None:
    await page.fill("#token", token)
    await page.press("#token", "Tab")  # the field's change event


async def test_a_planner_sees_the_gap_choropleth_drawn_with_their_token(
    page, recorder, server, planner
) -> None:
    page, console = page
    # given the demo needs, which give comuni cells of at least k, with different scores
    scores = gap_map(server, planner)
    low, high = min(scores.values()), max(scores.values())
    assert len(scores) >= 10 and high[0] > low[0], scores
    colours = [choropleth(*low), choropleth(*high)]
    before = await page.evaluate(CANVAS_PIXELS, colours)
    asked = len(recorder.requests)

    # when a planner gives their token and checks the layer
    await sign_in(page, planner)
    await page.check(GAP_BOX)
    await until(page, f"() => window.ambrogioPreview.map.getSource('overlay-{GAPS}')")
    await idle(page)

    # then its tiles were fetched with the token, and no other request carried it
    requests = recorder.requests[asked:]
    tiles = [url for url in requests if f"/tiles/{GAPS}/" in url]
    assert tiles, requests
    signed = {url: header for url, header in recorder.authorised}
    assert all(signed.get(url) == f"Bearer {planner}" for url in tiles)
    prefix = f"http://127.0.0.1:{server}/tiles/{GAPS}"
    assert all(url.startswith((prefix + "/", prefix + ".json")) for url in signed), signed
    answered = [status for url, status, _ in recorder.responses if url in tiles]
    assert answered and all(status in (200, 204) for status in answered)
    assert 200 in answered
    # and the comuni drawn carry the API's scores, in the colours of the lowest and highest
    drawn = dict(await page.evaluate(DRAWN_GAPS))
    assert len(drawn) >= 10 and set(drawn) <= set(scores)
    assert all(drawn[code] == pytest.approx(scores[code][0]) for code in drawn)
    shown = await page.evaluate(CANVAS_PIXELS, colours)
    for k in range(2):
        assert shown["counts"][k] > before["counts"][k] + 20, (colours, before, shown)
    assert await page.locator(GAP_NOTE).is_hidden()

    # when the layer is unchecked, its colours go
    await page.uncheck(GAP_BOX)
    await idle(page)
    hidden = await page.evaluate(CANVAS_PIXELS, colours)
    for k in range(2):
        assert hidden["counts"][k] <= before["counts"][k] + 5, (before, hidden)
    assert console.errors == []


@pytest.mark.parametrize(
    ("token", "said"), [("", "token di accesso"), ("not-a-token", "401")], ids=["none", "bad"]
)
async def test_the_gap_layer_without_a_usable_token_says_so(
    page, recorder, server, token, said
) -> None:
    page, console = page
    asked = len(recorder.requests)

    # when the layer is checked with no token, or one the server refuses
    if token:
        await sign_in(page, token)
    await page.check(GAP_BOX)
    note = page.locator(GAP_NOTE)
    await note.wait_for(state="visible")

    # then the layer says why it shows nothing, and nothing went wrong in the console
    assert said in (await note.text_content() or "")
    tiles = [url for url in recorder.requests[asked:] if f"/tiles/{GAPS}/" in url]
    assert bool(tiles) == bool(token)
    assert await page.evaluate(DRAWN_GAPS) == []
    assert console.errors == []
    # and unchecking it puts the note away
    await page.uncheck(GAP_BOX)
    assert await note.is_hidden()


async def test_a_refused_token_gives_way_to_a_good_one(page, server, planner) -> None:
    page, console = page
    # given the layer refused with a bad token
    await sign_in(page, "not-a-token")
    await page.check(GAP_BOX)
    note = page.locator(GAP_NOTE)
    await note.wait_for(state="visible")

    # when a planner's token replaces it
    await sign_in(page, planner)
    await note.wait_for(state="hidden")
    await idle(page)

    # then the tiles are asked again, and the comuni are drawn with the API's scores
    drawn = dict(await until(page, DRAWN_GAPS))
    scores = gap_map(server, planner)
    assert len(drawn) >= 10 and all(drawn[c] == pytest.approx(scores[c][0]) for c in drawn)
    assert await note.is_hidden()
    assert console.errors == []


async def test_no_request_leaves_127_0_0_1(page, recorder: Recorder, server) -> None:
    page, console = page
    # when the page is used: a search, a filter, a click, a provider's details
    await page.fill("#text", "fisioterapia")
    await page.press("#text", "Enter")
    await page.check("#welfare")
    box = await page.locator("#map canvas").bounding_box()
    assert box is not None
    await page.mouse.click(box["x"] + box["width"] / 3, box["y"] + box["height"] / 2)
    await until(page, "() => window.ambrogioPreview.lastResults.variables.near !== null")
    assert (await last(page, "lastResults"))["services"]["edges"]
    await page.locator("#results li").first.click()
    await until(page, "() => window.ambrogioPreview.lastDetails !== null")

    # then every request of the page was to this server (or a data: or blob: URL)
    origin = f"http://127.0.0.1:{server}/"
    assert recorder.outside == []
    remote = [url for url in recorder.requests if urlsplit(url).scheme not in ("data", "blob")]
    assert remote and all(url.startswith(origin) for url in remote)
    assert any("/graphql" in url for url in remote) and any(".mvt" in url for url in remote)
    assert console.errors == []


async def test_the_recorder_catches_a_request_for_elsewhere(tmp_path: Path, server: int) -> None:
    # guard of the test above: a request for another host is seen and aborted, never made
    recorder = Recorder()
    async with chromium(tmp_path / "profile", recorder) as context:
        page = await context.new_page()
        await page.goto(f"http://127.0.0.1:{server}/healthz")
        failed = await page.evaluate(
            "() => fetch('http://outside.invalid/x', {mode: 'no-cors'})"
            ".then(() => false, () => true)"
        )
    assert failed and recorder.outside == ["http://outside.invalid/x"]
    assert recorder.requests[0] == f"http://127.0.0.1:{server}/healthz"


def test_the_screenshot_is_in_the_readme() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "docs/img/map-preview.png" in readme
    assert Path(SCREENSHOT).exists()
