"""Which coordinate system each case was recorded in, and whether another fits it better.

Real exports mix systems: the phone app records GCJ-02, a Baidu-based
mini-program BD-09, a GPS unit WGS84. The system of a case is the word in
the export's ``coordinate_system`` column when that column is mapped and the
cell is not blank, else ``[cases.coordinates_by_channel]`` for its channel
(上报渠道), else the file-wide ``[cases] coordinates`` (:func:`assign_systems`,
used by validate).

A channel read in the wrong system lands several hundred metres off, mostly
still inside the district, so nothing else notices. :func:`check_channel_systems`
(used by join, where the villages are at hand) reads each channel's points as
GCJ-02, BD-09 and WGS84 in turn and counts how many fall in the town and
village their reporter declared (所属镇街/所属村居). When another system fits
clearly better it warns, naming the channel, the system and the figures.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from battlemap._findings import Findings
from battlemap._text import text_series
from battlemap.config import Config
from battlemap.coords import from_wgs84, to_wgs84

__all__ = ["CANDIDATES", "MARGIN", "MIN_CASES", "SYSTEM_WORDS", "assign_systems",
           "check_channel_systems", "convert_per_case"]

SYSTEM_WORDS = {
    "gcj02": "GCJ-02", "gcj": "GCJ-02", "高德": "GCJ-02", "火星": "GCJ-02", "国测局": "GCJ-02",
    "腾讯": "GCJ-02", "amap": "GCJ-02", "tencent": "GCJ-02",
    "bd09": "BD-09", "bd09ll": "BD-09", "bd": "BD-09", "百度": "BD-09", "baidu": "BD-09",
    "wgs84": "WGS84", "wgs": "WGS84", "gps": "WGS84", "epsg:4326": "WGS84", "4326": "WGS84",
    "cgcs2000": "CGCS2000", "国家2000": "CGCS2000", "epsg:4490": "CGCS2000", "4490": "CGCS2000",
}
"""Words of a ``coordinate_system`` column, compared after :func:`_normal` (case, spaces,
dashes and a trailing 坐标/坐标系 do not matter); ``[cases.coordinate_words]`` adds more."""

CANDIDATES = ("GCJ-02", "BD-09", "WGS84")
"""The systems each channel is tried in (CGCS2000 is WGS84 at map scale)."""

MIN_CASES = 30
"""A channel is checked when at least this many of its mapped cases declare a town/village."""

MARGIN = 0.15
"""Another system must put at least this larger a share (15 percentage points) of a
channel's cases in their declared town/village before it is called a better fit."""


def assign_systems(cases: pd.DataFrame, config: Config, findings: Findings,
                   blank: Iterable[str] = ("",)) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Each case's coordinate system, in the column ``coord_system``.

    Parameters
    ----------
    cases
        The case table (canonical columns).
    config
        Gives ``[cases] coordinates``, ``coordinates_by_channel`` and ``coordinate_words``.
    findings
        Receives a warning per channel of ``coordinates_by_channel`` that no case has,
        and one per unknown word of the ``coordinate_system`` column (with its rows).
    blank
        Cell values (lower case) that mean "nothing here": the default system applies.

    Returns
    -------
    cases, unknown, detail
        The cases with ``coord_system``; which rows carry a word that names no
        system (to be rejected); and the detail to reject them with.
    """
    settings = config.cases
    system = pd.Series(settings.coordinates, index=cases.index, dtype=object)
    if settings.coordinates_by_channel:
        channel = text_series(cases["channel"], strip=True)
        table = {key.strip(): value for key, value in settings.coordinates_by_channel.items()}
        system = channel.map(table).fillna(system).astype(object)
        for value in sorted(set(table) - set(channel)):
            findings.warn("unused_channel_system", f"[cases.coordinates_by_channel] names "
                          f"channel {value!r}, which no case has; check its spelling against "
                          f"the {settings.columns['channel']} column", file=str(settings.path),
                          column=settings.columns["channel"])
    unknown = pd.Series(False, index=cases.index)
    detail = pd.Series("", index=cases.index, dtype=object)
    if "coordinate_system" in cases:
        system, unknown, detail = _per_row(cases, config, system, frozenset(blank), findings)
    return cases.assign(coord_system=system), unknown, detail


def _per_row(cases: pd.DataFrame, config: Config, system: pd.Series, blank: frozenset[str],
             findings: Findings) -> tuple[pd.Series, pd.Series, pd.Series]:
    settings = config.cases
    header = settings.columns["coordinate_system"]
    words = text_series(cases["coordinate_system"], strip=True)
    vocabulary = SYSTEM_WORDS | {_normal(k): v for k, v in settings.coordinate_words.items()}
    normal = words.map(_normal)
    named = normal.map(vocabulary)
    unknown = named.isna() & ~words.str.lower().isin(blank)
    for word, rows in cases[unknown].groupby(words[unknown])["source_row"]:
        shown = ", ".join(str(r) for r in rows.head(20)) + (" …" if len(rows) > 20 else "")
        findings.warn("unknown_coordinate_system", f"coordinate system {word!r} is not known "
                      f"({len(rows)} case(s), rows {shown}); add it to [cases.coordinate_words], "
                      "e.g. \"" + word + "\" = \"BD-09\"", file=str(settings.path), column=header)
    detail = header + ": '" + words + "' names no coordinate system (GCJ-02, BD-09, WGS84, " \
        "CGCS2000)"
    return named.where(named.notna(), system).astype(object), unknown, detail


def _normal(word: str) -> str:
    text = unicodedata.normalize("NFKC", word).lower()
    text = "".join(ch for ch in text if not ch.isspace() and ch not in "-_")
    for suffix in ("坐标系", "坐标"):
        text = text.removesuffix(suffix)
    return text


def convert_per_case(lon: np.ndarray, lat: np.ndarray, systems: np.ndarray,
                     to: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in each row's own system to WGS84 (``to=False``: back from WGS84)."""
    out_lon = np.full(len(lon), np.nan)
    out_lat = np.full(len(lat), np.nan)
    convert = to_wgs84 if to else from_wgs84
    for system in pd.unique(systems):
        rows = systems == system
        out_lon[rows], out_lat[rows] = convert(lon[rows], lat[rows], str(system))
    return out_lon, out_lat


def check_channel_systems(cases: gpd.GeoDataFrame, units: dict[str, gpd.GeoDataFrame],
                          config: Config, findings: Findings) -> pd.DataFrame:
    """Warn about each channel whose points fit their declared place better in another system.

    Each channel's mapped cases that declare a town or village are read, from
    their original coordinates, as GCJ-02, BD-09 and WGS84; a case fits when
    the village it then falls in (and that village's town) carries the names
    it declares. A channel with at least :data:`MIN_CASES` such cases is
    reported when another system's share beats the configured one's by
    :data:`MARGIN` or more. Cases that the configured system put outside the
    district were rejected before and are not counted.

    Returns
    -------
    DataFrame
        One row per checked (channel, configured system): ``cases`` and the
        share fitting under each of :data:`CANDIDATES`.
    """
    checked = _declared_cases(cases)
    if len(checked) < MIN_CASES:
        return pd.DataFrame()
    systems = checked["coord_system"].replace({"CGCS2000": "WGS84"}).to_numpy(object)
    raw = convert_per_case(checked["lon"].to_numpy(float), checked["lat"].to_numpy(float),
                           systems, to=False)
    fits = pd.DataFrame({"channel": checked["channel"].to_numpy(object), "system": systems})
    villages = _VillageFinder(units, config.project.analysis_crs)
    for candidate in CANDIDATES:
        lon, lat = to_wgs84(*raw, candidate)
        fits[candidate] = villages.fits(lon, lat, checked)
    shares = fits.groupby(["channel", "system"], sort=True).agg(
        cases=("system", "size"), **{c: (c, "mean") for c in CANDIDATES})
    shares = shares[shares["cases"] >= MIN_CASES]
    for (channel, system), row in shares.iterrows():
        _warn_if_better(str(channel), str(system), row, config, findings)
    return shares.reset_index()


def _declared_cases(cases: gpd.GeoDataFrame) -> pd.DataFrame:
    needed = {"lon", "lat", "declared_town", "declared_village"}
    if not needed <= set(cases.columns) or cases.empty:
        return pd.DataFrame()

    def text(column: str) -> np.ndarray:  # validate made these stripped strings already
        return cases[column].fillna("").astype(str).to_numpy(object)

    frame = pd.DataFrame({
        "lon": cases["lon"].to_numpy(float), "lat": cases["lat"].to_numpy(float),
        "town": text("declared_town"), "village": text("declared_village"),
        "channel": text("channel") if "channel" in cases else "",
        "coord_system": (cases["coord_system"].to_numpy(object)
                         if "coord_system" in cases else "WGS84"),
    })
    declared = (frame["town"] != "") | (frame["village"] != "")
    return frame[declared & np.isfinite(frame["lon"]) & np.isfinite(frame["lat"])]


class _VillageFinder:
    """Which village (and town) a WGS84 point falls in: a box search, then prepared polygons."""

    def __init__(self, units: dict[str, gpd.GeoDataFrame], crs: str) -> None:
        villages = units["village"]
        self.tree = villages.sindex
        self.geoms = np.array(villages.geometry.values, dtype=object)
        shapely.prepare(self.geoms)
        self.village = villages["name"].to_numpy(object)
        self.town = villages["parent_id"].map(units["town"]["name"]).to_numpy(object)
        self.transformer = _transformer(crs)

    def fits(self, lon: np.ndarray, lat: np.ndarray, checked: pd.DataFrame) -> np.ndarray:
        """Whether each point lies in the town and village its case declares."""
        x, y = self.transformer.transform(lon, lat)
        case_pos, village_pos = self.tree.query(shapely.points(x, y))
        inside = shapely.contains_xy(self.geoms[village_pos], x[case_pos], y[case_pos])
        case_pos, village_pos = case_pos[inside], village_pos[inside]
        village_name = np.full(len(lon), None, dtype=object)
        town_name = np.full(len(lon), None, dtype=object)
        village_name[case_pos] = self.village[village_pos]
        town_name[case_pos] = self.town[village_pos]
        town, village = checked["town"].to_numpy(object), checked["village"].to_numpy(object)
        located = pd.notna(village_name)
        return located & ((town == "") | (town == town_name)) & (
            (village == "") | (village == village_name))


@functools.lru_cache(maxsize=4)
def _transformer(crs: str) -> Transformer:
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def _warn_if_better(channel: str, system: str, row: pd.Series, config: Config,
                    findings: Findings) -> None:
    others = [c for c in CANDIDATES if c != system]
    best = max(others, key=lambda c: row[c])
    if row[best] < row[system] + MARGIN:
        return
    settings = config.cases
    header = settings.columns.get("channel", "")
    who = f"{header} {channel}" if header else "all cases"
    if header and not channel:
        who = f"{header} (blank)"
    rest = ", ".join(f"{c}: {_pct(row[c])}" for c in others if c != best)
    fix = (f"set [cases.coordinates_by_channel] \"{channel}\" = \"{best}\"" if header and channel
           else f"set [cases] coordinates = \"{best}\"")
    findings.warn("coordinate_system_suspect", f"{who}: {_pct(row[system])} in the declared "
                  f"town/village as {system}, {_pct(row[best])} as {best} ({rest}; "
                  f"{int(row['cases']):,} cases with a declared town or village): {fix}",
                  file=str(settings.path), feature=channel, column=header)


def _pct(share: float) -> str:
    return f"{100 * share:.0f} %"
