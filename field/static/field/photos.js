// Photos from the camera, shrunk on the phone before they are queued: the longer side at most the
// server's limit (2,048 px), re-encoded as JPEG, so an upload over a weak signal is a fraction of the
// camera's file. The server checks and re-encodes again (and strips EXIF) as for every photo.
const QUALITY = 0.85;

/** A shrunk copy of an image File: {blob, width, height, name}. */
export async function shrink(file, maxSide) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d").drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  const blob = await new Promise((resolve, reject) =>
    canvas.toBlob((made) => (made ? resolve(made) : reject(new Error("the photo could not be encoded"))), "image/jpeg", QUALITY),
  );
  const name = (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg";
  return { blob, width, height, name };
}

/** A small preview <img> for a Blob (its object URL is released when the image has loaded). */
export function preview(blob, alt) {
  const image = document.createElement("img");
  image.alt = alt;
  image.className = "thumb";
  const url = URL.createObjectURL(blob);
  image.addEventListener("load", () => URL.revokeObjectURL(url), { once: true });
  image.src = url;
  return image;
}
