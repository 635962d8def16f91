/* battlemap atlas — dots: the case layer's pixel raster (bm.dotRaster).
 *
 * The case canvas draws tens of thousands of small circles. Through the 2-D
 * context (one path of 32,000 arcs, filled and stroked) the browser spends
 * ~0.3 s rasterising them before the first frame; here each circle is drawn
 * once by the canvas into a small sprite (its coverage, antialiased), and the
 * sprite is stamped into an RGBA buffer that goes onto the canvas with one
 * putImageData.
 *
 * A paint is what a canvas fill() or stroke() of one path is: the union of
 * its circles (per pixel the largest coverage of any of them) in one colour,
 * composited source-over once, so overlapping half-transparent dots do not
 * darken each other. Dots sit on whole device pixels (at most half a device
 * pixel from their place); the click hit-test keeps the exact places.
 */
(function (bm) {
  'use strict';

  var sprites = {}, colours = {}, probe = null, scratch = null;

  function probeContext() {
    if (!probe) {
      var canvas = document.createElement('canvas');
      canvas.width = canvas.height = 1;
      probe = canvas.getContext('2d', { willReadFrequently: true });
    }
    return probe;
  }

  // any CSS colour as [r, g, b, a 0..1], as the canvas reads it
  function rgba(css) {
    if (colours[css]) return colours[css];
    var ctx = probeContext();
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = '#000';
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    var d = ctx.getImageData(0, 0, 1, 1).data;
    return (colours[css] = [d[0], d[1], d[2], d[3] / 255]);
  }

  // a circle of radius `radius` device pixels, filled (width 0) or outlined `width` wide:
  // its covered pixels (coverage 0..255) as offsets from the centre, a pixel corner
  function sprite(radius, width) {
    var key = radius.toFixed(3) + '/' + width.toFixed(3);
    if (sprites[key]) return sprites[key];
    var half = Math.ceil(radius + width / 2 + 1), side = 2 * half;
    var canvas = document.createElement('canvas');
    canvas.width = canvas.height = side;
    var ctx = canvas.getContext('2d', { willReadFrequently: true });
    ctx.beginPath();
    ctx.arc(half, half, radius, 0, 2 * Math.PI);
    if (width) { ctx.lineWidth = width; ctx.strokeStyle = '#000'; ctx.stroke(); } else { ctx.fillStyle = '#000'; ctx.fill(); }
    // only the covered pixels: their offsets from the corner and their coverage
    var data = ctx.getImageData(0, 0, side, side).data, dx = [], dy = [], cover = [];
    for (var p = 0; p < side * side; p++) {
      if (!data[4 * p + 3]) continue;
      dx.push(p % side - half); dy.push(Math.floor(p / side) - half); cover.push(data[4 * p + 3]);
    }
    return (sprites[key] = { half: half, dx: new Int32Array(dx), dy: new Int32Array(dy),
      cover: new Uint8Array(cover) });
  }

  // the dot's pixels as offsets in a buffer `width` pixels wide (kept for the last width)
  function offsets(dot, width) {
    if (dot.width === width) return dot.at;
    var at = new Int32Array(dot.dx.length);
    for (var e = 0; e < at.length; e++) at[e] = dot.dy[e] * width + dot.dx[e];
    dot.width = width;
    return (dot.at = at);
  }

  // A buffer of W × H device pixels; fill/stroke take case positions `list` into the
  // CSS-pixel places sx, sy and sizes in CSS pixels, as the 2-D context would.
  bm.dotRaster = function (W, H, ratio) {
    var image = new ImageData(W, H), buf = image.data;
    // coverage (all 0 between paints) and the pixels a paint touched, kept for the next redraw
    if (!scratch || scratch.cover.length !== W * H) {
      scratch = { cover: new Uint8Array(W * H), touched: new Int32Array(W * H),
        seen: new Int32Array(W * H), paints: 0 };
    }
    var cover = scratch.cover, touched = scratch.touched, seen = scratch.seen;

    // A dot wholly inside the buffer is stamped through its pixels' offsets in the buffer
    // (dot.at, made once per buffer width); one at the edge pixel by pixel, clipped. The
    // first paint onto a pixel (nothing under it yet) just takes the paint's colour. Dots
    // of one paint on the same device pixel stamp the same pixels: the union has them
    // once, so each is stamped once (`seen` holds the paint's number at its centre;
    // 6,000 of the district's 29,700 closed cases share a pixel at the opening view).
    function paint(list, sx, sy, dot, css, alpha) {
      var t = 0, half = dot.half, ox = dot.dx, oy = dot.dy, shape = dot.cover, m = shape.length;
      var at = offsets(dot, W), mark = ++scratch.paints;
      for (var a = 0; a < list.length; a++) {
        var i = list[a], x0 = Math.round(sx[i] * ratio), y0 = Math.round(sy[i] * ratio);
        var e, p, old, v;
        if (x0 >= half && y0 >= half && x0 + half < W && y0 + half < H) {
          var base = y0 * W + x0;
          if (seen[base] === mark) continue;
          seen[base] = mark;
          for (e = 0; e < m; e++) {
            p = base + at[e]; old = cover[p]; v = shape[e];
            if (!old) touched[t++] = p;
            if (v > old) cover[p] = v;
          }
          continue;
        }
        for (e = 0; e < m; e++) {
          var x = x0 + ox[e], y = y0 + oy[e];
          if (x < 0 || y < 0 || x >= W || y >= H) continue;
          p = y * W + x; old = cover[p]; v = shape[e];
          if (!old) touched[t++] = p;
          if (v > old) cover[p] = v;
        }
      }
      var col = rgba(css), unit = col[3] * alpha / 255, cr = col[0], cg = col[1], cb = col[2];
      for (var q = 0; q < t; q++) {
        var pix = touched[q], as = cover[pix] * unit, o = 4 * pix;
        cover[pix] = 0;
        var ad = buf[o + 3];
        if (!ad) {      // source-over onto nothing: the paint's colour at its own alpha
          if (as > 0) { buf[o] = cr; buf[o + 1] = cg; buf[o + 2] = cb; buf[o + 3] = as * 255; }
          continue;
        }
        var rest = ad / 255 * (1 - as), ao = as + rest;
        if (ao <= 0) continue;
        var ks = as / ao, kd = rest / ao;
        buf[o] = cr * ks + buf[o] * kd;
        buf[o + 1] = cg * ks + buf[o + 1] * kd;
        buf[o + 2] = cb * ks + buf[o + 2] * kd;
        buf[o + 3] = ao * 255;
      }
    }

    return {
      image: image,
      fill: function (list, sx, sy, radius, css, alpha) {
        if (list.length) paint(list, sx, sy, sprite(radius * ratio, 0), css, alpha);
      },
      stroke: function (list, sx, sy, radius, width, css, alpha) {
        if (list.length) paint(list, sx, sy, sprite(radius * ratio, width * ratio), css, alpha);
      }
    };
  };
})(window.battlemap);
