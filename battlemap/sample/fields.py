"""Text columns of the sample's case export, and the dirt real exports carry.

Descriptions, phone numbers, report times in mixed formats, channels, case
numbers; then bad coordinates, unknown statuses, duplicates and HTML.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from shapely.geometry import Polygon

from battlemap.coords import wgs84_to_gcj02
from battlemap.sample.geometry import TO_LL, random_points_in

__all__ = ["CHANNEL_APP", "CHANNEL_MINI", "CHANNEL_REWARD", "DIRT_COUNTS", "case_ids", "channels",
           "descriptions", "fmt_coord", "format_times", "inject_dirt", "phone_numbers"]

CHANNEL_APP = "广州河长APP"
CHANNEL_REWARD = "增城河长公众号有奖举报"
CHANNEL_MINI = "河涌众采小程序"
N_REWARD, N_REWARD_VALID, N_MINI = 1_332, 411, 1_213
UNKNOWN_STATUSES = ("待核实", "挂起", "退回重办", "已撤销", "暂缓办理")
NON_NUMERIC = ("无", "不详", "见描述", "—", "null")
HTML_DESCRIPTIONS = (
    "<script>alert(1)</script>河边有人倒垃圾",
    "<img src=x onerror=alert(1)>排水口冒黑水",
    '污水<直排>&"臭"，请尽快处理',
)
DIRT_COUNTS = {
    "outside_district": 12, "duplicate_ids": 20, "blank_coordinates": 15,
    "zero_coordinates": 8, "swapped_coordinates": 10, "non_numeric_coordinates": 5,
    "unknown_status": 12,
}
FAR_AWAY_WGS84 = ((116.397, 39.909), (113.264, 23.129), (114.057, 22.543), (121.473, 31.230))

PHONE_PREFIXES = (130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153,
                  155, 156, 157, 158, 159, 180, 181, 182, 183, 185, 186, 187, 188, 189)

DESCRIPTION_TEMPLATES: dict[str, tuple[str, ...]] = {
    "排水口": ("{river}边排水口排放浑浊污水", "{place}有排水口持续出水，水体发黑", "{river}排口冒黑水有异味"),
    "生活污水直排": ("{place}生活污水直排{river}", "{place}民房污水管直通{river}", "{river}旁住户污水未接管"),
    "散乱污场所": ("{place}无证小作坊废水外排", "{place}有散乱污场所，污水乱排", "{place}废品回收点污水横流"),
    "畜禽养殖": ("{place}养猪场粪污直排{river}", "{place}养殖场臭气大，粪水外溢", "{river}上游有鸭场污水入河"),
    "工业废水": ("{place}工厂夜间偷排废水", "{river}水面有油污，疑似工业废水", "{place}厂区排出有色废水"),
    "餐饮废水": ("{place}餐饮店油污水排入雨水井", "{place}大排档泔水倒入{river}", "{place}食街隔油池满溢"),
    "洗车废水": ("{place}洗车点废水直排{river}", "{place}路边洗车泡沫水流入河涌", "{place}洗车场无沉淀池"),
    "垃圾堆放": ("{river}岸边堆放建筑垃圾", "{place}河堤有生活垃圾堆积", "{river}护岸倾倒余泥"),
    "水面漂浮物": ("{river}水面漂浮大量垃圾", "{river}水浮莲堵塞河道", "{place}河段有死鱼和漂浮物"),
    "违法建设": ("{river}管理范围内搭建铁皮房", "{place}临河违建占用河道", "{river}河堤上新建违章棚屋"),
}
PLACE_SUFFIXES = ("", "附近", "路口", "桥头", "市场旁", "工业区", "村口", "大道旁")


def descriptions(types: np.ndarray, villages: np.ndarray, rivers: np.ndarray,
                  rng: np.random.Generator) -> list[str]:
    """Short plausible Chinese descriptions from templates."""
    pick = rng.integers(0, 3, len(types))
    suffix = rng.integers(0, len(PLACE_SUFFIXES), len(types))
    out = []
    for t, v, r, p, s in zip(types, villages, rivers, pick, suffix, strict=True):
        river = (r or "附近河涌").removesuffix("（示例）")
        out.append(DESCRIPTION_TEMPLATES[t][p].format(place=v + PLACE_SUFFIXES[s], river=river))
    return out


def phone_numbers(n: int, rng: np.random.Generator) -> list[str]:
    """Synthetic 11-digit mobile numbers."""
    pre = np.array(PHONE_PREFIXES)[rng.integers(0, len(PHONE_PREFIXES), n)]
    rest = rng.integers(0, 100_000_000, n)
    return [f"{p}{r:08d}" for p, r in zip(pre, rest, strict=True)]


def format_times(stamps: np.ndarray, rng: np.random.Generator) -> tuple[list[str], dict[str, int]]:
    """上报时间 in mixed formats: ISO-like, slashes, Chinese, Excel serials."""
    u = rng.random(len(stamps))
    ts = pd.DatetimeIndex(stamps.astype("datetime64[ns]"))
    serial = (stamps - np.datetime64("1899-12-30T00:00", "m")).astype(float) / 1440.0
    out = []
    for k, t in enumerate(ts):
        if u[k] < 0.10:
            out.append(f"{t.year}/{t.month}/{t.day} {t.hour}:{t.minute:02d}")
        elif u[k] < 0.13:
            out.append(f"{t.year}年{t.month}月{t.day}日")
        elif u[k] < 0.14:
            out.append(f"{serial[k]:.4f}")
        else:
            out.append(t.strftime("%Y-%m-%d %H:%M"))
    counts = {"iso": int((u >= 0.14).sum()), "slash": int((u < 0.10).sum()),
              "chinese": int(((u >= 0.10) & (u < 0.13)).sum()),
              "excel_serial": int(((u >= 0.13) & (u < 0.14)).sum())}
    return out, counts


def channels(n_unique: int, scale: float, rng: np.random.Generator
              ) -> tuple[np.ndarray, np.ndarray]:
    """上报渠道 and 是否有效 for the unique cases."""
    n_rew, n_mini = round(N_REWARD * scale), round(N_MINI * scale)
    n_rew_valid = round(N_REWARD_VALID * scale)
    chan = np.array([CHANNEL_REWARD] * n_rew + [CHANNEL_MINI] * n_mini
                    + [CHANNEL_APP] * (n_unique - n_rew - n_mini), dtype=object)
    valid = np.array(["否"] * n_rew + ["是"] * (n_unique - n_rew), dtype=object)
    valid[rng.choice(n_rew, n_rew_valid, replace=False)] = "是"
    perm = rng.permutation(n_unique)
    return chan[perm], valid[perm]


def case_ids(reported: np.ndarray) -> list[str]:
    """问题编号 ZC<year><6-digit sequence within the year>."""
    years = reported.astype("datetime64[Y]").astype(int) + 1970
    out, seq, last = [], 0, -1
    for y in years:
        seq = seq + 1 if y == last else 1
        last = y
        out.append(f"ZC{y}{seq:06d}")
    return out


def fmt_coord(v: float) -> str:
    return f"{v:.6f}"


def inject_dirt(rows: list[list[str]], life: dict[str, np.ndarray], chan: np.ndarray,
                reserved: set[int], district: Polygon, dongguan: Any, n_dup: int,
                rng: np.random.Generator) -> dict[str, int]:
    """Coordinates, statuses, duplicates and HTML the way real exports carry them."""
    free = np.array([k for k in rng.permutation(len(rows)) if k not in reserved])
    take = iter(free.tolist())
    counts = {k: 0 for k in DIRT_COUNTS}
    for k in [next(take) for _ in range(DIRT_COUNTS["outside_district"])]:
        counts["outside_district"] += 1
        if counts["outside_district"] <= 8:
            ring = dongguan.intersection(district.buffer(4000)).difference(district)
            x, y = random_points_in(ring, 1, rng)[0]
            lon, lat = TO_LL.transform(x, y)
        else:
            lon, lat = FAR_AWAY_WGS84[counts["outside_district"] - 9]
        g = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
        rows[k][7], rows[k][8] = fmt_coord(g[0][0]), fmt_coord(g[1][0])
    for k in [next(take) for _ in range(DIRT_COUNTS["blank_coordinates"])]:
        rows[k][7] = rows[k][8] = ""
        counts["blank_coordinates"] += 1
    for k in [next(take) for _ in range(DIRT_COUNTS["zero_coordinates"])]:
        rows[k][7] = rows[k][8] = "0"
        counts["zero_coordinates"] += 1
    for k in [next(take) for _ in range(DIRT_COUNTS["swapped_coordinates"])]:
        rows[k][7], rows[k][8] = rows[k][8], rows[k][7]
        counts["swapped_coordinates"] += 1
    for i, k in enumerate([next(take) for _ in range(DIRT_COUNTS["non_numeric_coordinates"])]):
        rows[k][7] = rows[k][8] = NON_NUMERIC[i % len(NON_NUMERIC)]
        counts["non_numeric_coordinates"] += 1
    for i, k in enumerate([next(take) for _ in range(DIRT_COUNTS["unknown_status"])]):
        rows[k][9] = UNKNOWN_STATUSES[i % len(UNKNOWN_STATUSES)]
        counts["unknown_status"] += 1
    for text in HTML_DESCRIPTIONS:
        rows[next(take)][12] = text
    counts["html_descriptions"] = len(HTML_DESCRIPTIONS)
    dups = [k for k in take if life["closed"][k] and chan[k] == CHANNEL_APP][:n_dup]
    for k in sorted(dups):
        update = list(rows[k])
        rows[k][9], rows[k][11] = "整改中", ""
        rows.append(update)
    counts["duplicate_ids"] = len(dups)
    return counts


