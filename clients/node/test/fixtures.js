// The golden fixtures the Go tests write (clients/testdata/golden) and the
// corpus of TMDB's responses (service/testdata/responses), which the tests
// share.
import { readdirSync, readFileSync } from "node:fs";

/** The folder of the golden fixtures. */
export const dir = new URL("../../testdata/golden/", import.meta.url);
/** What each fixture decodes to in Go, from index.json. */
export const fixtures = JSON.parse(readFileSync(new URL("index.json", dir), "utf8"));
/** The folder of the corpus, whose file NAME.json is the fixture corpus-NAME. */
export const corpusDir = new URL("../../../service/testdata/responses/", import.meta.url);
/** The names of the corpus's files. */
export const corpus = readdirSync(corpusDir).filter((f) => f.endsWith(".json"));

/** Returns the fixture named name; it must exist. */
export function fixture(name) {
  const f = fixtures.find((f) => f.name === name);
  if (!f) throw new Error(`no golden fixture ${name}`);
  return f;
}

/** Returns the fields of a decoded status that a fixture records. */
export function what(info) {
  return {
    code: info.codeName,
    reason: info.reason,
    domain: info.domain,
    tmdbCode: info.tmdbCode ?? null,
    httpStatus: info.httpStatus ?? null,
    retryable: info.retryable,
    retryDelayMs: info.retryDelayMs ?? null,
    fieldViolations: info.fieldViolations,
    helpLinks: info.helpLinks,
  };
}

/** Returns what a fixture says its status decodes to, in what's terms. */
export function expected(f) {
  const { name, source, retryDelayNanos, ...rest } = f;
  return { ...rest, retryDelayMs: retryDelayNanos === null ? null : Number(BigInt(retryDelayNanos)) / 1e6 };
}
