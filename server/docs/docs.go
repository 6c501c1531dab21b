// Package docs is the API reference page the gateway serves at /docs: a
// static HTML page and the Redoc standalone bundle it runs, both embedded so
// nothing is fetched from a CDN at run time.
//
// redoc.standalone.js (and its LICENSE.txt) is bundles/redoc.standalone.js of
// the npm package pinned in package.json, at the integrity recorded in
// package-lock.json; `make check-docs-asset` (part of `make test`) installs
// that package with `npm ci` and fails unless the committed copies are
// identical. To update: change the version in package.json, run
// `npm install --package-lock-only` here, copy the two files from
// node_modules/redoc/bundles/, and commit all four.
package docs

import _ "embed"

// Page is the HTML of /docs. It has no inline script or style, so the
// page's Content-Security-Policy can allow scripts from the service only.
//
//go:embed index.html
var Page []byte

// Script is Redoc's standalone bundle, served at /docs/redoc.standalone.js.
//
//go:embed redoc.standalone.js
var Script []byte

// ContentSecurityPolicy is sent with Page: everything from this origin only.
// Redoc's search index runs in a worker built from a blob: URL, and its
// styled-components write <style> elements, hence the two exceptions.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; worker-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
