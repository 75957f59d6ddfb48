/**
 * Jest configuration for mediasoup's own compiled test suite
 * (node/lib/test/test-*.js, shipped inside the mediasoup npm package), run
 * against the worker binary from MEDIASOUP_WORKER_BIN (or mediasoup's default
 * path). Used by run-mediasoup-suite.sh, which sets MEDIASOUP_PACKAGE_DIR.
 */
'use strict';

const path = require('node:path');

const packageDir = process.env.MEDIASOUP_PACKAGE_DIR;

if (!packageDir) {
  throw new Error(
    'jest.mediasoup.config.cjs: set MEDIASOUP_PACKAGE_DIR to the mediasoup package directory (run-mediasoup-suite.sh does it)',
  );
}

// The node_modules directory holding a (non-scoped) devDependency of the suite
// (pick-port, werift-sctp), wherever the package manager put it: in a
// workspace it may not be on the path Node walks up from node_modules/mediasoup.
function nodeModulesDirOf(name) {
  const entry = require.resolve(name, { paths: [packageDir, __dirname] });
  const marker = `${path.sep}node_modules${path.sep}${name}${path.sep}`;

  return path.join(entry.slice(0, entry.lastIndexOf(marker)), 'node_modules');
}

module.exports = {
  rootDir: path.join(packageDir, 'node', 'lib'),
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/test-*.js'],
  // The suite lives under node_modules: Jest's defaults would skip it (path
  // ignore patterns) or not even index it (haste map).
  testPathIgnorePatterns: [],
  haste: { retainAllFiles: true },
  modulePaths: [...new Set(['pick-port', 'werift-sctp'].map(nodeModulesDirOf))],
};
