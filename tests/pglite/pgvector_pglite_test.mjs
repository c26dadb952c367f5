// Loads the COPY BINARY streams written by pgvector_fixtures (our encoders, plus hand-made bad
// ones) into a real pgvector running inside PGlite, and checks what the server stores or reports.
//
//   node pgvector_pglite_test.mjs <fixtures directory>
//
// Installs nothing: run `npm ci` in this directory (or a copy of package.json and
// package-lock.json) first; ctest does (tests/CMakeLists.txt, `pgvector_pglite_npm_ci`).
// Prints one line per case, then "N passed, M failed"; exits 1 on any failure.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';

const directory = process.argv[2];
if (!directory) {
  console.error('usage: node pgvector_pglite_test.mjs <fixtures directory>');
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(join(directory, 'manifest.json'), 'utf8'));

const started = Date.now();
const db = await PGlite.create({ extensions: { vector } });
await db.exec('CREATE EXTENSION vector');
const versions = await db.query(
  "SELECT version() AS pg, extversion FROM pg_extension WHERE extname = 'vector'");
console.log(`# ${versions.rows[0].pg.split(' (')[0]}, pgvector ${versions.rows[0].extversion}, ` +
  `started in ${Date.now() - started} ms`);

function shorten(text) {
  return text.length > 120 ? `${text.slice(0, 120)}… (${text.length} chars)` : text;
}

// Runs one case; returns a list of problems (empty when it passed).
async function runCase(c, index) {
  const table = `pgv_${index}`;
  const bytes = readFileSync(join(directory, c.file));
  await db.exec(`CREATE TABLE ${table} (id serial PRIMARY KEY, v ${c.column_type})`);
  let error = null;
  try {
    await db.query(`COPY ${table} (v) FROM '/dev/blob' (FORMAT binary)`, [],
      { blob: new Blob([bytes]) });
  } catch (e) {
    error = e;
  }
  const problems = [];
  const stored = (await db.query(`SELECT v::text AS v FROM ${table} ORDER BY id`)).rows
    .map((row) => row.v);
  if (c.expect_error !== undefined) {
    if (error === null) {
      problems.push(`expected error "${c.expect_error}", but COPY succeeded`);
    } else {
      if (error.message !== c.expect_error) {
        problems.push(`error "${error.message}", expected "${c.expect_error}"`);
      }
      if (error.code !== c.expect_sqlstate) {
        problems.push(`SQLSTATE ${error.code}, expected ${c.expect_sqlstate}`);
      }
    }
    if (stored.length !== 0) {
      problems.push(`${stored.length} rows stored after a failed COPY`);
    }
    return problems;
  }
  if (error !== null) {
    return [`COPY failed: ${error.code} ${error.message}`];
  }
  if (stored.length !== c.rows) {
    problems.push(`${stored.length} rows stored, expected ${c.rows}`);
  }
  c.expect_text.forEach((text, row) => {
    if (stored[row] !== text) {
      problems.push(`row ${row + 1}: stored ${shorten(String(stored[row]))}, ` +
        `expected ${shorten(text)}`);
    }
  });
  for (const [row, literal] of c.expect_same_as.entries()) {
    const want = (await db.query(`SELECT ($1::${c.column_type})::text AS v`, [literal])).rows[0].v;
    if (stored[row] !== want) {
      problems.push(`row ${row + 1}: stored ${shorten(String(stored[row]))}, but pgvector ` +
        `reads the literal as ${shorten(want)}`);
    }
  }
  return problems;
}

let passed = 0;
let failed = 0;
for (const [index, c] of manifest.entries()) {
  const caseStarted = Date.now();
  const problems = await runCase(c, index);
  const took = `${Date.now() - caseStarted} ms`;
  if (problems.length === 0) {
    passed += 1;
    const what = c.expect_error !== undefined ? `refused: ${c.expect_error}` : 'stored as expected';
    console.log(`ok   ${c.name} (${c.column_type}) ${what} [${took}]`);
  } else {
    failed += 1;
    console.log(`FAIL ${c.name} (${c.column_type}) [${took}]`);
    for (const problem of problems) {
      console.log(`     ${problem}`);
    }
  }
}
await db.close();
console.log(`${passed} passed, ${failed} failed (${Date.now() - started} ms in all)`);
process.exit(failed === 0 && passed === manifest.length && passed > 0 ? 0 : 1);
