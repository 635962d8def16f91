"""Tests for battlemap.coords: WGS84 / GCJ-02 / BD-09 conversions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from battlemap import coords
from battlemap.coords import (
    SYSTEMS,
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in metres between WGS84 points (arrays broadcast)."""
    lon1, lat1, lon2, lat2 = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (lon1, lat1, lon2, lat2))
    )
    _, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(dist)


# --------------------------------------------------------------------------- reference pairs

# googollee/eviltransform, python/test.py (TESTS): (wgsLat, wgsLng, gcjLat, gcjLng).
EVILTRANSFORM_WGS_GCJ = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen, Guangdong
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), EVILTRANSFORM_WGS_GCJ)
def test_wgs84_to_gcj02_matches_eviltransform(wlat, wlon, glat, glon):
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert lon == pytest.approx(glon, abs=1e-6)
    assert lat == pytest.approx(glat, abs=1e-6)


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), EVILTRANSFORM_WGS_GCJ)
def test_gcj02_to_wgs84_recovers_eviltransform_wgs(wlat, wlon, glat, glon):
    # eviltransform only asks its gcj2wgs_exact for < 0.5 m; the iterative inverse does far better.
    lon, lat = gcj02_to_wgs84(glon, glat)
    assert metres(lon, lat, wlon, wlat) < 0.01
    assert lon == pytest.approx(wlon, abs=1e-7)
    assert lat == pytest.approx(wlat, abs=1e-7)


# wandergis/coordtransform, test/app.js ("//result" comment), input (116.404, 39.915);
# the same numbers are asserted in coordtransform_rs's tests.
WANDERGIS_IN = (116.404, 39.915)
WANDERGIS_WGS_TO_GCJ = (116.41024449916938, 39.91640428150164)
WANDERGIS_GCJ_TO_BD = (116.41036949371029, 39.92133699351021)
WANDERGIS_BD_TO_GCJ = (116.39762729119315, 39.90865673957631)  # one-step approximation
WANDERGIS_GCJ_TO_WGS = (116.39775550083061, 39.91359571849836)  # crude one-step inverse


def test_wgs84_to_gcj02_matches_wandergis():
    lon, lat = wgs84_to_gcj02(*WANDERGIS_IN)
    assert lon == pytest.approx(WANDERGIS_WGS_TO_GCJ[0], abs=1e-9)
    assert lat == pytest.approx(WANDERGIS_WGS_TO_GCJ[1], abs=1e-9)


def test_gcj02_to_bd09_matches_wandergis():
    lon, lat = gcj02_to_bd09(*WANDERGIS_IN)
    assert lon == pytest.approx(WANDERGIS_GCJ_TO_BD[0], abs=1e-9)
    assert lat == pytest.approx(WANDERGIS_GCJ_TO_BD[1], abs=1e-9)


def test_bd09_one_step_start_matches_wandergis_and_exact_inverse_refines_it():
    # The published one-step formula is our starting guess...
    lon0, lat0 = coords._bd_inverse_approx(np.float64(116.404), np.float64(39.915))
    assert lon0 == pytest.approx(WANDERGIS_BD_TO_GCJ[0], abs=1e-9)
    assert lat0 == pytest.approx(WANDERGIS_BD_TO_GCJ[1], abs=1e-9)
    # ...the iterated result stays within a metre of it but is an exact inverse.
    lon, lat = bd09_to_gcj02(*WANDERGIS_IN)
    assert metres(lon, lat, lon0, lat0) < 1.0
    back = gcj02_to_bd09(lon, lat)
    assert back[0] == pytest.approx(WANDERGIS_IN[0], abs=1e-9)
    assert back[1] == pytest.approx(WANDERGIS_IN[1], abs=1e-9)


def test_gcj02_to_wgs84_improves_on_crude_wandergis_inverse():
    lon, lat = gcj02_to_wgs84(*WANDERGIS_IN)
    # Crude one-step inverse is within a few metres of the exact one...
    assert metres(lon, lat, *WANDERGIS_GCJ_TO_WGS) < 10.0
    # ...but only the iterative result maps forward onto the input.
    f_lon, f_lat = wgs84_to_gcj02(lon, lat)
    assert abs(f_lon - WANDERGIS_IN[0]) < 1e-9
    assert abs(f_lat - WANDERGIS_IN[1]) < 1e-9
    c_lon, c_lat = wgs84_to_gcj02(*WANDERGIS_GCJ_TO_WGS)
    assert metres(c_lon, c_lat, *WANDERGIS_IN) > 0.01


# hujiulong/gcoord, test/unit/crs/GCJ02.spec.js: GCJ02 → WGS84 and GCJ02 → BD09 of
# [123, 45], checked there with toBeCloseTo(…, 5).
def test_gcoord_pairs():
    lon, lat = gcj02_to_wgs84(123.0, 45.0)
    assert lon == pytest.approx(122.99395597, abs=1e-6)
    assert lat == pytest.approx(44.99804071, abs=1e-6)
    lon, lat = gcj02_to_bd09(123.0, 45.0)
    assert lon == pytest.approx(123.00636499, abs=1e-6)
    assert lat == pytest.approx(45.00636899, abs=1e-6)
    # gcoord: not in China → unchanged
    assert gcj02_to_wgs84(183.0, 45.0) == (183.0, 45.0)


# --------------------------------------------------------------------------- round trips


def _grid(lon0, lon1, lat0, lat1, n):
    lon, lat = np.meshgrid(np.linspace(lon0, lon1, n), np.linspace(lat0, lat1, n))
    return lon.ravel(), lat.ravel()


@pytest.mark.parametrize(
    "box",
    [
        pytest.param((113.6, 114.0, 23.0, 23.6, 41), id="guangdong"),
        pytest.param((73.5, 135.0, 18.0, 53.5, 121), id="china"),
    ],
)
def test_round_trips_are_exact_on_grids(box):
    lon, lat = _grid(*box)
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    # GCJ-02 really is shifted by hundreds of metres inside China.
    shift = metres(lon, lat, g_lon, g_lat)
    assert shift.min() > 1.0 and shift.max() < 1000.0

    w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
    assert metres(lon, lat, w_lon, w_lat).max() < 1e-3

    b_lon, b_lat = wgs84_to_bd09(lon, lat)
    w_lon, w_lat = bd09_to_wgs84(b_lon, b_lat)
    assert metres(lon, lat, w_lon, w_lat).max() < 1e-3

    back_lon, back_lat = gcj02_to_bd09(*bd09_to_gcj02(lon, lat))
    assert np.max(np.abs(back_lon - lon)) < 1e-9
    assert np.max(np.abs(back_lat - lat)) < 1e-9


def test_gcj_inverse_forward_residual_below_1e9_degrees():
    lon, lat = _grid(73.5, 135.0, 18.0, 53.5, 81)
    w_lon, w_lat = gcj02_to_wgs84(lon, lat)
    f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
    assert np.max(np.abs(f_lon - lon)) < 1e-9
    assert np.max(np.abs(f_lat - lat)) < 1e-9


lons = st.floats(73.0, 135.0, allow_nan=False, allow_infinity=False)
lats = st.floats(18.0, 53.0, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(lon=lons, lat=lats)
def test_gcj_round_trip_property(lon, lat):
    w_lon, w_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, w_lon, w_lat) < 0.01
    g_lon, g_lat = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    assert metres(lon, lat, g_lon, g_lat) < 0.01


@settings(max_examples=300, deadline=None)
@given(lon=lons, lat=lats)
def test_bd_round_trip_property(lon, lat):
    w_lon, w_lat = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert metres(lon, lat, w_lon, w_lat) < 0.01
    g_lon, g_lat = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert metres(lon, lat, g_lon, g_lat) < 0.01


# --------------------------------------------------------------------------- out of China


OUTSIDE = [(-0.1276, 51.5072), (2.3522, 48.8566), (139.6917, 35.6895), (151.2, -33.87),
           (100.5, 0.5), (-74.0, 40.7)]


@pytest.mark.parametrize(("lon", "lat"), OUTSIDE)
def test_out_of_china_unchanged(lon, lat):
    assert out_of_china(lon, lat)
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)
    assert to_wgs84(lon, lat, "GCJ-02") == (lon, lat)


def test_out_of_china_vector_mixed_with_inside():
    lon = np.array([113.8, -0.1276, 116.4])
    lat = np.array([23.3, 51.5072, 39.9])
    assert out_of_china(lon, lat).tolist() == [False, True, False]
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    assert g_lon[1] == lon[1] and g_lat[1] == lat[1]
    assert g_lon[0] != lon[0] and g_lon[2] != lon[2]


# --------------------------------------------------------------------------- NaN, shapes


ALL_FUNCS = [wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02,
             wgs84_to_bd09, bd09_to_wgs84]


@pytest.mark.parametrize("func", ALL_FUNCS, ids=lambda f: f.__name__)
def test_nan_propagates_without_warnings(func):
    lon = np.array([113.8, np.nan, 113.9, np.nan])
    lat = np.array([23.3, 23.4, np.nan, np.nan])
    out_lon, out_lat = func(lon, lat)  # pytest -W error turns any warning into a failure
    assert np.isfinite(out_lon[0]) and np.isfinite(out_lat[0])
    assert np.isnan(out_lon[1:]).all() and np.isnan(out_lat[1:]).all()
    s_lon, s_lat = func(np.nan, np.nan)
    assert np.isnan(s_lon) and np.isnan(s_lat)
    all_nan = func(np.full(3, np.nan), np.full(3, np.nan))
    assert np.isnan(all_nan[0]).all() and np.isnan(all_nan[1]).all()


@pytest.mark.parametrize("system", SYSTEMS)
def test_to_wgs84_nan(system):
    lon, lat = to_wgs84([113.8, np.nan], [23.3, 23.3], system)
    assert np.isfinite(lon[0]) and np.isnan(lon[1]) and np.isnan(lat[1])


@pytest.mark.parametrize("func", ALL_FUNCS, ids=lambda f: f.__name__)
def test_scalar_and_vector_inputs_agree(func):
    lon = np.array([113.62, 113.81, 113.99])
    lat = np.array([23.05, 23.31, 23.58])
    v_lon, v_lat = func(lon, lat)
    assert isinstance(v_lon, np.ndarray) and v_lon.shape == (3,)
    assert v_lat.dtype == np.float64
    for i in range(3):
        s_lon, s_lat = func(float(lon[i]), float(lat[i]))
        assert np.ndim(s_lon) == 0 and isinstance(s_lon, float)
        assert s_lon == pytest.approx(v_lon[i], abs=1e-12)
        assert s_lat == pytest.approx(v_lat[i], abs=1e-12)
    # lists, 2-D arrays and broadcasting
    l_lon, _ = func(lon.tolist(), lat.tolist())
    np.testing.assert_allclose(l_lon, v_lon, atol=1e-12)
    m_lon, m_lat = func(lon.reshape(3, 1) + np.zeros((3, 2)), lat.reshape(3, 1))
    assert m_lon.shape == m_lat.shape == (3, 2)
    np.testing.assert_allclose(m_lon[:, 1], v_lon, atol=1e-12)
    e_lon, e_lat = func(np.array([]), np.array([]))
    assert e_lon.shape == e_lat.shape == (0,)


def test_inputs_not_mutated():
    lon = np.array([113.8, 116.4])
    lat = np.array([23.3, 39.9])
    before = (lon.copy(), lat.copy())
    for func in ALL_FUNCS:
        func(lon, lat)
    np.testing.assert_array_equal(lon, before[0])
    np.testing.assert_array_equal(lat, before[1])


# --------------------------------------------------------------------------- to_wgs84


def test_to_wgs84_dispatch():
    lon = np.array([113.62, 113.99])
    lat = np.array([23.05, 23.58])
    np.testing.assert_array_equal(to_wgs84(lon, lat, "WGS84")[0], lon)
    np.testing.assert_array_equal(to_wgs84(lon, lat, "CGCS2000")[1], lat)
    np.testing.assert_array_equal(to_wgs84(lon, lat, "GCJ-02")[0], gcj02_to_wgs84(lon, lat)[0])
    np.testing.assert_array_equal(to_wgs84(lon, lat, "BD-09")[1], bd09_to_wgs84(lon, lat)[1])
    # identity systems return copies, not the caller's arrays
    out_lon, _ = to_wgs84(lon, lat, "WGS84")
    out_lon[0] = 0.0
    assert lon[0] == 113.62


@pytest.mark.parametrize("bad", ["gcj02", "BD09", "EPSG:4326", "", None])
def test_to_wgs84_unknown_system(bad):
    with pytest.raises(ValueError, match="GCJ-02") as info:
        to_wgs84(113.8, 23.3, bad)
    for name in SYSTEMS:
        assert name in str(info.value)


def test_all_exports_exist():
    for name in coords.__all__:
        assert hasattr(coords, name)
