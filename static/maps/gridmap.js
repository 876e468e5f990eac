/*
 * gridgis map pages: layers that load from the API by bbox as the user pans, vector-tile and heat
 * layers, popups, the legend and the supervisor's filter. The pages themselves are built with
 * folium (maps/pages.py); each layer element there calls one function here.
 *
 * Safety rule: every text that comes from the data (grid names, case descriptions, people's names)
 * reaches the page through textContent, never innerHTML, so "<img src=x onerror=...>" stays text.
 *
 * window.gridgis also counts what is drawn (drawn[key]) and what is loading (pending), so that the
 * browser tests, and anyone at the console, can see what the map shows.
 */
(function () {
  'use strict';

  var G = window.gridgis = window.gridgis || {};
  G.drawn = {};
  G.truncated = {};
  G.loaded = {};
  G.errors = [];
  G.pending = 0;
  G.layers = {};
  G.filter = { prefix: '' };
  G.config = { labels: {} };

  G.text = function (key) {
    return (G.config.labels && G.config.labels[key]) || key;
  };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  G.el = el;

  var ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
  G.formatTime = function (iso) {
    return new Date(iso).toLocaleString(G.config.language === 'en' ? 'en-GB' : 'zh-CN',
                                        { dateStyle: 'short', timeStyle: 'short' });
  };

  /* Popup: a title and a two-column table, all set as text. */
  G.popupContent = function (title, rows) {
    var box = el('div', 'gridgis-popup');
    box.appendChild(el('strong', null, title));
    var table = el('table');
    rows.forEach(function (row) {
      var value = row[1];
      if (Array.isArray(value)) { value = value.join('、'); }
      if (typeof value === 'string' && ISO_DATETIME.test(value)) { value = G.formatTime(value); }
      if (value === undefined || value === null || value === '') { return; }
      var tr = el('tr');
      tr.appendChild(el('th', null, row[0]));
      tr.appendChild(el('td', null, value));
      table.appendChild(tr);
    });
    box.appendChild(table);
    return box;
  };

  /* Fetches `url` for an open popup and hands the answer to `fill`, then marks the popup loaded; a
     failure is kept in G.errors (the browser tests read it). */
  function fillPopup(box, url, fill) {
    G.pending++;
    fetch(url, { credentials: 'same-origin' })
      .then(function (r) { if (!r.ok) { throw new Error(url + ': HTTP ' + r.status); } return r.json(); })
      .then(function (answer) {
        fill(answer);
        box.setAttribute('data-detail', 'loaded');
      })
      .catch(function (err) { G.errors.push(String(err)); })
      .finally(function () { G.pending--; });
  }

  /* Appends [label key, text] rows to a popup's table, as text; empty ones are left out. */
  function appendRows(table, rows) {
    rows.forEach(function (row) {
      if (!row[1]) { return; }
      var tr = el('tr');
      tr.appendChild(el('th', null, G.text(row[0])));
      tr.appendChild(el('td', null, row[1]));
      table.appendChild(tr);
    });
  }

  function names(list) { return (list || []).map(function (x) { return x.name; }).join('、'); }

  /* Adds who answers for a grid (leaders, officers, departments) to an open popup, as text. */
  G.fillGridDetail = function (box, url) {
    fillPopup(box, url, function (detail) {
      appendRows(box.querySelector('table'), [['leaders', names(detail.leaders)],
        ['officers', names(detail.officers)], ['departments', names(detail.departments)]]);
    });
  };

  /* Adds a case's trail (who did what, when) to an open popup, oldest first, as text. */
  G.fillTrail = function (box, url) {
    fillPopup(box, url, function (entries) {
      box.appendChild(el('div', 'gridgis-trail-title', G.text('trail')));
      var list = el('ol', 'gridgis-trail');
      entries.forEach(function (entry) {
        var line = G.formatTime(entry.when) + ' ' +
          (entry.who || '') + ' ' + entry.action + ' ' + (entry.from_status || '') + '→' + entry.to_status +
          (entry.note ? ' · ' + entry.note : '');
        list.appendChild(el('li', null, line));
      });
      box.appendChild(list);
    });
  };

  /* Adds what a renovation footprint touches (grids, leaders, departments, open cases, projects that
     overlap it in space and time) to an open popup, as text. */
  G.fillOverlay = function (box, url) {
    fillPopup(box, url, function (overlay) {
      appendRows(box.querySelector('table'), [['grids', names(overlay.grids)], ['leaders', names(overlay.leaders)],
        ['departments', names(overlay.departments)],
        ['open_cases_near', overlay.cases === null ? '' : String(overlay.cases_total)],
        ['conflicts', names(overlay.conflicts)]]);
    });
  };

  /* Calls `refresh` shortly after each pan or zoom, and when the layer is turned on. The layer reads as
     not loaded at once, so that nobody reads the previous view's features as this one's. */
  function refreshAfterMoves(map, layer, key, refresh) {
    var timer = null;
    function schedule() {
      clearTimeout(timer);
      if (map.hasLayer(layer)) { G.loaded[key] = false; }
      timer = setTimeout(refresh, 120);
    }
    map.on('moveend', schedule);
    layer.on('add', schedule);
  }

  function clamp(v, lo, hi) { return Math.max(lo, Math.min(hi, v)); }

  G.bboxParam = function (map) {
    var b = map.getBounds();
    return [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90),
            clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)]
      .map(function (v) { return v.toFixed(6); }).join(',');
  };

  /* Styles by name: a layer element names one; features may carry what the style looks at. */
  var LEVEL_COLOURS = { 1: '#6a3d9a', 2: '#1f78b4', 3: '#33a02c', 4: '#ff7f00', 5: '#b15928' };
  // Coarser levels draw wider lines: they lie underneath the finer ones and show around them.
  var LEVEL_WEIGHTS = { 1: 4, 2: 3.5, 3: 3.5, 4: 1.5, 5: 1 };
  G.styles = {
    grid: function (feature) {
      var p = feature.properties || {};
      var mine = (G.config.myGrids || []).indexOf(p.code) >= 0;
      return { color: LEVEL_COLOURS[p.level] || '#555', weight: mine ? 3 : (LEVEL_WEIGHTS[p.level] || 1.5),
               fillOpacity: mine ? 0.25 : 0.05, fillColor: mine ? '#e31a1c' : (LEVEL_COLOURS[p.level] || '#555') };
    },
    point: function () {
      return { radius: 6, color: '#08519c', weight: 1, fillColor: '#3182bd', fillOpacity: 0.8 };
    },
    estate: function () { return { color: '#8c510a', weight: 1.5, fillColor: '#dfc27d', fillOpacity: 0.35 }; },
    footprint: function (feature) {
      var batch = (feature.properties || {}).batch;
      var colour = { implement: '#d7301f', plan: '#fc8d59', reserve: '#fdcc8a' }[batch] || '#999';
      return { color: colour, weight: 2, fillColor: colour, fillOpacity: 0.3, dashArray: batch === 'reserve' ? '4' : null };
    },
    finding: function () { return { color: '#e31a1c', weight: 2, fillColor: '#fb9a99', fillOpacity: 0.5, radius: 7 }; },
    case: function (feature) {
      var colour = { on_time: '#1a9850', due_soon: '#fee08b', overdue: '#d73027' }[G.timeLeft(feature)] || '#4575b4';
      return { radius: 6, color: '#333', weight: 1, fillColor: colour, fillOpacity: 0.9 };
    },
    dead_corner: function () {
      return { radius: 6, color: '#333', weight: 1, fillColor: '#4575b4', fillOpacity: 0.9 };
    },
    track: function () { return { color: '#7b3294', weight: 3, opacity: 0.8 }; }
  };

  /* Time left of an open case: overdue, due within GRIDGIS_DUE_SOON hours, or on time. */
  G.timeLeft = function (feature) {
    var p = feature.properties || {};
    var due = p.due_at || p.handle_due_at || p.due;
    if (!due) { return 'unknown'; }
    var hours = (new Date(due).getTime() - Date.now()) / 3600000;
    if (hours < 0) { return 'overdue'; }
    return hours < (G.config.dueSoonHours || 24) ? 'due_soon' : 'on_time';
  };

  /* The grid level a layer asks for at `zoom`: levels is [[maxZoom, level], ...], coarse to fine. */
  function levelForZoom(levels, zoom) {
    for (var i = 0; i < levels.length; i++) {
      if (zoom <= levels[i][0]) { return levels[i][1]; }
    }
    return levels[levels.length - 1][1];
  }

  function propertyRows(feature, fields) {
    var p = feature.properties || {};
    return fields.map(function (f) { return [G.text(f[1]), p[f[0]]]; });
  }

  /*
   * A GeoJSON layer refilled from `opts.url` with the visible bbox after every pan and zoom.
   * opts: key, url, params, minZoom, levelByZoom ([[maxZoom, level], ...]), style, titleField,
   * popupFields ([[property, label key], ...]), usesFilter (adds the supervisor's code prefix).
   */
  G.bboxLayer = function (map, opts) {
    var styleFn = G.styles[opts.style] || G.styles.grid;
    // Each layer draws in its own pane, stacked by opts.zIndex (finer grids above coarser ones),
    // so the order does not depend on which answer arrived first and a click hits the finest grid.
    var pane = 'gridgis-' + opts.key;
    if (!map.getPane(pane)) { map.createPane(pane).style.zIndex = String(opts.zIndex || 400); }
    var layer = L.geoJSON(null, {
      pane: pane,
      style: styleFn,
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, Object.assign({ pane: pane }, styleFn(feature)));
      },
      onEachFeature: function (feature, featureLayer) {
        var title = (feature.properties || {})[opts.titleField] || feature.id;
        if (opts.labelMinZoom) {
          // A name written on the map, shown from labelMinZoom (see G.toggleLabels).
          featureLayer.bindTooltip(el('span', null, title), {
            permanent: true, direction: 'center', className: 'gridgis-label gridgis-label-' + opts.key });
        } else {
          featureLayer.bindTooltip(el('span', null, title), { sticky: true });
        }
        featureLayer.bindPopup(function () {
          var box = G.popupContent(title, propertyRows(feature, opts.popupFields || []));
          if (opts.detailUrl) { G.fillGridDetail(box, opts.detailUrl.replace('CODE', encodeURIComponent(feature.id))); }
          if (opts.trailUrl) { G.fillTrail(box, opts.trailUrl.replace('ID', encodeURIComponent(feature.id))); }
          if (opts.overlayUrl) { G.fillOverlay(box, opts.overlayUrl.replace('ID', encodeURIComponent(feature.id))); }
          return box;
        }, { maxWidth: 380, maxHeight: 360 });
      }
    });
    var controller = null;
    G.drawn[opts.key] = 0;
    G.loaded[opts.key] = false;

    /* Keeps the features that are still in view (an open popup stays open), adds the new ones and
       drops those that left; features are matched by their id. */
    var byId = {};
    function update(features) {
      var keep = {};
      features.forEach(function (feature) {
        var id = String(feature.id);
        keep[id] = true;
        if (!byId[id]) {
          layer.addData(feature);
          var layers = layer.getLayers();
          byId[id] = layers[layers.length - 1];
        }
      });
      Object.keys(byId).forEach(function (id) {
        if (!keep[id]) { layer.removeLayer(byId[id]); delete byId[id]; }
      });
    }
    function clear() { layer.clearLayers(); byId = {}; }

    function refresh() {
      if (!map.hasLayer(layer)) { return; }
      var zoom = map.getZoom();
      if (controller) { controller.abort(); controller = null; }
      if (opts.minZoom && zoom < opts.minZoom) {
        clear();
        G.drawn[opts.key] = 0;
        G.loaded[opts.key] = true;
        return;
      }
      var params = new URLSearchParams(opts.params || {});
      params.set('bbox', G.bboxParam(map));
      if (opts.levelByZoom) { params.set('level', levelForZoom(opts.levelByZoom, zoom)); }
      if (opts.usesFilter && G.filter.prefix) { params.set('prefix', G.filter.prefix); }
      controller = new AbortController();
      var mine = controller;
      G.pending++;
      G.loaded[opts.key] = false;
      fetch(opts.url + '?' + params.toString(), {
        signal: mine.signal, credentials: 'same-origin',
        headers: { Accept: 'application/geo+json, application/json' }
      }).then(function (response) {
        if (!response.ok) { throw new Error(opts.url + ': HTTP ' + response.status); }
        return response.json();
      }).then(function (collection) {
        update(collection.features);
        G.drawn[opts.key] = collection.features.length;
        G.truncated[opts.key] = Boolean(collection.truncated) ||
          (collection.numberMatched !== undefined && collection.numberMatched > collection.numberReturned);
        G.loaded[opts.key] = true;
        G.showStatus();
      }).catch(function (err) {
        if (err.name !== 'AbortError') { G.errors.push(String(err)); G.loaded[opts.key] = true; }
      }).finally(function () {
        G.pending--;
      });
    }

    refreshAfterMoves(map, layer, opts.key, refresh);
    if (opts.labelMinZoom) {
      var toggle = function () {
        map.getContainer().classList.toggle('gridgis-hide-' + opts.key, map.getZoom() < opts.labelMinZoom);
      };
      map.on('zoomend', toggle);
      toggle();
    }
    layer.refresh = refresh;
    G.layers[opts.key] = layer;
    return layer;
  };

  /* Case vector tiles: counts per grid at low zoom, cases when close (see maps/tiles.py). */
  G.caseTiles = function (map, opts) {
    var layer = L.vectorGrid.protobuf(opts.url, {
      rendererFactory: L.svg.tile,
      interactive: true,
      maxNativeZoom: 18,
      vectorTileLayerStyles: {
        case_counts: function (properties) {
          var r = Math.min(24, 4 + 3 * Math.log(1 + (properties.total || 0)));
          return { radius: r, color: '#7f0000', weight: 1, fill: true, fillColor: '#ef6548', fillOpacity: 0.6 };
        },
        cases: function (properties) {
          var open = properties.open > 0;
          return { radius: properties.count > 1 ? 7 : 5, color: '#333', weight: 1, fill: true,
                   fillColor: open ? '#d73027' : '#91bfdb', fillOpacity: 0.85 };
        }
      }
    });
    layer.on('click', function (e) {
      var p = e.layer.properties || {};
      var rows = p.code !== undefined
        ? [[G.text('code'), p.code], [G.text('cases'), p.total], [G.text('open'), p.open]]
        : [[G.text('cases'), p.count], [G.text('open'), p.open], [G.text('status'), p.status]];
      L.popup().setLatLng(e.latlng).setContent(G.popupContent(p.name || G.text('cases'), rows)).openOn(map);
    });
    G.layers[opts.key] = layer;
    return layer;
  };

  /* A heat layer of case counts per grid, refilled by bbox like bboxLayer. */
  G.heatLayer = function (map, opts) {
    var heat = L.heatLayer([], { radius: 25, blur: 20, maxZoom: 17 });
    function refresh() {
      if (!map.hasLayer(heat)) { return; }
      var params = new URLSearchParams(opts.params || {});
      params.set('bbox', G.bboxParam(map));
      if (opts.levelByZoom) { params.set('level', levelForZoom(opts.levelByZoom, map.getZoom())); }
      G.pending++;
      fetch(opts.url + '?' + params.toString(), { credentials: 'same-origin' })
        .then(function (r) { if (!r.ok) { throw new Error(opts.url + ': HTTP ' + r.status); } return r.json(); })
        .then(function (collection) {
          var most = 1;
          collection.features.forEach(function (f) { most = Math.max(most, f.properties.total); });
          heat.setOptions({ max: most });
          heat.setLatLngs(collection.features.map(function (f) {
            return [f.geometry.coordinates[1], f.geometry.coordinates[0], f.properties.total];
          }));
          G.drawn[opts.key] = collection.features.length;
          G.loaded[opts.key] = true;
        })
        .catch(function (err) { G.errors.push(String(err)); G.loaded[opts.key] = true; })
        .finally(function () { G.pending--; });
    }
    refreshAfterMoves(map, heat, opts.key, refresh);
    G.layers[opts.key] = heat;
    return heat;
  };

  /* A notice when a layer could not show all of the view (more features than one answer holds). */
  G.showStatus = function () {
    if (!G.statusBox) {
      var control = L.control({ position: 'bottomleft' });
      control.onAdd = function () { G.statusBox = el('div', 'gridgis-status leaflet-control'); return G.statusBox; };
      control.addTo(G.map);
    }
    var cut = Object.keys(G.truncated).filter(function (key) { return G.truncated[key] && G.map.hasLayer(G.layers[key]); });
    G.statusBox.textContent = cut.length ? G.text('truncated') : '';
    G.statusBox.style.display = cut.length ? '' : 'none';
  };

  /* The legend: one swatch and one label per entry. */
  G.legend = function (map, title, entries) {
    var control = L.control({ position: 'bottomright' });
    control.onAdd = function () {
      var box = el('div', 'gridgis-legend leaflet-control');
      box.appendChild(el('strong', null, title));
      entries.forEach(function (entry) {
        var row = el('div', 'gridgis-legend-row');
        var swatch = el('span', 'gridgis-swatch gridgis-swatch-' + (entry.shape || 'box'));
        swatch.style.background = entry.fill || 'transparent';
        swatch.style.borderColor = entry.colour;
        row.appendChild(swatch);
        row.appendChild(el('span', null, entry.label));
        box.appendChild(row);
      });
      return box;
    };
    control.addTo(map);
    return control;
  };

  function refreshFiltered() {
    Object.keys(G.layers).forEach(function (key) {
      if (G.layers[key].refresh) { G.layers[key].refresh(); }
    });
  }

  G.jumpTo = function (map, code, message) {
    message.textContent = '';
    return fetch(G.config.extentUrl.replace('CODE', encodeURIComponent(code)), { credentials: 'same-origin' })
      .then(function (r) {
        if (!r.ok) { throw new Error(G.text('not_found') + ': ' + code); }
        return r.json();
      }).then(function (body) {
        var b = body.bbox;
        map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
      }).catch(function (err) { message.textContent = err.message; });
  };

  /* The supervisor's filter (district, street) and "jump to grid code" box. */
  G.filterControl = function (map, districts) {
    var control = L.control({ position: 'topleft' });
    control.onAdd = function () {
      var box = el('div', 'gridgis-filter leaflet-control');
      L.DomEvent.disableClickPropagation(box);
      var district = el('select');
      district.name = 'district';
      var street = el('select');
      street.name = 'street';
      function option(select, value, label) {
        var o = el('option', null, label);
        o.value = value;
        select.appendChild(o);
      }
      option(district, '', G.text('all_districts'));
      districts.forEach(function (d) { option(district, d.code, d.name); });
      function fillStreets() {
        street.textContent = '';
        option(street, '', G.text('all_streets'));
        var chosen = districts.filter(function (d) { return d.code === district.value; })[0];
        (chosen ? chosen.streets : []).forEach(function (s) { option(street, s.code, s.name); });
      }
      fillStreets();
      var message = el('div', 'gridgis-message');
      function apply() {
        G.filter.prefix = street.value || district.value || '';
        if (G.filter.prefix) { G.jumpTo(map, G.filter.prefix, message); }
        refreshFiltered();
      }
      district.addEventListener('change', function () { fillStreets(); apply(); });
      street.addEventListener('change', apply);
      var form = el('form');
      var code = el('input');
      code.name = 'code';
      code.placeholder = G.text('grid_code');
      code.inputMode = 'numeric';
      var go = el('button', null, G.text('go'));
      go.type = 'submit';
      form.appendChild(code);
      form.appendChild(go);
      form.addEventListener('submit', function (e) {
        e.preventDefault();
        G.jumpTo(map, code.value.trim(), message);
      });
      box.appendChild(el('label', null, G.text('district')));
      box.appendChild(district);
      box.appendChild(el('label', null, G.text('street')));
      box.appendChild(street);
      box.appendChild(form);
      box.appendChild(message);
      return box;
    };
    control.addTo(map);
    return control;
  };

  /* The first view: the user's area or the city (set by the page from maps.selectors.initial_view). */
  G.init = function (map, config) {
    G.map = map;
    G.config = config;
    // Without animation: the first view is set before any layer asks for data, so nothing loads
    // folium's placeholder view first, and the first 'moveend' is this one.
    if (config.view.bounds) {
      map.fitBounds(config.view.bounds, { animate: false });
    } else {
      map.setView(config.view.centre, config.view.zoom, { animate: false });
    }
  };

  window.addEventListener('error', function (e) { G.errors.push(String(e.message)); });
})();
