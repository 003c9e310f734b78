// @ts-check
// The engine, language and voice pickers, filled from the server's catalog, and the text's counter
// against the catalog's limit.

import { getCatalog } from "./api.js";
import { showStatus, view } from "./view.js";

/** @typedef {import("./api.js").Catalog} Catalog */
/** @typedef {import("./api.js").Engine} Engine */
/** @typedef {import("./api.js").Language} Language */

/** Until the server's arrives: no engines to pick, the server's own limit. @type {Catalog} */
let catalog = { engines: [], max_text_chars: 5000 };

/**
 * @param {HTMLSelectElement} select
 * @param {{value: string, label: string}[]} options
 * @param {string | undefined} selected
 */
function fillSelect(select, options, selected) {
  select.replaceChildren(
    ...options.map(({ value, label }) => {
      const option = new Option(label, value);
      option.selected = value === selected;
      return option;
    }),
  );
}

/**
 * The engine the server picks for a language when the request names none.
 * @param {string} lang
 */
function defaultEngineFor(lang) {
  return catalog.engines.find((engine) => engine.default_for?.includes(lang))?.name;
}

/**
 * "Best for the language" offers every engine's languages; a chosen engine, only its own.
 * @param {Engine | undefined} engine
 * @returns {Language[]}
 */
function languagesOffered(engine) {
  if (engine) return engine.languages;
  const byCode = new Map();
  for (const candidate of catalog.engines) {
    for (const language of candidate.languages) if (!byCode.has(language.code)) byCode.set(language.code, language);
  }
  return [...byCode.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** After the engine was chosen: its languages (the one chosen kept where it can) and voices. */
export function fillLanguagesAndVoices() {
  const engine = catalog.engines.find((candidate) => candidate.name === view.engine.value);
  if (view.engine.value && !engine) return;
  const previous = view.lang.value || catalog.default_lang;
  const languages = languagesOffered(engine);
  const codes = languages.map((language) => language.code);
  const offered = (/** @type {string | undefined} */ code) => code !== undefined && codes.includes(code);
  fillSelect(
    view.lang,
    languages.map((language) => ({ value: language.code, label: `${language.name} (${language.code})` })),
    offered(previous) ? previous : offered(catalog.default_lang) ? catalog.default_lang : codes[0],
  );
  const voices = engine ? engine.voices : [];
  fillSelect(view.voice, [{ value: "", label: "Default" }, ...voices.map((v) => ({ value: v, label: v }))], "");
  nameTheAutomaticEngine();
}

/** After the language was chosen: "Best for the language" names the engine the server will pick. */
export function nameTheAutomaticEngine() {
  const automatic = view.engine.options[0];
  if (!automatic || automatic.value !== "") return;
  const picked = defaultEngineFor(view.lang.value);
  automatic.textContent = picked ? `Best for the language (${picked})` : "Best for the language";
}

/** The text's length against the limit, marked when over it (the server says so on Start). */
export function updateCounter() {
  const length = view.prompt.value.length;
  view.counter.textContent = `${length} / ${catalog.max_text_chars}`;
  view.counter.classList.toggle("over", length > catalog.max_text_chars);
}

/** Fills the pickers from the server's catalog; without it, the server's defaults are used. */
export async function loadCatalog() {
  try {
    catalog = await getCatalog();
  } catch (error) {
    const { message } = /** @type {Error} */ (error);
    showStatus(`Could not load the list of engines (${message}); the server's defaults will be used.`, "error");
    return;
  }
  fillSelect(
    view.engine,
    [{ value: "", label: "Best for the language" }, ...catalog.engines.map((e) => ({ value: e.name, label: e.name }))],
    "",
  );
  fillLanguagesAndVoices();
  updateCounter();
}
