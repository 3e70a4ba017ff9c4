// DuckDB side of the flights benchmark (bench/flights/run.sh): the DuckDB
// figures that the table puts beside diffmesh's, on the same files.
//
// Run with node from a directory whose node_modules holds @duckdb/node-api
// (run.sh copies this file next to the npm install in its cache directory):
//   node duckdb_side.mjs MEASUREMENT FILE [options]
//
// Measurements (wall times, each the median of --runs runs unless noted):
//   summarize_csv FILE         SUMMARIZE SELECT * FROM read_csv(FILE): reads and
//                              profiles every column
//   summarize FILE             SUMMARIZE of a CSV or JSON file (by extension), as
//                              summarize_csv
//   check_profile FILE PROFILE the exact count, nulls, min, max, mean and sample
//                              stddev of every column of FILE (CSV or JSON),
//                              against the first JSON document of PROFILE (the
//                              output of `diffmesh profile FILE`); prints
//                              `checked N`, `mismatches M`, `skipped K` (columns
//                              whose types differ), each mismatch on stderr
//   load_durable FILE          fresh database file in a new temporary directory,
//                              CREATE TABLE flights AS SELECT * FROM read_csv(FILE),
//                              CHECKPOINT, close (open to close is timed); prints
//                              the size on disk of what the database left. For a
//                              whole-process peak RSS run it with --runs 1 in
//                              its own process under /usr/bin/time -v.
//   insert_one FILE            loads FILE durably as above (not timed), then
//                              --inserts single-row INSERT statements, each its
//                              own autocommit transaction: median and p90 over
//                              them; then --runs times one INSERT of --batch
//                              rows (--batch 0 skips it)
//   read_csv_throughput FILE   in-memory database: CREATE TEMP TABLE AS SELECT *
//                              FROM read_csv(FILE); MB/s = file bytes / seconds
//   read_json_throughput FILE  the same with read_json (JSON array or JSON Lines)
//   to_csv PARQUET OUT         conversion: COPY the Parquet file to CSV with a header
//   to_jsonl JSON OUT          conversion: COPY a JSON file to JSON Lines
//   version                    DuckDB's version
//
// Options: --runs R (default 3), --tmp DIR (where temporary databases go;
// default the system's), --threads T (DuckDB's threads; default all cores),
// --inserts N (default 100), --batch B (default 1000).
//
// Output: one `key value` line per figure on stdout (seconds, ms, bytes,
// mb_per_s = 10^6 bytes per second), progress on stderr.

import { DuckDBInstance, version } from '@duckdb/node-api';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const usage = 'usage: node duckdb_side.mjs MEASUREMENT FILE [OUT] [--runs R] [--tmp DIR] ' +
  '[--threads T] [--inserts N] [--batch B]';

function parseArgs(argv) {
  const opts = { runs: 3, tmp: os.tmpdir(), threads: null, inserts: 100, batch: 1000 };
  const pos = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const key = a.slice(2);
      if (!(key in opts) || i + 1 >= argv.length) throw new Error(`bad option ${a}\n${usage}`);
      const v = argv[++i];
      opts[key] = key === 'tmp' ? v : Number(v);
      if (key !== 'tmp' && !(Number.isInteger(opts[key]) && opts[key] >= 0)) {
        throw new Error(`${a} wants a whole number, not ${v}`);
      }
    } else {
      pos.push(a);
    }
  }
  if (opts.runs < 1) opts.runs = 1;
  return { opts, pos };
}

const log = (msg) => process.stderr.write(`[duckdb] ${msg}\n`);
const out = (key, value) => process.stdout.write(`${key} ${value}\n`);
const sqlString = (s) => `'${String(s).replaceAll("'", "''")}'`;
const fmt = (x, digits = 6) => Number(x.toPrecision(digits));

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

// Nearest-rank percentile (p in 0..100).
function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1];
}

function instanceOptions(opts) {
  return opts.threads ? { threads: String(opts.threads) } : {};
}

async function open(dbPath, opts) {
  const instance = await DuckDBInstance.create(dbPath, instanceOptions(opts));
  const conn = await instance.connect();
  return { instance, conn };
}

function close({ instance, conn }) {
  conn.closeSync();
  instance.closeSync();
}

async function scalar(conn, sql) {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowsJS()[0][0];
}

function dirBytes(dir) {
  let total = 0;
  for (const name of fs.readdirSync(dir)) total += fs.statSync(path.join(dir, name)).size;
  return total;
}

// Opens a fresh database file in a new directory under opts.tmp and loads FILE
// into table flights durably. Returns the open database, its directory and
// the seconds from open to the end of CHECKPOINT.
async function loadDurable(file, opts) {
  const dir = fs.mkdtempSync(path.join(opts.tmp, 'duckdb-flights-'));
  const t0 = performance.now();
  const db = await open(path.join(dir, 'flights.duckdb'), opts);
  await db.conn.run(`CREATE TABLE flights AS SELECT * FROM read_csv(${sqlString(file)})`);
  await db.conn.run('CHECKPOINT');
  return { db, dir, seconds: (performance.now() - t0) / 1000 };
}

async function timeRuns(runs, what, fn) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
    log(`${what} run ${i + 1}/${runs}: ${times.at(-1).toFixed(3)} s`);
  }
  return median(times);
}

async function reportThreads(conn) {
  out('threads', await scalar(conn, "SELECT current_setting('threads')"));
}

// The DuckDB reader of FILE, by its extension.
function readerOf(file) {
  return /\.(json|jsonl|ndjson)$/.test(file) ? 'read_json' : 'read_csv';
}

// The metrics both sides compute, compared: equal counts and extremes, means
// and deviations within 1e-9 relative.
function close9(a, b) {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

const measurements = {
  async summarize([file], opts) {
    return measurements.summarize_csv([file], opts);
  },

  async check_profile([file, profileFile], opts) {
    const doc = JSON.parse(fs.readFileSync(profileFile, 'utf8').split('\n')[0]);
    const db = await open(':memory:', opts);
    await db.conn.run(`CREATE TEMP TABLE t AS SELECT * FROM ${readerOf(file)}(${sqlString(file)})`);
    const described = (await db.conn.runAndReadAll('DESCRIBE t')).getRowObjectsJS();
    let checked = 0, mismatches = 0, skipped = 0;
    const miss = (what, ours, theirs) => {
      mismatches++;
      log(`mismatch: ${what}: diffmesh ${JSON.stringify(ours)}, DuckDB ${JSON.stringify(theirs)}`);
    };
    const total = Number(await scalar(db.conn, 'SELECT count(*) FROM t'));
    checked++;
    if (doc.rows !== total) miss('rows', doc.rows, total);
    for (const { column_name: name, column_type: type } of described) {
      const ours = doc.columns[name];
      const numeric = /INT|DOUBLE|FLOAT|DECIMAL|REAL|NUMERIC/.test(type);
      const kind = numeric ? 'number' : /TIMESTAMP|DATE/.test(type) ? 'timestamp'
        : type === 'VARCHAR' ? 'string' : type === 'BOOLEAN' ? 'bool' : 'other';
      const ourKind = !ours ? 'none' : ['int64', 'double'].includes(ours.type) ? 'number'
        : ours.type;
      if (kind !== ourKind) {
        skipped++;
        log(`skipped ${name}: DuckDB ${type}, diffmesh ${ours ? ours.type : 'no column'}`);
        continue;
      }
      const q = `"${name.replaceAll('"', '""')}"`;
      const stats = (await db.conn.runAndReadAll(
        `SELECT count(${q}) AS nn, min(${q})::VARCHAR AS lo, max(${q})::VARCHAR AS hi` +
        (numeric ? `, avg(${q})::DOUBLE AS mean, stddev_samp(${q})::DOUBLE AS sd` : '') +
        ' FROM t')).getRowObjectsJS()[0];
      const nulls = total - Number(stats.nn);
      checked++;
      if (ours.nulls !== nulls) miss(`${name}.nulls`, ours.nulls, nulls);
      for (const [key, theirs] of [['min', stats.lo], ['max', stats.hi]]) {
        if (theirs === null) continue;
        checked++;
        let mine = ours[key];
        if (kind === 'timestamp') mine = String(mine).replace('T', ' ').replace(/Z$/, '');
        const same = numeric ? Number(mine) === Number(theirs) : String(mine) === String(theirs);
        if (!same) miss(`${name}.${key}`, ours[key], theirs);
      }
      if (!numeric) continue;
      for (const [key, theirs] of [['mean', stats.mean], ['stddev', stats.sd]]) {
        checked++;
        const mine = ours[key];
        if (theirs === null || theirs === undefined) {
          if (mine !== undefined && mine !== null) miss(`${name}.${key}`, mine, theirs);
        } else if (typeof mine !== 'number' || !close9(mine, theirs)) {
          miss(`${name}.${key}`, mine, theirs);
        }
      }
    }
    close(db);
    out('checked', checked);
    out('mismatches', mismatches);
    out('skipped', skipped);
  },

  async summarize_csv([file], opts) {
    const db = await open(':memory:', opts);
    await reportThreads(db.conn);
    const sql = `SUMMARIZE SELECT * FROM ${readerOf(file)}(${sqlString(file)})`;
    let rows = 0;
    const seconds = await timeRuns(opts.runs, `summarize ${path.basename(file)}`, async () => {
      const reader = await db.conn.runAndReadAll(sql);
      rows = reader.getRowsJS()[0][10]; // the count column of the first column's line
    });
    close(db);
    out('seconds', fmt(seconds));
    out('rows', rows);
  },

  async load_durable([file], opts) {
    const seconds = [];
    const bytes = [];
    let rows = 0;
    for (let i = 0; i < opts.runs; i++) {
      const { db, dir, seconds: s0 } = await loadDurable(file, opts);
      if (i === 0) await reportThreads(db.conn);
      rows = await scalar(db.conn, 'SELECT count(*) FROM flights');
      const t0 = performance.now();
      close(db);
      seconds.push(s0 + (performance.now() - t0) / 1000);
      bytes.push(dirBytes(dir));
      fs.rmSync(dir, { recursive: true, force: true });
      log(`load_durable ${path.basename(file)} run ${i + 1}/${opts.runs}: ` +
        `${seconds.at(-1).toFixed(3)} s, ${bytes.at(-1)} bytes on disk`);
    }
    out('seconds', fmt(median(seconds)));
    out('db_bytes', median(bytes));
    out('rows', rows);
  },

  async insert_one([file], opts) {
    const { db, dir } = await loadDurable(file, opts);
    const { conn } = db;
    await reportThreads(conn);
    out('rows_loaded', await scalar(conn, 'SELECT count(*) FROM flights'));
    // Rows shaped like the data: date, delay, distance, origin, destination.
    const row = (i) => `(TIMESTAMP '2001-07-01 00:00:00', ${i % 1000 - 100}, ${100 + (i % 4000)}, 'ATL', 'SFO')`;
    const lat = [];
    for (let i = 0; i < opts.inserts; i++) {
      const t0 = performance.now();
      await conn.run(`INSERT INTO flights VALUES ${row(i)}`);
      lat.push(performance.now() - t0);
    }
    log(`insert_one ${path.basename(file)}: ${opts.inserts} single-row inserts, ` +
      `median ${median(lat).toFixed(3)} ms`);
    out('inserts', opts.inserts);
    out('insert_one_median_ms', fmt(median(lat)));
    out('insert_one_p90_ms', fmt(percentile(lat, 90)));
    if (opts.batch > 0) {
      let next = opts.inserts;
      const seconds = await timeRuns(opts.runs, `insert of ${opts.batch} rows`, async () => {
        const values = [];
        for (let j = 0; j < opts.batch; j++) values.push(row(next++));
        await conn.run(`INSERT INTO flights VALUES ${values.join(',')}`);
      });
      out('batch_rows', opts.batch);
      out('insert_batch_median_ms', fmt(seconds * 1000));
    }
    close(db);
    fs.rmSync(dir, { recursive: true, force: true });
  },

  async read_csv_throughput([file], opts) {
    await readThroughput(file, 'read_csv', opts);
  },

  async read_json_throughput([file], opts) {
    await readThroughput(file, 'read_json', opts);
  },

  async to_csv([parquet, outFile]) {
    if (!outFile) throw new Error(usage);
    const tmp = `${outFile}.tmp`;
    const db = await open(':memory:', {});
    await db.conn.run(`COPY (SELECT * FROM read_parquet(${sqlString(parquet)})) ` +
      `TO ${sqlString(tmp)} (FORMAT csv, HEADER)`);
    close(db);
    fs.renameSync(tmp, outFile);
    out('bytes', fs.statSync(outFile).size);
  },

  async to_jsonl([json, outFile]) {
    if (!outFile) throw new Error(usage);
    const tmp = `${outFile}.tmp`;
    const db = await open(':memory:', {});
    await db.conn.run(`COPY (SELECT * FROM read_json(${sqlString(json)})) ` +
      `TO ${sqlString(tmp)} (FORMAT json)`);
    close(db);
    fs.renameSync(tmp, outFile);
    out('bytes', fs.statSync(outFile).size);
  },

  async version() {
    out('duckdb_version', version());
  },
};

async function readThroughput(file, reader, opts) {
  const db = await open(':memory:', opts);
  await reportThreads(db.conn);
  const bytes = fs.statSync(file).size;
  const seconds = await timeRuns(opts.runs, `${reader} ${path.basename(file)}`, async () => {
    await db.conn.run(`CREATE OR REPLACE TEMP TABLE t AS SELECT * FROM ${reader}(${sqlString(file)})`);
  });
  const rows = await scalar(db.conn, 'SELECT count(*) FROM t');
  close(db);
  out('seconds', fmt(seconds));
  out('bytes', bytes);
  out('rows', rows);
  out('mb_per_s', fmt(bytes / seconds / 1e6, 4));
}

try {
  const { opts, pos } = parseArgs(process.argv.slice(2));
  const [name, ...args] = pos;
  const fn = measurements[name];
  if (!fn || (name !== 'version' && !args[0])) throw new Error(usage);
  await fn(args, opts);
} catch (e) {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
}
