import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", ".pulumi-live/", "**/*.js", "**/*.mjs", "!eslint.config.mjs"] },
  js.configs.recommended,
  // Type-aware: a promise nobody awaits or catches, or one passed where nothing waits for it, is an error.
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-require-imports": "off",
      // `void promise` marks a deliberate fire-and-forget; anything else must be awaited or caught.
      "@typescript-eslint/no-floating-promises": ["error", { ignoreVoid: true }],
      "@typescript-eslint/no-misused-promises": "error",
      // Async functions that implement promise-returning interfaces (Lambda handlers, Pulumi's dynamic
      // provider) need no await of their own.
      "@typescript-eslint/require-await": "off",
      // Lambda's semantics: a handler may fail with any value (callback("x"), throw 42), and that value
      // is what the invocation fails with.
      "@typescript-eslint/prefer-promise-reject-errors": ["error", { allowThrowingUnknown: true }],
      // Lambda's error shapes are thrown on purpose inside the runtime code, caught there and sent on as
      // they are.
      "@typescript-eslint/only-throw-error": [
        "error",
        { allow: [{ from: "file", name: "LambdaError" }], allowThrowingUnknown: true },
      ],
    },
  },
  {
    // Tests read JSON and recorded events as `any` on purpose, and hand ava's methods around.
    files: ["test/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/unbound-method": "off",
    },
  },
  { files: ["eslint.config.mjs"], ...tseslint.configs.disableTypeChecked },
);
