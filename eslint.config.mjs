// ESLint (flat config): the recommended rules of ESLint and typescript-eslint, without type
// information so that it stays fast; tsc --strict already checks types (npm run typecheck).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // typed-client.ts is compiled by its test, against types generated there.
  { ignores: ["dist/", "node_modules/", "test-artifacts/", "test/fixtures/typed-client.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        Buffer: "readonly",
        URL: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        __dirname: "readonly",
        require: "readonly",
        performance: "readonly",
        TextDecoder: "readonly",
        TextEncoder: "readonly",
        fetch: "readonly",
        AbortController: "readonly",
        URLSearchParams: "readonly",
      },
    },
    rules: {
      // The code matches control characters on purpose: to refuse them in input and to show them safely.
      "no-control-regex": "off",
      // Unused on purpose when prefixed with _ (e.g. fields destructured away).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
    },
  },
  {
    files: ["test/**", "bench/**"],
    rules: {
      // Tests read JSON of unknown shape.
      "@typescript-eslint/no-explicit-any": "off",
    },
  },
);
