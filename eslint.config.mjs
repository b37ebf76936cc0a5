// @ts-check
import eslint from "@eslint/js";
import { createNodeResolver, importX } from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

// The sandbox's rooms, from the top down: a folder imports only from the folders after it (the sandbox's
// README.md draws the map). judging and scheduling share a level; so do nothing else.
const SANDBOX_LEVELS = [["commands"], ["pipeline"], ["verdict", "schedule"], ["processes"], ["shared"]];
const sandboxDirection = SANDBOX_LEVELS.slice(1).flatMap((level, i) =>
  level.map((folder) => {
    const upper = SANDBOX_LEVELS.slice(0, i + 1).flat();
    return {
      target: `./sandbox/${folder}`,
      from: upper.map((u) => `./sandbox/${u}`),
      // The command line's options are what a run is asked to do: the composition reads them.
      ...(folder === "pipeline" ? { except: ["./options.ts"] } : {}),
      message: `sandbox/${folder} is below ${upper.join(", ")}: pass what it needs down instead`,
    };
  }),
);

export default tseslint.config(
  {
    ignores: [
      "node_modules/**",
      "build/**",
      "dist/**",
      ".venv/**",
      ".stryker-tmp/**",
      "mutants/**",
      "**/*.js",
      "**/*.mjs",
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    // Imports run one way: no circle anywhere, and in the sandbox from the command line down to the shared helpers.
    files: ["**/*.ts"],
    plugins: { "import-x": importX },
    settings: {
      "import-x/extensions": [".ts", ".js"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
      "import-x/resolver-next": [createNodeResolver({ extensions: [".ts", ".js", ".json"] })],
    },
    rules: {
      "import-x/no-cycle": "error",
      "import-x/no-restricted-paths": ["error", { zones: sandboxDirection }],
    },
  },
  {
    // Small modules: a sandbox file that grows past this is split by what its parts do.
    files: ["sandbox/**/*.ts"],
    rules: { "max-lines": ["error", { max: 300 }] },
  },
  {
    // Plain Node scripts the Python tests run (CommonJS, no build step).
    files: ["**/*.cjs"],
    languageOptions: {
      sourceType: "commonjs",
      globals: {
        require: "readonly",
        module: "writable",
        process: "readonly",
        console: "readonly",
        __dirname: "readonly",
      },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
