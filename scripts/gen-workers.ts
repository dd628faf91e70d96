/**
 * Deterministic generator of workers_<N>.csv (fixed seed → identical bytes on every machine).
 *   npx tsx scripts/gen-workers.ts --rows 500k --out bench/data/workers_500k.csv
 * 12 columns: id, first_name, last_name, email, role (20 values), state (2 letters), city (some with
 * quoted commas), hourly_rate (2 decimals), years (int), active (boolean), hire_date (ISO), phone.
 * About 1 % of the non-id cells are empty.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const FIRST = ['James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth', 'William', 'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Carlos', 'Karen', 'Wei', 'Aisha', 'Olga', 'Hiroshi', 'Fatima', 'Liam', 'Noah', 'Emma', 'Ava', 'Sofia'];
const LAST = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', "O'Brien", 'Lee', 'Nguyen', 'Kim', 'Chen', 'Patel', 'Okafor', 'Kowalski', 'Schmidt'];
const ROLES = ['welder', 'electrician', 'plumber', 'carpenter', 'forklift operator', 'warehouse associate', 'cnc machinist', 'hvac technician', 'painter', 'roofer', 'mason', 'pipefitter', 'millwright', 'crane operator', 'truck driver', 'assembler', 'inspector', 'maintenance tech', 'laborer', 'supervisor'];
const STATES = ['IL', 'CA', 'TX', 'NY', 'FL', 'OH', 'PA', 'MI', 'GA', 'NC', 'WA', 'AZ', 'IN', 'WI', 'MN', 'CO', 'MO', 'TN', 'OR', 'NV'];
const CITIES = ['Chicago', 'Springfield', 'Peoria', 'Austin', 'Dallas', 'Houston', 'Columbus', 'Portland', 'Denver', 'Phoenix', 'Reno', 'Atlanta', 'Raleigh', 'Seattle', 'Detroit', 'Madison', 'Nashville', 'St. Louis', 'Washington, D.C.', 'Winston-Salem, NC', 'Miami', 'Albany', 'Toledo', 'Tucson'];

/** A small seeded PRNG (deterministic corpora). */
export function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function parseRows(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s.trim());
  if (!m) throw new Error(`--rows: expected a number like 50000, 500k or 5M, got "${s}"`);
  const mult = m[2]!.toLowerCase() === 'k' ? 1e3 : m[2]!.toLowerCase() === 'm' ? 1e6 : 1;
  return Math.round(Number(m[1]) * mult);
}

export async function generateWorkers(rows: number, out: string, seed = 42): Promise<{ rows: number; bytes: number }> {
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  const rnd = mulberry32(seed);
  const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)]!;
  const empty = () => rnd() < 0.01;
  const stream = fs.createWriteStream(out);
  let buf = 'id,first_name,last_name,email,role,state,city,hourly_rate,years,active,hire_date,phone\n';
  let bytes = 0;
  const start = Date.UTC(1995, 0, 1);
  const span = Date.UTC(2025, 11, 31) - start;
  for (let i = 1; i <= rows; i++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const city = pick(CITIES);
    const email = `${first}.${last}${i}@example.com`.toLowerCase().replace(/'/g, '');
    const rate = (15 + rnd() * 85).toFixed(2);
    const years = Math.floor(rnd() * 40);
    const active = rnd() < 0.8 ? 'true' : 'false';
    const hire = new Date(start + Math.floor(rnd() * span)).toISOString().slice(0, 10);
    const phone = `${200 + Math.floor(rnd() * 800)}-555-${String(Math.floor(rnd() * 10000)).padStart(4, '0')}`;
    const cells = [
      String(i),
      empty() ? '' : first,
      empty() ? '' : last,
      empty() ? '' : email,
      empty() ? '' : pick(ROLES),
      empty() ? '' : pick(STATES),
      empty() ? '' : city.includes(',') ? `"${city}"` : city,
      empty() ? '' : rate,
      empty() ? '' : String(years),
      empty() ? '' : active,
      empty() ? '' : hire,
      empty() ? '' : phone,
    ];
    buf += cells.join(',') + '\n';
    if (buf.length > 1 << 20) {
      bytes += Buffer.byteLength(buf);
      if (!stream.write(buf)) await new Promise<void>((r) => stream.once('drain', () => r()));
      buf = '';
    }
  }
  bytes += Buffer.byteLength(buf);
  stream.end(buf);
  await new Promise<void>((r, j) => stream.on('finish', () => r()).on('error', j));
  return { rows, bytes };
}

async function main() {
  const { values } = parseArgs({
    options: { rows: { type: 'string', default: '500k' }, out: { type: 'string' }, seed: { type: 'string', default: '42' } },
  });
  const rows = parseRows(values.rows!);
  const out = values.out ?? `bench/data/workers_${values.rows}.csv`;
  const t = Date.now();
  const r = await generateWorkers(rows, out, Number(values.seed));
  process.stdout.write(`${out}: ${r.rows} rows, ${(r.bytes / 1e6).toFixed(1)} MB in ${Date.now() - t} ms\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
