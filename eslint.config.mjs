// ESLint flat config: typescript-eslint's recommended rules plus Pulumi's own rule that catches
// Outputs interpolated into template literals (they render as an error string). That rule needs
// type information, hence the project service.
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

export default tseslint.config(
  { ignores: ["node_modules/**", "eslint.config.mjs"] },
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@pulumi": pulumi },
    rules: {
      "@pulumi/no-output-in-template-literal": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
    },
  },
  {
    // The program's own code keeps each decision in a small function (tests may be longer).
    files: [
      "*.ts",
      "config/**",
      "devops/**",
      "azure/**",
      "inventory/**",
      "plan/**",
      "components/**",
      "providers/**",
    ],
    rules: {
      "max-lines-per-function": ["error", { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // Plain CommonJS helpers (the mocha reporter) have no type information to lint with.
    files: ["**/*.js"],
    extends: [tseslint.configs.disableTypeChecked],
    rules: {
      "@pulumi/no-output-in-template-literal": "off",
      "@typescript-eslint/no-require-imports": "off",
    },
  },
);
