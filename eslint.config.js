// eslint over the demo page's modules (`npx eslint web`, run by `make check` and `make test`).
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["web/dist/"] }, // what `make web` builds: copies of the modules and hls.js's own build
  js.configs.recommended,
  {
    files: ["web/**/*.js"],
    languageOptions: {
      ecmaVersion: "latest",
      sourceType: "module",
      globals: globals.browser,
    },
    rules: {
      "no-unused-vars": ["error", { args: "after-used", argsIgnorePattern: "^_" }],
      eqeqeq: "error",
      "prefer-const": "error",
      "no-var": "error",
    },
  },
];
