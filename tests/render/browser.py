"""Headless Chromium helpers for the atlas tests: offline pages, console and request logs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@dataclass
class PageLog:
    """What a page did that a test cares about."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return [*self.console_errors, *self.page_errors, *self.failed, *self.blocked, *self.dialogs]


@contextlib.contextmanager
def browser() -> Iterator[object]:
    """A headless Debian Chromium, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def open_offline(context: object, path: Path, log: PageLog, *, wait_ready: bool = True) -> object:
    """Open ``path`` via file:// with every non-file request aborted and logged."""
    page = context.new_page()

    def route(route: object) -> None:
        url = route.request.url
        if url.startswith("file://") or url.startswith("data:"):
            route.continue_()
        else:
            log.blocked.append(f"network request: {url}")
            route.abort()

    page.route("**/*", route)
    page.on("console", lambda m: log.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log.page_errors.append(str(e)))
    page.on("requestfailed", lambda r: log.failed.append(f"{r.url}: {r.failure}")
            if r.url.startswith("file://") else None)

    def dialog(d: object) -> None:
        log.dialogs.append(f"dialog {d.type}: {d.message}")
        d.dismiss()

    page.on("dialog", dialog)
    page.goto(path.resolve().as_uri())
    if wait_ready:
        wait_until_ready(page)
    return page


def wait_until_ready(page: object, timeout_ms: int = 15_000) -> None:
    page.wait_for_function("document.body && document.body.dataset.ready === '1'",
                           timeout=timeout_ms)


def click_latlng(page: object, lat: float, lon: float, *, tap: bool = False) -> None:
    """Click (or tap) the map of ``page`` at a WGS84 point, through the map's own projection."""
    point = page.evaluate("([lat, lon]) => battlemap.map.latLngToContainerPoint([lat, lon])",
                          [lat, lon])
    box = page.locator("#map").bounding_box()
    x, y = box["x"] + point["x"], box["y"] + point["y"]
    if tap:
        page.touchscreen.tap(x, y)
    else:
        page.mouse.click(x, y)


def representative_lonlat(geometry: object, crs: object) -> tuple[float, float]:
    """A point surely inside ``geometry`` (shapely ``representative_point``), as WGS84 lon, lat."""
    import geopandas as gpd

    point = gpd.GeoSeries([geometry], crs=crs).representative_point().to_crs(4326).iloc[0]
    return point.x, point.y
