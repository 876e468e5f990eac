// The translation catalogue of the page's language, from Django's JavaScriptCatalog view (loaded by
// base.html before any module). Strings are written in English in the code and translated there.
const catalogue = globalThis.django || {};

// Named gettext/ngettext so that `makemessages -d djangojs` (xgettext) finds the strings.

/** The translation of `text` in the page's language. */
export function gettext(text) {
  return catalogue.gettext ? catalogue.gettext(text) : text;
}

/** Singular or plural translation of `singular`/`plural` for `count`, with %(name)s placeholders. */
export function ngettext(singular, plural, count, values = {}) {
  const text = catalogue.ngettext ? catalogue.ngettext(singular, plural, count) : count === 1 ? singular : plural;
  return format(text, { count, ...values });
}

/** `text` with its %(name)s placeholders filled from `values` (as Django's interpolate, named). */
export function format(text, values = {}) {
  return text.replace(/%\((\w+)\)s/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** The page's language code (the <html lang>), e.g. "zh-hans" or "en". */
export const language = document.documentElement.lang || "zh-hans";

/** A date-time formatted for the page's language. */
export function formatDateTime(value) {
  const date = value instanceof Date ? value : new Date(value);
  return date.toLocaleString(language === "en" ? "en-GB" : "zh-CN", { dateStyle: "short", timeStyle: "short" });
}
