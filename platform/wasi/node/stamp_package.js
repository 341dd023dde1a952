// Writes the npm package's package.json: the source package.json with the
// version from the repository's VERSION file, the one place every package
// (npm, Python, Debian) takes its version from.
//
//   node stamp_package.js SOURCE_PACKAGE_JSON VERSION_FILE OUT
'use strict';

const fs = require('node:fs');

const [source, versionFile, out] = process.argv.slice(2);
const manifest = JSON.parse(fs.readFileSync(source, 'utf8'));
const version = fs.readFileSync(versionFile, 'utf8').trim();
if (!/^[0-9]+\.[0-9]+\.[0-9]+$/.test(version)) {
  process.stderr.write(`stamp_package: ${versionFile} holds "${version}", not MAJOR.MINOR.PATCH\n`);
  process.exit(1);
}
if ('version' in manifest) {
  process.stderr.write(`stamp_package: ${source} must not name a version: it comes from ${versionFile}\n`);
  process.exit(1);
}
const { name, ...rest } = manifest;
fs.writeFileSync(out, `${JSON.stringify({ name, version, ...rest }, null, 2)}\n`);
