// @ts-check
/**
 * Lint: typescript-eslint with type-aware rules (floating promises, unsafe `any`, type-only
 * imports that keep the runtime import graph honest) and the walls of the architecture as import
 * rules. `npm test` runs it (scripts/check.mjs). See docs/architecture.md for the walls.
 */
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Import rules: `message` names the wall; each `regex` is matched against the (relative) import string. */
const wall = (patterns) => ({
  'no-restricted-imports': ['error', { patterns: patterns.map(([regex, message]) => ({ regex, message })) }],
  // Dynamic import() is not covered by no-restricted-imports.
  'no-restricted-syntax': [
    'error',
    ...patterns.map(([regex, message]) => ({ selector: `ImportExpression[source.value=/${regex.replaceAll('/', '\\/')}/]`, message })),
  ],
});

const NO_TEST = ['^(\\.\\.?/)+test/', 'nothing outside test/ imports test/'];

export default tseslint.config(
  { ignores: ['node_modules/', '.venv/', 'dist/', 'cdktf.out/', '.tmp/', '.lake/', 'coverage/', 'glue-jobs/', 'test/transform/vectors/', 'test/transform/__snapshots__/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js', 'scripts/*.mjs', 'bin/*.mjs', 'test/storage/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', fetch: 'readonly', AbortSignal: 'readonly' },
    },
    rules: {
      // Type-only imports are erased: the runtime import graph (and the walls) stay what they say.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // Plugin hooks are async by contract even when one has nothing to await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  // core/ knows no connector and no infrastructure: the composition root (bin/) wires them in.
  {
    files: ['core/**/*.ts'],
    rules: wall([
      ['^(\\.\\.?/)+connectors/', 'core/ must not import connectors/: plugins reach core through the registry the composition root (bin/) hands it'],
      ['^(\\.\\.?/)+terraform/', 'core/ must not import terraform/: infrastructure commands are registered by the composition root (bin/)'],
      NO_TEST,
    ]),
  },
  // A connector depends only on core's public plugin API.
  {
    files: ['connectors/**/*.ts'],
    rules: wall([
      ['^(\\.\\.?/)+core/(?!plugin-api\\.ts$)', 'connectors import only core/plugin-api.ts of the engine'],
      ['^(\\.\\.?/)+terraform/', 'connectors must not import terraform/'],
      NO_TEST,
    ]),
  },
  // terraform/ builds on core; the connector registry is handed in by bin/synth.ts and the CLI.
  {
    files: ['terraform/**/*.ts'],
    rules: wall([['^(\\.\\.?/)+connectors/', 'terraform/ must not import connectors/: the stack gets the connector registry as a prop'], NO_TEST]),
  },
  { files: ['bin/**/*.ts'], rules: wall([NO_TEST]) },
  // Tests read untyped JSON (synthesized stacks, plans, API bodies) on purpose.
  {
    files: ['test/**/*.ts', 'connectors/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // Assertion messages print whatever they got.
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
);
