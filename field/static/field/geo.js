// Positions on the phone: distances for on-screen hints (the server decides what counts), and the
// patrol recorder's rules for which GPS fixes to keep and where a track's segment ends.

const EARTH_RADIUS_M = 6371008.8;

/** Metres between two [lon, lat] positions on the sphere (a hint for the screen; the server measures). */
export function metresBetween(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * rad;
  const dLon = (b[0] - a[0]) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * A patrol's track as it is walked: a list of segments, each a list of kept fixes [lon, lat, time ms].
 * A fix is dropped when its accuracy is worse than maxAccuracyM, or when reaching it from the last
 * kept fix would take a speed above maxSpeedMps. A gap (no fix for gapMs, the page hidden, the
 * recorder paused) ends the segment: the next fix starts a new one, so no line is drawn where nobody
 * was seen walking.
 */
export class TrackRecorder {
  constructor({ maxAccuracyM, maxSpeedMps, gapMs }, saved = null) {
    this.maxAccuracyM = maxAccuracyM;
    this.maxSpeedMps = maxSpeedMps;
    this.gapMs = gapMs;
    this.segments = saved ? saved.segments : [];
    this.dropped = saved ? saved.dropped : { accuracy: 0, speed: 0 };
    this.open = false;
  }

  /** Takes a fix {lon, lat, accuracy, time}; answers "kept", "accuracy" or "speed" (why dropped). */
  add({ lon, lat, accuracy, time }) {
    if (!(accuracy <= this.maxAccuracyM)) {
      this.dropped.accuracy += 1;
      return "accuracy";
    }
    const last = this.lastFix();
    if (this.open && last) {
      if (time - last[2] > this.gapMs) {
        this.open = false;
      } else {
        const seconds = Math.max((time - last[2]) / 1000, 0.001);
        if (metresBetween(last, [lon, lat]) / seconds > this.maxSpeedMps) {
          this.dropped.speed += 1;
          return "speed";
        }
      }
    }
    if (!this.open) {
      this.segments.push([]);
      this.open = true;
    }
    const segment = this.segments[this.segments.length - 1];
    const previous = segment[segment.length - 1];
    if (!previous || previous[0] !== lon || previous[1] !== lat) segment.push([lon, lat, time]);
    return "kept";
  }

  /** Ends the current segment (a gap: the page was hidden, or no fix came for too long). */
  gap() {
    this.open = false;
  }

  lastFix() {
    const segment = this.segments[this.segments.length - 1];
    return segment && segment.length ? segment[segment.length - 1] : null;
  }

  /** The segments with at least two distinct positions, as the MultiLineString the server stores. */
  multiLineString() {
    const lines = this.segments.filter((s) => s.length >= 2).map((s) => s.map(([lon, lat]) => [lon, lat]));
    return lines.length ? { type: "MultiLineString", coordinates: lines } : null;
  }

  metres() {
    let total = 0;
    for (const segment of this.segments) for (let i = 1; i < segment.length; i += 1) total += metresBetween(segment[i - 1], segment[i]);
    return total;
  }

  state() {
    return { segments: this.segments, dropped: this.dropped };
  }
}
