// The phone's own store (IndexedDB): the outbox ("queue", items with their photos as Blobs) and the
// last data seen ("state": home data, the patrol being recorded, recent categories). It survives
// reloads, restarts and the end of a session.
const NAME = "gridgis-field";
const VERSION = 1;
let opening = null;

export function openDb() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(NAME, VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        if (!db.objectStoreNames.contains("queue")) db.createObjectStore("queue", { keyPath: "key" });
        if (!db.objectStoreNames.contains("state")) db.createObjectStore("state");
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return opening;
}

async function run(store, mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(store, mode);
    const request = work(transaction.objectStore(store));
    transaction.oncomplete = () => resolve(request ? request.result : undefined);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

/** Stores `value` (under `key` for stores without a key path). */
export function put(store, value, key) {
  return run(store, "readwrite", (s) => (key === undefined ? s.put(value) : s.put(value, key)));
}

export function get(store, key) {
  return run(store, "readonly", (s) => s.get(key));
}

export function getAll(store) {
  return run(store, "readonly", (s) => s.getAll());
}

export function remove(store, key) {
  return run(store, "readwrite", (s) => s.delete(key));
}
