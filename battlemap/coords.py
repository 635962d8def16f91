"""Conversions between the coordinate systems Chinese phone apps export.

Case reports reach a river-chief office (河长办) from WeChat mini-programs,
Amap (高德), Tencent and Baidu maps, handheld GPS units and surveying
software. They use four geographic coordinate systems, and battlemap converts
everything to WGS84 longitude/latitude before any join or drawing.

WGS84
    What GPS receivers report (EPSG:4326).
CGCS2000 (2000国家大地坐标系)
    China's national geodetic datum, used by surveying and government GIS
    data (EPSG:4490). Its ellipsoid differs from WGS84's only in the
    flattening (a difference of about 0.1 mm in the semi-minor axis) and its
    frame is aligned with ITRF; the two agree to a few centimetres, far below
    the scale of a battle map. It is therefore treated as identical to WGS84
    here: no shift is applied.
GCJ-02 (国测局坐标, "Mars coordinates" / 火星坐标)
    The obfuscated system prescribed by the State Bureau of Surveying and
    Mapping (国家测绘局) for maps published in China, used by Amap, Tencent
    maps, WeChat location sharing and Google Maps' China tiles. It adds a
    smooth, non-linear offset to WGS84 of typically 300–600 m, computed from a
    sum of sines evaluated on a Krasovsky-like ellipsoid with
    ``a = 6378245.0`` m and ``ee = 0.00669342162296594323`` (first
    eccentricity squared). Outside mainland China (the ``out_of_china`` box
    below) GCJ-02 is defined as identical to WGS84.
BD-09 (百度坐标)
    Baidu's system, a second obfuscation applied on top of GCJ-02: a small
    polar perturbation of the (lon, lat) pair using ``x_pi = π·3000/180``
    followed by a constant shift of (+0.0065°, +0.006°), adding roughly
    another 500–1000 m. It is applied everywhere (there is no out-of-China
    exception), as the widely used open-source implementations do.

The forward transforms (WGS84 → GCJ-02 and GCJ-02 → BD-09) are the published
closed-form algorithms. Their inverses have no closed form; the one-step
approximations found in many libraries are off by up to about 5 m
(GCJ-02) or a few decimetres (BD-09). Here both are inverted iteratively
(fixed-point iteration started from the one-step approximation) until the
forward transform of the result reproduces the input to ``1e-10`` degrees
(about 0.01 mm), so round trips are exact to well under a centimetre.

The ``out_of_china`` box is the original one of the leaked reference code
(also used by ``eviltransform``): 72.004–137.8347 °E, 0.8293–55.8271 °N.
For GCJ-02 → WGS84 the box test is applied to the GCJ-02 input, so a point
within a few hundred metres of the box edge may not round-trip; no part of
China's land territory is anywhere near that edge.

All functions are vectorised: they take scalars, sequences or numpy arrays
(broadcast against each other) and return float64 arrays of the broadcast
shape, or numpy float64 scalars for scalar input. NaN in either coordinate
gives NaN in both outputs, without warnings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "EE",
    "SYSTEMS",
    "X_PI",
    "A",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "out_of_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

A: Final[float] = 6378245.0
"""Semi-major axis (m) of the ellipsoid used by the GCJ-02 algorithm (Krasovsky 1940)."""

EE: Final[float] = 0.00669342162296594323
"""First eccentricity squared of the ellipsoid used by the GCJ-02 algorithm."""

X_PI: Final[float] = np.pi * 3000.0 / 180.0
"""Angular factor of the BD-09 perturbation."""

SYSTEMS: Final[tuple[str, ...]] = ("GCJ-02", "BD-09", "WGS84", "CGCS2000")
"""Names accepted by :func:`to_wgs84` (same spelling as the configuration file)."""

_BD_DLON: Final[float] = 0.0065
_BD_DLAT: Final[float] = 0.006

_TOL: Final[float] = 1e-10  # degrees; about 0.01 mm
_MAX_ITER: Final[int] = 50

_FloatArray = NDArray[np.float64]
_Pair = tuple[Any, Any]


# --------------------------------------------------------------------------- helpers


def _prepare(lon: ArrayLike, lat: ArrayLike) -> tuple[_FloatArray, _FloatArray, bool]:
    """Return float64 copies of *lon*, *lat* broadcast together, and whether both were scalar."""
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    scalar = lon_a.ndim == 0 and lat_a.ndim == 0
    lon_b, lat_b = np.broadcast_arrays(lon_a, lat_a)
    return np.array(lon_b, dtype=np.float64), np.array(lat_b, dtype=np.float64), scalar


def _finish(lon: _FloatArray, lat: _FloatArray, bad: NDArray[np.bool_], scalar: bool) -> _Pair:
    """Set NaN where either input was NaN and unwrap 0-d results to numpy scalars."""
    lon = np.where(bad, np.nan, lon)
    lat = np.where(bad, np.nan, lat)
    if scalar:
        return lon[()], lat[()]
    return lon, lat


def _max_abs(*arrays: _FloatArray) -> float:
    """Largest finite absolute value over *arrays*, 0.0 if there is none (no warnings)."""
    worst = 0.0
    for arr in arrays:
        finite = np.abs(arr[np.isfinite(arr)])
        if finite.size:
            worst = max(worst, float(finite.max()))
    return worst


def _invert(
    forward: Callable[[_FloatArray, _FloatArray], tuple[_FloatArray, _FloatArray]],
    target_lon: _FloatArray,
    target_lat: _FloatArray,
    lon: _FloatArray,
    lat: _FloatArray,
) -> tuple[_FloatArray, _FloatArray]:
    """Solve ``forward(lon, lat) == (target_lon, target_lat)`` by fixed-point iteration.

    The transforms are the identity plus a slowly varying offset (its Jacobian
    differs from the identity by about 1e-2 at most), so the iteration
    ``x <- x - (forward(x) - target)`` contracts by roughly two orders of
    magnitude per step.
    """
    for _ in range(_MAX_ITER):
        f_lon, f_lat = forward(lon, lat)
        r_lon = f_lon - target_lon
        r_lat = f_lat - target_lat
        lon = lon - r_lon
        lat = lat - r_lat
        if _max_abs(r_lon, r_lat) < _TOL:
            break
    return lon, lat


def _gcj_transform_lat(x: _FloatArray, y: _FloatArray) -> _FloatArray:
    """Latitude offset series of GCJ-02 (in "metres-like" units) at (lon-105, lat-35)."""
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _gcj_transform_lon(x: _FloatArray, y: _FloatArray) -> _FloatArray:
    """Longitude offset series of GCJ-02 (in "metres-like" units) at (lon-105, lat-35)."""
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj_delta(lon: _FloatArray, lat: _FloatArray) -> tuple[_FloatArray, _FloatArray]:
    """GCJ-02 offset (dlon, dlat) in degrees at the WGS84 point (lon, lat), ignoring the box."""
    dlat = _gcj_transform_lat(lon - 105.0, lat - 35.0)
    dlon = _gcj_transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _gcj_forward_unmasked(lon: _FloatArray, lat: _FloatArray) -> tuple[_FloatArray, _FloatArray]:
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def _bd_forward(lon: _FloatArray, lat: _FloatArray) -> tuple[_FloatArray, _FloatArray]:
    """GCJ-02 → BD-09, the published closed form."""
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * X_PI)
    return z * np.cos(theta) + _BD_DLON, z * np.sin(theta) + _BD_DLAT


def _bd_inverse_approx(lon: _FloatArray, lat: _FloatArray) -> tuple[_FloatArray, _FloatArray]:
    """BD-09 → GCJ-02, the widely published one-step approximation (error up to ~0.2 m)."""
    x = lon - _BD_DLON
    y = lat - _BD_DLAT
    z = np.hypot(x, y) - 0.00002 * np.sin(y * X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _in_china(lon: _FloatArray, lat: _FloatArray) -> NDArray[np.bool_]:
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


# --------------------------------------------------------------------------- public API


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> Any:
    """Whether points lie outside the box where GCJ-02 differs from WGS84.

    Parameters
    ----------
    lon, lat : array_like
        Longitude and latitude in degrees.

    Returns
    -------
    numpy.ndarray of bool or numpy.bool_
        True outside 72.004–137.8347 °E × 0.8293–55.8271 °N. NaN counts as outside.
    """
    lon_a, lat_a, scalar = _prepare(lon, lat)
    out = ~_in_china(lon_a, lat_a)
    return out[()] if scalar else out


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert WGS84 to GCJ-02 (国测局坐标).

    Parameters
    ----------
    lon, lat : array_like
        WGS84 longitude and latitude in degrees; broadcast against each other.

    Returns
    -------
    lon, lat : numpy.ndarray or numpy.float64
        GCJ-02 longitude and latitude in degrees. Points outside China are
        returned unchanged; NaN in either input gives NaN in both outputs.
    """
    lon_a, lat_a, scalar = _prepare(lon, lat)
    with np.errstate(all="ignore"):
        bad = np.isnan(lon_a) | np.isnan(lat_a)
        inside = _in_china(lon_a, lat_a)
        g_lon, g_lat = _gcj_forward_unmasked(lon_a, lat_a)
        g_lon = np.where(inside, g_lon, lon_a)
        g_lat = np.where(inside, g_lat, lat_a)
    return _finish(g_lon, g_lat, bad, scalar)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert GCJ-02 to WGS84 by iterative inversion of :func:`wgs84_to_gcj02`.

    Starts from the one-step approximation ``wgs = gcj - delta(gcj)`` and
    iterates ``wgs <- wgs - (forward(wgs) - gcj)`` until the forward transform
    of the result matches the input to 1e-10 degrees (a few iterations).

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 longitude and latitude in degrees; broadcast against each other.

    Returns
    -------
    lon, lat : numpy.ndarray or numpy.float64
        WGS84 longitude and latitude in degrees. Points outside China (box
        tested on the input) are returned unchanged; NaN in either input gives
        NaN in both outputs.
    """
    lon_a, lat_a, scalar = _prepare(lon, lat)
    with np.errstate(all="ignore"):
        bad = np.isnan(lon_a) | np.isnan(lat_a)
        inside = _in_china(lon_a, lat_a)
        t_lon = lon_a[inside]
        t_lat = lat_a[inside]
        d_lon, d_lat = _gcj_delta(t_lon, t_lat)
        w_lon, w_lat = _invert(_gcj_forward_unmasked, t_lon, t_lat, t_lon - d_lon, t_lat - d_lat)
        out_lon = lon_a.copy()
        out_lat = lat_a.copy()
        out_lon[inside] = w_lon
        out_lat[inside] = w_lat
    return _finish(out_lon, out_lat, bad, scalar)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert GCJ-02 to BD-09 (百度坐标).

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 longitude and latitude in degrees; broadcast against each other.

    Returns
    -------
    lon, lat : numpy.ndarray or numpy.float64
        BD-09 longitude and latitude in degrees. NaN in either input gives NaN
        in both outputs.
    """
    lon_a, lat_a, scalar = _prepare(lon, lat)
    with np.errstate(all="ignore"):
        bad = np.isnan(lon_a) | np.isnan(lat_a)
        b_lon, b_lat = _bd_forward(lon_a, lat_a)
    return _finish(b_lon, b_lat, bad, scalar)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert BD-09 to GCJ-02 by iterative inversion of :func:`gcj02_to_bd09`.

    Starts from the widely published one-step formula (which alone is off by
    up to about 0.2 m) and iterates until the forward transform of the
    result matches the input to 1e-10 degrees.

    Parameters
    ----------
    lon, lat : array_like
        BD-09 longitude and latitude in degrees; broadcast against each other.

    Returns
    -------
    lon, lat : numpy.ndarray or numpy.float64
        GCJ-02 longitude and latitude in degrees. NaN in either input gives
        NaN in both outputs.
    """
    lon_a, lat_a, scalar = _prepare(lon, lat)
    with np.errstate(all="ignore"):
        bad = np.isnan(lon_a) | np.isnan(lat_a)
        g_lon, g_lat = _bd_inverse_approx(lon_a, lat_a)
        g_lon, g_lat = _invert(_bd_forward, lon_a, lat_a, g_lon, g_lat)
    return _finish(g_lon, g_lat, bad, scalar)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert WGS84 to BD-09 (via GCJ-02).

    Parameters
    ----------
    lon, lat : array_like
        WGS84 longitude and latitude in degrees; broadcast against each other.

    Returns
    -------
    lon, lat : numpy.ndarray or numpy.float64
        BD-09 longitude and latitude in degrees.
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert BD-09 to WGS84 (via GCJ-02, both steps inverted iteratively).

    Parameters
    ----------
    lon, lat : array_like
        BD-09 longitude and latitude in degrees; broadcast against each other.

    Returns
    -------
    lon, lat : numpy.ndarray or numpy.float64
        WGS84 longitude and latitude in degrees.
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def _identity(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    lon_a, lat_a, scalar = _prepare(lon, lat)
    bad = np.isnan(lon_a) | np.isnan(lat_a)
    return _finish(lon_a, lat_a, bad, scalar)


_TO_WGS84: Final[dict[str, Callable[[ArrayLike, ArrayLike], _Pair]]] = {
    "GCJ-02": gcj02_to_wgs84,
    "BD-09": bd09_to_wgs84,
    "WGS84": _identity,
    # CGCS2000 and WGS84 agree to a few centimetres: no shift at map scale.
    "CGCS2000": _identity,
}


_FROM_WGS84: Final[dict[str, Callable[[ArrayLike, ArrayLike], _Pair]]] = {
    "GCJ-02": wgs84_to_gcj02, "BD-09": wgs84_to_bd09, "WGS84": _identity, "CGCS2000": _identity,
}


def _lookup(table: dict[str, Callable[[ArrayLike, ArrayLike], _Pair]], system: str
            ) -> Callable[[ArrayLike, ArrayLike], _Pair]:
    try:
        return table[system]
    except (KeyError, TypeError):
        allowed = ", ".join(repr(s) for s in SYSTEMS)
        raise ValueError(
            f"unknown coordinate system {system!r}; expected one of {allowed}"
        ) from None


def from_wgs84(lon: ArrayLike, lat: ArrayLike, system: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 coordinates to a named system: the inverse of :func:`to_wgs84`.

    Parameters
    ----------
    lon, lat : array_like
        WGS84 longitude and latitude in degrees; broadcast together.
    system : str
        One of :data:`SYSTEMS`.

    Returns
    -------
    lon, lat : numpy.ndarray
        Longitude and latitude in *system*.

    Raises
    ------
    ValueError
        If *system* is not one of :data:`SYSTEMS`.

    >>> lon, lat = from_wgs84(113.8, 23.3, "BD-09")
    >>> [round(float(v), 6) for v in to_wgs84(lon, lat, "BD-09")]
    [113.8, 23.3]
    """
    return _lookup(_FROM_WGS84, system)(lon, lat)


def to_wgs84(lon: ArrayLike, lat: ArrayLike, system: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert coordinates in a named system to WGS84.

    Parameters
    ----------
    lon, lat : array_like
        Longitude and latitude in degrees in *system*; broadcast together.
    system : str
        One of ``"GCJ-02"``, ``"BD-09"``, ``"WGS84"``, ``"CGCS2000"`` (see
        :data:`SYSTEMS`). CGCS2000 differs from WGS84 by centimetres and is
        returned unchanged.

    Returns
    -------
    lon, lat : numpy.ndarray
        WGS84 longitude and latitude in degrees, float64 copies (numpy float64
        scalars for scalar input).

    Raises
    ------
    ValueError
        If *system* is not one of :data:`SYSTEMS`.
    """
    return _lookup(_TO_WGS84, system)(lon, lat)
