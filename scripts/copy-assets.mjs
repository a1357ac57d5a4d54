#!/usr/bin/env node
// Copy the front-end libraries' distributable files from node_modules/ (installed by
// `npm ci` from package-lock.json) into webapp/static/vendor/<name>/, where the pages
// load them as /static/vendor/<name>/... . That directory is generated (gitignored):
// never edit or commit the files in it. Run as `npm run --silent assets` (./dev does).
//
// Plain Node, no dependencies. Exits non-zero if any expected file is missing, so a
// library upgrade that moves its files fails the setup step instead of a page.

import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const modules = join(root, 'node_modules');
const vendor = join(root, 'webapp', 'static', 'vendor');

// target directory under vendor/ -> npm package, and what to copy from it.
// Each entry of `files` is a path inside the package; a directory is copied whole.
// The part after `dist/` is kept, so relative url()s in the CSS keep working.
const bundles = [
  {
    dir: 'bpmn-js',
    pkg: 'bpmn-js',
    files: [
      'dist/bpmn-viewer.production.min.js',
      'dist/bpmn-navigated-viewer.production.min.js',
      'dist/bpmn-modeler.production.min.js',
      'dist/assets', // diagram-js.css, bpmn-js.css, bpmn-font/{css,font}/*
    ],
  },
  {
    dir: 'chart.js',
    pkg: 'chart.js',
    files: ['dist/chart.umd.min.js', 'dist/chart.umd.min.js.map'],
  },
  {
    dir: 'htmx.org',
    pkg: 'htmx.org',
    files: ['dist/htmx.min.js'],
  },
  {
    dir: 'form-js',
    pkg: '@bpmn-io/form-js',
    files: [
      'dist/form-viewer.umd.js', // global FormViewer
      'dist/assets/form-js.css',
      'dist/assets/form-js-base.css',
      'dist/assets/flatpickr', // date picker theme used by the viewer
      'dist/form-editor.umd.js', // global FormEditor: the admin's form editor
      'dist/assets/form-js-editor.css',
      'dist/assets/properties-panel.css',
    ],
  },
  {
    dir: 'properties-panel',
    pkg: '@bpmn-io/properties-panel', // the modeler's properties panel (its stylesheet)
    files: ['dist/assets/properties-panel.css'],
  },
  {
    dir: 'swagger-ui',
    pkg: 'swagger-ui-dist', // the API documentation page (/api/docs)
    files: ['swagger-ui-bundle.js', 'swagger-ui.css'],
  },
];

function fail(message) {
  console.error(`copy-assets: ${message}`);
  process.exit(1);
}

if (!existsSync(modules)) {
  fail('node_modules/ is missing: run `npm ci` first');
}

const manifest = {};

for (const { dir, pkg, files } of bundles) {
  const pkgDir = join(modules, ...pkg.split('/'));
  const pkgJson = join(pkgDir, 'package.json');
  if (!existsSync(pkgJson)) {
    fail(`${pkg} is not installed: run \`npm ci\``);
  }
  const { version } = JSON.parse(readFileSync(pkgJson, 'utf8'));

  const target = join(vendor, dir);
  rmSync(target, { recursive: true, force: true });

  for (const file of files) {
    const source = join(pkgDir, file);
    if (!existsSync(source)) {
      fail(`${pkg}@${version} has no ${file}`);
    }
    const dest = join(target, file.replace(/^dist\//, ''));
    mkdirSync(dirname(dest), { recursive: true });
    cpSync(source, dest, { recursive: true });
  }
  manifest[dir] = { package: pkg, version };
}

// The admin modeler's bundle: bpmn-js's Modeler, the properties panel and the hotline's own
// groups (webapp/static/src/modeler/), bundled by esbuild (a pinned devDependency) into one
// script the page loads. Built here so `npm run assets` stays the one front-end step.
{
  const { buildSync } = await import('esbuild');
  const entry = join(root, 'webapp', 'static', 'src', 'modeler', 'index.js');
  const outfile = join(vendor, 'hotline-modeler', 'modeler.js');
  try {
    buildSync({
      entryPoints: [entry],
      bundle: true,
      minify: true,
      format: 'iife',
      target: ['es2020'],
      outfile,
      legalComments: 'none',
      logLevel: 'error',
    });
  } catch (err) {
    fail(`the modeler bundle did not build: ${err.message}`);
  }
  const { version } = JSON.parse(readFileSync(join(modules, 'bpmn-js-properties-panel', 'package.json'), 'utf8'));
  manifest['hotline-modeler'] = { package: 'bpmn-js-properties-panel', version };
}

// What was copied, for templates that want a cache-busting ?v= and for debugging.
writeFileSync(join(vendor, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');

const summary = Object.entries(manifest)
  .map(([dir, { package: pkg, version }]) => `${dir} (${pkg}@${version})`)
  .join(', ');
console.log(`copy-assets: ${relative(root, vendor)}/: ${summary}`);
