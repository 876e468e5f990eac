// The officer app's service worker (scope /field/). The server prepends `const SHELL = {...}`: the cache
// version, the screens, the static files and the data URL (field/views.py ServiceWorkerView).
//
// - the screens: network first (a fresh page when there is a network), else the copy kept; the task
//   screen is kept once for every ?case=;
// - the static files: kept at install, served from the cache (a new version = a new cache);
// - data the screens read (the home document, case details): network first, else the copy kept;
// - photos (/media/) and map tiles: kept as they are seen, served from the cache ("the map areas I
//   have seen"), tiles up to a bound;
// - writes are never touched: the outbox (queue.js) sends them itself.
const SHELL_CACHE = `field-shell-${SHELL.version}`;
const DATA_CACHE = "field-data-v1";
const MEDIA_CACHE = "field-media-v1";
const TILE_CACHE = "field-tiles-v1";
const MAX_TILES = 3000;
const NETWORK_WAIT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) => cache.addAll([...SHELL.static, ...SHELL.screens]))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("field-shell-") && n !== SHELL_CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

async function networkFirst(request, cacheName, key = request, waitMs = NETWORK_WAIT_MS) {
  const cache = await caches.open(cacheName);
  const network = fetch(request).then((response) => {
    // A redirect (to the sign-in page, when the session has ended) is not the screen: keep the old copy.
    if (response.ok && !response.redirected) cache.put(key, response.clone());
    return response;
  });
  try {
    return await withTimeout(network, waitMs);
  } catch {
    const kept = (await cache.match(key, { ignoreVary: true })) || (await caches.match(key, { ignoreVary: true }));
    if (kept) return kept;
    return network;
  }
}

async function cacheFirst(request, cacheName, limit = 0) {
  const cache = await caches.open(cacheName);
  // ignoreVary: the catalogue varies on Accept-Language and Cookie, which a worker's own requests and
  // the page's do not send alike; the language cookie already picks the catalogue's language.
  const kept = await cache.match(request, { ignoreVary: true });
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok || response.type === "opaque") {
    await cache.put(request, response.clone());
    if (limit) trim(cache, limit);
  }
  return response;
}

async function trim(cache, limit) {
  const keys = await cache.keys();
  for (const key of keys.slice(0, Math.max(0, keys.length - limit))) await cache.delete(key);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    // Basemap tiles (GRIDGIS_BASEMAP): the areas seen are kept for offline use.
    if (request.destination === "image") event.respondWith(cacheFirst(request, TILE_CACHE, MAX_TILES));
    return;
  }
  if (request.mode === "navigate" && url.pathname.startsWith(SHELL.scope)) {
    // Every ?case= of the task screen is the same shell.
    const key = SHELL.screens.includes(url.pathname) ? url.pathname : request;
    event.respondWith(networkFirst(request, SHELL_CACHE, key));
    return;
  }
  if (SHELL.static.includes(url.pathname)) {
    event.respondWith(cacheFirst(request, SHELL_CACHE));
    return;
  }
  if (url.pathname === SHELL.data || /^\/api\/v1\/incidents\/\d+\/$/.test(url.pathname)) {
    event.respondWith(networkFirst(request, DATA_CACHE, request, 8000));
    return;
  }
  if (url.pathname.startsWith("/media/")) {
    event.respondWith(cacheFirst(request, MEDIA_CACHE));
  }
});
