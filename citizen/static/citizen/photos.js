// Photos shrunk on the phone before upload: at most MAX_SIDE pixels on the longer side, re-encoded as
// JPEG from the pixels (so a 12-megapixel camera photo travels as a few hundred KB over a weak signal).
// The server checks and re-encodes again without metadata (common/photos.py).

export const MAX_SIDE = 2048;
const QUALITY = 0.85;

/** The size that fits `width` x `height` into MAX_SIDE, keeping the proportions (never enlarged). */
export function fittedSize(width, height, maxSide = MAX_SIDE) {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** A JPEG Blob of `file` (an image File) no larger than MAX_SIDE, upright (EXIF orientation applied). */
export async function shrinkPhoto(file) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  try {
    const { width, height } = fittedSize(bitmap.width, bitmap.height);
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d");
    context.drawImage(bitmap, 0, 0, width, height);
    const blob = await new Promise((resolve, reject) =>
      canvas.toBlob((made) => (made ? resolve(made) : reject(new Error("canvas.toBlob failed"))), "image/jpeg", QUALITY),
    );
    return { blob, width, height };
  } finally {
    bitmap.close();
  }
}
